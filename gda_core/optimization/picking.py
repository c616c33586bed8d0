"""Posterior preference: suggestions a user can accept when picking from a front.

Each function takes a front's objectives ``F`` (rows = solutions, columns F1, F2; both
minimised) and returns the **index** of the suggested row. Distances use the front's own
normalisation (its ideal and nadir), so the two objectives' units do not matter.
"""

from __future__ import annotations

import numpy as np

from gda_core.errors import ConfigError


def _normalised(F: np.ndarray) -> np.ndarray:
    F = np.asarray(F, dtype=float).reshape(-1, 2)
    if len(F) == 0:
        raise ConfigError("the front is empty: run an algorithm first")
    lo, hi = F.min(axis=0), F.max(axis=0)
    return (F - lo) / np.where(hi > lo, hi - lo, 1.0)


def knee(F: np.ndarray) -> int:
    """The knee: the point farthest below the line through the two extremes.

    On a straight-line front every point is at distance 0 and the first one is returned.

    Examples
    --------
    >>> knee(np.array([[0.0, 1.0], [0.1, 0.1], [1.0, 0.0]]))
    1
    """
    Z = _normalised(F)
    if len(Z) < 3:
        return 0
    a, b = Z[np.argmin(Z[:, 0])], Z[np.argmin(Z[:, 1])]
    direction = b - a
    length = np.linalg.norm(direction)
    if length == 0:
        return 0
    # a is top-left and b bottom-right, so this normal points to the ideal point:
    # the signed distance is positive on the ideal side of the extremes' line
    dist = ((Z - a) @ np.array([direction[1], -direction[0]])) / length
    return int(np.argmax(dist))


def pseudo_weights(F: np.ndarray) -> np.ndarray:
    """Pseudo-weights (Deb 2001): how much each solution favours each objective; rows sum to 1.

    ``w_i = ((f_i^max - f_i) / (f_i^max - f_i^min)) / sum_j (...)``.
    """
    Z = 1.0 - _normalised(F)
    s = Z.sum(axis=1, keepdims=True)
    return np.where(s > 0, Z / np.where(s > 0, s, 1.0), 0.5)


def by_pseudo_weight(F: np.ndarray, w1: float) -> int:
    """The solution whose pseudo-weight on F1 is closest to ``w1`` (0 = all on sd)."""
    if not 0.0 <= w1 <= 1.0:
        raise ConfigError(f"the weight must be between 0 and 1, got {w1:g}")
    W = pseudo_weights(F)
    return int(np.argmin(np.abs(W[:, 0] - w1)))


def asf(F: np.ndarray, w1: float, eps: float = 1e-6) -> int:
    """Weighted achievement scalarising function: ``argmin max_i w_i z_i`` (normalised,
    ideal = 0), with ``w = (w1, 1 - w1)`` the importance of F1 and F2: a larger ``w1``
    asks for a smaller F1. ``w1 = 0.5`` picks the point closest to the ideal in the
    Chebyshev sense."""
    if not 0.0 <= w1 <= 1.0:
        raise ConfigError(f"the weight must be between 0 and 1, got {w1:g}")
    Z = _normalised(F)
    w = np.maximum(np.array([w1, 1.0 - w1]), eps)
    return int(np.argmin(np.max(Z * w, axis=1)))


def min_mse(mean: np.ndarray, sd: np.ndarray, objective: str,
            target: float | None) -> int | None:
    """The minimum mean-squared-error point: ``(mean - T)^2 + sd^2`` (nominal-the-best),
    ``mean^2 + sd^2`` (smaller-the-better); ``None`` for larger-the-better."""
    mean, sd = np.asarray(mean, dtype=float), np.asarray(sd, dtype=float)
    if len(mean) == 0:
        raise ConfigError("the front is empty: run an algorithm first")
    if objective == "nominal":
        mse = (mean - float(target)) ** 2 + sd ** 2
    elif objective == "smaller":
        mse = mean ** 2 + sd ** 2
    else:
        return None
    return int(np.argmin(mse))
