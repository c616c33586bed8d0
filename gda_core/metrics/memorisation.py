"""Nearest real neighbours of synthesized images, to spot memorisation.

A synthesizer that memorises its training images produces near-copies of them: the
distance from a synthesized image to its nearest real image is then close to zero.
Distances are Euclidean (L2) in pixel space, on the values as given (pass images scaled
to [0, 1] to get distances that do not depend on the pixel range), computed in float32
in chunks so memory stays bounded.

For scale, compare with :func:`real_spacing`: how far a real image is from its nearest
*other* real image.  Note that SMOTE-family interpolations lie on segments between real
images, so they sit close to real images by construction; a small distance there is not
memorisation by a generative model.

Examples
--------
>>> real = np.array([[0, 0], [3, 4], [10, 10]], dtype=np.uint8)
>>> idx, dist = nearest_real(np.array([[3, 4], [9, 10]]), real)
>>> idx.tolist(), dist.tolist()
([1, 2], [0.0, 1.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gda_core.errors import GDAError

CHUNK_ELEMENTS = 2**22
"""Entries of one fake x real distance block (16 MiB of float32)."""

_CANDIDATES = 4
"""Nearest candidates of the fast pass whose distances are recomputed exactly."""


def _flat(images: Any, name: str) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim < 1:
        raise GDAError(f"{name} must be an array of images (n, ...); got a scalar")
    flat = arr.reshape(len(arr), int(np.prod(arr.shape[1:]))).astype(np.float32, copy=False)
    if not np.all(np.isfinite(flat)):
        raise GDAError(f"{name} holds NaN or infinite values")
    return flat


def nearest_real(fake_images: Any, real_images: Any, *,
                 chunk_elements: int = CHUNK_ELEMENTS) -> tuple[np.ndarray, np.ndarray]:
    """Index of and L2 distance to the nearest real image, for every synthesized image.

    Parameters
    ----------
    fake_images : array-like, shape (n_fake, ...)
        Synthesized images (any shape per image, e.g. ``(C, H, W)``), any numeric dtype.
    real_images : array-like, shape (n_real, ...)
        Real images with the same number of values per image; at least one.
    chunk_elements : int
        Upper bound on the entries of one distance block (memory control).

    Returns
    -------
    (indices, distances) : tuple of ndarray
        ``indices`` (int64, shape ``(n_fake,)``) into ``real_images``; ``distances``
        (float32) the Euclidean distances on the values as given.  An exact copy of a
        real image has distance 0 and that image's index (the first one, if the real set
        holds duplicates).

    Raises
    ------
    GDAError
        When there are no real images, the image sizes differ or a value is not finite.

    Notes
    -----
    A fast pass ranks real images by ``|r|^2 - 2 f.r`` (one matrix product per chunk);
    the few best candidates are then measured exactly as ``|f - r|``, so an exact copy
    gets a distance of exactly 0 despite float32 rounding.
    """
    fake, real = _flat(fake_images, "fake_images"), _flat(real_images, "real_images")
    if len(real) == 0:
        raise GDAError("nearest_real needs at least one real image")
    if fake.shape[1] != real.shape[1]:
        raise GDAError(f"synthesized and real images differ in size: {fake.shape[1]} and "
                       f"{real.shape[1]} values per image")
    return _nearest(fake, real, chunk_elements=chunk_elements)


def _nearest(fake: np.ndarray, real: np.ndarray, *, chunk_elements: int,
             leave_one_out: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Nearest row of ``real`` for each row of ``fake`` (2-D float32 arrays).

    With ``leave_one_out`` (``fake`` is ``real``) row ``i`` may not pick itself.
    """
    n_fake, n_real = len(fake), len(real)
    indices = np.zeros(n_fake, dtype=np.int64)
    distances = np.zeros(n_fake, dtype=np.float32)
    if n_fake == 0:
        return indices, distances
    real_sq = np.einsum("ij,ij->i", real, real)
    k = min(_CANDIDATES, n_real - int(leave_one_out))
    rows = max(1, int(chunk_elements) // max(n_real, k * real.shape[1]))
    for start in range(0, n_fake, rows):
        block = fake[start:start + rows]
        pick = np.arange(len(block))
        score = real_sq[None, :] - 2.0 * (block @ real.T)  # |f - r|^2 - |f|^2
        if leave_one_out:
            score[pick, start + pick] = np.inf
        cand = (np.argpartition(score, k - 1, axis=1)[:, :k] if k < n_real
                else np.broadcast_to(np.arange(n_real), score.shape))
        exact = np.sqrt(np.sum((block[:, None, :] - real[cand]) ** 2, axis=2,
                               dtype=np.float32))
        if leave_one_out:
            exact[cand == (start + pick)[:, None]] = np.inf
        # Ties (e.g. duplicated real images): the lowest index wins.
        best = np.lexsort((cand, exact), axis=1)[:, 0]
        indices[start:start + len(block)] = cand[pick, best]
        distances[start:start + len(block)] = exact[pick, best]
    return indices, distances


def real_spacing(real_images: Any, *, chunk_elements: int = CHUNK_ELEMENTS) -> np.ndarray:
    """Distance from each real image to its nearest *other* real image (leave one out).

    Its median is the typical gap between real images: synthesized images much closer
    than that to a real image are near-copies.  NaN for a set of one image.

    Examples
    --------
    >>> real_spacing(np.array([[0.0], [1.0], [3.0]])).tolist()
    [1.0, 1.0, 2.0]
    """
    real = _flat(real_images, "real_images")
    if len(real) < 2:
        return np.full(len(real), np.nan, dtype=np.float32)
    return _nearest(real, real, chunk_elements=chunk_elements, leave_one_out=True)[1]
