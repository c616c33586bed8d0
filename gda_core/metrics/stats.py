"""Confidence intervals, paired differences to the baseline, and the test that decides.

A comparison gives, per method and metric, one value per unit: a seed (hold-out protocol)
or a fold of a repeat (cross-validation).  :func:`mean_ci` turns them into a mean with a
Student-t interval; :func:`resampled_t_test` compares a method with the baseline unit by
unit (the same unit means the same training and test images and the same initial weights,
so the differences are paired).  :func:`summarise` does both for every method and metric
of a :class:`~gda_core.experiments.ComparisonResult`.

The test
--------
Cross-validation folds share most of their training images, so their differences are
correlated and a plain paired t-test over folds is far too confident.  The **corrected
resampled t-test** (Nadeau & Bengio 2003, "Inference for the generalization error",
Machine Learning 52; recommended for repeated k-fold by Bouckaert & Frank 2004) inflates
the variance of the mean difference by the test/training size ratio:

    t = mean(d) / sqrt((1 / n + n_test / n_train) * s^2),   n - 1 degrees of freedom,

``n`` differences (folds x repeats), ``s^2`` their sample variance.  Its interval is the
Bayesian correlated t-test's posterior interval under a flat prior (Benavoli et al. 2017,
JMLR 18(77); ``baycomp.CorrelatedTTest``, which the tests check it against).  With
``n_test / n_train = 0`` it is the ordinary paired t-test, used over seeds of the
hold-out protocol (each seed draws its own training images and trains from its own
initial weights; the test images are the same large set).

Conventions
-----------
* One **primary metric**, chosen before the run (``CompareConfig.primary_metric``), is
  tested for every method against the baseline, with Holm's step-down correction over the
  methods (:func:`holm`, statsmodels' ``multipletests``); every other metric is
  descriptive: intervals, no marks.
* A difference without spread (the same value in every unit, up to rounding) is never
  significant: the test has nothing to measure its noise by (p-value NaN, ``note``
  ``"no spread"``).  Fewer than two pairs: likewise (``"one pair"``).
* A metric that is constant at 0 or 1 for the baseline (e.g. a G-mean of 0 because one
  class is never predicted) is shown but never tested (``note`` ``"baseline constant"``):
  a gain over a degenerate baseline is not evidence about the method.
* Intervals never leave the metric's range: a mean's interval is clipped to [0, 1], a
  difference's to what the baseline's mean allows (``[-b, 1 - b]``).
* NaN values (e.g. a ROC AUC that is undefined for one unit) are left out, and so are
  pairs with a NaN on either side; ``n`` counts the values actually used.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from gda_core.errors import ConfigError, GDAError
from gda_core.metrics.classification import METRIC_LABELS

if TYPE_CHECKING:  # runtime import would cycle: experiments imports gda_core.metrics
    from gda_core.experiments.result import ComparisonResult

SUMMARY_COLUMNS: tuple[str, ...] = (
    "method", "metric", "n", "mean", "ci_low", "ci_high",
    "n_pairs", "diff_vs_baseline", "diff_low", "diff_high", "p_value", "p_holm",
    "significant", "primary", "note",
)
"""Columns of the table returned by :func:`summarise`, in order."""

PRIMARY_METRICS: tuple[str, ...] = ("f1_macro", "minority_recall", "acsa", "gmean")
"""Metrics that may be a comparison's primary (tested) metric."""

BOUNDED: frozenset[str] = frozenset({
    "accuracy", "precision_macro", "recall_macro", "f1_macro", "acsa", "gmean",
    "gmean_sens_spec", "minority_recall", "smallest_class_recall", "majority_precision",
    "top2_accuracy", "roc_auc_ovr"})
"""Metrics that lie in [0, 1] (their intervals are clipped to it)."""

NO_SPREAD = 1e-9
"""Differences whose standard deviation is below this (relative to 1 and to their mean's
size) are "without spread": rounding, not noise the test could measure."""

CORRECTED_TEST = "corrected resampled t-test (Nadeau & Bengio 2003)"
PAIRED_TEST = "paired t-test over seeds"


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


@dataclass(frozen=True)
class PairedTest:
    """A method's paired difference to the baseline, and the test of it.

    Attributes
    ----------
    mean, low, high : float
        Mean difference and its interval (NaN bounds when undefined).
    p_value : float
        Two-sided p-value; NaN when the test cannot judge (see ``note``).
    n : int
        Pairs used.
    note : str
        ``""``, ``"one pair"`` or ``"no spread"``.
    """

    mean: float
    low: float
    high: float
    p_value: float
    n: int
    note: str = ""

    @property
    def significant_at(self) -> float:
        """The p-value, or 1 when the test could not judge (never significant)."""
        return 1.0 if math.isnan(self.p_value) else self.p_value


def resampled_t_test(differences: Any, test_train_ratio: float = 0.0,
                     confidence: float = 0.95) -> PairedTest:
    """The corrected resampled t-test of paired differences (see the module docstring).

    Parameters
    ----------
    differences : array-like of float, shape (n,)
        Method minus baseline, one value per unit (NaNs are left out).
    test_train_ratio : float
        ``n_test / n_train`` of one unit: ``1 / (k - 1)`` for k-fold cross-validation; 0
        gives the ordinary paired t-test.
    confidence : float in (0, 1)

    Returns
    -------
    PairedTest

    Examples
    --------
    Ten folds of 5-fold cross-validation (2 repeats), differences of macro F1:

    >>> d = [0.05, 0.10, 0.00, 0.08, 0.12, 0.03, 0.07, 0.09, -0.02, 0.06]
    >>> r = resampled_t_test(d, test_train_ratio=1 / 4)
    >>> round(r.mean, 3), round(r.low, 3), round(r.high, 3), round(r.p_value, 4)
    (0.058, -0.001, 0.117, 0.0536)
    >>> round(resampled_t_test(d).p_value, 4)          # uncorrected: far too confident
    0.0025
    >>> resampled_t_test([0.005, 0.005, 0.005]).note   # equal differences: no test
    'no spread'
    """
    confidence = _check_confidence(confidence)
    ratio = float(test_train_ratio)
    if not ratio >= 0 or not math.isfinite(ratio):
        raise GDAError(f"the test/training size ratio must be a number >= 0; got "
                       f"{test_train_ratio!r}")
    d = _values(differences, "differences")
    d = d[~np.isnan(d)]
    n = int(d.size)
    if n == 0:
        return PairedTest(math.nan, math.nan, math.nan, math.nan, 0, "no pair")
    mean = float(d.mean())
    if n == 1:
        return PairedTest(mean, math.nan, math.nan, math.nan, 1, "one pair")
    sd = float(d.std(ddof=1))
    if sd <= NO_SPREAD * max(1.0, abs(mean)):
        return PairedTest(mean, math.nan, math.nan, math.nan, n, "no spread")
    se = sd * math.sqrt(1.0 / n + ratio)
    half = float(sps.t.ppf(0.5 + confidence / 2, n - 1) * se)
    p = float(2.0 * sps.t.sf(abs(mean / se), n - 1))
    return PairedTest(mean, mean - half, mean + half, p, n)


def _paired(a: Any, b: Any) -> np.ndarray:
    x, y = _values(a, "a"), _values(b, "b")
    if x.shape != y.shape:
        raise GDAError(f"paired values must have the same length; got {x.size} and {y.size}")
    keep = ~(np.isnan(x) | np.isnan(y))
    return x[keep] - y[keep]


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
        when the interval is undefined: fewer than two pairs, or differences without
        spread (the same in every pair: the test cannot measure their noise).

    Examples
    --------
    >>> d, lo, hi, sig = paired_difference([0.82, 0.85, 0.80], [0.80, 0.81, 0.79])
    >>> round(d, 4), round(lo, 4), round(hi, 4), sig      # diffs .02 .04 .01
    (0.0233, -0.0146, 0.0613, False)
    >>> paired_difference([0.9, 0.8, 0.7], [0.8, 0.7, 0.6])[3]   # always +0.1: no spread
    False
    """
    r = resampled_t_test(_paired(a, b), 0.0, confidence)
    significant = bool(not math.isnan(r.low) and (r.low > 0 or r.high < 0))
    return r.mean, r.low, r.high, significant


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
        NaN with fewer than two pairs or differences without spread (the test cannot
        judge: never significant).  Otherwise ``2 * (1 - T_{n-1}(|t|))`` with
        ``t = mean / (s / sqrt(n))``; it is below ``1 - confidence`` exactly when
        :func:`paired_difference`'s interval excludes 0.

    Examples
    --------
    >>> round(paired_p_value([0.82, 0.85, 0.80], [0.80, 0.81, 0.79]), 4)   # t = 2.6458
    0.1181
    >>> paired_p_value([0.805, 0.815], [0.800, 0.810]), paired_p_value([0.9], [0.8])
    (nan, nan)
    """
    return resampled_t_test(_paired(a, b)).p_value


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
    reject = np.zeros(p.shape, dtype=bool)
    if tested.size:
        reject[tested], adjusted[tested], _, _ = multipletests(p[tested], alpha=alpha,
                                                               method="holm")
    return reject, adjusted


def significance_note(table: pd.DataFrame, confidence: float = 0.95) -> str:
    """How the ``significant`` column of a :func:`summarise` table was decided, for people.

    Examples
    --------
    >>> table = pd.DataFrame({"p_value": [0.01, 0.2, float("nan")],
    ...                       "primary": [True, True, False], "metric": ["f1_macro"] * 3})
    >>> print(significance_note(table))  # doctest: +NORMALIZE_WHITESPACE
    paired t-test over seeds at 5% on Macro F1 (the primary metric), Holm-corrected over the
    2 methods tested; the other metrics are descriptive
    """
    confidence = _check_confidence(table.attrs.get("confidence", confidence))
    primary = table["primary"] if "primary" in table else pd.Series(True, index=table.index)
    tested = table["p_value"].notna() & primary if "p_value" in table else primary & False
    n = int(tested.sum())
    level = f"{(1 - confidence) * 100:.6g}%"
    metric = table.attrs.get("primary_metric")
    if metric is None and "metric" in table and primary.any():
        metric = str(table.loc[primary, "metric"].iloc[0])
    label = METRIC_LABELS.get(metric, metric) if metric else "the primary metric"
    test = table.attrs.get("test", PAIRED_TEST)
    methods = "method" if n == 1 else "methods"
    return (f"{test} at {level} on {label} (the primary metric), Holm-corrected over the "
            f"{n} {methods} tested; the other metrics are descriptive")


def _metric_names(result: ComparisonResult, metrics: Sequence[str] | None) -> list[str]:
    if metrics is not None:
        return list(metrics)
    seen: dict[str, None] = {}
    for run in result.runs:
        if run.ok:
            seen.update(dict.fromkeys(run.metrics))
    known = [m for m in METRIC_LABELS if m in seen]
    return known + [m for m in seen if m not in METRIC_LABELS]


def _by_unit(runs: Iterable[Any], metric: str) -> dict[tuple[int, int, int], float]:
    """``(seed, fold, repeat) -> value`` of the successful runs (fold -1 without folds;
    repeat counts duplicate units)."""
    out: dict[tuple[int, int, int], float] = {}
    repeats: dict[tuple[int, int], int] = {}
    for run in runs:
        if not run.ok:
            continue
        fold = getattr(run, "fold", None)
        key = (int(run.seed), -1 if fold is None else int(fold))
        r = repeats.get(key, 0)
        repeats[key] = r + 1
        value = run.metrics.get(metric)
        out[(*key, r)] = math.nan if value is None else float(value)
    return out


def difference_test(result: ComparisonResult) -> tuple[str, float]:
    """The test a comparison's differences get, and its ``n_test / n_train`` ratio: the
    corrected resampled t-test for cross-validation, the paired t-test over seeds for the
    hold-out protocol."""
    protocol = getattr(result, "protocol", None) or {}
    if protocol.get("kind") == "cv":
        folds = int(protocol.get("folds", 5))
        return CORRECTED_TEST, 1.0 / max(1, folds - 1)
    return PAIRED_TEST, 0.0


def _clip(low: float, high: float, lo: float, hi: float) -> tuple[float, float]:
    if math.isnan(low):
        return low, high
    return max(low, lo), min(high, hi)


def summarise(result: ComparisonResult, baseline: str = "baseline", *,
              confidence: float = 0.95, metrics: Sequence[str] | None = None,
              primary: str | None = None) -> pd.DataFrame:
    """Tidy table of means, intervals and paired differences to the baseline.

    Parameters
    ----------
    result : ComparisonResult
        Its successful runs are used (failed runs are left out); units are paired by seed
        and fold.
    baseline : str
        Method the others are compared with.  When it has no successful run, the
        difference columns are NaN and ``significant`` is False.
    confidence : float in (0, 1)
    metrics : sequence of str, optional
        Metrics to summarise (default: every metric found in the runs, in the order of
        :data:`~gda_core.metrics.METRIC_LABELS`).
    primary : str, optional
        The tested metric (default: the comparison's ``primary_metric``, else macro F1).

    Returns
    -------
    DataFrame
        One row per method (in run order) and metric, columns :data:`SUMMARY_COLUMNS`:
        ``n`` values used for ``mean`` / ``ci_low`` / ``ci_high`` (see :func:`mean_ci`);
        ``n_pairs`` units that both the method and the baseline ran, for
        ``diff_vs_baseline`` / ``diff_low`` / ``diff_high`` and ``p_value`` (see
        :func:`resampled_t_test`; the test is :func:`difference_test` the result, not adjusted for
        multiple tests).  ``p_holm`` is the p-value adjusted by :func:`holm` over the
        methods' tests of the primary metric, and ``significant`` is ``p_holm <= 1 -
        confidence`` there (False for every other metric: descriptive).  ``primary``
        marks the primary metric's rows; ``note`` says why a row was not tested (``"no
        spread"``, ``"one pair"``, ``"baseline constant"``).  Intervals are clipped to the
        metric's range.  ``attrs`` hold ``test``, ``primary_metric`` and ``confidence``.

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
    primary = primary or (result.config or {}).get("primary_metric") or "f1_macro"
    test, ratio = difference_test(result)
    base_runs = result.runs_of(baseline)
    rows: list[dict[str, Any]] = []
    for method in result.methods:
        runs = result.runs_of(method)
        if not any(r.ok for r in runs):
            continue
        for metric in names:
            values = _by_unit(runs, metric)
            arr = np.array(list(values.values()), dtype=np.float64)
            mean, low, high = mean_ci(arr, confidence)
            if metric in BOUNDED:
                low, high = _clip(low, high, 0.0, 1.0)
            row: dict[str, Any] = {
                "method": method, "metric": metric, "n": int(np.sum(~np.isnan(arr))),
                "mean": mean, "ci_low": low, "ci_high": high, "n_pairs": 0,
                "diff_vs_baseline": math.nan, "diff_low": math.nan, "diff_high": math.nan,
                "p_value": math.nan, "p_holm": math.nan, "significant": False,
                "primary": metric == primary, "note": "",
            }
            if method != baseline:
                base = _by_unit(base_runs, metric)
                keys = [k for k in values if k in base]
                a = np.array([values[k] for k in keys], dtype=np.float64)
                b = np.array([base[k] for k in keys], dtype=np.float64)
                r = resampled_t_test(_paired(a, b), ratio, confidence)
                dlow, dhigh = r.low, r.high
                b_ok = b[~(np.isnan(a) | np.isnan(b))]
                if metric in BOUNDED and b_ok.size:
                    dlow, dhigh = _clip(dlow, dhigh, -float(b_ok.mean()),
                                        1.0 - float(b_ok.mean()))
                note, p = r.note, r.p_value
                if (metric in BOUNDED and b_ok.size > 1 and not note
                        and (np.all(b_ok == 0.0) or np.all(b_ok == 1.0))):
                    note, p = "baseline constant", math.nan
                row.update(n_pairs=r.n, diff_vs_baseline=r.mean, diff_low=dlow,
                           diff_high=dhigh, p_value=p, note=note)
            rows.append(row)
    table = pd.DataFrame(rows, columns=list(SUMMARY_COLUMNS))
    if not table.empty:
        tested = table["primary"].to_numpy(dtype=bool)
        p = np.where(tested, table["p_value"].to_numpy(dtype=np.float64), np.nan)
        reject, adjusted = holm(p, 1 - confidence)
        table["p_holm"], table["significant"] = adjusted, reject
    table = table.astype({"n": "int64", "n_pairs": "int64", "p_value": "float64",
                          "p_holm": "float64", "significant": "bool", "primary": "bool"})
    table.attrs.update(test=test, primary_metric=primary, confidence=confidence)
    return table
