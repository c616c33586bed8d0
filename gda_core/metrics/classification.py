"""Imbalance-aware classification metrics, computed from a confusion matrix.

Conventions
-----------
* Confusion matrices have true classes as rows and predicted classes as columns, and
  always cover every class ``0 .. n_classes - 1`` (absent classes give zero rows/columns).
* A ratio whose denominator is 0 (precision of a class never predicted, recall of a class
  with no samples) is 0.0, without a warning (scikit-learn's ``zero_division=0``).
* Macro precision, recall and F1 average over **all** ``n_classes`` classes, exactly as
  ``sklearn.metrics.precision_recall_fscore_support(labels=range(n_classes),
  average="macro", zero_division=0)``; a class absent from both ``y_true`` and ``y_pred``
  therefore counts as 0.
* ACSA, both G-means and both minority recalls use only classes with test samples
  (support > 0): the recall of a class that was never tested is undefined, not 0.
* Two G-means are reported, under distinct names:

  - **G-mean (recalls)**, key ``gmean``: the geometric mean of the per-class recalls
    (imbalanced-learn's ``geometric_mean_score(average="multiclass")``).  It never exceeds
    ACSA (the arithmetic mean of the same recalls).
  - **G-mean (sens×spec)**, key ``gmean_sens_spec``: the mean over classes of
    ``sqrt(sensitivity_c * specificity_c)``, each class taken one-vs-rest (the mean of
    imbalanced-learn's per-class ``geometric_mean_score(average=None)``).  This is the
    definition of Dam et al. (2022), whose G-mean exceeds their ACSA (0.9781 > 0.9613 on
    MNIST-LT), which a geometric mean of recalls never can.

  imbalanced-learn's ``geometric_mean_score(average="macro")`` is neither: it returns
  ``sqrt(mean recall * mean specificity)`` (imbalanced-learn issue 1096).
* Two minority recalls are reported: **R_min (mean over minority classes)**, key
  ``minority_recall``, and **R_min (smallest class)**, key ``smallest_class_recall``: the
  recall of the class with the fewest training images, as Dam et al. report it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from gda_core.errors import GDAError

METRIC_LABELS: dict[str, str] = {
    "accuracy": "Accuracy",
    "precision_macro": "Macro precision",
    "recall_macro": "Macro recall",
    "f1_macro": "Macro F1",
    "acsa": "ACSA",
    "gmean": "G-mean (recalls)",
    "gmean_sens_spec": "G-mean (sens×spec)",
    "minority_recall": "R_min (mean over minority classes)",
    "smallest_class_recall": "R_min (smallest class)",
    "majority_precision": "Majority precision (P_maj)",
    "top2_accuracy": "Top-2 accuracy",
    "roc_auc_ovr": "ROC AUC (one-vs-rest)",
}
"""Display name of every scalar metric returned by :func:`evaluate`."""

METRIC_HELP: dict[str, str] = {
    "gmean": "Geometric mean of the per-class recalls; never above ACSA.",
    "gmean_sens_spec": "Mean over classes of sqrt(sensitivity × specificity), each class "
                       "one-vs-rest (Dam et al. 2022's G-mean); can exceed ACSA.",
    "minority_recall": "Mean recall over all minority classes.",
    "smallest_class_recall": "Recall of the class with the fewest training images (Dam et "
                             "al. 2022's R_min); classes tied for fewest are averaged.",
}
"""One-line definitions of the metrics whose names alone could be read two ways."""

HIGHER_IS_BETTER: frozenset[str] = frozenset(METRIC_LABELS)
"""Metrics for which a larger value is better (all of those in :data:`METRIC_LABELS`)."""


def _labels(y: Any, n_classes: int, name: str) -> np.ndarray:
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise GDAError(f"{name} must be one-dimensional; got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        if not np.all(np.mod(arr, 1) == 0):
            raise GDAError(f"{name} must hold integer class indices")
    arr = arr.astype(np.int64, copy=False)
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise GDAError(f"{name} holds class indices outside 0..{n_classes - 1}")
    return arr


def _check_cm(cm: Any) -> np.ndarray:
    arr = np.asarray(cm)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise GDAError(f"a confusion matrix must be square; got shape {arr.shape}")
    return arr


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` elementwise, 0.0 where ``den`` is 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    return np.divide(num, den, out=np.zeros_like(num), where=den != 0)


def confusion(y_true: Any, y_pred: Any, n_classes: int) -> np.ndarray:
    """Confusion matrix over all ``n_classes`` classes.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (N,)
        True and predicted class indices in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes; classes absent from both arrays still get a row and column.

    Returns
    -------
    ndarray of int64, shape (n_classes, n_classes)
        ``cm[i, j]`` counts samples of true class ``i`` predicted as ``j``.

    Examples
    --------
    >>> confusion([0, 0, 1], [0, 1, 1], n_classes=3)
    array([[1, 1, 0],
           [0, 1, 0],
           [0, 0, 0]])
    """
    n_classes = int(n_classes)
    if n_classes < 1:
        raise GDAError(f"n_classes must be at least 1; got {n_classes}")
    t = _labels(y_true, n_classes, "y_true")
    p = _labels(y_pred, n_classes, "y_pred")
    if t.shape != p.shape:
        raise GDAError(f"y_true has {t.size} labels but y_pred has {p.size}")
    flat = np.bincount(t * n_classes + p, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes).astype(np.int64)


def per_class_scores(cm: Any) -> dict[str, np.ndarray]:
    """Precision, recall, F1 and support of every class.

    Parameters
    ----------
    cm : array-like, shape (K, K)
        Confusion matrix (rows true, columns predicted).

    Returns
    -------
    dict
        ``precision``, ``recall`` (= sensitivity), ``f1``, ``specificity`` (float64
        arrays of length K, 0.0 where undefined) and ``support`` (int64, number of true
        samples per class).  The specificity of class ``c`` is one-vs-rest: the share of
        samples of the other classes that are not predicted as ``c``,
        ``TN / (TN + FP)``.

    Examples
    --------
    >>> s = per_class_scores([[3, 1], [0, 2]])
    >>> s["precision"].tolist(), s["recall"].tolist(), s["specificity"].tolist()
    ([1.0, 0.6666666666666666], [0.75, 1.0], [1.0, 0.75])
    """
    cm = _check_cm(cm)
    tp = np.diag(cm).astype(np.float64)
    support = cm.sum(axis=1)
    predicted = cm.sum(axis=0)
    negatives = cm.sum() - support          # samples of the other classes: TN + FP
    false_pos = predicted - tp
    return {
        "precision": _ratio(tp, predicted),
        "recall": _ratio(tp, support),
        # 2PR / (P + R) == 2 TP / (support + predicted), as scikit-learn computes it.
        "f1": _ratio(2 * tp, support + predicted),
        "specificity": _ratio(negatives - false_pos, negatives),
        "support": support.astype(np.int64),
    }


def _tested_recalls(cm: np.ndarray) -> np.ndarray:
    scores = per_class_scores(cm)
    return scores["recall"][scores["support"] > 0]


def acsa(cm: Any) -> float:
    """Average class-specific accuracy: mean recall over classes with samples.

    Returns NaN when the matrix holds no samples.

    Examples
    --------
    >>> acsa([[3, 1], [0, 2]])     # (3/4 + 2/2) / 2
    0.875
    """
    recalls = _tested_recalls(_check_cm(cm))
    return float(recalls.mean()) if recalls.size else float("nan")


def gmean(cm: Any) -> float:
    """G-mean (recalls): geometric mean of the recalls of classes with samples.

    It is 0 as soon as one tested class is never recognised, and NaN when the matrix
    holds no samples.  It never exceeds :func:`acsa` (arithmetic mean of the same
    recalls).  For the one-vs-rest definition of Dam et al. see :func:`gmean_sens_spec`.

    Examples
    --------
    >>> round(gmean([[3, 1], [0, 2]]), 6)   # sqrt(3/4 * 2/2)
    0.866025
    >>> gmean([[2, 0], [1, 0]])
    0.0
    """
    recalls = _tested_recalls(_check_cm(cm))
    if not recalls.size:
        return float("nan")
    if np.any(recalls == 0):
        return 0.0
    return float(np.exp(np.mean(np.log(recalls))))


def gmean_sens_spec(cm: Any) -> float:
    """G-mean (sens×spec): mean over classes of ``sqrt(sensitivity * specificity)``.

    Each class with test samples is taken one-vs-rest: its sensitivity is its recall,
    its specificity the share of the other classes' samples not predicted as it (see
    :func:`per_class_scores`).  This is the G-mean of Dam et al. (2022).  Because
    specificities of a many-class problem are close to 1, it is usually above
    :func:`acsa`; :func:`gmean` (recalls) never is.

    Parameters
    ----------
    cm : array-like, shape (K, K)
        Confusion matrix (rows true, columns predicted).

    Returns
    -------
    float
        In [0, 1]; NaN when the matrix holds no samples.

    Examples
    --------
    With two classes both G-means agree (each class's specificity is the other's recall):

    >>> cm = [[3, 1], [0, 2]]      # class 0: sens 3/4, spec 2/2; class 1: sens 1, spec 3/4
    >>> round(gmean_sens_spec(cm), 6), round(gmean(cm), 6)
    (0.866025, 0.866025)

    With more classes it exceeds ACSA when the errors are spread:

    >>> cm = [[8, 1, 1], [1, 8, 1], [1, 1, 8]]     # sens 0.8, spec 18/20 for every class
    >>> round(gmean_sens_spec(cm), 6), round(acsa(cm), 6)
    (0.848528, 0.8)
    """
    scores = per_class_scores(_check_cm(cm))
    tested = scores["support"] > 0
    if not np.any(tested):
        return float("nan")
    both = scores["recall"][tested] * scores["specificity"][tested]
    return float(np.mean(np.sqrt(both)))


def _class_list(classes: Sequence[int], k: int, name: str) -> np.ndarray:
    idx = np.asarray(list(classes), dtype=np.int64)
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        raise GDAError(f"{name} hold class indices outside 0..{k - 1}")
    return np.unique(idx)


def minority_recall(cm: Any, minority_classes: Sequence[int]) -> float:
    """R_min (mean over minority classes): mean recall of the minority classes that
    have test samples.

    NaN when the list is empty or none of its classes has samples.  Dam et al. report
    the smallest class's recall instead: :func:`smallest_class_recall`.

    Examples
    --------
    >>> minority_recall([[5, 0, 0], [1, 1, 0], [0, 1, 3]], [1, 2])   # (1/2 + 3/4) / 2
    0.625
    """
    cm = _check_cm(cm)
    idx = _class_list(minority_classes, cm.shape[0], "minority_classes")
    scores = per_class_scores(cm)
    idx = idx[scores["support"][idx] > 0]
    return float(scores["recall"][idx].mean()) if idx.size else float("nan")


def smallest_class_recall(cm: Any, train_counts: Sequence[int] | None) -> float:
    """R_min (smallest class): recall of the class with the fewest training images.

    Parameters
    ----------
    cm : array-like, shape (K, K)
        Confusion matrix (rows true, columns predicted).
    train_counts : sequence of int of length K, or None
        Training images per class.  Classes tied for the fewest are averaged (with two
        minority classes of the same size this equals :func:`minority_recall`).

    Returns
    -------
    float
        NaN when ``train_counts`` is None or empty, or when no smallest class has test
        samples.

    Examples
    --------
    >>> cm = [[5, 0, 0], [1, 1, 0], [0, 1, 3]]
    >>> smallest_class_recall(cm, [50, 10, 5])    # class 2: 3/4
    0.75
    >>> smallest_class_recall(cm, [50, 5, 5])     # classes 1 and 2 tied: (1/2 + 3/4) / 2
    0.625
    """
    cm = _check_cm(cm)
    if train_counts is None or len(train_counts) == 0:
        return float("nan")
    counts = np.asarray(list(train_counts), dtype=np.int64)
    if counts.shape != (cm.shape[0],):
        raise GDAError(f"train_counts must give one count per class ({cm.shape[0]}); got "
                       f"{counts.size}")
    scores = per_class_scores(cm)
    idx = np.flatnonzero(counts == counts.min())
    idx = idx[scores["support"][idx] > 0]
    return float(scores["recall"][idx].mean()) if idx.size else float("nan")


def majority_precision(cm: Any, majority_classes: Sequence[int]) -> float:
    """Mean precision over the majority classes (P_maj); NaN when the list is empty.

    A majority class that is never predicted has precision 0.

    Examples
    --------
    >>> majority_precision([[5, 0, 0], [1, 1, 0], [0, 1, 3]], [0])   # 5 / (5 + 1)
    0.8333333333333334
    """
    cm = _check_cm(cm)
    idx = _class_list(majority_classes, cm.shape[0], "majority_classes")
    if not idx.size:
        return float("nan")
    return float(per_class_scores(cm)["precision"][idx].mean())


def _check_proba(y_true: Any, proba: Any) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise GDAError(f"proba must have shape (N, n_classes); got {p.shape}")
    t = _labels(y_true, p.shape[1], "y_true")
    if t.shape[0] != p.shape[0]:
        raise GDAError(f"y_true has {t.size} labels but proba has {p.shape[0]} rows")
    return t, p


def top_k_accuracy(y_true: Any, proba: Any, k: int = 2) -> float:
    """Fraction of samples whose true class is among the ``k`` highest scores.

    Ties are broken toward the lower class index (as ``argmax`` does), so ``k=1`` equals
    the accuracy of ``proba.argmax(1)``.  With ``k >= n_classes`` the result is 1.0.

    Examples
    --------
    >>> top_k_accuracy([0, 1, 2], [[.5, .3, .2], [.5, .3, .2], [.5, .3, .2]], k=2)
    0.6666666666666666
    """
    t, p = _check_proba(y_true, proba)
    if k < 1:
        raise GDAError(f"k must be at least 1; got {k}")
    if not t.size:
        return float("nan")
    if k >= p.shape[1]:
        return 1.0
    top = np.argsort(-p, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(top == t[:, None], axis=1)))


def roc_auc_ovr(y_true: Any, proba: Any) -> float:
    """Macro one-vs-rest ROC AUC; NaN where it is undefined.

    Binary problems use ``proba[:, 1]``.  The AUC is NaN (instead of an exception) when
    a class of ``0 .. n_classes - 1`` has no sample in ``y_true``, or ``proba`` holds
    non-finite values.

    Examples
    --------
    >>> roc_auc_ovr([0, 0, 1, 1], [[.9, .1], [.6, .4], [.7, .3], [.2, .8]])
    0.75
    >>> roc_auc_ovr([0, 0], [[.9, .1], [.6, .4]])
    nan
    """
    t, p = _check_proba(y_true, proba)
    n_classes = p.shape[1]
    if (n_classes < 2 or not np.all(np.isfinite(p))
            or np.any(np.bincount(t, minlength=n_classes) == 0)):
        return float("nan")
    if n_classes == 2:
        return float(roc_auc_score(t, p[:, 1]))
    return float(np.mean([roc_auc_score(t == c, p[:, c]) for c in range(n_classes)]))


def evaluate(
    y_true: Any,
    y_pred: Any,
    proba: Any = None,
    *,
    n_classes: int,
    minority_classes: Sequence[int] = (),
    majority_classes: Sequence[int] = (),
    train_counts: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Every metric of a comparison, as a flat JSON-serialisable dict.

    Parameters
    ----------
    y_true, y_pred : array-like of int, shape (N,)
    proba : array-like, shape (N, n_classes), optional
        Class probabilities; without them ``top2_accuracy`` and ``roc_auc_ovr`` are NaN.
    n_classes : int
    minority_classes, majority_classes : sequence of int
        Classes averaged by ``minority_recall`` and ``majority_precision``.
    train_counts : sequence of int, optional
        Training images per class, which pick the smallest class of
        ``smallest_class_recall`` (NaN without them).

    Returns
    -------
    dict
        Python floats for every key of :data:`METRIC_LABELS`, plus
        ``"confusion_matrix"`` (list of lists of int) and ``"per_class"`` (dict of lists:
        precision, recall, f1, support).

    Examples
    --------
    >>> r = evaluate([0, 0, 1, 1], [0, 1, 1, 1], n_classes=2, minority_classes=[1],
    ...              train_counts=[9, 3])
    >>> r["accuracy"], r["acsa"], r["minority_recall"], r["smallest_class_recall"]
    (0.75, 0.75, 1.0, 1.0)
    >>> r["confusion_matrix"]
    [[1, 1], [0, 2]]
    """
    cm = confusion(y_true, y_pred, n_classes)
    total = int(cm.sum())
    if total == 0:
        raise GDAError("cannot evaluate on an empty test set")
    scores = per_class_scores(cm)
    out: dict[str, Any] = {
        "accuracy": float(np.trace(cm) / total),
        "precision_macro": float(scores["precision"].mean()),
        "recall_macro": float(scores["recall"].mean()),
        "f1_macro": float(scores["f1"].mean()),
        "acsa": acsa(cm),
        "gmean": gmean(cm),
        "gmean_sens_spec": gmean_sens_spec(cm),
        "minority_recall": minority_recall(cm, minority_classes),
        "smallest_class_recall": smallest_class_recall(cm, train_counts),
        "majority_precision": majority_precision(cm, majority_classes),
        "top2_accuracy": float("nan"),
        "roc_auc_ovr": float("nan"),
    }
    if proba is not None:
        p = np.asarray(proba, dtype=np.float64)
        if p.shape != (total, n_classes):
            raise GDAError(f"proba must have shape ({total}, {n_classes}); got {p.shape}")
        out["top2_accuracy"] = top_k_accuracy(y_true, p, k=2)
        out["roc_auc_ovr"] = roc_auc_ovr(y_true, p)
    out["confusion_matrix"] = cm.tolist()
    out["per_class"] = {
        "precision": scores["precision"].tolist(),
        "recall": scores["recall"].tolist(),
        "f1": scores["f1"].tolist(),
        "support": scores["support"].tolist(),
    }
    return out
