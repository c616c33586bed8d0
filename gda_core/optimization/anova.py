"""Least-squares inference for response surfaces: ANOVA, lack of fit, term tests, intervals.

Everything here works on a model matrix ``A`` (one row per run, one column per term) and a
response ``y``; :mod:`gda_core.optimization.surfaces` builds ``A`` for quadratic models and
wraps these results in :class:`~gda_core.optimization.surfaces.SurfaceFit`.  The formulas
are the ordinary least-squares ones of the response-surface texts (Myers, Montgomery &
Anderson-Cook, *Response Surface Methodology*, ch. 2-3):

* ``SS_total = SS_regression + SS_residual`` (corrected for the mean), ``MS = SS / df``,
  ``F = MS_regression / MS_residual`` on ``(p - 1, n - p)`` degrees of freedom;
* lack of fit, when pure error is available: ``F = MS_lack-of-fit / MS_pure-error``;
* term tests ``t = b / se(b)`` with ``se(b)^2 = MS_residual [(A'A)^-1]_jj``;
* ``PRESS = sum (e_i / (1 - h_ii))^2`` and predicted ``R^2 = 1 - PRESS / SS_total``;
* at a point with model row ``a``: confidence interval of the mean response
  ``a'b +- t s sqrt(a'(A'A)^-1 a)`` and prediction interval of a new response
  ``a'b +- t s sqrt(1 + a'(A'A)^-1 a)``.

Pure error comes from runs at repeated design points (:func:`pure_error_from_points`, then
the residual splits into lack of fit and pure error) or, when each run's response is the mean
of ``r`` replicate observations, from the spread of those replicates
(:func:`pure_error_from_replicates`, the variance of a run mean, ``s^2 / r``, pooled over
runs); its test statistic then equals the classical one of the stacked observations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from gda_core.errors import ConfigError

ANOVA_COLUMNS = ("df", "SS", "MS", "F", "p")
"""Columns of :func:`anova_table`."""


@dataclass(frozen=True)
class OLSResult:
    """An ordinary least-squares fit with what inference needs.

    Attributes
    ----------
    coef : ndarray
        Coefficients, one per column of the model matrix.
    cov_unscaled : ndarray
        ``(A'A)^-1``; multiply by :attr:`ms_residual` for the coefficients' covariance.
    fitted, residuals, leverage : ndarray
        Fitted values, residuals and the hat matrix's diagonal, one per run.
    ss_regression, ss_residual, ss_total : float
        Sums of squares (the total and the regression corrected for the mean).
    df_regression, df_residual : int
        ``p - 1`` and ``n - p``.
    """

    coef: np.ndarray = field(repr=False)
    cov_unscaled: np.ndarray = field(repr=False)
    fitted: np.ndarray = field(repr=False)
    residuals: np.ndarray = field(repr=False)
    leverage: np.ndarray = field(repr=False)
    ss_regression: float
    ss_residual: float
    ss_total: float
    df_regression: int
    df_residual: int

    @property
    def n(self) -> int:
        """Number of runs."""
        return len(self.fitted)

    @property
    def ms_residual(self) -> float:
        """Residual mean square, the estimate of the error variance (NaN without residual
        degrees of freedom)."""
        return self.ss_residual / self.df_residual if self.df_residual > 0 else float("nan")

    @property
    def r2(self) -> float:
        """``1 - SS_residual / SS_total`` (1 when the response is constant)."""
        return 1.0 - self.ss_residual / self.ss_total if self.ss_total > 0 else 1.0

    @property
    def r2_adj(self) -> float:
        """``1 - (1 - R^2) (n - 1) / (n - p)`` (NaN without residual degrees of freedom)."""
        if self.df_residual <= 0:
            return float("nan")
        return 1.0 - (1.0 - self.r2) * (self.n - 1) / self.df_residual

    @property
    def press(self) -> float:
        """Prediction error sum of squares (leave-one-out residuals from the hat matrix);
        NaN when a run has leverage 1 (the model passes through it whatever its value)."""
        h = self.leverage
        if np.any(h >= 1.0 - 1e-10):
            return float("nan")
        return float(np.sum((self.residuals / (1.0 - h)) ** 2))

    @property
    def r2_pred(self) -> float:
        """Predicted ``R^2 = 1 - PRESS / SS_total`` (NaN when PRESS is)."""
        press = self.press
        if not np.isfinite(press) or self.ss_total <= 0:
            return float("nan")
        return 1.0 - press / self.ss_total

    @property
    def f_regression(self) -> tuple[float, float]:
        """``(F, p)`` of the regression against the residual (NaN when untestable)."""
        return f_test(self.ss_regression, self.df_regression, self.ss_residual,
                      self.df_residual)

    def standard_errors(self) -> np.ndarray:
        """Standard errors of the coefficients."""
        return np.sqrt(np.clip(np.diag(self.cov_unscaled), 0.0, None) * self.ms_residual)

    def t_tests(self) -> tuple[np.ndarray, np.ndarray]:
        """``(t, p)`` per coefficient, two-sided, on ``n - p`` degrees of freedom."""
        se = self.standard_errors()
        with np.errstate(divide="ignore", invalid="ignore"):
            t = np.where(se > 0, self.coef / se, np.nan)
        if self.df_residual <= 0:
            return np.full_like(self.coef, np.nan), np.full_like(self.coef, np.nan)
        return t, 2.0 * stats.t.sf(np.abs(t), self.df_residual)


def ols(A: np.ndarray, y: np.ndarray) -> OLSResult:
    """Least-squares fit of ``y`` on the columns of ``A`` (the first column the intercept).

    Raises :class:`~gda_core.errors.ConfigError` when ``A`` does not have full column rank.

    Examples
    --------
    >>> A = np.column_stack([np.ones(4), [0.0, 1.0, 2.0, 3.0]])
    >>> res = ols(A, np.array([1.0, 3.0, 5.0, 7.5]))
    >>> np.round(res.coef, 3).tolist(), res.df_residual
    ([0.9, 2.15], 2)
    >>> round(res.ss_regression + res.ss_residual - res.ss_total, 12)
    0.0
    """
    A = np.asarray(A, dtype=float)
    y = np.asarray(y, dtype=float).ravel()
    n, p = A.shape
    if len(y) != n:
        raise ConfigError(f"{n} model rows but {len(y)} responses")
    rank = np.linalg.matrix_rank(A)
    if rank < p:
        raise ConfigError(f"the design cannot separate the {p} model terms (rank {rank})")
    Q, R = np.linalg.qr(A)
    coef = np.linalg.solve(R, Q.T @ y)
    R_inv = np.linalg.solve(R, np.eye(p))
    cov = R_inv @ R_inv.T
    fitted = A @ coef
    resid = y - fitted
    ss_res = float(resid @ resid)
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    leverage = np.sum(Q ** 2, axis=1)
    return OLSResult(coef, cov, fitted, resid, leverage, max(ss_tot - ss_res, 0.0), ss_res,
                     ss_tot, p - 1, n - p)


def f_test(ss_num: float, df_num: int, ss_den: float, df_den: int) -> tuple[float, float]:
    """``(F, p)`` with ``F = (ss_num / df_num) / (ss_den / df_den)``; NaNs when either
    ``df`` is 0; ``p = 0`` for an exact denominator (zero) with a non-zero numerator.

    Examples
    --------
    >>> F, p = f_test(30.0, 3, 20.0, 10)
    >>> round(F, 6), round(p, 4)
    (5.0, 0.0226)
    """
    if df_num <= 0 or df_den <= 0:
        return float("nan"), float("nan")
    ms_num, ms_den = ss_num / df_num, ss_den / df_den
    if ms_den <= 0:
        return (float("inf"), 0.0) if ms_num > 0 else (float("nan"), float("nan"))
    F = ms_num / ms_den
    return float(F), float(stats.f.sf(F, df_num, df_den))


@dataclass(frozen=True)
class PureError:
    """An estimate of the error variance that does not depend on the model.

    Attributes
    ----------
    ss, df : float, int
        Sum of squares and degrees of freedom of pure error.
    source : str
        ``"repeated points"`` (runs at the same design point: part of the residual, which
        then splits into lack of fit and pure error) or ``"replicates"`` (replicate
        observations within each run, scaled to the variance of a run mean; not part of the
        residual of the run means, which is then all lack of fit tested against it).
    """

    ss: float
    df: int
    source: str

    @property
    def ms(self) -> float:
        """Pure-error mean square."""
        return self.ss / self.df

    @property
    def within_residual(self) -> bool:
        """Whether the residual sum of squares contains this pure error."""
        return self.source == "repeated points"


def pure_error_from_points(X: np.ndarray, y: np.ndarray, decimals: int = 9) -> PureError | None:
    """Pure error from runs at the same design point (rows of ``X`` equal after rounding to
    ``decimals``): the spread of ``y`` about each point's mean; ``None`` when no point is
    repeated.

    Examples
    --------
    >>> X = np.array([[0.0], [0.0], [1.0], [2.0], [2.0], [2.0]])
    >>> pe = pure_error_from_points(X, np.array([1.0, 3.0, 5.0, 6.0, 7.0, 8.0]))
    >>> pe.ss, pe.df, pe.source
    (4.0, 3, 'repeated points')
    """
    X = np.atleast_2d(np.asarray(X, dtype=float))
    y = np.asarray(y, dtype=float).ravel()
    _, groups = np.unique(np.round(X, decimals), axis=0, return_inverse=True)
    groups = np.asarray(groups).ravel()
    n_groups = int(groups.max()) + 1 if len(groups) else 0
    df = len(y) - n_groups
    if df <= 0:
        return None
    means = np.bincount(groups, weights=y, minlength=n_groups) / np.bincount(groups)
    return PureError(float(np.sum((y - means[groups]) ** 2)), int(df), "repeated points")


def pure_error_from_replicates(Y: np.ndarray) -> PureError:
    """Pure error of run means from replicate observations (one row per run, ``r >= 2``
    columns): ``SS = sum_i sum_j (y_ij - ybar_i)^2 / r`` on ``n (r - 1)`` degrees of
    freedom, so that ``MS`` estimates the variance of a run mean, ``sigma^2 / r``.

    Examples
    --------
    >>> pe = pure_error_from_replicates(np.array([[1.0, 3.0], [4.0, 4.0], [0.0, 2.0]]))
    >>> pe.ss, pe.df, pe.ms
    (2.0, 3, 0.6666666666666666)
    """
    Y = np.atleast_2d(np.asarray(Y, dtype=float))
    n, r = Y.shape
    if r < 2:
        raise ConfigError("pure error from replicates needs at least two per run")
    if not np.all(np.isfinite(Y)):
        raise ConfigError("replicate observations must be finite numbers")
    ss = float(np.sum((Y - Y.mean(axis=1, keepdims=True)) ** 2)) / r
    return PureError(ss, n * (r - 1), "replicates")


@dataclass(frozen=True)
class LackOfFit:
    """A lack-of-fit test: ``F = MS_lack-of-fit / MS_pure-error`` and its p-value."""

    ss: float
    df: int
    pure_error: PureError
    F: float
    p: float


def lack_of_fit(res: OLSResult, pure: PureError | None) -> LackOfFit | None:
    """The lack-of-fit test of a fit given pure error; ``None`` without pure error or when no
    degrees of freedom are left for lack of fit.

    Examples
    --------
    >>> x = np.repeat([-1.0, -0.5, 0.0, 0.5, 1.0], 2)
    >>> y = x ** 2 + np.tile([-0.1, 0.1], 5)     # a straight line misses the curvature
    >>> A = np.column_stack([np.ones(10), x])
    >>> test = lack_of_fit(ols(A, y), pure_error_from_points(x[:, None], y))
    >>> test.df, test.pure_error.df, test.p < 0.01
    (3, 5, True)
    """
    if pure is None:
        return None
    if pure.within_residual:
        ss, df = max(res.ss_residual - pure.ss, 0.0), res.df_residual - pure.df
    else:
        ss, df = res.ss_residual, res.df_residual
    if df <= 0:
        return None
    F, p = f_test(ss, df, pure.ss, pure.df)
    return LackOfFit(float(ss), int(df), pure, F, p)


def anova_table(res: OLSResult, pure: PureError | None = None) -> pd.DataFrame:
    """The ANOVA table of a fit: rows ``Regression``, ``Residual``, then ``Lack of fit`` and
    ``Pure error`` when :func:`lack_of_fit` can test, and ``Total`` (corrected); columns
    ``df, SS, MS, F, p``.

    ``Regression + Residual = Total`` always; ``Lack of fit + Pure error = Residual`` when
    pure error comes from repeated points.  With pure error from replicates the residual is
    all lack of fit and the pure-error row is the (outside) variance of a run mean;
    ``attrs["pure_error"]`` names the source and ``attrs["note"]`` says this in words.

    Examples
    --------
    >>> A = np.column_stack([np.ones(5), [-2.0, -1.0, 0.0, 1.0, 2.0]])
    >>> anova_table(ols(A, np.array([1.0, 2.0, 2.0, 4.0, 5.0]))).round(3)
                df    SS      MS     F      p
    Regression   1  10.0  10.000  37.5  0.009
    Residual     3   0.8   0.267   NaN    NaN
    Total        4  10.8   2.700   NaN    NaN
    """
    nan = float("nan")
    F, p = res.f_regression
    rows: dict[str, tuple[float, float, float, float, float]] = {
        "Regression": (res.df_regression, res.ss_regression,
                       _ms(res.ss_regression, res.df_regression), F, p),
        "Residual": (res.df_residual, res.ss_residual, res.ms_residual, nan, nan),
    }
    test = lack_of_fit(res, pure)
    if test is not None:
        rows["Lack of fit"] = (test.df, test.ss, _ms(test.ss, test.df), test.F, test.p)
        rows["Pure error"] = (test.pure_error.df, test.pure_error.ss, test.pure_error.ms,
                              nan, nan)
    rows["Total"] = (res.n - 1, res.ss_total, _ms(res.ss_total, res.n - 1), nan, nan)
    table = pd.DataFrame.from_dict(rows, orient="index", columns=list(ANOVA_COLUMNS))
    table["df"] = table["df"].astype(int)
    table.attrs["pure_error"] = None if test is None else test.pure_error.source
    table.attrs["note"] = _NOTES.get(table.attrs["pure_error"], "")
    return table


_NOTES = {
    "repeated points": "Pure error from runs at repeated design points; lack of fit + pure "
                       "error = residual.",
    "replicates": "Pure error from the replicates within each run, as the variance of a run "
                  "mean (pooled s²/r); the residual of the run means is all lack of fit and "
                  "is tested against it (the same F as the classical test on all "
                  "observations).",
}


def _ms(ss: float, df: int) -> float:
    return ss / df if df > 0 else float("nan")


def coefficient_table(res: OLSResult, names: Sequence[str]) -> pd.DataFrame:
    """One row per term: ``coef``, standard error ``se``, ``t`` and two-sided ``p``.

    Examples
    --------
    >>> A = np.column_stack([np.ones(5), [-2.0, -1.0, 0.0, 1.0, 2.0]])
    >>> coefficient_table(ols(A, np.array([1.0, 2.0, 2.0, 4.0, 5.0])), ["1", "x"]).round(4)
       coef      se        t       p
    1   2.8  0.2309  12.1244  0.0012
    x   1.0  0.1633   6.1237  0.0088
    """
    t, p = res.t_tests()
    return pd.DataFrame({"coef": res.coef, "se": res.standard_errors(), "t": t, "p": p},
                        index=list(names))


def intervals(res: OLSResult, A0: np.ndarray, level: float = 0.95
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(fit, ci_half, pi_half)`` at the model rows ``A0``: the predicted value and the
    half-widths of the confidence interval of the mean response and of the prediction
    interval of one new response, at confidence ``level`` (t on ``n - p`` df).

    Examples
    --------
    >>> A = np.column_stack([np.ones(5), [-2.0, -1.0, 0.0, 1.0, 2.0]])
    >>> fit, ci, pi = intervals(ols(A, np.array([1.0, 2.0, 2.0, 4.0, 5.0])),
    ...                         np.array([[1.0, 0.0]]))
    >>> float(fit[0]), round(float(ci[0]), 4), round(float(pi[0]), 4)
    (2.8, 0.735, 1.8003)
    """
    if not 0.0 < level < 1.0:
        raise ConfigError(f"the confidence level must be between 0 and 1, got {level}")
    A0 = np.atleast_2d(np.asarray(A0, dtype=float))
    fit = A0 @ res.coef
    quad = np.einsum("ij,jk,ik->i", A0, res.cov_unscaled, A0)
    if res.df_residual <= 0:
        nan = np.full(len(A0), np.nan)
        return fit, nan, nan.copy()
    t = float(stats.t.ppf(0.5 + level / 2.0, res.df_residual))
    s2 = res.ms_residual
    return fit, t * np.sqrt(s2 * quad), t * np.sqrt(s2 * (1.0 + quad))


def backward_eliminate(A: np.ndarray, y: np.ndarray, parents: Sequence[Sequence[int]],
                       alpha: float = 0.10) -> np.ndarray:
    """Backward elimination keeping hierarchy: repeatedly drop the term with the largest
    p-value above ``alpha`` among those no kept term depends on; column 0 (the intercept)
    always stays.

    Parameters
    ----------
    A, y
        Full model matrix and response.
    parents
        ``parents[j]``: the columns that must stay while column ``j`` does (for ``x1^2`` and
        ``x1x2`` in a quadratic model, the column of ``x1``; ``x2`` too for ``x1x2``).
    alpha
        Terms with ``p > alpha`` are candidates for removal.

    Returns
    -------
    ndarray of bool
        Which columns stay.

    Examples
    --------
    >>> x = np.linspace(-1, 1, 9)
    >>> A = np.column_stack([np.ones(9), x, x ** 2])
    >>> y = 1 + 2 * x + np.array([0.1, -0.1, 0.05, 0.0, -0.05, 0.1, -0.1, 0.02, -0.02])
    >>> backward_eliminate(A, y, [[], [], [1]]).tolist()
    [True, True, False]
    """
    if not 0.0 < alpha < 1.0:
        raise ConfigError(f"the significance level for dropping terms must be between 0 and "
                          f"1, got {alpha}")
    A = np.asarray(A, dtype=float)
    p = A.shape[1]
    if len(parents) != p:
        raise ConfigError(f"{p} model columns but {len(parents)} parent lists")
    keep = np.ones(p, dtype=bool)
    while True:
        res = ols(A[:, keep], y)
        if res.df_residual <= 0:
            return keep
        _, pvals = res.t_tests()
        cols = np.flatnonzero(keep)
        needed = {q for j in cols for q in parents[j]}
        best, best_p = -1, alpha
        for pos, j in enumerate(cols):
            if j == 0 or j in needed:
                continue
            if pvals[pos] > best_p:
                best, best_p = int(j), float(pvals[pos])
        if best < 0:
            return keep
        keep[best] = False
