"""Ranges of the objectives over the design region, the normalisation of the study's M1' and
Delta' (:mod:`gda_core.optimization.indicators`).

For each case this computes, once (results are cached by the case's values):

* ``F_j^min`` and ``F_j^max`` of F1 and F2 = sd over the box.  The mean and sd surfaces are
  full quadratics, so their extremes over a box are found **exactly** by enumerating the
  box's faces: the extremes of a continuous function on a box are stationary points of its
  restriction to the relative interior of some face (a vertex, an edge, ..., the interior).
  For each of the ``3^k`` faces (each variable at its lower bound, its upper bound, or free)
  the restricted gradient equation ``Q_ff x_f = -(b_f + Q_fc x_c)`` is solved; solutions
  inside the box are candidates (a singular ``Q_ff`` is skipped: the surface is then constant
  along a line of the face or has no stationary point there, and the face's boundary, itself
  enumerated, holds the same values).  Every candidate is evaluated with the surface's own
  ``predict``.  F1 follows from the mean's range by the objective type (nominal-the-best:
  ``F1^min = max(0, mean^min - T, T - mean^max)``, ``F1^max = max(|mean^min - T|,
  |mean^max - T|)``; smaller: the mean's range; larger: minus it).  For more than
  :data:`MAX_EXACT_K` variables, or a surface that is not a full quadratic, a seeded sample
  of the box (its corners included) is polished by bounded L-BFGS-B from its best points.
* The two ends of the case's Pareto front, by lexicographic minimisation
  (:func:`gda_core.optimization.algorithms.epsilon.front_end_points`): the minimiser of F1
  with the smallest sd, and the minimiser of sd with the smallest F1.
"""

from __future__ import annotations

import itertools
import json
import warnings
from collections.abc import Callable

import numpy as np
from scipy.optimize import minimize

from gda_core.optimization.algorithms.epsilon import front_end_points, quadratic_form
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.indicators import ObjectiveRanges
from gda_core.optimization.objectives import evaluate_case
from gda_core.optimization.surfaces import n_terms

MAX_EXACT_K = 8
"""Up to this many variables the quadratic extremes come from the ``3^k`` faces exactly."""
EXACT = "exact: stationary points on every face of the box (quadratic surfaces)"
SAMPLED = "sampled: 4096 seeded points and the box's corners, polished by L-BFGS-B"

_CACHE: dict[str, ObjectiveRanges] = {}
_CACHE_SIZE = 64


def _is_full_quadratic(surface) -> bool:
    coef, k = getattr(surface, "coef", None), getattr(surface, "k", None)
    return coef is not None and isinstance(k, int) and len(coef) == n_terms(k)


def face_candidates(surface, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Stationary points of a full quadratic surface on every face of the box.

    Parameters
    ----------
    surface : QuadraticSurface
        A full quadratic model in ``k`` variables.
    lower, upper : numpy.ndarray
        The box.

    Returns
    -------
    numpy.ndarray
        Candidate points, one per row (the ``2^k`` vertices among them); the surface's
        minimum and maximum over the box are attained at some of them.

    Examples
    --------
    >>> from gda_core.optimization.surfaces import QuadraticSurface
    >>> s = QuadraticSurface.from_coefficients([0, 0, -1])  # y = -x^2
    >>> sorted(face_candidates(s, np.array([-1.0]), np.array([2.0])).ravel().tolist())
    [-1.0, 0.0, 2.0]
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    _, b, Q = quadratic_form(surface)
    k = len(lower)
    out = []
    for state in itertools.product((0, 1, 2), repeat=k):  # 0 lower, 1 free, 2 upper
        s = np.asarray(state)
        x = np.where(s == 0, lower, upper)
        free = np.flatnonzero(s == 1)
        if len(free):
            fixed = np.flatnonzero(s != 1)
            A = Q[np.ix_(free, free)]
            if np.linalg.cond(A) > 1e12:
                continue
            rhs = -(b[free] + Q[np.ix_(free, fixed)] @ x[fixed])
            x[free] = np.linalg.solve(A, rhs)
            span = upper[free] - lower[free]
            if np.any(x[free] < lower[free] - 1e-12 * span) or np.any(
                    x[free] > upper[free] + 1e-12 * span):
                continue
            x = np.clip(x, lower, upper)
        out.append(x)
    return np.array(out).reshape(-1, k)


def _sampled_extremes(predict: Callable[[np.ndarray], np.ndarray], lower: np.ndarray,
                      upper: np.ndarray, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    k = len(lower)
    pts = [lower + rng.random((4096, k)) * (upper - lower)]
    if k <= 12:
        pts.append(np.array(list(itertools.product(*zip(lower, upper, strict=True)))))
    P = np.vstack(pts)
    y = predict(P)
    out = [P]
    for sign in (1.0, -1.0):
        def fun(x: np.ndarray, sign: float = sign) -> float:
            return float(sign * predict(x[None, :])[0])
        for i in np.argsort(sign * y, kind="stable")[:3]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                res = minimize(fun, P[i], method="L-BFGS-B",
                               bounds=list(zip(lower, upper, strict=True)))
            out.append(np.clip(res.x, lower, upper)[None, :])
    return np.vstack(out)


def surface_extremes(surface, lower, upper, *, seed: int = 0,
                     ) -> tuple[float, np.ndarray, float, np.ndarray, str]:
    """Minimum and maximum of a surface over a box, and where they are.

    Parameters
    ----------
    surface : QuadraticSurface
        Anything with ``predict``; a full quadratic in at most :data:`MAX_EXACT_K`
        variables is solved exactly (module docstring), anything else sampled and polished.
    lower, upper : array_like
        The box.
    seed : int
        Seed of the sample (only when not exact).

    Returns
    -------
    tuple
        ``(y_min, x_min, y_max, x_max, method)``.

    Examples
    --------
    >>> from gda_core.optimization.surfaces import QuadraticSurface
    >>> s = QuadraticSurface.from_coefficients([1, 0, 0, -1, -1, 0])  # 1 - x1^2 - x2^2
    >>> lo, x_lo, hi, x_hi, _ = surface_extremes(s, [-1, -1], [1, 2])
    >>> float(lo), x_lo.tolist(), float(hi), x_hi.tolist()
    (-4.0, [-1.0, 2.0], 1.0, [0.0, 0.0])
    """
    lower, upper = np.asarray(lower, float), np.asarray(upper, float)
    if _is_full_quadratic(surface) and len(lower) <= MAX_EXACT_K:
        P, method = face_candidates(surface, lower, upper), EXACT
    else:
        P, method = _sampled_extremes(surface.predict, lower, upper, seed), SAMPLED
    y = np.asarray(surface.predict(P), dtype=float)
    i, j = int(np.argmin(y)), int(np.argmax(y))
    return float(y[i]), P[i], float(y[j]), P[j], method


def _key(case: DRSOCase) -> str:
    d = case.to_dict()
    return json.dumps({k: d[k] for k in ("mean", "sd", "lower", "upper", "objective",
                                         "target")}, sort_keys=True)


def objective_ranges(case: DRSOCase) -> ObjectiveRanges:
    """``F_j^min``, ``F_j^max`` of F1 and sd over the case's box and its Pareto front's ends.

    The normalisation of the study's M1' and Delta' (module docstring for the method);
    computed once per case (cached by the case's coefficients, bounds, objective and target).

    Parameters
    ----------
    case : DRSOCase
        The problem.

    Returns
    -------
    ObjectiveRanges
        ``ideal`` = ``F^min``, ``nadir`` = ``F^max``, ``front_ends`` and ``method``.

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> r = objective_ranges(WELDING)
    >>> [round(float(v), 4) for v in (*r.f_min, *r.f_max)]
    [0.0, 0.2118, 1.5378, 0.5885]
    """
    key = _key(case)
    if key in _CACHE:
        return _CACHE[key]
    lo, hi = case.bounds
    m_lo, xm_lo, m_hi, xm_hi, method = surface_extremes(case.mean, lo, hi)
    s_lo, xs_lo, s_hi, _, method_sd = surface_extremes(case.sd, lo, hi)
    if case.objective == "nominal":
        t = float(case.target)
        f1_min = max(0.0, m_lo - t, t - m_hi)
        f1_max = max(abs(m_lo - t), abs(m_hi - t))
    elif case.objective == "smaller":
        f1_min, f1_max = m_lo, m_hi
    else:
        f1_min, f1_max = -m_hi, -m_lo
    # a minimiser of F1 to start the lexicographic solve from: the mean's extreme nearest the
    # target, or, when the target is reachable, the point of the segment between the mean's
    # minimiser and maximiser where the mean crosses it (the mean is continuous)
    x_f1 = _f1_minimiser(case, xm_lo, xm_hi, m_lo, m_hi)
    ends_X = front_end_points(case, x_f1, xs_lo)
    ends = evaluate_case(case, ends_X)[0]
    methods = {method, method_sd}
    ranges = ObjectiveRanges(np.array([f1_min, s_lo]), np.array([f1_max, s_hi]), ends,
                             "; ".join(sorted(methods)))
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = ranges
    return ranges


def _f1_minimiser(case: DRSOCase, x_lo: np.ndarray, x_hi: np.ndarray, m_lo: float,
                  m_hi: float) -> np.ndarray:
    if case.objective == "smaller":
        return x_lo
    if case.objective == "larger":
        return x_hi
    t = float(case.target)
    if t <= m_lo:
        return x_lo
    if t >= m_hi:
        return x_hi
    a, b = 0.0, 1.0  # bisection on the segment: mean(x_lo) < t < mean(x_hi)
    for _ in range(80):
        c = 0.5 * (a + b)
        if case.mean.predict((x_lo + c * (x_hi - x_lo))[None, :])[0] < t:
            a = c
        else:
            b = c
    return x_lo + 0.5 * (a + b) * (x_hi - x_lo)
