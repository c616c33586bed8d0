"""Front quality: M1', Delta', hypervolume and IGD.

All four are computed in a normalised objective space: each objective ``f`` becomes
``(f - ideal) / (nadir - ideal)`` where ``ideal`` and ``nadir`` are the component-wise minimum
and maximum of the **reference front** (the best-known front of the case: the non-dominated
union of everything computed for it). A reference front's own points then lie in ``[0, 1]^2``
and its two extremes, the minimiser of F1 and the minimiser of F2, sit at ``(0, 1)`` and
``(1, 0)``.

- **M1'**: the mean Euclidean distance of the front's points to the ideal point (the origin of
  the normalised space). Smaller is better.
- **Delta'** (Deb et al. 2002, spread, with normalised distances): the points are sorted by F1;
  ``d_i`` are the distances between consecutive points, ``d_mean`` their mean, and ``d_f``,
  ``d_l`` the distances from the front's first and last points to the extremes of the
  reference front (the minimisers of each objective)::

      Delta' = (d_f + d_l + sum |d_i - d_mean|) / (d_f + d_l + (N - 1) d_mean)

  It is 0 for evenly spaced points that include both extremes and grows with gaps and
  clusters; a disconnected front is penalised for its gap, which is a property of the
  measure, not a failure of the algorithm.
- **Hypervolume**: the normalised area dominated by the front, bounded by the reference point
  ``(1.1, 1.1)``. Larger is better.
- **IGD**: the mean distance from each reference point to the nearest point of the front.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gda_core.errors import ConfigError
from gda_core.optimization.front import non_dominated

HV_REFERENCE = (1.1, 1.1)


@dataclass(frozen=True)
class Normaliser:
    """Maps objectives to the unit box spanned by a reference front's ideal and nadir."""

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


def _as_F(F) -> np.ndarray:
    F = np.asarray(F, dtype=float)
    return F.reshape(-1, 2) if F.size else np.zeros((0, 2))


def m1_prime(F: np.ndarray, norm: Normaliser) -> float:
    """Mean normalised distance to the ideal point.

    Examples
    --------
    >>> n = Normaliser(np.zeros(2), np.ones(2))
    >>> m1_prime(np.array([[0.0, 1.0], [1.0, 0.0]]), n)
    1.0
    """
    Z = norm(F)
    if len(Z) == 0:
        return float("nan")
    return float(np.linalg.norm(Z, axis=1).mean())


def delta_prime(F: np.ndarray, norm: Normaliser, extremes: np.ndarray | None = None) -> float:
    """Deb's spread with normalised distances (see the module docstring).

    ``extremes`` (normalised, shape ``(2, 2)``: the minimiser of F1, then of F2) default to
    the reference front's.

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


def front_metrics(F: np.ndarray, F_ref: np.ndarray) -> dict[str, float]:
    """M1', Delta', hypervolume, IGD and the number of points of ``F`` against ``F_ref``."""
    norm = Normaliser.from_front(F_ref)
    return {"M1'": m1_prime(F, norm), "Delta'": delta_prime(F, norm),
            "HV": hypervolume(F, norm), "IGD": igd(F, F_ref, norm), "points": len(_as_F(F))}
