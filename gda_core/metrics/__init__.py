"""Imbalance-aware classification metrics (pure numpy / scikit-learn).

See :mod:`gda_core.metrics.classification` for the conventions (macro averages over all
classes, 0/0 = 0, two G-means: of per-class recalls and of one-vs-rest sensitivity ×
specificity; two minority recalls: mean over minority classes and smallest class).
"""

from gda_core.metrics.classification import (
    HIGHER_IS_BETTER,
    METRIC_HELP,
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

__all__ = [
    "HIGHER_IS_BETTER",
    "METRIC_HELP",
    "METRIC_LABELS",
    "acsa",
    "confusion",
    "evaluate",
    "gmean",
    "gmean_sens_spec",
    "majority_precision",
    "minority_recall",
    "per_class_scores",
    "roc_auc_ovr",
    "smallest_class_recall",
    "top_k_accuracy",
]
