"""Front quality: M1' and Delta' as the study defines them, hypervolume, IGD and two
best-known-front variants.

**The study's indicators** (Lee, Kim, Yang & Oh 2017, eqs. (4), (7) and (8)) are normalised by
the range of each objective *function* over the design region: ``F_j^min`` and ``F_j^max``
are the smallest and largest values objective ``j`` takes anywhere in the box (computed once
per case by :func:`gda_core.optimization.ranges.objective_ranges`, which also finds the two
ends of the case's Pareto front).  For a front of ``N`` points ``f(x_1) .. f(x_N)``:

- **M1'** (eq. 4), the sum over the objectives of the normalised mean objective value (an L1
  distance to the ideal point, averaged over the front)::

      M1' = sum_j ( (1/N) sum_i f_j(x_i) - F_j^min ) / ( F_j^max - F_j^min )

  Smaller is better; 0 is the (usually unreachable) ideal point, 2 the worst corner.
- **Delta'** (eqs. 7 and 8; Deb et al. 2002's spread) with the points sorted by F1::

      Delta' = (d_f + d_l + sum_{i=1}^{N-1} |d_i - d_mean|) / (d_f + d_l + (N - 1) d_mean)
      d_i    = sqrt( sum_j ( (f_j(x_{i+1}) - f_j(x_i)) / (F_j^max - F_j^min) )^2 )

  ``d_mean`` is the mean of the ``d_i``; ``d_f`` and ``d_l`` are the distances, normalised the
  same way, from the front's first and last points to the ends of the case's Pareto front
  (the minimiser of F1 with the smallest sd, the minimiser of sd with the smallest F1). It is
  0 for evenly spaced points that include both ends and grows with gaps and clusters; a
  disconnected front is penalised for its gap, a property of the measure.

The repository holds no copy of the study's text: these are the formulas as the project's
expert review quotes them (issue 15: "eq. (4) is the sum over objectives of normalised means
(an L1 form) with F_min/F_max of the functions (ranges over the design region)"), with
eqs. (7)-(8) read as Deb's spread in the same normalisation.  Both depend only on the front
and the case, so they do not change as more runs are archived.

**Against the best-known front** (the non-dominated union of everything computed for the
case), in the objective space normalised by its ideal and nadir, where its ends sit at
``(0, 1)`` and ``(1, 0)``:

- **M1' (best-known)**: the mean Euclidean distance to the ideal point (what earlier versions
  called M1'); **Delta' (best-known)**: the spread above with that normalisation and the
  best-known front's ends. Both change as the archive grows; named extras only.
- **Hypervolume**: the normalised area dominated by the front, bounded by the reference point
  ``(1.1, 1.1)``. Larger is better.
- **IGD**: the mean distance from each best-known point to the nearest point of the front.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gda_core.errors import ConfigError
from gda_core.optimization.front import non_dominated

HV_REFERENCE = (1.1, 1.1)


@dataclass(frozen=True)
class Normaliser:
    """Maps objectives to ``(F - ideal) / (nadir - ideal)`` per objective.

    Built from a reference front (:meth:`from_front`: its ideal and nadir, the best-known
    normalisation) or, as :class:`ObjectiveRanges`, from the objectives' ranges over the
    design region (the study's normalisation).

    Attributes
    ----------
    ideal, nadir : numpy.ndarray
        The values mapped to 0 and 1, per objective.
    """

    ideal: np.ndarray
    nadir: np.ndarray

    @classmethod
    def from_front(cls, F_ref: np.ndarray) -> Normaliser:
        F_ref = _as_F(F_ref)
        if len(F_ref) == 0:
            raise ConfigError("the reference front is empty")
        return cls(F_ref.min(axis=0), F_ref.max(axis=0))

    def __call__(self, F: np.ndarray) -> np.ndarray:
        span = np.where(self.nadir > self.ideal, self.nadir - self.ideal, 1.0)
        return (_as_F(F) - self.ideal) / span

    @property
    def extremes(self) -> np.ndarray:
        """The normalised images of the minimisers of F1 and of F2 on the reference front."""
        return np.array([[0.0, 1.0], [1.0, 0.0]])


@dataclass(frozen=True)
class ObjectiveRanges(Normaliser):
    """The study's normalisation: ``F_j^min`` (``ideal``) and ``F_j^max`` (``nadir``) of each
    objective over the design region, and the two ends of the case's Pareto front.

    Made by :func:`gda_core.optimization.ranges.objective_ranges`.

    Attributes
    ----------
    front_ends : numpy.ndarray
        Shape ``(2, 2)``: the objective vectors of the Pareto front's ends, the minimiser of
        F1 (with the smallest sd) first, then the minimiser of sd (with the smallest F1).
    method : str
        How the ranges were computed.

    Examples
    --------
    >>> r = ObjectiveRanges(np.zeros(2), np.array([4.0, 2.0]),
    ...                     np.array([[0.0, 1.0], [2.0, 0.0]]), "by hand")
    >>> r.extremes.tolist()
    [[0.0, 0.5], [0.5, 0.0]]
    """

    front_ends: np.ndarray = field(default_factory=lambda: np.zeros((2, 2)))
    method: str = ""

    @property
    def f_min(self) -> np.ndarray:
        """``F_j^min`` per objective."""
        return self.ideal

    @property
    def f_max(self) -> np.ndarray:
        """``F_j^max`` per objective."""
        return self.nadir

    @property
    def extremes(self) -> np.ndarray:
        """The normalised ends of the case's Pareto front (``d_f`` and ``d_l`` of Delta')."""
        return self(self.front_ends)


def _as_F(F) -> np.ndarray:
    F = np.asarray(F, dtype=float)
    return F.reshape(-1, 2) if F.size else np.zeros((0, 2))


def m1_prime(F: np.ndarray, norm: Normaliser) -> float:
    """The study's M1' (eq. 4): the sum over objectives of the normalised mean values.

    ``M1' = sum_j (mean_i f_j(x_i) - F_j^min) / (F_j^max - F_j^min)``, with ``F^min`` and
    ``F^max`` the normaliser's ``ideal`` and ``nadir`` (for the study's values: an
    :class:`ObjectiveRanges`, the functions' ranges over the design region).

    Parameters
    ----------
    F : numpy.ndarray
        The front's objective vectors, one per row.
    norm : Normaliser
        The normalisation.

    Returns
    -------
    float
        M1' (NaN for an empty front).

    Examples
    --------
    >>> n = Normaliser(np.zeros(2), np.array([2.0, 4.0]))
    >>> m1_prime(np.array([[0.0, 4.0], [1.0, 1.0]]), n)  # 0.5 / 2 + 2.5 / 4
    0.875
    """
    Z = norm(F)
    if len(Z) == 0:
        return float("nan")
    return float(Z.mean(axis=0).sum())


def m1_best_known(F: np.ndarray, norm: Normaliser) -> float:
    """Mean Euclidean distance of the normalised points to the origin (the ideal point).

    With ``norm = Normaliser.from_front(best_known)`` this is "M1' (best-known)", the
    indicator earlier versions reported as M1'; it is not the study's formula.

    Parameters
    ----------
    F : numpy.ndarray
        The front's objective vectors, one per row.
    norm : Normaliser
        The normalisation.

    Returns
    -------
    float
        The mean distance (NaN for an empty front).

    Examples
    --------
    >>> n = Normaliser(np.zeros(2), np.ones(2))
    >>> m1_best_known(np.array([[0.0, 1.0], [1.0, 0.0]]), n)
    1.0
    """
    Z = norm(F)
    if len(Z) == 0:
        return float("nan")
    return float(np.linalg.norm(Z, axis=1).mean())


def delta_prime(F: np.ndarray, norm: Normaliser, extremes: np.ndarray | None = None) -> float:
    """Delta' (eqs. 7 and 8): Deb's spread with normalised distances (module docstring).

    Parameters
    ----------
    F : numpy.ndarray
        The front's objective vectors, one per row.
    norm : Normaliser
        The normalisation: an :class:`ObjectiveRanges` for the study's Delta', a
        :meth:`Normaliser.from_front` of the best-known front for "Delta' (best-known)".
    extremes : numpy.ndarray, optional
        Normalised ends ``d_f`` and ``d_l`` are measured to, shape ``(2, 2)`` (the minimiser of
        F1, then of F2); default ``norm.extremes`` (the case's Pareto front ends for an
        :class:`ObjectiveRanges`, the reference front's for a plain normaliser).

    Returns
    -------
    float
        Delta' (NaN for fewer than two points).

    Examples
    --------
    >>> n = Normaliser(np.zeros(2), np.ones(2))
    >>> t = np.linspace(0, 1, 5)
    >>> round(delta_prime(np.column_stack([t, 1 - t]), n), 12)
    0.0
    """
    Z = norm(F)
    if len(Z) < 2:
        return float("nan")
    E = norm.extremes if extremes is None else np.asarray(extremes, dtype=float)
    Z = Z[np.lexsort((Z[:, 1], Z[:, 0]))]
    d = np.linalg.norm(np.diff(Z, axis=0), axis=1)
    d_f = float(np.linalg.norm(Z[0] - E[0]))
    d_l = float(np.linalg.norm(Z[-1] - E[1]))
    d_mean = float(d.mean())
    denom = d_f + d_l + (len(Z) - 1) * d_mean
    if denom == 0:
        return 0.0
    return float((d_f + d_l + np.abs(d - d_mean).sum()) / denom)


def hypervolume(F: np.ndarray, norm: Normaliser,
                reference: tuple[float, float] = HV_REFERENCE) -> float:
    """Area dominated by the (normalised) front up to ``reference``; exact in 2-D.

    Examples
    --------
    >>> n = Normaliser(np.zeros(2), np.ones(2))
    >>> round(hypervolume(np.array([[0.0, 0.0]]), n, (1.0, 1.0)), 6)
    1.0
    """
    Z = norm(F)
    r = np.asarray(reference, dtype=float)
    Z = Z[np.all(Z < r, axis=1)]
    if len(Z) == 0:
        return 0.0
    Z = Z[non_dominated(Z)]
    Z = Z[np.argsort(Z[:, 0])]
    widths = np.diff(np.append(Z[:, 0], r[0]))
    return float(np.sum(widths * (r[1] - Z[:, 1])))


def igd(F: np.ndarray, F_ref: np.ndarray, norm: Normaliser) -> float:
    """Mean distance from each reference point to its nearest front point (normalised)."""
    Z, R = norm(F), norm(F_ref)
    if len(Z) == 0:
        return float("nan")
    d = np.linalg.norm(R[:, None, :] - Z[None, :, :], axis=2)
    return float(d.min(axis=1).mean())


def front_metrics(F: np.ndarray, F_ref: np.ndarray,
                  ranges: ObjectiveRanges | None = None) -> dict[str, float]:
    """Every indicator of the front ``F``, and its number of points.

    Parameters
    ----------
    F : numpy.ndarray
        The front's objective vectors.
    F_ref : numpy.ndarray
        The best-known front (reference of HV, IGD and the best-known variants).
    ranges : ObjectiveRanges, optional
        The case's objective ranges over the design region
        (:func:`gda_core.optimization.ranges.objective_ranges`); without them the study's
        M1' and Delta' are NaN.

    Returns
    -------
    dict
        ``M1'``, ``Delta'`` (the study's, eqs. 4, 7, 8), ``HV``, ``IGD``, ``points``,
        ``M1' (best-known)``, ``Delta' (best-known)``.

    Examples
    --------
    >>> t = np.linspace(0, 1, 5)
    >>> F = np.column_stack([t, 1 - t])
    >>> ranges = ObjectiveRanges(np.zeros(2), np.full(2, 2.0), F[[0, -1]], "by hand")
    >>> m = front_metrics(F, F, ranges)
    >>> m["M1'"], round(m["Delta'"], 12), m["points"], m["IGD"]
    (0.5, 0.0, 5, 0.0)
    """
    norm = Normaliser.from_front(F_ref)
    nan = float("nan")
    return {"M1'": m1_prime(F, ranges) if ranges is not None else nan,
            "Delta'": delta_prime(F, ranges) if ranges is not None else nan,
            "HV": hypervolume(F, norm), "IGD": igd(F, F_ref, norm), "points": len(_as_F(F)),
            "M1' (best-known)": m1_best_known(F, norm),
            "Delta' (best-known)": delta_prime(F, norm)}
