"""How good and how diverse synthesized images are: FID, precision / recall, density /
coverage, and mean pairwise distance.

All feature-based scores take two arrays of features, ``(n, d)`` each, usually from
:class:`~gda_core.metrics.features.FeatureExtractor` (our own CNN, no downloaded weights).
They apply to any synthesized images, GAN outputs and SMOTE-family interpolations alike.

* :func:`fid`: Frechet distance between Gaussians fitted to the two sets (Heusel et al.
  2017); 0 for identical sets, larger is worse.  It is biased upwards for small sets, so
  only compare FIDs computed with the same extractor and similar set sizes.
* :func:`prdc`: precision and recall for generative models (Kynkaanniemi et al. 2019)
  and density and coverage (Naeem et al. 2020), from k-nearest-neighbour balls.
  Precision / density measure fidelity (fakes lie where real images are), recall /
  coverage measure diversity (real images are reached by fakes).
* :func:`mean_pairwise_distance`: diversity of one set; 0 when all samples are the same.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> real = rng.normal(size=(200, 4))
>>> fid(real, real) < 1e-6
True
>>> prdc(real, real, k=5)["coverage"]
1.0
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import MutableMapping
from typing import Any

import numpy as np
from scipy import linalg
from scipy.spatial.distance import pdist

from gda_core.devices import blas_single_threaded
from gda_core.errors import GDAError

QUALITY_LABELS: dict[str, str] = {
    "fid": "FID (lower is better)",
    "precision": "Precision",
    "recall": "Recall",
    "density": "Density",
    "coverage": "Coverage",
    "diversity": "Diversity (mean pairwise distance)",
    "diversity_real": "Diversity of real images",
}
"""Display name of every score returned by :func:`sample_quality`."""

_CHUNK = 2**22  # entries of a real x fake distance block (32 MiB of float64)
_GRAM_MIN_DIM = 256  # rows at least this wide: pairwise distances by a matrix product
_GRAM_ROUNDING = 1e-12  # squared distances below this share of |x|^2 are rounding: 0


def _features(x: Any, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2:
        raise GDAError(f"{name} must be a 2-D array of features (n, d); got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise GDAError(f"{name} holds NaN or infinite values")
    return arr


def _pair(f_real: Any, f_fake: Any) -> tuple[np.ndarray, np.ndarray]:
    real, fake = _features(f_real, "f_real"), _features(f_fake, "f_fake")
    if real.shape[1] != fake.shape[1]:
        raise GDAError(f"real and fake features differ in dimension: {real.shape[1]} and "
                       f"{fake.shape[1]}")
    return real, fake


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray,
                     sigma2: np.ndarray, eps: float = 1e-6) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    ``|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 sqrtm(sigma1 sigma2))``, computed as in the
    reference FID code (pytorch-fid): when the matrix square root is not finite, or has a
    noticeable imaginary part (near-singular covariances, e.g. fewer samples than
    dimensions), ``eps`` is added to both diagonals and the root taken again; the
    remaining tiny imaginary part is dropped.  Rounding below 0 is clipped to 0.

    Examples
    --------
    >>> frechet_distance(np.zeros(2), np.eye(2), np.ones(2), np.eye(2))   # |mu1 - mu2|^2
    2.0
    >>> frechet_distance(np.zeros(1), np.eye(1), np.zeros(1), 4 * np.eye(1))  # (1 - 2)^2
    1.0
    """
    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    s1, s2 = np.atleast_2d(sigma1).astype(np.float64), np.atleast_2d(sigma2).astype(np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise GDAError("means and covariances must have matching dimensions")
    diff = mu1 - mu2
    with warnings.catch_warnings():  # "matrix is singular": handled just below
        warnings.simplefilter("ignore", linalg.LinAlgWarning)
        covmean = linalg.sqrtm(s1 @ s2)
        if not np.all(np.isfinite(covmean)) or (
                np.iscomplexobj(covmean)
                and not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3)):
            offset = np.eye(s1.shape[0]) * eps
            covmean = linalg.sqrtm((s1 + offset) @ (s2 + offset))
    if np.iscomplexobj(covmean):
        covmean = covmean.real
    value = float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * np.trace(covmean))
    return max(value, 0.0)


def fid(f_real: Any, f_fake: Any, eps: float = 1e-6) -> float:
    """Frechet distance between the feature sets' Gaussians (the FID on these features).

    Parameters
    ----------
    f_real, f_fake : array-like, shape (n_real, d) and (n_fake, d)
        At least two samples each (the covariances use ``ddof=1``).
    eps : float
        Diagonal offset for near-singular covariances (see :func:`frechet_distance`).

    Returns
    -------
    float
        NaN when a set has fewer than two samples.  When a set has fewer samples than
        dimensions the covariances are singular; the distance is then computed exactly
        from the samples (see :func:`_fid_few_samples`), without ``eps``.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(size=(500, 3))
    >>> round(fid(x, x + [1.0, 0.0, 0.0]), 6)    # a pure shift of the mean by 1
    1.0
    >>> few = np.random.default_rng(1).normal(size=(20, 50))   # fewer samples than dimensions
    >>> round(fid(few, few + 2.0), 6)                         # shift of 2 in 50 dimensions
    200.0
    """
    real, fake = _pair(f_real, f_fake)
    if len(real) < 2 or len(fake) < 2:
        return math.nan
    if min(len(real), len(fake)) < real.shape[1]:
        return _fid_few_samples(real, fake)
    return frechet_distance(real.mean(0), np.cov(real, rowvar=False), fake.mean(0),
                            np.cov(fake, rowvar=False), eps)


def _fid_few_samples(real: np.ndarray, fake: np.ndarray) -> float:
    """The FID when a set has fewer samples than dimensions, exactly and cheaply.

    With centred, scaled samples ``A`` (n1 x d) and ``B`` (n2 x d), the covariances are
    ``A^T A`` and ``B^T B``; the non-zero eigenvalues of their product are those of
    ``(A B^T)(A B^T)^T``, so ``tr sqrt(S1 S2)`` is the nuclear norm of ``A B^T`` (an
    n1 x n2 matrix): no d x d square root, and no regularisation of the singular
    covariances.
    """
    mu1, mu2 = real.mean(0), fake.mean(0)
    A = (real - mu1) / math.sqrt(len(real) - 1)
    B = (fake - mu2) / math.sqrt(len(fake) - 1)
    cross = np.linalg.svd(A @ B.T, compute_uv=False).sum()
    diff = mu1 - mu2
    return max(float(diff @ diff + np.sum(A * A) + np.sum(B * B) - 2.0 * cross), 0.0)


def euclidean_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between the rows of ``a`` (n, d) and ``b`` (m, d), in float64.

    One matrix product, ``|a|^2 + |b|^2 - 2 a.b`` (several times faster than
    :func:`~scipy.spatial.distance.cdist` for the hundreds of dimensions of image features,
    and exact to about 1e-7 of a distance); squared distances within rounding of 0
    (relative to the rows' squared norms) are exactly 0, so identical rows are 0 apart.

    Examples
    --------
    >>> euclidean_distances(np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[3.0, 4.0], [1.0, 1.0]]))
    array([[5.        , 1.41421356],
           [3.60555128, 0.        ]])
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    sq_a = np.einsum("ij,ij->i", a, a)
    sq_b = np.einsum("ij,ij->i", b, b)
    d2 = sq_a[:, None] + sq_b[None, :] - 2.0 * (a @ b.T)
    d2[d2 <= _GRAM_ROUNDING * np.maximum(sq_a[:, None], sq_b[None, :])] = 0.0
    return np.sqrt(d2, out=d2)


def _row_sq(x: np.ndarray) -> np.ndarray:
    return np.einsum("ij,ij->i", x, x)


def _gram_sq(a: np.ndarray, b: np.ndarray, sq_a: np.ndarray, sq_b: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray]:
    """Squared distances between rows of ``a`` and ``b`` by one matrix product, and a
    bound (per row of ``a``, shape ``(n_a, 1)``) on how far rounding can move each from
    the exact value, whatever the BLAS kernel: ``4 (d + 2) eps (|a|^2 + max |b|^2)``."""
    d2 = sq_a[:, None] + sq_b[None, :] - 2.0 * (a @ b.T)
    np.maximum(d2, 0.0, out=d2)
    top = float(sq_b.max()) if len(sq_b) else 0.0
    tol = (4.0 * (a.shape[1] + 2) * np.finfo(np.float64).eps) * (sq_a[:, None] + top)
    return d2, tol


def exact_sq_distances(a: np.ndarray, b: np.ndarray, rows: np.ndarray,
                       cols: np.ndarray) -> np.ndarray:
    """Squared distances of the pairs ``(a[rows[i]], b[cols[i]])``, from the differences.

    Each value depends only on the two rows (no matrix product whose blocking differs
    between BLAS kernels), so equal rows give equal distances on any CPU.

    Examples
    --------
    >>> x = np.array([[0.0, 0.0], [3.0, 4.0]])
    >>> exact_sq_distances(x, x, np.array([0, 1]), np.array([1, 1]))
    array([25.,  0.])
    """
    diff = a[rows] - b[cols]
    return np.sum(diff * diff, axis=1)


def _strictly_below(d2: np.ndarray, tol: np.ndarray, limit2: np.ndarray, a: np.ndarray,
                    b: np.ndarray, row0: int = 0, col0: int = 0) -> np.ndarray:
    """``exact |a_i - b_j|^2 < limit2`` for a block of Gram distances ``d2`` (rows
    ``row0 + i`` of ``a``, columns ``col0 + j`` of ``b``): decided from ``d2`` where
    rounding cannot change the answer, from :func:`exact_sq_distances` where it can."""
    inside = d2 < limit2 - tol
    near = np.abs(d2 - limit2) <= tol
    if near.any():
        i, j = np.nonzero(near)
        exact = exact_sq_distances(a, b, i + row0, j + col0)
        inside[i, j] = exact < np.broadcast_to(limit2, d2.shape)[i, j]
    return inside


def kth_neighbour_sq(x: np.ndarray, k: int) -> np.ndarray:
    """Squared distance of every row of float64 ``x`` to its k-th nearest other row, the
    same on any CPU (see :func:`kth_neighbour_distance`)."""
    n = len(x)
    out = np.full(n, np.nan)
    sq = _row_sq(x)
    step = max(1, _CHUNK // max(n, 1))
    for start in range(0, n, step):
        d2, tol = _gram_sq(x[start:start + step], x, sq[start:start + step], sq)
        rows = np.arange(len(d2))
        d2[rows, start + rows] = 0.0  # a row is 0 from itself: its index 0 below
        v = np.partition(d2, k, axis=1)[:, k:k + 1]
        below = d2 < v - 2.0 * tol  # surely nearer than the k-th neighbour
        below[rows, start + rows] = True
        band = ~below & (d2 <= v + 2.0 * tol)  # the k-th is among these
        i, j = np.nonzero(band)
        exact = exact_sq_distances(x, x, i + start, j)
        order = np.lexsort((exact, i))
        i, exact = i[order], exact[order]
        first = np.searchsorted(i, i)  # where each row's band begins
        rank = np.arange(len(i)) - first + below.sum(axis=1)[i]
        pick = rank == k
        out[start + i[pick]] = exact[pick]
        lost = np.isnan(out[start:start + step])  # not expected; never leave a NaN radius
        out[start:start + step][lost] = v[lost, 0]
    return out


def kth_neighbour_distance(x: np.ndarray, k: int) -> np.ndarray:
    """Distance of every row of float64 ``x`` to its k-th nearest other row (``k >= 1``;
    a duplicate counts as a neighbour at distance 0), in blocks of at most ``_CHUNK``
    distances.

    The neighbours are ranked by one matrix product per block; the distances that decide
    the k-th (those within rounding of it) are measured from the differences
    (:func:`exact_sq_distances`), so the radius is the exact distance to one row: equal
    inputs give equal radii on any CPU, and a point at exactly that distance is on the
    ball's boundary, not inside it.

    Examples
    --------
    >>> kth_neighbour_distance(np.array([[0.0], [1.0], [3.0], [7.0]]), 1)
    array([1., 1., 2., 4.])
    """
    return np.sqrt(kth_neighbour_sq(np.asarray(x, dtype=np.float64), k))


def covered(f_ref: np.ndarray, f_set: np.ndarray, radius_sq: np.ndarray) -> np.ndarray:
    """Per row of ``f_ref``: does its ball (squared radius ``radius_sq``, e.g. from
    :func:`kth_neighbour_sq`) strictly hold a row of ``f_set``?  Decided as in
    :func:`prdc`: the same on any CPU.

    Examples
    --------
    >>> ref = np.array([[0.0], [10.0]])
    >>> covered(ref, np.array([[1.0], [12.0]]), np.array([4.0, 4.0])).tolist()
    [True, False]
    """
    ref = np.asarray(f_ref, dtype=np.float64)
    pts = np.asarray(f_set, dtype=np.float64)
    out = np.zeros(len(ref), dtype=bool)
    if len(pts) == 0:
        return out
    sq_ref, sq_pts = _row_sq(ref), _row_sq(pts)
    limit = np.asarray(radius_sq, dtype=np.float64)[:, None]
    step = max(1, _CHUNK // max(len(ref), 1))
    for start in range(0, len(pts), step):
        d2, tol = _gram_sq(ref, pts[start:start + step], sq_ref, sq_pts[start:start + step])
        out |= _strictly_below(d2, tol, limit, ref, pts, col0=start).any(axis=1)
    return out


def prdc(f_real: Any, f_fake: Any, k: int = 5) -> dict[str, float]:
    """Precision, recall, density and coverage of fake features against real ones.

    Each sample gets a ball whose radius is the distance to its ``k``-th nearest
    neighbour in its own set; "inside" means strictly closer than the radius, as in the
    reference code of Naeem et al. (``prdc`` package).

    * precision: share of fakes inside at least one real ball;
    * recall: share of reals inside at least one fake ball;
    * density: mean number of real balls containing a fake, divided by ``k`` (about 1
      when fakes follow the real distribution, can exceed 1);
    * coverage: share of reals whose own ball contains at least one fake.

    Radii and memberships come from the same exact distances wherever rounding could
    decide (:func:`kth_neighbour_distance`), so equal inputs give equal scores on any CPU
    (identical sets: density exactly 1 when no two distances tie).

    Parameters
    ----------
    f_real, f_fake : array-like, shape (n_real, d) and (n_fake, d)
        Both sets need more than ``k`` samples.
    k : int
        Neighbourhood size (5 in both papers' recommendations for this scale).

    Returns
    -------
    dict
        ``precision``, ``recall``, ``density``, ``coverage`` (floats).

    Examples
    --------
    >>> real = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> prdc(real, real + 100.0, k=1)
    {'precision': 0.0, 'recall': 0.0, 'density': 0.0, 'coverage': 0.0}
    """
    real, fake = _pair(f_real, f_fake)
    _check_k(k)
    if len(real) <= k or len(fake) <= k:
        raise GDAError(f"precision / recall with k={k} need more than {k} real and fake "
                       f"samples; got {len(real)} real and {len(fake)} fake")
    r2_real = kth_neighbour_sq(real, k)[:, None]
    r2_fake = kth_neighbour_sq(fake, k)[None, :]
    sq_real, sq_fake = _row_sq(real), _row_sq(fake)
    in_real_balls = np.zeros(len(fake), dtype=np.int64)   # per fake: real balls holding it
    real_in_fake = np.zeros(len(real), dtype=bool)        # per real: inside some fake ball
    coverage = np.zeros(len(real), dtype=bool)            # per real: its ball holds a fake
    step = max(1, _CHUNK // len(real))
    for start in range(0, len(fake), step):
        stop = start + step
        d2, tol = _gram_sq(real, fake[start:stop], sq_real, sq_fake[start:stop])
        in_real = _strictly_below(d2, tol, r2_real, real, fake, col0=start)
        in_real_balls[start:stop] = in_real.sum(axis=0)
        coverage |= in_real.any(axis=1)
        real_in_fake |= _strictly_below(d2, tol, r2_fake[:, start:stop], real, fake,
                                        col0=start).any(axis=1)
    return {
        "precision": float(np.mean(in_real_balls > 0)),
        "recall": float(np.mean(real_in_fake)),
        "density": float(np.mean(in_real_balls) / k),
        "coverage": float(np.mean(coverage)),
    }


def mean_pairwise_distance(x: Any, *, max_samples: int = 1000,
                           random_state: int = 0) -> float:
    """Mean distance over all pairs of samples: a diversity score (0 = all identical).

    Parameters
    ----------
    x : ndarray
        Either uint8 images ``(N, C, H, W)``, compared as the root-mean-square pixel
        difference in [0, 1] units (Euclidean distance / sqrt(C*H*W), so values lie in
        [0, 1] whatever the image size), or features ``(N, d)``, compared by Euclidean
        distance.
    max_samples : int
        Larger sets are subsampled (without replacement) to this many samples.
    random_state : int
        Seed of that subsample.

    Returns
    -------
    float
        NaN for fewer than two samples.

    Examples
    --------
    >>> mean_pairwise_distance(np.zeros((4, 1, 8, 8), np.uint8))
    0.0
    >>> mean_pairwise_distance(np.array([[0.0, 0.0], [3.0, 4.0]]))
    5.0
    """
    arr = np.asarray(x)
    if arr.ndim == 4 and arr.dtype == np.uint8:
        flat = arr.reshape(len(arr), -1).astype(np.float64) / 255.0
        norm = math.sqrt(flat.shape[1]) if flat.shape[1] else 1.0
    elif arr.ndim == 2:
        flat, norm = _features(arr, "x"), 1.0
    else:
        raise GDAError("x must be uint8 images (N, C, H, W) or features (N, d); got "
                       f"{arr.dtype} array of shape {arr.shape}")
    if max_samples < 2:
        raise GDAError(f"max_samples must be at least 2; got {max_samples}")
    if len(flat) < 2:
        return math.nan
    if len(flat) > max_samples:
        rng = np.random.default_rng(random_state)
        flat = flat[rng.choice(len(flat), max_samples, replace=False)]
    return float(_pairwise_distances(flat).mean() / norm)


def _pairwise_distances(x: np.ndarray) -> np.ndarray:
    """Euclidean distances of all pairs ``i < j`` of rows of float64 ``x`` (as
    :func:`scipy.spatial.distance.pdist`, in that order): by :func:`euclidean_distances`
    for wide rows (images: thousands of values, 5-10x faster than ``pdist``; any two uint8
    images that differ are far above its rounding), by ``pdist`` for narrow ones."""
    if x.shape[1] < _GRAM_MIN_DIM:
        return pdist(x)
    return euclidean_distances(x, x)[np.triu_indices(len(x), 1)]


@blas_single_threaded
def sample_quality(real_images: np.ndarray, fake_images: np.ndarray, extractor: Any, *,
                   k: int = 5, random_state: int = 0) -> dict[str, float]:
    """Every sample-quality score of one group of images (typically one class).

    Parameters
    ----------
    real_images, fake_images : ndarray of uint8, shape (N, C, H, W)
        Real images of the class and the images synthesized for it.
    extractor : FeatureExtractor
        Anything with ``transform(images) -> (N, d) features``.
    k : int
        Neighbourhood size of :func:`prdc`; lowered to ``min(n_real, n_fake) - 1`` for
        small sets (the value used is returned as ``k``).
    random_state : int
        Seed of the subsample of :func:`mean_pairwise_distance`.

    Returns
    -------
    dict
        ``fid``, ``precision``, ``recall``, ``density``, ``coverage``, ``diversity``
        (mean pairwise distance of the fakes), ``diversity_real`` (the same for the real
        images, for reference), ``n_real``, ``n_fake`` and ``k``.  Scores that need more
        samples than given are NaN.

    Examples
    --------
    >>> scores = sample_quality(real_x, fake_x, extractor)     # doctest: +SKIP
    >>> scores["fid"], scores["coverage"]                      # doctest: +SKIP
    """
    _check_k(k)
    f_real, f_fake = _transform(extractor, real_images), _transform(extractor, fake_images)
    return _scores(f_real, f_fake, real_images, fake_images, k, random_state)


@blas_single_threaded
def sample_quality_per_class(real_images: np.ndarray, real_labels: Any,
                             fake_images: np.ndarray, fake_labels: Any, extractor: Any, *,
                             k: int = 5, random_state: int = 0,
                             memo: MutableMapping[Any, float] | None = None,
                             ) -> dict[int, dict[str, float]]:
    """:func:`sample_quality` for every class that has synthesized images.

    Features are computed once for all images.  Classes with fake images but no real
    ones are skipped.  ``memo``: a dict kept by a caller that scores many image sets
    against the same real images; the real images' own pixel diversity is computed once
    per class and seed there (the same value either way).

    Returns
    -------
    dict
        Class index -> the scores of :func:`sample_quality`, in increasing class order.

    Examples
    --------
    >>> per_class = sample_quality_per_class(X, y, X_new, y_new, ext)  # doctest: +SKIP
    >>> per_class[3]["precision"]                                       # doctest: +SKIP
    """
    _check_k(k)
    y_real = np.asarray(real_labels, dtype=np.int64)
    y_fake = np.asarray(fake_labels, dtype=np.int64)
    if len(y_real) != len(real_images) or len(y_fake) != len(fake_images):
        raise GDAError("each image needs one label")
    f_real, f_fake = _transform(extractor, real_images), _transform(extractor, fake_images)
    out: dict[int, dict[str, float]] = {}
    for c in np.unique(y_fake).tolist():
        r, f = y_real == c, y_fake == c
        if not r.any():
            continue
        key = None
        if memo is not None:
            digest = hashlib.blake2b(np.ascontiguousarray(real_images[r]).tobytes(),
                                     digest_size=20).hexdigest()
            key = ("diversity_real", random_state, digest)
        scores = _scores(f_real[r], f_fake[f], real_images[r], fake_images[f], k,
                         random_state, None if key is None else memo.get(key))
        if key is not None:
            memo[key] = scores["diversity_real"]
        out[int(c)] = scores
    return out


def _check_k(k: Any) -> None:
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise GDAError(f"k must be a positive integer; got {k!r}")


def _transform(extractor: Any, images: np.ndarray) -> np.ndarray:
    if not isinstance(images, np.ndarray) or images.ndim != 4 or images.dtype != np.uint8:
        raise GDAError("images must be a uint8 array of shape (N, C, H, W)")
    return np.asarray(extractor.transform(images), dtype=np.float64)


def _scores(f_real: np.ndarray, f_fake: np.ndarray, real_images: np.ndarray,
            fake_images: np.ndarray, k: int, random_state: int,
            diversity_real: float | None = None) -> dict[str, float]:
    n_real, n_fake = len(f_real), len(f_fake)
    k_used = int(min(k, n_real - 1, n_fake - 1))
    scores = {"fid": fid(f_real, f_fake)}
    if k_used >= 1:
        scores.update(prdc(f_real, f_fake, k=k_used))
    else:
        scores.update(dict.fromkeys(("precision", "recall", "density", "coverage"), math.nan))
    scores["diversity"] = mean_pairwise_distance(fake_images, random_state=random_state)
    scores["diversity_real"] = (mean_pairwise_distance(real_images, random_state=random_state)
                                if diversity_real is None else diversity_real)
    scores.update(n_real=n_real, n_fake=n_fake, k=max(k_used, 0))
    return scores
