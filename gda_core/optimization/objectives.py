"""Objective transforms: F1 from the mean by its type, F2 = sd; both minimised."""

from __future__ import annotations

import numpy as np

from gda_core.errors import ConfigError


def f1_from_mean(mean: np.ndarray, objective: str, target: float | None = None) -> np.ndarray:
    """F1 for a mean: ``|mean - target|`` (nominal), ``mean`` (smaller) or ``-mean`` (larger).

    Examples
    --------
    >>> f1_from_mean(np.array([490.0, 510.0]), "nominal", 500.0)
    array([10., 10.])
    >>> f1_from_mean(np.array([2.0]), "larger")
    array([-2.])
    """
    mean = np.asarray(mean, dtype=float)
    if objective == "nominal":
        if target is None:
            raise ConfigError("nominal-the-best needs a target")
        return np.abs(mean - target)
    if objective == "smaller":
        return mean.copy()
    if objective == "larger":
        return -mean
    raise ConfigError(f"unknown objective type {objective!r}")


def evaluate_case(case, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(F, mean, sd)`` at the rows of ``X``: ``F[:, 0] = F1``, ``F[:, 1] = sd``."""
    mean = case.mean.predict(X)
    sd = case.sd.predict(X)
    F = np.column_stack([f1_from_mean(mean, case.objective, case.target), sd])
    return F, mean, sd
