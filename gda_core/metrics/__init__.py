"""Imbalance-aware classification metrics (pure numpy / scikit-learn).

See :mod:`gda_core.metrics.classification` for the conventions (macro averages over all
classes, 0/0 = 0, G-mean from per-class recalls).
"""

from gda_core.metrics.classification import (
    HIGHER_IS_BETTER,
    METRIC_LABELS,
    acsa,
    confusion,
    evaluate,
    gmean,
    majority_precision,
    minority_recall,
    per_class_scores,
    roc_auc_ovr,
    top_k_accuracy,
)

__all__ = [
    "HIGHER_IS_BETTER",
    "METRIC_LABELS",
    "acsa",
    "confusion",
    "evaluate",
    "gmean",
    "majority_precision",
    "minority_recall",
    "per_class_scores",
    "roc_auc_ovr",
    "top_k_accuracy",
]
