"""Metrics against hand-computed values on small confusion matrices."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support

from gda_core.errors import GDAError
from gda_core.metrics import (
    HIGHER_IS_BETTER,
    METRIC_LABELS,
    acsa,
    confusion,
    evaluate,
    gmean,
    gmean_sens_spec,
    majority_precision,
    minority_recall,
    per_class_scores,
    roc_auc_ovr,
    smallest_class_recall,
    top_k_accuracy,
)

# Rows = true class, columns = predicted class.
#   true 0: 6 samples -> 6 right, 2 as class 1        (support 8)
#   true 1: 4 samples -> 1 as 0, 2 right, 1 as 2      (support 4)
#   true 2: 2 samples -> 2 right                      (support 2)
CM3 = np.array([[6, 2, 0],
                [1, 2, 1],
                [0, 0, 2]])


def labels_from_cm(cm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """y_true, y_pred reproducing ``cm`` exactly."""
    k = cm.shape[0]
    y_true = np.concatenate([np.full(cm[i].sum(), i) for i in range(k)])
    y_pred = np.concatenate([np.repeat(np.arange(k), cm[i]) for i in range(k)])
    return y_true, y_pred


def test_confusion_counts_and_absent_classes():
    cm = confusion([0, 0, 1, 2], [0, 1, 1, 0], n_classes=4)
    assert cm.dtype == np.int64
    assert cm.tolist() == [[1, 1, 0, 0],
                           [0, 1, 0, 0],
                           [1, 0, 0, 0],
                           [0, 0, 0, 0]]  # class 3 absent: zero row and column


def test_confusion_matches_sklearn_and_roundtrips():
    y_true, y_pred = labels_from_cm(CM3)
    assert np.array_equal(confusion(y_true, y_pred, 3), CM3)
    assert np.array_equal(confusion(y_true, y_pred, 3), confusion_matrix(y_true, y_pred))


def test_confusion_rejects_bad_labels():
    with pytest.raises(GDAError, match="outside"):
        confusion([0, 3], [0, 1], n_classes=3)
    with pytest.raises(GDAError, match="labels"):
        confusion([0, 1], [0], n_classes=2)


def test_per_class_scores_by_hand():
    s = per_class_scores(CM3)
    # precision = diagonal / column sums: 6/7, 2/4, 2/3
    assert np.allclose(s["precision"], [6 / 7, 1 / 2, 2 / 3])
    # recall = diagonal / row sums: 6/8, 2/4, 2/2
    assert np.allclose(s["recall"], [3 / 4, 1 / 2, 1.0])
    # f1 = 2PR/(P+R): class 0: 2*(6/7)(3/4)/(6/7+3/4) = (9/7)/(45/28) = 4/5
    #                 class 1: 2*(1/2)(1/2)/1 = 1/2; class 2: 2*(2/3)(1)/(5/3) = 4/5
    assert np.allclose(s["f1"], [4 / 5, 1 / 2, 4 / 5])
    assert s["support"].tolist() == [8, 4, 2]


def test_zero_division_is_zero_without_warning():
    # Class 1 is never predicted (precision 0/0) and class 2 never occurs (recall 0/0).
    cm = np.array([[3, 0, 1],
                   [2, 0, 0],
                   [0, 0, 0]])
    with np.errstate(all="raise"):
        s = per_class_scores(cm)
    assert s["precision"].tolist() == [3 / 5, 0.0, 0.0]
    assert s["recall"].tolist() == [3 / 4, 0.0, 0.0]
    assert s["f1"].tolist()[1:] == [0.0, 0.0]


def test_acsa_by_hand():
    # mean recall = (3/4 + 1/2 + 1) / 3 = 0.75
    assert acsa(CM3) == pytest.approx(0.75)
    # A class without samples is left out: recalls 3/4 (class 0) only -> 0.75
    assert acsa([[3, 1], [0, 0]]) == pytest.approx(0.75)


def test_gmean_by_hand_and_differs_from_imblearn_macro():
    # G-mean = (3/4 * 1/2 * 1) ** (1/3) = 0.375 ** (1/3) = 0.72112...
    assert gmean(CM3) == pytest.approx(0.375 ** (1 / 3))
    assert gmean(CM3) == pytest.approx(0.7211247851537042)
    # imbalanced-learn's average="macro" (issue 1096) gives sqrt(mean recall * mean
    # specificity) instead.  Specificities TN / (TN + FP):
    #   class 0: 6 negatives, 1 predicted 0 -> 5/6;  class 1: 10 negatives, 2 FP -> 8/10;
    #   class 2: 12 negatives, 1 FP -> 11/12.  mean = (5/6 + 4/5 + 11/12) / 3 = 0.85
    #   sqrt(0.75 * 0.85) = 0.79844...  which is not the G-mean.
    imblearn_macro = math.sqrt(0.75 * 0.85)
    assert abs(gmean(CM3) - imblearn_macro) > 0.07
    metrics = pytest.importorskip("imblearn.metrics")
    y_true, y_pred = labels_from_cm(CM3)
    assert metrics.geometric_mean_score(y_true, y_pred, average="macro") == pytest.approx(
        imblearn_macro)


def test_gmean_sens_spec_by_hand():
    # One-vs-rest, per class sqrt(sensitivity * specificity) (specificities as above):
    #   class 0: sqrt(6/8 * 5/6), class 1: sqrt(2/4 * 8/10), class 2: sqrt(2/2 * 11/12)
    expected = (math.sqrt(0.75 * 5 / 6) + math.sqrt(0.5 * 0.8) + math.sqrt(11 / 12)) / 3
    assert gmean_sens_spec(CM3) == pytest.approx(expected)
    assert gmean_sens_spec(CM3) == pytest.approx(0.7934840183)
    assert per_class_scores(CM3)["specificity"] == pytest.approx([5 / 6, 0.8, 11 / 12])
    # a class never recognised gives 0 for the recalls' G-mean, not for this one
    assert gmean([[5, 0, 0], [0, 5, 0], [1, 1, 0]]) == 0.0
    assert gmean_sens_spec([[5, 0, 0], [0, 5, 0], [1, 1, 0]]) > 0.5
    # a class without samples does not count; an empty matrix is NaN
    assert gmean_sens_spec([[4, 0, 1], [0, 0, 0], [0, 0, 2]]) == pytest.approx(
        (math.sqrt(0.8 * 1.0) + math.sqrt(1.0 * 0.8)) / 2)
    assert math.isnan(gmean_sens_spec(np.zeros((3, 3))))


def test_gmean_sens_spec_can_exceed_acsa_but_recalls_cannot():
    # Dam et al.'s G-mean (0.9781) is above their ACSA (0.9613): 10 classes with ~96%
    # recall each have specificities near 0.996.
    cm = np.full((10, 10), 4) + np.diag(np.full(10, 920))   # recall 924/960 each
    assert acsa(cm) == pytest.approx(924 / 960)
    assert gmean(cm) == pytest.approx(acsa(cm))
    assert gmean_sens_spec(cm) > acsa(cm) + 0.015
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = rng.integers(0, 20, (4, 4)) + np.diag(rng.integers(1, 40, 4))
        assert gmean(m) <= acsa(m) + 1e-12


def test_gmean_is_zero_when_a_class_is_never_recognised():
    # class 1 recall 0/3 -> G-mean 0 even though class 0 is perfect
    assert gmean([[5, 0], [3, 0]]) == 0.0
    # a class without samples does not count: sqrt(4/5 * 1) over classes 0 and 2
    assert gmean([[4, 0, 1], [0, 0, 0], [0, 0, 2]]) == pytest.approx(math.sqrt(0.8))


def test_minority_recall_and_majority_precision_by_hand():
    # minority classes 1, 2: (1/2 + 2/2) / 2 = 0.75
    assert minority_recall(CM3, [1, 2]) == pytest.approx(0.75)
    # majority class 0: precision 6 / (6 + 1) = 6/7
    assert majority_precision(CM3, [0]) == pytest.approx(6 / 7)
    # majority classes 0, 1: (6/7 + 2/4) / 2 = 19/28
    assert majority_precision(CM3, [0, 1]) == pytest.approx(19 / 28)
    assert math.isnan(minority_recall(CM3, []))
    assert math.isnan(majority_precision(CM3, []))
    with pytest.raises(GDAError):
        minority_recall(CM3, [5])


def test_smallest_class_recall_by_hand():
    # CM3 recalls 6/8, 2/4, 2/2; the smallest training class decides which one
    assert smallest_class_recall(CM3, [100, 10, 20]) == pytest.approx(0.5)
    assert smallest_class_recall(CM3, [100, 20, 10]) == pytest.approx(1.0)
    # the mean over minority classes 1 and 2 is 0.75: the two R_min differ
    assert minority_recall(CM3, [1, 2]) == pytest.approx(0.75)
    assert smallest_class_recall(CM3, [100, 10, 10]) == pytest.approx(0.75)   # tie: mean
    assert math.isnan(smallest_class_recall(CM3, None))
    assert math.isnan(smallest_class_recall([[4, 0, 1], [0, 0, 0], [0, 0, 2]], [9, 1, 5]))
    with pytest.raises(GDAError, match="one count per class"):
        smallest_class_recall(CM3, [1, 2])


def test_perfect_predictions():
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    proba = np.eye(3)[y]
    r = evaluate(y, y, proba, n_classes=3, minority_classes=[1], majority_classes=[2],
                 train_counts=[9, 3, 6])
    for key in METRIC_LABELS:
        assert r[key] == pytest.approx(1.0), key


def test_top_k_accuracy_by_hand():
    y = [0, 1, 2, 2]
    proba = np.array([[0.6, 0.3, 0.1],    # true 0 ranked 1st -> in top-2
                      [0.6, 0.3, 0.1],    # true 1 ranked 2nd -> in top-2
                      [0.6, 0.3, 0.1],    # true 2 ranked 3rd -> not
                      [0.2, 0.3, 0.5]])   # true 2 ranked 1st -> in top-2
    assert top_k_accuracy(y, proba, k=2) == pytest.approx(3 / 4)
    assert top_k_accuracy(y, proba, k=1) == pytest.approx(2 / 4)
    assert top_k_accuracy(y, proba, k=3) == 1.0
    # ties go to the lower class index, as argmax does: [.5, .5, 0] ranks class 0 first
    assert top_k_accuracy([1], [[0.5, 0.5, 0.0]], k=1) == 0.0
    # two classes: top-2 is always right
    assert top_k_accuracy([0, 1], [[0.9, 0.1], [0.8, 0.2]], k=2) == 1.0


def test_roc_auc_by_hand_and_nan_when_undefined():
    # Binary: positives score .3, .8 vs negatives .1, .4 -> pairs (pos > neg):
    #   .3>.1 yes, .3>.4 no, .8>.1 yes, .8>.4 yes -> 3/4
    proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.2, 0.8]])
    assert roc_auc_ovr([0, 0, 1, 1], proba) == pytest.approx(0.75)
    # Three classes, perfectly ranked -> 1.0 for each one-vs-rest curve
    y = np.array([0, 1, 2])
    assert roc_auc_ovr(y, np.eye(3)[y] * 0.8 + 0.2 / 3) == pytest.approx(1.0)
    # class 2 never occurs in y_true -> undefined -> NaN, not an exception
    assert math.isnan(roc_auc_ovr([0, 1, 1], np.full((3, 3), 1 / 3)))
    assert math.isnan(roc_auc_ovr([0, 0], proba[:2]))


def test_roc_auc_matches_sklearn_ovr_macro():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(1)
    y = rng.integers(0, 4, 200)
    proba = rng.dirichlet(np.ones(4), 200)
    expected = roc_auc_score(y, proba, multi_class="ovr", average="macro")
    assert roc_auc_ovr(y, proba) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_macro_scores_equal_sklearn_on_random_data(seed):
    rng = np.random.default_rng(seed)
    n_classes = 5
    y_true = rng.integers(0, 4, 60)          # class 4 never occurs in y_true...
    y_pred = rng.integers(0, 3, 60)          # ...nor in y_pred; class 3 is never predicted
    r = evaluate(y_true, y_pred, n_classes=n_classes)
    p, rc, f, _ = precision_recall_fscore_support(
        y_true, y_pred, labels=range(n_classes), average="macro", zero_division=0)
    assert r["precision_macro"] == pytest.approx(p)
    assert r["recall_macro"] == pytest.approx(rc)
    assert r["f1_macro"] == pytest.approx(f)
    assert r["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    pc, rcc, fc, sc = precision_recall_fscore_support(
        y_true, y_pred, labels=range(n_classes), average=None, zero_division=0)
    assert np.allclose(r["per_class"]["precision"], pc)
    assert np.allclose(r["per_class"]["recall"], rcc)
    assert np.allclose(r["per_class"]["f1"], fc)
    assert r["per_class"]["support"] == sc.tolist()


def test_evaluate_is_flat_and_json_serialisable():
    y_true, y_pred = labels_from_cm(CM3)
    r = evaluate(y_true, y_pred, n_classes=3, minority_classes=[1, 2], majority_classes=[0])
    assert set(METRIC_LABELS) <= set(r)
    assert math.isnan(r["top2_accuracy"]) and math.isnan(r["roc_auc_ovr"])  # no proba
    assert r["accuracy"] == pytest.approx(10 / 14)
    assert r["gmean"] == pytest.approx(0.375 ** (1 / 3))
    assert r["minority_recall"] == pytest.approx(0.75)
    assert math.isnan(r["smallest_class_recall"])   # no training counts given
    assert r["gmean_sens_spec"] == pytest.approx(gmean_sens_spec(CM3))
    assert r["majority_precision"] == pytest.approx(6 / 7)
    assert r["confusion_matrix"] == CM3.tolist()
    assert r["per_class"]["support"] == [8, 4, 2]
    back = json.loads(json.dumps(r))
    assert back["confusion_matrix"] == CM3.tolist()
    assert all(type(r[k]) is float for k in METRIC_LABELS)


def test_evaluate_rejects_bad_input():
    with pytest.raises(GDAError, match="empty"):
        evaluate([], [], n_classes=2)
    with pytest.raises(GDAError, match="proba"):
        evaluate([0, 1], [0, 1], np.ones((2, 3)) / 3, n_classes=2)


def test_labels_cover_higher_is_better():
    assert {"f1_macro", "acsa", "gmean", "gmean_sens_spec", "minority_recall",
            "smallest_class_recall", "majority_precision"} <= set(METRIC_LABELS)
    assert METRIC_LABELS["gmean"] == "G-mean (recalls)"
    assert METRIC_LABELS["gmean_sens_spec"] == "G-mean (sens×spec)"
    assert METRIC_LABELS["minority_recall"] == "R_min (mean over minority classes)"
    assert METRIC_LABELS["smallest_class_recall"] == "R_min (smallest class)"
    assert len(set(METRIC_LABELS.values())) == len(METRIC_LABELS)   # no two alike
    assert HIGHER_IS_BETTER <= set(METRIC_LABELS)
