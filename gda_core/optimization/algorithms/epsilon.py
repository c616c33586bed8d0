"""The epsilon-constraint method: minimise sd subject to ``F1 <= eps`` over a grid of ``eps``.

The two ends of the front are found first by multi-start local solves: the smallest ``F1``
(minimising ``F1`` alone) and ``F1`` at the sd-minimiser (minimising sd alone).  ``eps`` then
steps evenly from the first to the second, and each step is a multi-start SLSQP solve with
bounds, started from a seeded Latin hypercube in the box, the previous step's solution
(feasible for the next, larger ``eps``) and the best feasible point of a screening sample
(random points plus the box's corners, drawn once).  The end-point solves also start from the
sample's best points: a quadratic's minimum over a box often sits at a corner with a small
basin (the printing case's smallest sd, 12.5 at ``(-1, 1, -1)``, is one).

``F1 = |mean - T|`` is not differentiable at the target, so for nominal-the-best the
constraint is written as the two smooth inequalities ``-eps <= mean - T <= eps`` and
``F1`` alone is minimised as ``(mean - T)^2``.  The surfaces are quadratic, so values and
gradients are exact and cheap.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence

import numpy as np
from scipy.optimize import minimize

from gda_core.errors import ConfigError
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.front import non_dominated
from gda_core.optimization.objectives import evaluate_case

_SLSQP = {"maxiter": 200, "ftol": 1e-12}
_N_SCREEN = 2000  # random points screened for starting points


def quadratic_form(surface) -> tuple[float, np.ndarray, np.ndarray]:
    """``(c, b, Q)`` with ``y(x) = c + b.x + x.Q.x / 2`` (``Q`` symmetric) of a full quadratic
    surface: its linear predictor (for a log(s) surface, log of the sd: the same minimiser,
    since exp is increasing); see :meth:`QuadraticSurface.quadratic_form`.

    Examples
    --------
    >>> from gda_core.optimization.surfaces import QuadraticSurface
    >>> c, b, Q = quadratic_form(QuadraticSurface.from_coefficients([1, 2, 3, 4, 5, 6]))
    >>> c, b.tolist(), Q.tolist()
    (1.0, [2.0, 3.0], [[8.0, 6.0], [6.0, 10.0]])
    """
    return surface.quadratic_form()


class _Model:
    """Values and gradients of the mean and sd surfaces and of the F1 constraint pieces."""

    def __init__(self, case: DRSOCase) -> None:
        if case.mean.link != "identity":
            raise ConfigError("the epsilon-constraint method needs a mean model on the plain "
                              "scale (its F1 constraint is written on it)")
        self.case = case
        self.mean = quadratic_form(case.mean)
        self.sd = quadratic_form(case.sd)
        # F1 <= eps  <=>  eps - s * (mean - c) >= 0 for each sign s
        if case.objective == "nominal":
            self.signs, self.centre = np.array([1.0, -1.0]), float(case.target)
        elif case.objective == "smaller":
            self.signs, self.centre = np.array([1.0]), 0.0
        else:
            self.signs, self.centre = np.array([-1.0]), 0.0
        lo, hi = case.bounds
        self.lo, self.hi = lo, hi
        self.bounds = list(zip(lo, hi, strict=True))

    @staticmethod
    def value(q, x: np.ndarray) -> float:
        c, b, Q = q
        return float(c + b @ x + 0.5 * x @ Q @ x)

    @staticmethod
    def grad(q, x: np.ndarray) -> np.ndarray:
        _, b, Q = q
        return b + Q @ x

    def f1(self, x: np.ndarray) -> float:
        return float(np.max(self.signs * (self.value(self.mean, x) - self.centre)))

    def smooth_f1(self) -> tuple[Callable, Callable]:
        """F1 as a smooth objective with the same minimisers."""
        if self.case.objective == "nominal":
            return (lambda x: (self.value(self.mean, x) - self.centre) ** 2,
                    lambda x: 2 * (self.value(self.mean, x) - self.centre)
                    * self.grad(self.mean, x))
        s = float(self.signs[0])
        return (lambda x: s * self.value(self.mean, x),
                lambda x: s * self.grad(self.mean, x))

    def constraint(self, eps: float) -> dict:
        signs = self.signs
        return {"type": "ineq",
                "fun": lambda x: eps - signs * (self.value(self.mean, x) - self.centre),
                "jac": lambda x: -signs[:, None] * self.grad(self.mean, x)[None, :]}

    def clip(self, x: np.ndarray) -> np.ndarray:
        return np.clip(x, self.lo, self.hi)


def latin_hypercube(n: int, lower: np.ndarray, upper: np.ndarray,
                    rng: np.random.Generator) -> np.ndarray:
    """``n`` points of a random Latin hypercube in the box (one per row)."""
    k = len(lower)
    if n <= 0:
        return np.zeros((0, k))
    strata = rng.permuted(np.tile(np.arange(n), (k, 1)), axis=1).T
    u = (strata + rng.random((n, k))) / n
    return lower + u * (upper - lower)


def screening_sample(case: DRSOCase, n: int, rng: np.random.Generator,
                     max_corners: int = 1024) -> np.ndarray:
    """Points to screen for good starts: the box's corners (when at most ``max_corners``) and
    ``n`` uniform random points."""
    lo, hi = case.bounds
    parts = [lo + rng.random((n, case.k)) * (hi - lo)]
    if 2 ** case.k <= max_corners:
        grid = np.array(np.meshgrid(*zip(lo, hi, strict=True), indexing="ij"))
        parts.append(grid.reshape(case.k, -1).T)
    return np.vstack(parts)


def _best_rows(values: np.ndarray, n: int) -> np.ndarray:
    return np.argsort(values, kind="stable")[:n]


def _local(fun, jac, x0: np.ndarray, bounds, constraints=()) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res = minimize(fun, x0, jac=jac, method="SLSQP", bounds=bounds,
                       constraints=constraints, options=_SLSQP)
    return res.x


def _sd_under_eps(model: _Model, eps: float, starts: np.ndarray, tol: float) -> np.ndarray:
    """Best feasible point of ``min sd s.t. F1 <= eps`` over local solves from ``starts``
    (the starts themselves count as candidates)."""
    fun = lambda x: model.value(model.sd, x)  # noqa: E731
    jac = lambda x: model.grad(model.sd, x)  # noqa: E731
    cons = (model.constraint(eps),)
    best, best_key = None, None
    for x0 in starts:
        for x in (model.clip(x0), model.clip(_local(fun, jac, x0, model.bounds, cons))):
            f1 = model.f1(x)
            if f1 > eps + tol:
                continue
            key = (fun(x), f1)
            if best_key is None or key < best_key:
                best, best_key = x, key
    return best


def _check(n_points: int, n_starts: int) -> None:
    if int(n_points) != n_points or n_points < 2:
        raise ConfigError(f"the number of eps values must be a whole number of at least 2, "
                          f"got {n_points}")
    if int(n_starts) != n_starts or n_starts < 1:
        raise ConfigError(f"the number of starts must be a whole number of at least 1, "
                          f"got {n_starts}")


def epsilon_constraint(case: DRSOCase, *, n_points: int = 50, n_starts: int = 8, seed: int = 1,
                       progress: Callable[[float], None] | None = None,
                       eps_values: Sequence[float] | None = None,
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Solve the eps-constraint problems; ``(X, eps)`` of the feasible, mutually non-dominated
    solutions, with the ``eps`` each one was found for (``F1(x) <= eps`` up to ``1e-9`` of
    the F1 range).

    ``eps`` steps evenly over ``n_points`` values from the smallest F1 to F1 at the sd
    minimiser, unless ``eps_values`` gives them (e.g. inside a gap of a front).

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> X, eps = epsilon_constraint(WELDING, n_points=5, n_starts=2)
    >>> X.shape[1], len(X) == len(eps)
    (2, True)
    """
    _check(n_points, n_starts)
    model = _Model(case)
    rng = np.random.default_rng(seed)
    total = n_points + 2

    # screen a sample (with the corners, where bounded minima of quadratics often sit) for
    # starts next to the global optima; the local solves then refine them
    sample = screening_sample(case, _N_SCREEN, rng)
    F_sample = evaluate_case(case, sample)[0]

    f1_fun, f1_jac = model.smooth_f1()
    starts = np.vstack([latin_hypercube(n_starts, model.lo, model.hi, rng),
                        sample[_best_rows(F_sample[:, 0], n_starts)]])
    cands = [model.clip(_local(f1_fun, f1_jac, x0, model.bounds)) for x0 in starts]
    x_f1 = min(cands, key=lambda x: (model.f1(x), model.value(model.sd, x)))
    if progress is not None:
        progress(1 / total)
    sd_fun = lambda x: model.value(model.sd, x)  # noqa: E731
    sd_jac = lambda x: model.grad(model.sd, x)  # noqa: E731
    starts = np.vstack([latin_hypercube(n_starts, model.lo, model.hi, rng),
                        sample[_best_rows(F_sample[:, 1], n_starts)]])
    cands = [model.clip(_local(sd_fun, sd_jac, x0, model.bounds)) for x0 in starts]
    x_sd = min(cands, key=lambda x: (sd_fun(x), model.f1(x)))
    if progress is not None:
        progress(2 / total)

    lo_eps, hi_eps = model.f1(x_f1), model.f1(x_sd)
    tol = 1e-9 * max(hi_eps - lo_eps, 1e-12)
    grid = (np.linspace(lo_eps, max(lo_eps, hi_eps), n_points) if eps_values is None
            else np.asarray(eps_values, dtype=float))
    total = len(grid) + 2
    X, E = [], []
    warm = x_f1
    for i, eps in enumerate(grid):
        feasible = np.flatnonzero(F_sample[:, 0] <= eps)
        screened = feasible[_best_rows(F_sample[feasible, 1], 1)]  # best sampled sd
        starts = np.vstack([warm, sample[screened],
                            latin_hypercube(n_starts, model.lo, model.hi, rng)])
        x = _sd_under_eps(model, float(eps), starts, tol)
        if x is not None:
            X.append(x)
            E.append(eps)
            warm = x
        if progress is not None:
            progress((i + 3) / total)
    X, E = np.array(X).reshape(-1, case.k), np.array(E)
    keep = non_dominated(evaluate_case(case, X)[0]) if len(X) else np.zeros(0, dtype=bool)
    return X[keep], E[keep]


def _f1_under_sd(model: _Model, cap: float, starts: np.ndarray, tol: float) -> np.ndarray:
    """Best feasible point of ``min F1 s.t. sd <= cap`` over local solves from ``starts``."""
    fun, jac = model.smooth_f1()
    cons = ({"type": "ineq", "fun": lambda x: cap - model.value(model.sd, x),
             "jac": lambda x: -model.grad(model.sd, x)},)
    best, best_key = None, None
    for x0 in starts:
        for x in (model.clip(x0), model.clip(_local(fun, jac, x0, model.bounds, cons))):
            sd = model.value(model.sd, x)
            if sd > cap + tol:
                continue
            key = (model.f1(x), sd)
            if best_key is None or key < best_key:
                best, best_key = x, key
    return best


def front_end_points(case: DRSOCase, x_f1: np.ndarray, x_sd: np.ndarray, *,
                     n_starts: int = 4, seed: int = 0) -> np.ndarray:
    """The two ends of the case's Pareto front over the whole design region, by
    lexicographic minimisation.

    The first row minimises sd among the points with the smallest F1; the second minimises
    F1 among the points with the smallest sd.

    Parameters
    ----------
    case : DRSOCase
        The problem.
    x_f1, x_sd : numpy.ndarray
        Global minimisers of F1 and of sd over the box (e.g. from
        :func:`gda_core.optimization.ranges.objective_ranges`); they fix the first
        criterion, and start the local solves.
    n_starts : int
        Extra seeded Latin-hypercube starts for each solve.
    seed : int
        Seed of those starts.

    Returns
    -------
    numpy.ndarray
        Shape ``(2, k)``: the decision vectors of the two end points.

    Examples
    --------
    >>> from gda_core.optimization.cases import WELDING
    >>> E = front_end_points(WELDING, np.array([0.5, 0.0]), np.array([1.0, -1.0]))
    >>> E.shape
    (2, 2)
    """
    _check(2, n_starts)
    model = _Model(case)
    rng = np.random.default_rng(seed)
    x_f1, x_sd = model.clip(np.asarray(x_f1, float)), model.clip(np.asarray(x_sd, float))
    f1_min, sd_min = model.f1(x_f1), model.value(model.sd, x_sd)
    F_hint = evaluate_case(case, np.vstack([x_f1, x_sd]))[0]
    tol_f1 = 1e-9 * max(abs(F_hint[1, 0] - F_hint[0, 0]), 1e-12)
    tol_sd = 1e-9 * max(abs(F_hint[0, 1] - F_hint[1, 1]), 1e-12)
    starts = np.vstack([x_f1, latin_hypercube(n_starts, model.lo, model.hi, rng)])
    first = _sd_under_eps(model, f1_min + tol_f1, starts, tol_f1)
    starts = np.vstack([x_sd, latin_hypercube(n_starts, model.lo, model.hi, rng)])
    second = _f1_under_sd(model, sd_min + tol_sd, starts, tol_sd)
    return np.vstack([x_f1 if first is None else first, x_sd if second is None else second])


def run_epsilon(case: DRSOCase, *, pop: int = 0, gens: int = 0, pc: float = 0.0,
                pm: float = 0.0, seed: int = 1, progress: Callable[[float], None] | None = None,
                n_points: int = 50, n_starts: int = 8) -> np.ndarray:
    """Registry runner: the eps-constraint front's decision vectors (``pop``, ``gens``,
    ``pc`` and ``pm`` are ignored)."""
    return epsilon_constraint(case, n_points=n_points, n_starts=n_starts, seed=seed,
                              progress=progress)[0]


def polish(case: DRSOCase, X: np.ndarray, *, n_starts: int = 2, seed: int = 1) -> np.ndarray:
    """Improve points by solving ``min sd s.t. F1 <= F1(x)`` at each one's own ``F1``, started
    from the point itself and ``n_starts`` Latin-hypercube points.

    Each returned row has ``F1`` no larger (up to ``1e-9`` of the F1 spread) and sd no larger
    than the row it replaces; use it to complete a best-known front.
    """
    if int(n_starts) != n_starts or n_starts < 0:
        raise ConfigError(f"the number of starts must be a whole number of at least 0, "
                          f"got {n_starts}")
    X = np.atleast_2d(np.asarray(X, dtype=float)).reshape(-1, case.k)
    model = _Model(case)
    rng = np.random.default_rng(seed)
    F = evaluate_case(case, X)[0]
    tol = 1e-9 * max(float(np.ptp(F[:, 0])) if len(F) else 0.0, 1e-12)
    out = X.copy()
    for i, x in enumerate(X):
        starts = np.vstack([x, latin_hypercube(n_starts, model.lo, model.hi, rng)])
        best = _sd_under_eps(model, float(F[i, 0]), starts, tol)
        if best is not None and float(case.sd.predict(best[None])[0]) < F[i, 1]:
            out[i] = best
    return out
