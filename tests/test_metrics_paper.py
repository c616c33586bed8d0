"""The metrics set beside papers, cross-checked against independent implementations.

* Per-class recall, ACSA and macro F1 against scikit-learn.
* G-mean (recalls) against imbalanced-learn's ``geometric_mean_score(average="multiclass")``;
  G-mean (sens×spec) against imbalanced-learn's ``sensitivity_specificity_support`` and its
  binary ``geometric_mean_score`` of each class one-vs-rest.
* R_min (smallest class) against scikit-learn's recall of that one class.
* The paired p-value against ``scipy.stats.ttest_rel``; Holm's correction against a table
  computed by hand and, where it is installed, ``statsmodels``' ``multipletests``.
* The long-tail replay sets the paper's definitions beside the paper's numbers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import import_reference
from imblearn.metrics import geometric_mean_score, sensitivity_specificity_support
from scipy import stats as sps
from sklearn.metrics import balanced_accuracy_score, f1_score, recall_score

from gda_core.cli.commands import format_table
from gda_core.experiments import ComparisonResult, MethodRun
from gda_core.metrics import (
    METRIC_LABELS,
    acsa,
    confusion,
    evaluate,
    gmean,
    gmean_sens_spec,
    per_class_scores,
    smallest_class_recall,
)
from gda_core.metrics.stats import (
    holm,
    paired_difference,
    paired_p_value,
    resampled_t_test,
    summarise,
)
from gda_core.replays import long_tail
from pages._results import significance_legend

SEEDS = range(25)


def predictions(seed: int, k: int = 5, n: int = 300) -> tuple[np.ndarray, np.ndarray]:
    """Imbalanced labels (every class present) and predictions right about 70% of the time,
    errors leaning towards class 0."""
    rng = np.random.default_rng(seed)
    weights = np.linspace(1.0, 0.1, k)
    y_true = rng.choice(k, size=n, p=weights / weights.sum())
    y_true[:k] = np.arange(k)
    noise = np.where(rng.random(n) < 0.5, 0, rng.integers(0, k, n))
    y_pred = np.where(rng.random(n) < 0.7, y_true, noise)
    return y_true, y_pred


# ------------------------------------------------------------------ scikit-learn


@pytest.mark.parametrize("seed", SEEDS)
def test_recall_acsa_and_f1_match_sklearn(seed):
    y_true, y_pred = predictions(seed)
    labels = list(range(5))
    r = evaluate(y_true, y_pred, n_classes=5)
    assert np.allclose(r["per_class"]["recall"],
                       recall_score(y_true, y_pred, labels=labels, average=None,
                                    zero_division=0))
    assert r["acsa"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert r["recall_macro"] == pytest.approx(balanced_accuracy_score(y_true, y_pred))
    assert r["f1_macro"] == pytest.approx(
        f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0))


@pytest.mark.parametrize("seed", SEEDS)
def test_smallest_class_recall_matches_sklearn(seed):
    y_true, y_pred = predictions(seed)
    rng = np.random.default_rng(seed + 1000)
    train_counts = rng.permutation([400, 200, 100, 50, 10])
    smallest = int(np.argmin(train_counts))
    r = evaluate(y_true, y_pred, n_classes=5, train_counts=train_counts.tolist(),
                 minority_classes=[c for c in range(5) if train_counts[c] < 400])
    expected = recall_score(y_true, y_pred, labels=[smallest], average="macro")
    assert r["smallest_class_recall"] == pytest.approx(expected)
    assert smallest_class_recall(confusion(y_true, y_pred, 5), train_counts) == \
        pytest.approx(expected)
    mean_minority = recall_score(y_true, y_pred, average="macro",
                                 labels=[c for c in range(5) if train_counts[c] < 400])
    assert r["minority_recall"] == pytest.approx(mean_minority)


# --------------------------------------------------------------- imbalanced-learn


@pytest.mark.parametrize("seed", SEEDS)
def test_gmean_recalls_matches_imblearn_multiclass(seed):
    y_true, y_pred = predictions(seed)
    cm = confusion(y_true, y_pred, 5)
    assert gmean(cm) == pytest.approx(geometric_mean_score(y_true, y_pred,
                                                           average="multiclass"))


@pytest.mark.parametrize("seed", SEEDS)
def test_gmean_sens_spec_matches_imblearn_one_vs_rest(seed):
    y_true, y_pred = predictions(seed)
    cm = confusion(y_true, y_pred, 5)
    sens, spec, _ = sensitivity_specificity_support(y_true, y_pred, average=None)
    assert per_class_scores(cm)["specificity"] == pytest.approx(spec)
    assert gmean_sens_spec(cm) == pytest.approx(float(np.mean(np.sqrt(sens * spec))))
    # each class as its own binary problem, scored by imbalanced-learn's binary G-mean
    binary = [geometric_mean_score(y_true == c, y_pred == c, average="binary")
              for c in range(5)]
    assert gmean_sens_spec(cm) == pytest.approx(float(np.mean(binary)))
    # imbalanced-learn's per-class scores (average=None) are the same one-vs-rest G-means
    assert np.mean(geometric_mean_score(y_true, y_pred, average=None)) == pytest.approx(
        gmean_sens_spec(cm))


@pytest.mark.parametrize("seed", SEEDS)
def test_the_two_gmeans_and_imblearn_macro_are_three_quantities(seed):
    y_true, y_pred = predictions(seed)
    cm = confusion(y_true, y_pred, 5)
    macro = geometric_mean_score(y_true, y_pred, average="macro")
    sens, spec, _ = sensitivity_specificity_support(y_true, y_pred, average="macro")
    assert macro == pytest.approx(math.sqrt(sens * spec))   # sqrt(mean sens * mean spec)
    assert gmean(cm) <= acsa(cm) + 1e-12 < gmean_sens_spec(cm)
    assert abs(macro - gmean_sens_spec(cm)) > 1e-4 and abs(macro - gmean(cm)) > 1e-4


# ---------------------------------------------------------- the long-tail replay


def test_published_gmean_is_not_a_geometric_mean_of_recalls():
    # A geometric mean never exceeds the arithmetic mean of the same recalls (ACSA), yet
    # every published G-mean does: Dam et al.'s G-mean is the sens×spec one.
    for table in long_tail.PUBLISHED.values():
        for acsa_pub, _, gmean_pub in table.values():
            assert gmean_pub > acsa_pub


def test_long_tail_sets_the_papers_definitions_beside_the_paper():
    assert long_tail.METRICS["gmean_sens_spec"] == "G-mean (sens×spec)"
    assert long_tail.METRICS["smallest_class_recall"] == "R_min (smallest class)"
    assert "gmean" not in long_tail.METRICS and "minority_recall" not in long_tail.METRICS
    assert "G-mean (sens×spec)" in long_tail.published_frame().columns
    for key, label in long_tail.METRICS.items():
        if key in METRIC_LABELS and key not in ("acsa", "f1_macro", "majority_precision"):
            assert label == METRIC_LABELS[key]


def test_long_tail_full_scale_follows_the_protocol_and_smaller_scales_say_so():
    full = long_tail.benchmark_config("mnist", long_tail.SCALES["full"], root=None)
    assert list(full.imbalance.counts.values()) == list(long_tail.FULL_COUNTS)
    assert full.imbalance.test_per_class >= 1135           # MNIST's largest test class
    assert {full.method_params[m]["latent_dim"] for m in ("adso+q", "amo+q")} == {64}
    quick = long_tail.benchmark_config("mnist", long_tail.SCALES["quick"], root=None)
    assert quick.imbalance.test_per_class == 100
    assert quick.method_params["adso+q"]["latent_dim"] == 32
    text = " ".join(long_tail.protocol_notes("quick"))
    assert "100 test images per class instead of the full test sets" in text
    assert "latent size 32 instead of 64" in text
    assert "departs" not in " ".join(long_tail.protocol_notes("full"))
    assert "recall of class 9" in text


# ------------------------------------------------------------- significance


@pytest.mark.parametrize("seed", range(10))
def test_paired_p_value_matches_scipy_and_the_interval(seed):
    rng = np.random.default_rng(seed)
    b = rng.normal(0.8, 0.05, 5)
    a = b + rng.normal(0.02, 0.02, 5)
    expected = sps.ttest_rel(a, b).pvalue
    assert paired_p_value(a, b) == pytest.approx(expected)
    assert (paired_p_value(a, b) < 0.05) == paired_difference(a, b)[3]


# Holm by hand: m = 6, sorted p * (m - i + 1) = .006, .055, .048, .09, .08, .5; running
# maximum .006, .055, .055, .09, .09, .5.  Only .001 is rejected at 5%: .011 > .05 / 5
# stops the procedure, although .012 * 4 = .048 alone would pass.
HAND_P = [0.04, 0.001, 0.5, 0.011, 0.03, 0.012]
HAND_ADJUSTED = [0.09, 0.006, 0.5, 0.055, 0.09, 0.055]
HAND_REJECT = [False, True, False, False, False, False]


def test_holm_by_hand():
    reject, adjusted = holm(HAND_P)
    assert adjusted == pytest.approx(HAND_ADJUSTED)
    assert reject.tolist() == HAND_REJECT
    reject, adjusted = holm(HAND_P, alpha=0.1)
    assert reject.tolist() == [True, True, False, True, True, True]
    # untested (NaN) entries are not counted: the other four behave as a family of 4
    reject, adjusted = holm([0.01, math.nan, 0.02, 0.03, math.nan, 0.04])
    assert adjusted == pytest.approx([0.04, math.nan, 0.06, 0.06, math.nan, 0.06],
                                     nan_ok=True)
    assert reject.tolist() == [True, False, False, False, False, False]
    assert holm([])[0].size == 0 and holm([math.nan])[0].tolist() == [False]


@pytest.mark.parametrize("seed", range(20))
def test_holm_sits_between_bonferroni_and_no_correction(seed):
    rng = np.random.default_rng(seed)
    p = rng.uniform(0, 0.08, 12) ** 2 * 10
    p = np.minimum(p, 1.0)
    reject, adjusted = holm(p)
    assert np.all(reject <= (p <= 0.05))                       # never more than uncorrected
    assert np.all((p * p.size <= 0.05) <= reject)              # never fewer than Bonferroni
    assert np.all(adjusted >= p) and np.all(adjusted <= 1.0)


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(0)
    for p in [np.array(HAND_P), *(rng.uniform(0, 0.2, 30) ** 2 for _ in range(20))]:
        sm_reject, sm_adjusted, _, _ = multitest.multipletests(p, alpha=0.05, method="holm")
        reject, adjusted = holm(p)
        assert adjusted == pytest.approx(sm_adjusted)
        assert reject.tolist() == sm_reject.tolist()


def hand_result() -> ComparisonResult:
    """Three seeds; ``smote`` gains a steady-ish +0.06 macro F1 (paired p = 0.0091), every
    other difference is noise: 2 methods x 3 metrics = 6 tests."""
    base = {"f1_macro": [0.70, 0.72, 0.71], "acsa": [0.80, 0.81, 0.79],
            "gmean": [0.60, 0.62, 0.61]}
    smote = {"f1_macro": [0.75, 0.78, 0.78], "acsa": [0.81, 0.80, 0.81],
             "gmean": [0.61, 0.60, 0.63]}
    random = {"f1_macro": [0.71, 0.71, 0.72], "acsa": [0.79, 0.83, 0.78],
              "gmean": [0.62, 0.61, 0.60]}
    runs = [MethodRun(name, seed, {k: v[seed] for k, v in values.items()})
            for name, values in (("baseline", base), ("smote", smote), ("random", random))
            for seed in range(3)]
    return ComparisonResult({"seeds": [0, 1, 2]}, ["a", "b"], [1], [0], [10, 2], [5, 5],
                            runs=runs)


def test_summarise_tests_the_primary_metric_with_holm_over_the_methods():
    table = summarise(hand_result()).set_index(["method", "metric"])
    f1 = table.loc[("smote", "f1_macro")]
    assert f1["primary"] and not table.loc[("smote", "acsa"), "primary"]
    assert f1["p_value"] == pytest.approx(sps.ttest_rel([0.75, 0.78, 0.78],
                                                        [0.70, 0.72, 0.71]).pvalue)
    # two methods are tested on the primary metric: Holm doubles the smallest p-value
    tested = table[table["primary"] & table["p_value"].notna()]
    assert len(tested) == 2
    assert f1["p_holm"] == pytest.approx(min(1.0, 2 * f1["p_value"]))
    assert f1["p_holm"] < 0.05 and f1["significant"]
    _, adjusted = holm(tested["p_value"].to_numpy())
    assert tested["p_holm"].to_numpy() == pytest.approx(adjusted)
    # the other metrics are descriptive: p-values shown, never marked
    other = table[~table["primary"]]
    assert other["p_value"].notna().any() and not other["significant"].any()
    assert other["p_holm"].isna().all()
    assert not table.loc["baseline"]["p_value"].notna().any()
    assert table.attrs["primary_metric"] == "f1_macro"


def test_the_primary_metric_is_chosen_before_the_run():
    result = hand_result()
    result.config["primary_metric"] = "acsa"
    table = summarise(result).set_index(["method", "metric"])
    assert table.loc[("smote", "acsa"), "primary"]
    assert not table.loc[("smote", "f1_macro"), "significant"]  # strong, but descriptive


def test_an_equal_gain_in_every_unit_is_never_significant():
    """+0.10 in every seed: the differences have no spread (rounding aside), so the test
    has nothing to measure noise by; the audit's two seeds that each differ by one test
    image gave p = 7e-15 before."""
    result = hand_result()
    for run in result.runs:
        if run.method == "smote":
            run.metrics["f1_macro"] = [0.80, 0.82, 0.81][run.seed]      # +0.10 every seed
    table = summarise(result).set_index(["method", "metric"])
    row = table.loc[("smote", "f1_macro")]
    assert not row["significant"] and math.isnan(row["p_value"]) and row["note"] == "no spread"
    assert math.isnan(paired_p_value([0.805, 0.815], [0.800, 0.810]))
    assert not paired_difference([0.805, 0.815], [0.800, 0.810])[3]


def test_a_baseline_constant_at_zero_is_shown_but_never_marked():
    """A G-mean of 0 in every seed (the baseline never predicts a class) made the only
    "significant" cells of a digits comparison."""
    result = hand_result()
    result.config["primary_metric"] = "gmean"
    for run in result.runs:
        if run.method == "baseline":
            run.metrics["gmean"] = 0.0
    table = summarise(result).set_index(["method", "metric"])
    row = table.loc[("smote", "gmean")]
    assert row["diff_vs_baseline"] > 0.5 and row["note"] == "baseline constant"
    assert math.isnan(row["p_value"]) and not row["significant"]
    assert not table["significant"].any()


def test_intervals_stay_in_the_metric_range():
    result = hand_result()
    for run in result.runs:  # near the top of the range, with wide spread
        run.metrics["acsa"] = {"baseline": [0.90, 0.99, 0.70], "smote": [0.99, 1.0, 0.98],
                               "random": [0.2, 0.99, 0.95]}[run.method][run.seed]
    table = summarise(result).set_index(["method", "metric"])
    for method in ("baseline", "smote", "random"):
        row = table.loc[(method, "acsa")]
        assert 0.0 <= row["ci_low"] <= row["ci_high"] <= 1.0
    base = table.loc[("baseline", "acsa"), "mean"]
    for method in ("smote", "random"):
        row = table.loc[(method, "acsa")]
        assert -base <= row["diff_low"] and row["diff_high"] <= 1.0 - base + 1e-12


def test_the_corrected_test_matches_the_bayesian_correlated_t_test():
    """The corrected resampled t-test's p-value is twice the smaller posterior probability
    of the Bayesian correlated t-test (Benavoli et al. 2017) under a flat prior, whose
    reference implementation is baycomp's ``CorrelatedTTest`` (installed outside the
    environment's packages, see ``make``: its wheel also ships a top-level ``tests``)."""
    baycomp = import_reference("baycomp")
    rng = np.random.default_rng(0)
    for folds, repeats in ((5, 2), (10, 1), (3, 5)):
        n = folds * repeats
        base = rng.uniform(0.5, 0.7, n)
        other = base + rng.normal(0.03, 0.04, n)
        left, right = baycomp.CorrelatedTTest.probs(base, other, runs=repeats)
        r = resampled_t_test(other - base, test_train_ratio=1 / (folds - 1))
        assert r.p_value == pytest.approx(2 * min(left, right), rel=1e-9)
        post = baycomp.CorrelatedTTest(base, other, runs=repeats)
        df, loc, scale = post.df, post.mean, np.sqrt(post.var)
        low, high = sps.t.interval(0.95, df, loc, scale)
        assert (r.low, r.high) == pytest.approx((low, high), rel=1e-9)


def test_cli_and_page_say_what_was_tested():
    result = hand_result()
    text = format_table(result)
    assert ("paired t-test over seeds at 5% on Macro F1 (the primary metric), "
            "Holm-corrected over the 2 methods tested; the other metrics are descriptive"
            ) in text
    assert "not adjusted for multiple tests" in text
    assert "gmean_rec = G-mean (recalls)" in text
    legend = significance_legend(summarise(result))
    assert "Holm-corrected over the 2 methods tested" in legend
    assert "not adjusted" in legend


def test_summary_columns_hold_p_values():
    table = summarise(hand_result())
    assert {"p_value", "p_holm", "significant"} <= set(table.columns)
    assert table["significant"].dtype == bool
    assert isinstance(table, pd.DataFrame)
