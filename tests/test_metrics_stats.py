"""Intervals over seeds and paired differences, against hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gda_core.errors import GDAError
from gda_core.experiments import ComparisonResult, MethodRun
from gda_core.metrics.stats import SUMMARY_COLUMNS, mean_ci, paired_difference, summarise

T_975_2 = 4.302652729749462   # t_{0.975} with 2 degrees of freedom (tables: 4.303)
T_975_3 = 3.182446305283708   # ... with 3
T_95_2 = 2.919985580353724    # t_{0.95} with 2 (a 90% interval)


def test_mean_ci_three_values_by_hand():
    mean, low, high = mean_ci([1.0, 2.0, 3.0])
    half = T_975_2 * 1.0 / math.sqrt(3)      # s = 1; 4.303 * 0.5774 = 2.484
    assert mean == 2.0
    assert half == pytest.approx(2.4841, abs=1e-4)
    assert (low, high) == pytest.approx((2.0 - half, 2.0 + half), abs=1e-12)


def test_mean_ci_confidence_level_and_order_do_not_matter_for_the_mean():
    mean, low, high = mean_ci([3.0, 1.0, 2.0], confidence=0.90)
    assert mean == 2.0
    assert high - mean == pytest.approx(T_95_2 / math.sqrt(3), abs=1e-12)
    assert mean - low == pytest.approx(high - mean, abs=1e-12)


def test_mean_ci_four_values():
    values = [0.80, 0.84, 0.78, 0.86]
    s = np.std(values, ddof=1)                 # 0.036515
    mean, _, high = mean_ci(values)
    assert mean == pytest.approx(0.82)
    assert high - mean == pytest.approx(T_975_3 * s / 2.0, abs=1e-12)


def test_mean_ci_small_and_degenerate_inputs():
    mean, low, high = mean_ci([0.7])                          # one value: no interval
    assert mean == 0.7 and math.isnan(low) and math.isnan(high)
    assert all(math.isnan(v) for v in mean_ci([]))
    assert mean_ci([0.5, 0.5, 0.5]) == (0.5, 0.5, 0.5)        # zero spread, zero width
    mean, low, high = mean_ci([1.0, math.nan, 2.0, 3.0])      # NaN ignored
    assert mean == 2.0 and high - low == pytest.approx(2 * T_975_2 / math.sqrt(3))


@pytest.mark.parametrize("confidence", [0, 1, 1.5, -0.1, True, "0.95"])
def test_confidence_must_be_inside_zero_one(confidence):
    with pytest.raises(GDAError, match="confidence"):
        mean_ci([1.0, 2.0], confidence=confidence)


def test_paired_difference_by_hand():
    a, b = [0.82, 0.85, 0.80], [0.80, 0.81, 0.79]   # differences .02, .04, .01
    d = np.array([0.02, 0.04, 0.01])
    half = T_975_2 * d.std(ddof=1) / math.sqrt(3)   # 4.303 * 0.015275 / 1.732 = 0.03795
    mean, low, high, sig = paired_difference(a, b)
    assert mean == pytest.approx(0.07 / 3)
    assert half == pytest.approx(0.03795, abs=1e-5)
    assert (low, high) == pytest.approx((0.07 / 3 - half, 0.07 / 3 + half))
    assert sig is False                              # the interval holds 0


def test_paired_difference_significant_either_sign():
    mean, low, high, sig = paired_difference([0.90, 0.93, 0.91], [0.80, 0.82, 0.80])
    assert low > 0 and sig is True and mean == pytest.approx(0.32 / 3)
    mean, low, high, sig = paired_difference([0.80, 0.82, 0.80], [0.90, 0.93, 0.91])
    assert high < 0 and sig is True


def test_paired_difference_pairs_not_pooled():
    # Large spread across seeds but a steady +0.01 within each seed: paired => significant.
    a = np.array([0.51, 0.71, 0.91, 0.61])
    b = a - np.array([0.010, 0.011, 0.009, 0.010])
    assert paired_difference(a, b)[3] is True
    # The unpaired intervals overlap heavily.
    assert mean_ci(a)[1] < mean_ci(b)[2]


def test_paired_difference_edge_cases():
    assert paired_difference([0.9], [0.8])[3] is False               # one pair: undefined
    mean, low, _, sig = paired_difference([0.9, math.nan, 0.7], [0.8, 0.5, math.nan])
    assert mean == pytest.approx(0.1) and math.isnan(low) and sig is False
    with pytest.raises(GDAError, match="same length"):
        paired_difference([1.0, 2.0], [1.0])


def _result() -> ComparisonResult:
    base = {0: 0.70, 1: 0.72, 2: 0.68}
    smote = {0: 0.75, 1: 0.78, 2: 0.74}       # diffs .05 .06 .06
    adasyn = {1: 0.71, 0: 0.73, 2: 0.69}      # seeds out of order; diffs .03 -.01 .01
    runs = []
    for method, vals in (("baseline", base), ("smote", smote), ("adasyn", adasyn)):
        for seed, v in vals.items():
            runs.append(MethodRun(method, seed, {"f1_macro": v, "accuracy": v + 0.1,
                                                 "roc_auc_ovr": math.nan}))
    runs.append(MethodRun("broken", 0, error="k_neighbors too large"))
    runs.append(MethodRun("smote", 3, error="failed on this seed"))
    return ComparisonResult({}, ["a", "b"], [1], [0], [50, 5], [10, 10], runs=runs)


def test_summarise_table_shape_and_values():
    table = summarise(_result())
    assert list(table.columns) == list(SUMMARY_COLUMNS)
    # broken has no successful run; metrics in METRIC_LABELS order.
    assert table["method"].unique().tolist() == ["baseline", "smote", "adasyn"]
    assert table["metric"].unique().tolist() == ["accuracy", "f1_macro", "roc_auc_ovr"]
    assert len(table) == 9
    rows = table.set_index(["method", "metric"])

    smote = rows.loc[("smote", "f1_macro")]
    assert smote["n"] == 3 and smote["n_pairs"] == 3
    assert smote["mean"] == pytest.approx(2.27 / 3)
    d = np.array([0.05, 0.06, 0.06])
    half = T_975_2 * d.std(ddof=1) / math.sqrt(3)
    assert smote["diff_vs_baseline"] == pytest.approx(d.mean())
    assert (smote["diff_low"], smote["diff_high"]) == pytest.approx(
        (d.mean() - half, d.mean() + half))
    assert bool(smote["significant"]) is True

    adasyn = rows.loc[("adasyn", "f1_macro")]
    d = np.array([0.03, -0.01, 0.01])           # paired by seed, not by position
    assert adasyn["diff_vs_baseline"] == pytest.approx(d.mean())
    assert adasyn["diff_high"] - adasyn["diff_low"] == pytest.approx(
        2 * T_975_2 * d.std(ddof=1) / math.sqrt(3))
    assert bool(adasyn["significant"]) is False

    base = rows.loc[("baseline", "f1_macro")]
    assert base["mean"] == pytest.approx(0.70)
    assert math.isnan(base["diff_vs_baseline"]) and not base["significant"]

    auc = rows.loc[("smote", "roc_auc_ovr")]
    assert auc["n"] == 0 and math.isnan(auc["mean"]) and not auc["significant"]
    assert table["significant"].dtype == bool
    assert pd.api.types.is_integer_dtype(table["n"])


def test_summarise_without_baseline_and_metric_choice():
    table = summarise(_result(), baseline="missing", metrics=["f1_macro"])
    assert table["metric"].unique().tolist() == ["f1_macro"]
    assert table["diff_vs_baseline"].isna().all() and not table["significant"].any()
    assert (table["n_pairs"] == 0).all()


def test_summarise_one_seed_and_json_round_trip():
    result = _result()
    result.runs = [r for r in result.runs if r.seed == 0]
    again = ComparisonResult.from_json(result.to_json())
    table = summarise(again)
    row = table.set_index(["method", "metric"]).loc[("smote", "f1_macro")]
    assert row["n"] == 1 and math.isnan(row["ci_low"])
    assert row["diff_vs_baseline"] == pytest.approx(0.05) and not row["significant"]


def test_summarise_empty_result():
    empty = ComparisonResult({}, ["a", "b"], [1], [0], [5, 5], [5, 5])
    table = summarise(empty)
    assert table.empty and list(table.columns) == list(SUMMARY_COLUMNS)
