"""Comparisons of oversamplers against the baseline."""

from gda_core.experiments.compare import run_comparison
from gda_core.experiments.config import BASELINE, ClassifierConfig, CompareConfig, DataConfig
from gda_core.experiments.result import (
    SCALAR_METRICS,
    ComparisonResult,
    MethodRun,
    decode_images,
    encode_images,
)

__all__ = [
    "BASELINE",
    "SCALAR_METRICS",
    "ClassifierConfig",
    "CompareConfig",
    "ComparisonResult",
    "DataConfig",
    "MethodRun",
    "decode_images",
    "encode_images",
    "run_comparison",
]
