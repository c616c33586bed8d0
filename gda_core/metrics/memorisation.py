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

import math
from typing import Any

import numpy as np
import torch
from scipy import stats as sps

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


# ------------------------------------------------------------ memorisation (aligned)
ALIGN_SIDE = 16
"""Side of the small images that near-copies are compared at (area-averaged): noise
averages out, the picture stays."""

COPY_RATIO = 0.25
"""A query is a near-copy of a training image when its aligned distance to it is below
this fraction of that training image's own distance to the nearest other training image
(its "gap").  Held-out real images sit at about their neighbour's gap (median ratio 1.3
on digits); a copy with invisible noise, a flip or a shift of a few pixels at a few
hundredths to 0.2 (noise of sd 8 on 8×8 digits: median 0.17); a SMOTE interpolation at
its mixing weight (a third of them below 0.25)."""


def align_shift(shape: tuple[int, ...]) -> int:
    """Pixels a copy may be shifted by and still be aligned: 1 per 32 pixels of side (1
    for small images).

    Examples
    --------
    >>> align_shift((3, 64, 64)), align_shift((1, 8, 8))
    (2, 1)
    """
    return max(1, round(min(shape[-2:]) / 32))


def _embed(images: np.ndarray, shift: int, *, variants: bool) -> np.ndarray:
    """Standardised small images: the central crop (``variants=False``), or every crop
    shifted by up to ``shift`` pixels, plain and flipped (``(N, V, D)``)."""
    x = torch.from_numpy(np.ascontiguousarray(images)).float()
    n, _, h, w = x.shape
    hh, ww = h - 2 * shift, w - 2 * shift
    side = (min(ALIGN_SIDE, hh), min(ALIGN_SIDE, ww))
    offsets = ([(dy, dx) for dy in range(2 * shift + 1) for dx in range(2 * shift + 1)]
               if variants else [(shift, shift)])
    flips = (False, True) if variants else (False,)
    out = []
    for flip in flips:
        src = torch.flip(x, dims=(3,)) if flip else x
        for dy, dx in offsets:
            crop = src[:, :, dy:dy + hh, dx:dx + ww]
            small = torch.nn.functional.adaptive_avg_pool2d(crop, side).reshape(n, -1)
            out.append(small)
    v = torch.stack(out, dim=1).double()                         # (N, V, D)
    v = v - v.mean(dim=2, keepdim=True)
    v = v / (v.std(dim=2, keepdim=True) + 2.0)                  # flat images: no blow-up
    return v.numpy()


def _nearest_aligned(query: np.ndarray, refs: np.ndarray, exclude: np.ndarray | None = None
                     ) -> tuple[np.ndarray, np.ndarray]:
    """Index of and distance to the nearest reference (over its variants) per query row;
    ``exclude[i]`` (optional) is a reference index query ``i`` may not pick."""
    n_ref, n_var, dim = refs.shape
    flat = refs.reshape(n_ref * n_var, dim)
    sq_r = np.einsum("ij,ij->i", flat, flat)
    idx = np.zeros(len(query), dtype=np.int64)
    dist = np.full(len(query), np.inf)
    step = max(1, 2**22 // max(len(flat), 1))
    for start in range(0, len(query), step):
        q = query[start:start + step]
        d2 = np.einsum("ij,ij->i", q, q)[:, None] + sq_r[None, :] - 2.0 * (q @ flat.T)
        d2 = np.maximum(d2, 0.0).reshape(len(q), n_ref, n_var).min(axis=2)
        if exclude is not None:
            d2[np.arange(len(q)), exclude[start:start + step]] = np.inf
        best = d2.argmin(axis=1)
        idx[start:start + len(q)] = best
        dist[start:start + len(q)] = np.sqrt(d2[np.arange(len(q)), best])
    return idx, dist


def copy_ratios(queries: np.ndarray, train: np.ndarray, *, shift: int | None = None,
                leave_one_out: bool = False, scale: np.ndarray | None = None) -> np.ndarray:
    """How close each query image is to a training image, relative to that image's gap.

    ``d(q, T) / gap(t*)``: the distance of the query to its nearest training image ``t*``,
    aligned over left-right flips and shifts of up to ``shift`` pixels and compared as
    standardised 16×16 images (so invisible noise, a flip, a small shift or a brightness
    change of a training image stay close to it), over ``t*``'s own distance to the
    nearest other training image.  Below :data:`COPY_RATIO`: a near-copy.

    Parameters
    ----------
    queries, train : ndarray of uint8, shape (N, C, H, W)
        Same image shape; at least two training images.
    shift : int, optional
        Default :func:`align_shift`.
    leave_one_out : bool
        ``queries`` are ``train`` itself: each is compared with the others (the real
        images' own ratios, about 1).
    scale : ndarray of uint8, optional
        Divide by the median gap between these images instead of the nearest image's own
        gap (e.g. synthesized images compared with each other, on the scale of the real
        training images: near-identical fakes).

    Returns
    -------
    ndarray of float64, shape (n_queries,)

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.integers(0, 255, (10, 1, 16, 16), dtype=np.uint8)
    >>> flipped = train[:3, :, :, ::-1]
    >>> bool((copy_ratios(flipped, train) < COPY_RATIO).all())
    True
    >>> bool((copy_ratios(train, train, leave_one_out=True) > 0.5).all())
    True
    """
    train = np.asarray(train)
    queries = np.asarray(queries)
    if len(train) < 2:
        raise GDAError("the copy check needs at least two training images")
    if queries.shape[1:] != train.shape[1:]:
        raise GDAError(f"images differ in shape: {queries.shape[1:]} and {train.shape[1:]}")
    shift = align_shift(train.shape) if shift is None else int(shift)
    refs = _embed(train, shift, variants=True)
    centre = _embed(train, shift, variants=False)[:, 0]
    _, gaps = _nearest_aligned(centre, refs, exclude=np.arange(len(train)))
    if leave_one_out:
        idx, dist = _nearest_aligned(centre, refs, exclude=np.arange(len(train)))
    else:
        idx, dist = _nearest_aligned(_embed(queries, shift, variants=False)[:, 0], refs)
    if scale is not None:
        s_refs = _embed(np.asarray(scale), shift, variants=True)
        s_centre = _embed(np.asarray(scale), shift, variants=False)[:, 0]
        _, s_gaps = _nearest_aligned(s_centre, s_refs, exclude=np.arange(len(scale)))
        return dist / max(float(np.median(s_gaps)), 1e-9)
    denominator = gaps[idx]
    floor = max(float(np.median(gaps)) * 1e-3, 1e-9)
    return dist / np.maximum(denominator, floor)


def nearest_training(queries: np.ndarray, train: np.ndarray, *,
                     shift: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Index of each query's nearest training image (aligned as in :func:`copy_ratios`)
    and its copy ratio: what the gallery shows beside a synthesized image.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.integers(0, 255, (6, 1, 16, 16), dtype=np.uint8)
    >>> idx, ratio = nearest_training(train[[4, 1], :, :, ::-1], train)
    >>> idx.tolist(), bool((ratio < COPY_RATIO).all())
    ([4, 1], True)
    """
    train, queries = np.asarray(train), np.asarray(queries)
    if len(train) < 2:
        raise GDAError("the copy check needs at least two training images")
    shift = align_shift(train.shape) if shift is None else int(shift)
    refs = _embed(train, shift, variants=True)
    idx, _ = _nearest_aligned(_embed(queries, shift, variants=False)[:, 0], refs)
    return idx, copy_ratios(queries, train, shift=shift)


def memorisation_test(fake: np.ndarray, train: np.ndarray,
                      held_out: np.ndarray | None = None) -> dict[str, float]:
    """Are synthesized images closer to their nearest training image than real images the
    synthesizer never saw?  (In the spirit of Meehan, Chaudhuri & Dasgupta 2020's C_T.)

    The synthesized images' :func:`copy_ratios` are set against those of real images of
    the class that the synthesizer did not learn from: ``held_out`` images, and each
    training image against the others (leave one out), which stand for unseen images of
    the class.  A one-sided Mann-Whitney U test asks whether the fakes' ratios are
    smaller.

    Returns
    -------
    dict
        ``copy_share`` (fakes below :data:`COPY_RATIO`), ``copy_share_real`` (the real
        references' share), ``copy_ratio`` (the fakes' median ratio), ``copy_ratio_real``,
        ``copy_p`` (the test's p-value), ``copy_n_fake`` and ``copy_n_real`` (the sizes);
        NaN where there are too few images (fewer than 2 training images or fakes).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> train = rng.integers(0, 255, (12, 1, 16, 16), dtype=np.uint8)
    >>> noisy = np.clip(train.astype(int) + rng.normal(0, 8, train.shape), 0, 255)
    >>> out = memorisation_test(noisy.astype(np.uint8), train)
    >>> out["copy_share"], out["copy_share_real"], out["copy_p"] < 0.001
    (1.0, 0.0, True)
    """
    out = {k: math.nan for k in ("copy_share", "copy_share_real", "copy_ratio",
                                 "copy_ratio_real", "copy_p")}
    out.update(copy_n_fake=float(len(fake)), copy_n_real=0.0)
    if len(train) < 2 or len(fake) < 2:
        return out
    r_fake = copy_ratios(fake, train)
    parts = [copy_ratios(train, train, leave_one_out=True)]
    if held_out is not None and len(held_out):
        parts.append(copy_ratios(held_out, train))
    r_real = np.concatenate(parts)
    out.update(copy_share=float(np.mean(r_fake < COPY_RATIO)),
               copy_share_real=float(np.mean(r_real < COPY_RATIO)),
               copy_ratio=float(np.median(r_fake)), copy_ratio_real=float(np.median(r_real)),
               copy_n_real=float(len(r_real)),
               copy_p=float(sps.mannwhitneyu(r_fake, r_real, alternative="less").pvalue))
    return out
