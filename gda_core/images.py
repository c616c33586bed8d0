"""The one check of an image batch: uint8 arrays of shape (N, C, H, W) and their labels.

Oversamplers, synthesizers and classifiers all take images this way; they check them with
:func:`check_images` / :func:`check_labelled_images` and differ only in the error class
they raise (:class:`~gda_core.errors.OversamplingError` for an oversampler's input,
:class:`~gda_core.errors.ConfigError` for a model's).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gda_core.errors import ConfigError, GDAError


def check_images(X: Any, *, error: type[GDAError] = ConfigError) -> np.ndarray:
    """``X`` as a C-contiguous, writeable uint8 array of shape (N, C, H, W).

    The array itself when it already is one; a copy when it is read-only (``torch``
    refuses to wrap those) or not contiguous.

    Examples
    --------
    >>> check_images(np.zeros((2, 1, 4, 4), np.uint8)).shape
    (2, 1, 4, 4)
    >>> check_images(np.zeros((2, 4, 4), np.uint8))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    gda_core.errors.ConfigError: images must be a uint8 array of shape (N, C, H, W); got ...
    """
    X = np.asarray(X)
    if X.ndim != 4 or X.dtype != np.uint8:
        raise error(f"images must be a uint8 array of shape (N, C, H, W); got {X.dtype} "
                    f"{X.shape}")
    if not X.flags.writeable:
        return X.copy()
    return np.ascontiguousarray(X)


def check_labelled_images(X: Any, y: Any, *, error: type[GDAError] = ConfigError
                          ) -> tuple[np.ndarray, np.ndarray]:
    """``(X, y)`` checked: images as :func:`check_images` returns them, at least one, and
    one integer label per image (as int64).

    Examples
    --------
    >>> X, y = check_labelled_images(np.zeros((2, 1, 4, 4), np.uint8), [0, 1])
    >>> y.dtype
    dtype('int64')
    >>> check_labelled_images(np.zeros((2, 1, 4, 4), np.uint8), [0.0, 1.0])
    Traceback (most recent call last):
    ...
    gda_core.errors.ConfigError: labels must be integers
    """
    X = check_images(X, error=error)
    y = np.asarray(y)
    if y.ndim != 1 or len(y) != len(X):
        raise error(f"{len(X)} images but {y.size} labels")
    if len(y) == 0:
        raise error("no training images")
    if not np.issubdtype(y.dtype, np.integer):
        raise error("labels must be integers")
    return X, y.astype(np.int64, copy=False)
