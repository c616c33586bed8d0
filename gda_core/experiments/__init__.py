"""Comparisons of oversamplers against the baseline, ratio sweeps, and their storage."""

from gda_core.experiments.compare import run_comparison
from gda_core.experiments.config import BASELINE, ClassifierConfig, CompareConfig, DataConfig
from gda_core.experiments.persist import (
    export_comparison,
    export_sweep,
    list_comparisons,
    load_comparison,
    save_comparison,
    save_sweep,
)
from gda_core.experiments.result import (
    QUALITY_METRICS,
    SCALAR_METRICS,
    ComparisonResult,
    MethodRun,
    decode_images,
    encode_images,
)
from gda_core.experiments.sweep import DEFAULT_RATIOS, RatioSweep, run_ratio_sweep

__all__ = [
    "BASELINE",
    "DEFAULT_RATIOS",
    "QUALITY_METRICS",
    "SCALAR_METRICS",
    "ClassifierConfig",
    "CompareConfig",
    "ComparisonResult",
    "DataConfig",
    "MethodRun",
    "RatioSweep",
    "decode_images",
    "encode_images",
    "export_comparison",
    "export_sweep",
    "list_comparisons",
    "load_comparison",
    "run_comparison",
    "run_ratio_sweep",
    "save_comparison",
    "save_sweep",
]
