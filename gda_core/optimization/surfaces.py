"""Full quadratic response surfaces: terms, prediction and least-squares fits with checks.

Coefficients follow the order used in the dual-response literature: the intercept, the linear
terms ``x1..xk``, the pure quadratic terms ``x1^2..xk^2``, then the interactions ``x1x2, x1x3,
..., x(k-1)xk``, so a model in ``k`` variables has ``1 + 2k + k(k-1)/2`` coefficients.

A fit (:func:`fit_quadratic`) carries its ANOVA table, lack-of-fit test, term tests,
predicted R^2 and intervals (:mod:`gda_core.optimization.anova` has the formulas); it can be
reduced by hierarchical backward elimination and fitted on the log scale (a surface with
``link="log"`` predicts ``exp`` of its quadratic).  :func:`surface_minimum` searches a box
for a surface's smallest value (e.g. a negative predicted standard deviation).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd

from gda_core.errors import ConfigError
from gda_core.optimization.anova import (
    LackOfFit,
    OLSResult,
    PureError,
    anova_table,
    backward_eliminate,
    coefficient_table,
    intervals,
    lack_of_fit,
    ols,
    pure_error_from_points,
)


def n_terms(k: int) -> int:
    """Number of coefficients of a full quadratic model in ``k`` variables."""
    return 1 + 2 * k + k * (k - 1) // 2


def term_names(k: int, names: tuple[str, ...] | None = None) -> list[str]:
    """Human-readable term names, e.g. ``['1', 'x1', 'x2', 'x1^2', 'x2^2', 'x1x2']``."""
    v = list(names) if names else [f"x{i + 1}" for i in range(k)]
    return (["1"] + v + [f"{n}^2" for n in v]
            + [f"{v[i]}{v[j]}" if names is None else f"{v[i]}*{v[j]}"
               for i, j in combinations(range(k), 2)])


def design_matrix(X: np.ndarray) -> np.ndarray:
    """Model matrix of a full quadratic model, shape ``(n, n_terms(k))``.

    Examples
    --------
    >>> design_matrix(np.array([[2.0, 3.0]]))
    array([[1., 2., 3., 4., 9., 6.]])
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    n, k = X.shape
    cols = [np.ones(n), *X.T, *(X.T ** 2)]
    cols += [X[:, i] * X[:, j] for i, j in combinations(range(k), 2)]
    return np.column_stack(cols)


def term_parents(k: int) -> list[list[int]]:
    """For each term of a full quadratic model, the columns of the main effects it contains
    (kept while it is, for a hierarchical model): none for the intercept and the linear
    terms, ``xi`` for ``xi^2``, ``xi`` and ``xj`` for ``xixj``.

    Examples
    --------
    >>> term_parents(2)
    [[], [], [], [1], [2], [1, 2]]
    """
    return ([[] for _ in range(1 + k)] + [[1 + i] for i in range(k)]
            + [[1 + i, 1 + j] for i, j in combinations(range(k), 2)])


LINKS = ("identity", "log")
"""Scales a surface can be fitted on: the response itself, or its logarithm (predictions are
then ``exp`` of the quadratic, always positive)."""


@dataclass(frozen=True)
class QuadraticSurface:
    """A full quadratic model ``y = b0 + sum bi xi + sum bii xi^2 + sum bij xi xj``.

    With ``link="log"`` the quadratic models ``log y`` and :meth:`predict` returns
    ``exp`` of it, so predictions are positive (the log-variance model of the dual-response
    literature, here for the standard deviation).  A term dropped from a fitted model has
    coefficient 0, so every surface predicts on the full factor space.

    Examples
    --------
    >>> s = QuadraticSurface.from_coefficients([1, 2, 0, 0, 0, 0])
    >>> float(s.predict([[1.0, 5.0]])[0])
    3.0
    >>> g = QuadraticSurface.from_coefficients([0.5, 1, 0, 0, 0, 0], link="log")
    >>> round(float(g.predict([[0.5, 5.0]])[0]), 4), g.equation()
    (2.7183, 'exp(0.5 + 1x1)')
    """

    coef: tuple[float, ...]
    k: int
    link: str = "identity"

    def __post_init__(self) -> None:
        if self.link not in LINKS:
            raise ConfigError(f"the model scale must be one of {', '.join(LINKS)}, "
                              f"got {self.link!r}")

    @classmethod
    def from_coefficients(cls, coef, link: str = "identity") -> QuadraticSurface:
        """A surface from its coefficients in the order of :func:`term_names`."""
        c = np.asarray(coef, dtype=float).ravel()
        k = _k_for(len(c))
        if not np.all(np.isfinite(c)):
            bad = [term_names(k)[i] for i in np.flatnonzero(~np.isfinite(c))]
            raise ConfigError(f"coefficients must be numbers; missing or not finite: "
                              f"{', '.join(bad)}")
        return cls(coef=tuple(float(x) for x in c), k=k, link=link)

    def linear_predictor(self, X) -> np.ndarray:
        """The quadratic itself at the rows of ``X`` (``log y`` for a log-scale surface).

        Each row is summed on its own (not by a matrix product, whose blocking and so
        rounding depend on the number of rows and on the CPU's BLAS kernel): a point's
        value is the same in any batch and on any CPU, so the same seed gives the same
        front everywhere.
        """
        return np.sum(design_matrix(_as_rows(X, self.k)) * np.asarray(self.coef), axis=1)

    def predict(self, X) -> np.ndarray:
        """Values at the rows of ``X`` (shape ``(n, k)``)."""
        eta = self.linear_predictor(X)
        return np.exp(eta) if self.link == "log" else eta

    def quadratic_form(self) -> tuple[float, np.ndarray, np.ndarray]:
        """``(c, b, Q)`` with linear predictor ``c + b.x + x.Q.x / 2`` (``Q`` symmetric).

        Examples
        --------
        >>> c, b, Q = QuadraticSurface.from_coefficients([1, 2, 3, 4, 5, 6]).quadratic_form()
        >>> c, b.tolist(), Q.tolist()
        (1.0, [2.0, 3.0], [[8.0, 6.0], [6.0, 10.0]])
        """
        k, coef = self.k, np.asarray(self.coef, dtype=float)
        Q = np.diag(2.0 * coef[1 + k:1 + 2 * k])
        for t, (i, j) in enumerate(combinations(range(k), 2)):
            Q[i, j] = Q[j, i] = coef[1 + 2 * k + t]
        return float(coef[0]), coef[1:1 + k].copy(), Q

    def gradient(self, X) -> np.ndarray:
        """Gradients of :meth:`predict` at the rows of ``X``, shape ``(n, k)``."""
        X = _as_rows(X, self.k)
        _, b, Q = self.quadratic_form()
        g = b + X @ Q
        return g * self.predict(X)[:, None] if self.link == "log" else g

    def equation(self, names: tuple[str, ...] | None = None, digits: int = 4) -> str:
        """The model as text, e.g. ``327.6 + 177x1 - 22.4x2^2`` (``exp(...)`` on the log
        scale)."""
        parts = []
        for name, c in zip(term_names(self.k, names), self.coef, strict=True):
            if c == 0 and name != "1":
                continue
            value = f"{abs(c):.{digits}g}"
            body = value if name == "1" else f"{value}{name}"
            parts.append(("- " if c < 0 else "+ ") + body)
        text = " ".join(parts) or "0"
        text = text[2:] if text.startswith("+ ") else "-" + text[2:]
        return f"exp({text})" if self.link == "log" else text


def _as_rows(X, k: int) -> np.ndarray:
    X = np.atleast_2d(np.asarray(X, dtype=float))
    if X.shape[1] != k:
        raise ConfigError(f"the model has {k} variables, got {X.shape[1]}")
    return X


def _k_for(n_coef: int) -> int:
    for k in range(1, 20):
        if n_terms(k) == n_coef:
            return k
        if n_terms(k) > n_coef:
            break
    raise ConfigError(f"{n_coef} coefficients do not make a full quadratic model "
                      f"(1 variable needs 3, 2 need 6, 3 need 10, 4 need 15)")


def surface_minimum(surface: QuadraticSurface, lower, upper, *, n: int = 4096,
                    n_polish: int = 5, seed: int = 0) -> tuple[np.ndarray, float]:
    """Smallest value of a surface over the box ``[lower, upper]`` and where it is.

    The box's centre, its corners (up to 1024 of them) and ``n`` uniform random points are
    screened, then the ``n_polish`` best are polished by bounded local minimisation
    (L-BFGS-B with the exact gradient).  For a convex surface this is the global minimum;
    otherwise it is the best of many local searches.

    Examples
    --------
    >>> bowl = QuadraticSurface.from_coefficients([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    >>> x, value = surface_minimum(bowl, [-1, -1], [1, 1])
    >>> np.round(x, 6).tolist(), round(value, 6)
    ([0.0, 0.0], 1.0)
    >>> saddle = QuadraticSurface.from_coefficients([0.2, 0.0, 0.0, -1.0, 1.0, 0.0])
    >>> x, value = surface_minimum(saddle, [-1, -1], [1, 1])
    >>> np.abs(np.round(x, 6)).tolist(), round(value, 6)
    ([1.0, 0.0], -0.8)
    """
    from scipy.optimize import minimize

    lo, hi = np.asarray(lower, dtype=float), np.asarray(upper, dtype=float)
    if lo.shape != (surface.k,) or hi.shape != (surface.k,) or not np.all(lo < hi):
        raise ConfigError(f"give a lower below an upper bound for each of the {surface.k} "
                          "variables")
    rng = np.random.default_rng(seed)
    parts = [(lo + hi)[None, :] / 2.0, lo + rng.random((n, surface.k)) * (hi - lo)]
    if 2 ** surface.k <= 1024:
        grid = np.array(np.meshgrid(*zip(lo, hi, strict=True), indexing="ij"))
        parts.append(grid.reshape(surface.k, -1).T)
    pts = np.vstack(parts)
    values = surface.predict(pts)
    order = np.argsort(values, kind="stable")
    best_x, best_v = pts[order[0]].copy(), float(values[order[0]])
    bounds = list(zip(lo, hi, strict=True))
    for x0 in pts[order[:n_polish]]:
        res = minimize(lambda x: float(surface.predict(x[None, :])[0]), x0,
                       jac=lambda x: surface.gradient(x[None, :])[0], method="L-BFGS-B",
                       bounds=bounds)
        x = np.clip(res.x, lo, hi)
        v = float(surface.predict(x[None, :])[0])
        if v < best_v:
            best_x, best_v = x, v
    return best_x, best_v


@dataclass(frozen=True)
class SurfaceFit:
    """A least-squares fit of a quadratic surface, with what its checks need.

    Attributes
    ----------
    surface : QuadraticSurface
        The fitted surface (dropped terms have coefficient 0).
    r2, r2_adj : float
        ``R^2`` and adjusted ``R^2`` on the scale of the fit (``log y`` for a log fit).
    fitted, residuals : ndarray
        Per run, on the scale of the fit.
    X : ndarray
        The design, one row per run.
    y : ndarray
        The response on the scale of the fit.
    kept : tuple of bool
        Which terms of the full quadratic (:func:`term_names` order) are in the model.
    result : OLSResult
        The least-squares fit of the kept terms (see :mod:`gda_core.optimization.anova`).
    pure_error : PureError or None
        Pure error for the lack-of-fit test, when the data allow one.
    name : str
        What the response is called in tables and notices.
    alpha : float or None
        The significance level of backward elimination, ``None`` for the full model.

    Examples
    --------
    >>> X = np.array([[a, b] for a in (-1, 0, 1) for b in (-1, 0, 1)], dtype=float)
    >>> y = 1 + X[:, 0] - 0.5 * X[:, 1] ** 2 + np.array([0, .1, -.1, .05, 0, -.05, .1, 0, -.1])
    >>> fit = fit_quadratic(X, y)
    >>> round(fit.r2, 3), round(fit.r2_adj, 3), list(fit.anova().index)
    (0.998, 0.996, ['Regression', 'Residual', 'Total'])
    >>> fit.interval([[0.0, 0.0]]).round(3)
         fit  ci_low  ci_high  pi_low  pi_high
    0  1.033   0.891    1.176   0.795    1.272
    """

    surface: QuadraticSurface
    r2: float
    r2_adj: float
    fitted: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    X: np.ndarray = field(repr=False)
    y: np.ndarray = field(repr=False)
    kept: tuple[bool, ...] = field(repr=False)
    result: OLSResult = field(repr=False)
    pure_error: PureError | None = None
    name: str = "response"
    alpha: float | None = None

    @property
    def log(self) -> bool:
        """Whether the surface models the logarithm of the response."""
        return self.surface.link == "log"

    @property
    def df_residual(self) -> int:
        """Residual degrees of freedom, ``n - p`` (``p`` the number of kept terms)."""
        return self.result.df_residual

    @property
    def sigma(self) -> float:
        """Root residual mean square (on the scale of the fit)."""
        return float(np.sqrt(self.result.ms_residual))

    @property
    def press(self) -> float:
        """Prediction error sum of squares (NaN when a run has leverage 1)."""
        return self.result.press

    @property
    def r2_pred(self) -> float:
        """Predicted ``R^2``, ``1 - PRESS / SS_total``."""
        return self.result.r2_pred

    @property
    def terms(self) -> list[str]:
        """Names of the terms in the model."""
        return [t for t, k in zip(term_names(self.surface.k), self.kept, strict=True) if k]

    @property
    def dropped(self) -> list[str]:
        """Names of the terms removed by model reduction."""
        return [t for t, k in zip(term_names(self.surface.k), self.kept, strict=True)
                if not k]

    def anova(self) -> pd.DataFrame:
        """ANOVA table (see :func:`~gda_core.optimization.anova.anova_table`)."""
        return anova_table(self.result, self.pure_error)

    def lack_of_fit(self) -> LackOfFit | None:
        """The lack-of-fit test, or ``None`` when the data have no pure error."""
        return lack_of_fit(self.result, self.pure_error)

    def coefficients(self, names: tuple[str, ...] | None = None) -> pd.DataFrame:
        """One row per term of the full quadratic: ``coef, se, t, p`` and ``in_model``
        (dropped terms have coefficient 0 and no test)."""
        table = coefficient_table(self.result, self.terms)
        full = pd.DataFrame({"coef": np.asarray(self.surface.coef)},
                            index=term_names(self.surface.k))
        for col in ("se", "t", "p"):
            full[col] = table[col].reindex(full.index)
        full["in_model"] = list(self.kept)
        if names:
            full.index = term_names(self.surface.k, names)
        return full

    def interval(self, X, level: float = 0.95) -> pd.DataFrame:
        """Predicted values at the rows of ``X`` with the confidence interval of the mean
        response (``ci_low``, ``ci_high``) and the prediction interval of a new response
        (``pi_low``, ``pi_high``), from the t distribution on the residual degrees of freedom.

        A new response is a new value of what was fitted: for the mean surface of a
        replicated experiment, the mean of a new run.  For a log fit the intervals are
        computed for ``log y`` and exponentiated (``fit`` is then the median, not the mean).
        """
        A0 = design_matrix(_as_rows(X, self.surface.k))[:, np.asarray(self.kept)]
        fit, ci, pi = intervals(self.result, A0, level)
        out = pd.DataFrame({"fit": fit, "ci_low": fit - ci, "ci_high": fit + ci,
                            "pi_low": fit - pi, "pi_high": fit + pi})
        return np.exp(out) if self.log else out

    def summary(self) -> dict[str, float | int | str | None]:
        """The fit's headline numbers: ``n, terms, r2, r2_adj, r2_pred, sigma, F, p`` of the
        regression, and ``lack_of_fit_p`` (``None`` without pure error)."""
        F, p = self.result.f_regression
        lof = self.lack_of_fit()
        return {"response": self.name, "scale": self.surface.link, "n": self.result.n,
                "terms": int(sum(self.kept)), "r2": self.r2, "r2_adj": self.r2_adj,
                "r2_pred": self.r2_pred, "sigma": self.sigma, "F": F, "p": p,
                "lack_of_fit_p": None if lof is None else lof.p}


def fit_quadratic(X, y, *, log: bool = False, reduce: bool = False, alpha: float = 0.10,
                  pure_error: PureError | None = None, name: str = "response") -> SurfaceFit:
    """Fit a full quadratic model to ``(X, y)`` by least squares.

    Parameters
    ----------
    X, y
        Design (one row per run) and response.
    log
        Fit ``log y`` (all ``y`` must be positive) so that predictions, ``exp`` of the
        quadratic, are positive.
    reduce
        Drop insignificant terms by backward elimination (``p > alpha``), keeping a main
        effect while its square or an interaction with it stays.
    alpha
        Significance level of the reduction.
    pure_error
        Pure error on the scale of the fit (e.g.
        :func:`~gda_core.optimization.anova.pure_error_from_replicates` for run means);
        by default it comes from repeated design points, if any.
    name
        What the response is called in tables and notices.

    Raises :class:`~gda_core.errors.ConfigError` when there are fewer runs than model terms,
    when values are not finite, when the design cannot separate the terms (e.g. a
    variable held at two levels only cannot give its square term), or when ``log`` is asked
    for with values that are not positive.
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    n, k = X.shape
    p = n_terms(k)
    if len(y) != n:
        raise ConfigError(f"{n} design rows but {len(y)} responses")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ConfigError("the design and the responses must be finite numbers")
    if n < p:
        raise ConfigError(f"a full quadratic model in {k} variables has {p} terms, so it needs "
                          f"at least {p} runs; the data has {n}")
    A = design_matrix(X)
    rank = np.linalg.matrix_rank(A)
    if rank < p:
        raise ConfigError(f"the design cannot separate the {p} model terms (rank {rank}); "
                          "each variable needs at least three distinct levels")
    if log:
        bad = np.flatnonzero(y <= 0)
        if len(bad):
            runs = ", ".join(f"run {i + 1} ({y[i]:g})" for i in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            verb = "is" if len(bad) == 1 else "are"
            raise ConfigError(f"the log model of {name} needs positive values; {runs}{more} "
                              f"{verb} not. Use the plain model, or check those runs (a "
                              "standard deviation of 0 means identical replicates)")
        y = np.log(y)
    if pure_error is None:
        pure_error = pure_error_from_points(X, y)
    keep = (backward_eliminate(A, y, term_parents(k), alpha) if reduce
            else np.ones(p, dtype=bool))
    res = ols(A[:, keep], y)
    coef = np.zeros(p)
    coef[keep] = res.coef
    surface = QuadraticSurface.from_coefficients(coef, link="log" if log else "identity")
    return SurfaceFit(surface, res.r2, res.r2_adj, res.fitted, res.residuals, X, y,
                      tuple(bool(v) for v in keep), res, pure_error, name,
                      alpha if reduce else None)
