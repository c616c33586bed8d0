"""Stratified hold-out of real images (validation split) with a floor per class.

One helper for every place that holds real images out: a comparison's validation split
(taken from the real training images *before* any oversampling, so that synthetic images
never choose the model), the classifier's early-stopping split when it is given no
validation set, and the three-player model's own validation split; and
:func:`cap_per_class`, the seeded per-class subsample of the quality references.
"""

from __future__ import annotations

import numpy as np


def stratified_split(labels: np.ndarray, fraction: float, rng: np.random.Generator, *,
                     min_per_class: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train, held-out) row indices, sorted; about ``fraction`` of every class held out.

    Class ``c`` with ``n_c`` images holds out ``round(fraction * n_c)`` of them, at least
    ``min_per_class`` when ``fraction > 0``, and always keeps at least one image for
    training (so a class of one image holds out none).

    Parameters
    ----------
    labels : ndarray of int, shape (N,)
    fraction : float in [0, 1)
    rng : numpy.random.Generator
        Draws which images are held out.
    min_per_class : int
        Floor of held-out images per class (when the class has more than that).

    Returns
    -------
    (train, held_out) : tuple of ndarray of int64

    Examples
    --------
    >>> y = np.array([0] * 20 + [1] * 3 + [2])
    >>> tr, va = stratified_split(y, 0.1, np.random.default_rng(0), min_per_class=1)
    >>> np.bincount(y[va], minlength=3).tolist(), np.bincount(y[tr], minlength=3).tolist()
    ([2, 1, 0], [18, 2, 1])
    """
    labels = np.asarray(labels)
    train, held = [], []
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        k = round(fraction * len(rows))
        if fraction > 0:
            k = max(k, min_per_class)
        k = max(0, min(k, len(rows) - 1))
        held.append(rows[:k])
        train.append(rows[k:])
    if not train:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.sort(np.concatenate(train)).astype(np.int64),
            np.sort(np.concatenate(held)).astype(np.int64))


def cap_per_class(labels: np.ndarray, max_per_class: int, seed: int) -> np.ndarray:
    """Sorted indices keeping at most ``max_per_class`` images of each class (seeded).

    Examples
    --------
    >>> cap_per_class(np.array([0, 0, 0, 1]), 2, seed=0).tolist()
    [1, 2, 3]
    """
    rng = np.random.default_rng(seed)
    parts = []
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        if len(idx) > max_per_class:
            idx = rng.choice(idx, max_per_class, replace=False)
        parts.append(idx)
    return np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
