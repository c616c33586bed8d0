"""Display names of comparison methods (shared by the Compare page's helpers)."""

from __future__ import annotations

from gda_core.experiments import BASELINE
from gda_core.oversampling import OVERSAMPLERS


def method_label(name: str) -> str:
    """Long display name of a method ("Baseline (no oversampling)", "SMOTE", ...)."""
    if name == BASELINE:
        return "Baseline (no oversampling)"
    return OVERSAMPLERS[name].label if name in OVERSAMPLERS else name


def short_label(name: str) -> str:
    """Short display name of a method, for chart titles and legends."""
    return "Baseline" if name == BASELINE else method_label(name)
