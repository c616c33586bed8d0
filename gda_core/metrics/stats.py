"""Confidence intervals over seeds and paired differences to the baseline.

A comparison run with several seeds gives, per method and metric, one value per seed.
:func:`mean_ci` turns them into a mean with a Student-t confidence interval, and
:func:`paired_difference` compares a method with the baseline seed by seed (the same
seed means the same split and the same initial weights, so the differences are paired).
:func:`summarise` does both for every method and metric of a
:class:`~gda_core.experiments.ComparisonResult`, and marks a difference significant only
after Holm's step-down correction (:func:`holm`) over every method × metric test of its
table: with 10 metrics and 4 methods, 40 uncorrected tests at 5% would flag about two
differences even when no method differs from the baseline.

Conventions
-----------
* Intervals are ``mean ± t_{(1 + confidence) / 2, n - 1} * s / sqrt(n)`` with ``s`` the
  sample standard deviation (``ddof=1``).
* NaN values (e.g. a ROC AUC that is undefined for one seed) are left out, and so are
  pairs with a NaN on either side; ``n`` counts the values actually used.
* With one value the interval is undefined: its bounds are NaN (the mean is still given),
  and a difference with one pair is never significant.  With no value everything is NaN.
* Identical values (zero spread) give a zero-width interval at the mean; a paired
  difference that is the same non-zero number for every seed is therefore significant
  (p-value 0), one that is 0 for every seed is not (p-value 1).
* Intervals are not adjusted for multiple testing; the ``significant`` column of
  :func:`summarise` is (Holm), so an interval may exclude 0 without being marked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from gda_core.errors import ConfigError, GDAError
from gda_core.metrics.classification import METRIC_LABELS

if TYPE_CHECKING:  # runtime import would cycle: experiments imports gda_core.metrics
    from gda_core.experiments.result import ComparisonResult

SUMMARY_COLUMNS: tuple[str, ...] = (
    "method", "metric", "n", "mean", "ci_low", "ci_high",
    "n_pairs", "diff_vs_baseline", "diff_low", "diff_high", "p_value", "p_holm",
    "significant",
)
"""Columns of the table returned by :func:`summarise`, in order."""


def _check_confidence(confidence: Any) -> float:
    ok = isinstance(confidence, Real) and not isinstance(confidence, bool)
    if not ok or not 0.0 < float(confidence) < 1.0:
        raise ConfigError(f"confidence must be a number strictly between 0 and 1 (e.g. 0.95); "
                          f"got {confidence!r}")
    return float(confidence)


def _values(values: Any, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 1:
        raise GDAError(f"{name} must be a one-dimensional list of numbers; got shape "
                       f"{arr.shape}")
    return arr


def _t_interval(x: np.ndarray, confidence: float) -> tuple[float, float, float]:
    """Mean and t interval of finite values ``x`` (already cleaned)."""
    n = x.size
    if n == 0:
        return math.nan, math.nan, math.nan
    mean = float(x.mean())
    if n == 1:
        return mean, math.nan, math.nan
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * x.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half


def mean_ci(values: Any, confidence: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its Student-t confidence interval.

    Parameters
    ----------
    values : array-like of float, shape (n,)
        One value per seed; NaNs are ignored.
    confidence : float in (0, 1)
        Coverage of the interval.

    Returns
    -------
    (mean, low, high) : tuple of float
        ``low``/``high`` are NaN for fewer than two values; all three are NaN for none.

    Examples
    --------
    >>> m, lo, hi = mean_ci([1.0, 2.0, 3.0])      # 2 ± 4.3027 * 1 / sqrt(3)
    >>> m, round(lo, 4), round(hi, 4)
    (2.0, -0.4841, 4.4841)
    >>> mean_ci([0.7])
    (0.7, nan, nan)
    """
    confidence = _check_confidence(confidence)
    x = _values(values, "values")
    return _t_interval(x[~np.isnan(x)], confidence)


def paired_difference(a: Any, b: Any,
                      confidence: float = 0.95) -> tuple[float, float, float, bool]:
    """Mean of the paired differences ``a - b`` with its t interval (a paired t-test).

    Parameters
    ----------
    a, b : array-like of float, shape (n,)
        Values of two methods, position ``i`` of both from the same seed.  Pairs with a
        NaN on either side are left out.
    confidence : float in (0, 1)

    Returns
    -------
    (mean_diff, low, high, significant) : tuple
        ``significant`` is True when the interval excludes zero (equivalently, a two-sided
        paired t-test rejects "no difference" at level ``1 - confidence``); it is False
        when the interval is undefined (fewer than two pairs).

    Examples
    --------
    >>> d, lo, hi, sig = paired_difference([0.82, 0.85, 0.80], [0.80, 0.81, 0.79])
    >>> round(d, 4), round(lo, 4), round(hi, 4), sig      # diffs .02 .04 .01
    (0.0233, -0.0146, 0.0613, False)
    >>> paired_difference([0.9, 0.8, 0.7], [0.8, 0.7, 0.6])[3]   # always +0.1
    True
    """
    confidence = _check_confidence(confidence)
    x, y = _values(a, "a"), _values(b, "b")
    if x.shape != y.shape:
        raise GDAError(f"paired values must have the same length; got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    mean, low, high = _t_interval(x[keep] - y[keep], confidence)
    significant = bool(not math.isnan(low) and (low > 0 or high < 0))
    return mean, low, high, significant


def paired_p_value(a: Any, b: Any) -> float:
    """Two-sided p-value of the paired t-test of ``a - b`` against no difference.

    Parameters
    ----------
    a, b : array-like of float, shape (n,)
        Paired values (position ``i`` of both from the same seed); pairs with a NaN on
        either side are left out.

    Returns
    -------
    float
        NaN with fewer than two pairs; with zero spread, 0.0 when the differences are a
        non-zero constant and 1.0 when they are all 0.  Otherwise
        ``2 * (1 - T_{n-1}(|t|))`` with ``t = mean / (s / sqrt(n))``; it is below
        ``1 - confidence`` exactly when :func:`paired_difference`'s interval excludes 0.

    Examples
    --------
    >>> round(paired_p_value([0.82, 0.85, 0.80], [0.80, 0.81, 0.79]), 4)   # t = 2.6458
    0.1181
    >>> paired_p_value([3.0, 2.0, 1.0], [2.0, 1.0, 0.0]), paired_p_value([0.9], [0.8])
    (0.0, nan)
    """
    x, y = _values(a, "a"), _values(b, "b")
    if x.shape != y.shape:
        raise GDAError(f"paired values must have the same length; got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    d = x[keep] - y[keep]
    if d.size < 2:
        return math.nan
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0 or not math.isfinite(mean / sd):
        return 0.0 if mean != 0.0 else 1.0
    t = mean / (sd / math.sqrt(d.size))
    return float(2.0 * sps.t.sf(abs(t), d.size - 1))


def holm(p_values: Any, alpha: float = 0.05) -> tuple[np.ndarray, np.ndarray]:
    """Holm's step-down correction of a family of tests.

    The ``m`` p-values are sorted, ``p_(1) <= ... <= p_(m)``; hypotheses are rejected in
    that order while ``p_(i) <= alpha / (m - i + 1)``, and none after the first that is
    not.  This keeps the family-wise error rate (the chance of any false "significant")
    at ``alpha`` under any dependence between the tests, and rejects at least what
    Bonferroni rejects.

    Parameters
    ----------
    p_values : array-like of float, shape (m,)
        NaN marks a test that was not made: it is not counted in ``m`` and never
        rejected.
    alpha : float in (0, 1)
        Family-wise error rate.

    Returns
    -------
    (reject, adjusted) : tuple of ndarray, shape (m,)
        ``reject`` (bool) and the Holm-adjusted p-values
        ``max_{j <= i} min(1, (m - j + 1) p_(j))`` in the input order (NaN stays NaN);
        ``reject`` is ``adjusted <= alpha``.

    Examples
    --------
    >>> reject, adjusted = holm([0.01, 0.04, 0.03, 0.005, float("nan")])
    >>> reject.tolist()        # thresholds .05/4, .05/3, .05/2, .05: .005 and .01 pass
    [True, False, False, True, False]
    >>> adjusted.round(3).tolist()     # .005*4, .01*3, max(.03*2, .03), max(.04, .06)
    [0.03, 0.06, 0.06, 0.02, nan]
    """
    alpha = _check_confidence(alpha)
    p = _values(p_values, "p_values")
    if np.any(p[~np.isnan(p)] < 0) or np.any(p[~np.isnan(p)] > 1):
        raise GDAError("p-values must lie in [0, 1]")
    adjusted = np.full(p.shape, np.nan)
    tested = np.flatnonzero(~np.isnan(p))
    m = tested.size
    if m:
        order = tested[np.argsort(p[tested], kind="stable")]
        scaled = p[order] * np.arange(m, 0, -1)
        adjusted[order] = np.minimum(1.0, np.maximum.accumulate(scaled))
    reject = np.zeros(p.shape, dtype=bool)
    reject[tested] = adjusted[tested] <= alpha
    return reject, adjusted


def significance_note(table: pd.DataFrame, confidence: float = 0.95) -> str:
    """How the ``significant`` column of a :func:`summarise` table was decided, for people.

    Examples
    --------
    >>> significance_note(pd.DataFrame({"p_value": [0.01, 0.2, float("nan")]}))
    'paired t-test over seeds at 5%, Holm-corrected over the 2 method × metric tests of this table'
    """
    confidence = _check_confidence(confidence)
    n = int(table["p_value"].notna().sum()) if "p_value" in table else 0
    level = f"{(1 - confidence) * 100:.6g}%"
    tests = "test" if n == 1 else "tests"
    return (f"paired t-test over seeds at {level}, Holm-corrected over the {n} method × "
            f"metric {tests} of this table")


def _metric_names(result: ComparisonResult, metrics: Sequence[str] | None) -> list[str]:
    if metrics is not None:
        return list(metrics)
    seen: dict[str, None] = {}
    for run in result.runs:
        if run.ok:
            seen.update(dict.fromkeys(run.metrics))
    known = [m for m in METRIC_LABELS if m in seen]
    return known + [m for m in seen if m not in METRIC_LABELS]


def _by_seed(runs: Iterable[Any], metric: str) -> dict[tuple[int, int], float]:
    """``(seed, repeat) -> value`` of the successful runs (repeat counts duplicate seeds)."""
    out: dict[tuple[int, int], float] = {}
    repeats: dict[int, int] = {}
    for run in runs:
        if not run.ok:
            continue
        r = repeats.get(run.seed, 0)
        repeats[run.seed] = r + 1
        value = run.metrics.get(metric)
        out[(run.seed, r)] = math.nan if value is None else float(value)
    return out


def summarise(result: ComparisonResult, baseline: str = "baseline", *,
              confidence: float = 0.95, metrics: Sequence[str] | None = None) -> pd.DataFrame:
    """Tidy table of means, intervals and paired differences to the baseline.

    Parameters
    ----------
    result : ComparisonResult
        Its successful runs are used (failed runs are left out).
    baseline : str
        Method the others are compared with.  When it has no successful run, the
        difference columns are NaN and ``significant`` is False.
    confidence : float in (0, 1)
    metrics : sequence of str, optional
        Metrics to summarise (default: every metric found in the runs, in the order of
        :data:`~gda_core.metrics.METRIC_LABELS`).

    Returns
    -------
    DataFrame
        One row per method (in run order) and metric, columns :data:`SUMMARY_COLUMNS`:
        ``n`` values used for ``mean`` / ``ci_low`` / ``ci_high`` (see :func:`mean_ci`);
        ``n_pairs`` seeds that both the method and the baseline ran, paired by seed, for
        ``diff_vs_baseline`` / ``diff_low`` / ``diff_high`` (see
        :func:`paired_difference`; not adjusted for multiple tests) and ``p_value`` (see
        :func:`paired_p_value`).  ``p_holm`` is the p-value adjusted by :func:`holm` over
        every test of the table (all methods × all metrics with a ``p_value``) and
        ``significant`` is ``p_holm <= 1 - confidence``.  The baseline's own rows have
        NaN differences and p-values.

    Examples
    --------
    >>> from gda_core.experiments import ComparisonResult, MethodRun
    >>> runs = [MethodRun("baseline", s, {"f1_macro": v}) for s, v in [(0, .70), (1, .72)]]
    >>> runs += [MethodRun("smote", s, {"f1_macro": v}) for s, v in [(0, .75), (1, .78)]]
    >>> res = ComparisonResult({}, ["a", "b"], [1], [0], [10, 2], [5, 5], runs=runs)
    >>> table = summarise(res)
    >>> row = table.set_index(["method", "metric"]).loc[("smote", "f1_macro")]
    >>> float(row["mean"]), round(float(row["diff_vs_baseline"]), 3), int(row["n_pairs"])
    (0.765, 0.055, 2)
    >>> round(float(row["p_value"]), 4), bool(row["significant"])   # diffs .05, .06
    (0.0577, False)
    """
    confidence = _check_confidence(confidence)
    names = _metric_names(result, metrics)
    base_runs = result.runs_of(baseline)
    rows: list[dict[str, Any]] = []
    for method in result.methods:
        runs = result.runs_of(method)
        if not any(r.ok for r in runs):
            continue
        for metric in names:
            values = _by_seed(runs, metric)
            arr = np.array(list(values.values()), dtype=np.float64)
            mean, low, high = mean_ci(arr, confidence)
            row: dict[str, Any] = {
                "method": method, "metric": metric, "n": int(np.sum(~np.isnan(arr))),
                "mean": mean, "ci_low": low, "ci_high": high, "n_pairs": 0,
                "diff_vs_baseline": math.nan, "diff_low": math.nan, "diff_high": math.nan,
                "p_value": math.nan, "p_holm": math.nan, "significant": False,
            }
            if method != baseline:
                base = _by_seed(base_runs, metric)
                keys = [k for k in values if k in base]
                a = np.array([values[k] for k in keys], dtype=np.float64)
                b = np.array([base[k] for k in keys], dtype=np.float64)
                diff, dlow, dhigh, _ = paired_difference(a, b, confidence)
                row.update(n_pairs=int(np.sum(~(np.isnan(a) | np.isnan(b)))),
                           diff_vs_baseline=diff, diff_low=dlow, diff_high=dhigh,
                           p_value=paired_p_value(a, b))
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    if not table.empty:
        reject, adjusted = holm(table["p_value"].to_numpy(dtype=np.float64), 1 - confidence)
        table["p_holm"], table["significant"] = adjusted, reject
    return table.astype({"n": "int64", "n_pairs": "int64", "p_value": "float64",
                         "p_holm": "float64", "significant": "bool"})
