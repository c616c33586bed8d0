"""Evidence from generated images for the GAN replays' verdicts.

A replay's claim about a GAN ("k=1 trains", "the MLP GAN gives noise", "MAD-GAN covers
more of the data") is judged on the images the model draws, never on the absence of a
training warning.  :meth:`Judge.evidence` measures one set of generated images against
real images the models never trained on (the dataset's test split when it has one), at
the same sample count ``n`` for every number:

``fid`` / ``fid_real`` / ``fid_noise``
    FID (on the project's CNN features, :class:`~gda_core.metrics.features.FeatureExtractor`)
    of ``n`` generated images against ``n`` real ones (set A); of ``n`` *other* real images
    against set A (what a perfect generator would get at this ``n``); and of ``n`` images of
    uniform pixel noise against set A (what a generator that learned nothing gets).
``shares`` / ``confident`` / ``accuracy``
    The same CNN, used as a classifier: the share of the generated images it reads as each
    class, the share it reads with probability at least :data:`CONFIDENT_PROBABILITY`, and
    (when the images are meant to be of one class) the share read as that class.
``coverage`` / ``coverage_real``
    Coverage (Naeem et al. 2020, k = :data:`COVERAGE_K`) of set A by the generated images
    and by the other real images: how much of the data the generator reaches.
``spread``, ``dup_share``, ``noise_share``
    Feature diversity of the generated images over that of set A; the share whose nearest
    other generated image is closer than :data:`COPY_FRACTION` of
    the real images' typical gap (copies of a few images); the share that is pixel noise
    (:func:`~gda_core.metrics.gate.smoothness` far below any real image's).

Three pure predicates turn the evidence into verdicts, each stating its thresholds in its
text: :func:`looks_like_data` (the images look like the data: FID below
:data:`NOISE_FID_FRACTION` of the noise FID, and the CNN reads the intended class in at
least :data:`CLASS_ACCURACY` of them, or, for a model of every class, sees at least
:data:`CLASSES_SEEN_FRACTION` of the classes), :func:`no_structure` (what a generator that
stopped learning draws: FID at least that fraction of the noise FID, fewer than
:data:`DIGIT_LIKE_SHARE` of the images read confidently as any class and, for images of one
class, fewer than :data:`CLASS_ACCURACY` read as it) and
:func:`collapsed` (recognisable images, but a few of them: one class takes
:data:`COLLAPSE_TOP_SHARE`, or :data:`COLLAPSE_DUP_SHARE` are near-copies of each other, or
the spread is below :data:`COLLAPSE_SPREAD`).  Noise, blank images or copies of a few
images never pass :func:`looks_like_data`; held-out real images always do (the unit tests
construct each).

Examples
--------
>>> good = ImageEvidence(n=500, fid=13.0, fid_real=12.0, fid_noise=2000.0,
...                      shares=(0.1,) * 10, confident=0.97, target=None)
>>> looks_like_data(good).ok, no_structure(good).ok, collapsed(good).ok
(True, False, False)
>>> noise = ImageEvidence(n=500, fid=2000.0, fid_real=12.0, fid_noise=2000.0,
...                       shares=(0.96,) + (0.0044,) * 9, confident=0.27, target=None,
...                       noise_share=1.0)
>>> looks_like_data(noise).ok, no_structure(noise).ok, collapsed(noise).ok
(False, True, False)
>>> print(looks_like_data(noise).text)
FID 2000.0 ≥ 0.5 × noise FID 2000.0 = 1000.0; 1 of 10 classes seen in ≥ 3% of the images (needs ≥ 8)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from gda_core.devices import blas_single_threaded
from gda_core.errors import GDAError
from gda_core.metrics.gate import NOISE_SMOOTHNESS_FRACTION, smoothness
from gda_core.metrics.memorisation import real_spacing
from gda_core.metrics.sample_quality import fid, mean_pairwise_distance, prdc

COPY_FRACTION = 0.1
"""A generated image is a near-duplicate of another when closer than this fraction of
the median gap between two real images (the replays' evidence, as published)."""

NOISE_FID_FRACTION = 0.5
"""Images look like the data only when their FID is below this fraction of the noise FID."""
CLASS_ACCURACY = 0.6
"""... and the CNN reads the intended class in at least this share of them."""
CLASS_PRESENT_SHARE = 0.03
"""A class is "seen" among a model's images when the CNN reads at least this share as it."""
CLASSES_SEEN_FRACTION = 0.8
"""A model of every class must show at least this fraction of the classes (8 of 10)."""
CONFIDENT_PROBABILITY = 0.9
"""An image is read "confidently" when the CNN gives its top class at least this."""
DIGIT_LIKE_SHARE = 0.5
"""Images are recognisable when at least this share is read confidently (noise: ~25%)."""
COLLAPSE_TOP_SHARE = 0.5
COLLAPSE_DUP_SHARE = 0.5
COLLAPSE_SPREAD = 0.35
"""Recognisable images are collapsed when one class takes :data:`COLLAPSE_TOP_SHARE` of
them (a model of every class), :data:`COLLAPSE_DUP_SHARE` are near-copies of another
generated image, or they vary less than :data:`COLLAPSE_SPREAD` times as much as real
images."""
NOISE_SHARE = 0.5
"""Above this share of pixel-noise images, images are not called collapsed digits."""
COVERAGE_K = 5
"""Neighbourhood size of the coverage."""
MAX_N = 1000
"""At most this many images per set (the reference needs twice as many)."""


@dataclass(frozen=True)
class ImageEvidence:
    """What one set of generated images shows, each number beside its reference.

    Attributes
    ----------
    n : int
        Images in each compared set.
    fid, fid_real, fid_noise : float
        FID of the generated images, of other real images and of uniform noise against
        the same ``n`` real images.
    shares : tuple of float
        Share of the generated images the CNN reads as each class.
    confident : float
        Share read with probability ≥ :data:`CONFIDENT_PROBABILITY`.
    target : int or None
        The class the images are meant to show (None: a model of every class).
    accuracy : float
        Share read as ``target`` (NaN without one).
    coverage, coverage_real : float
        Coverage of the real set by the generated images and by other real images.
    spread : float
        Feature diversity of the generated images over that of the real ones.
    dup_share : float
        Share of generated images that are near-copies of another generated image.
    noise_share : float
        Share of generated images that are pixel noise.
    class_names : tuple of str
        Names of the classes (for messages; default the indices).
    """

    n: int
    fid: float
    fid_real: float
    fid_noise: float
    shares: tuple[float, ...]
    confident: float
    target: int | None = None
    accuracy: float = math.nan
    coverage: float = math.nan
    coverage_real: float = math.nan
    spread: float = math.nan
    dup_share: float = 0.0
    noise_share: float = 0.0
    class_names: tuple[str, ...] = field(default=())

    @property
    def top_share(self) -> float:
        """Share of the most frequent class the CNN reads."""
        return float(max(self.shares)) if self.shares else math.nan

    @property
    def classes_seen(self) -> int:
        """Classes read in at least :data:`CLASS_PRESENT_SHARE` of the images."""
        return int(sum(s >= CLASS_PRESENT_SHARE for s in self.shares))

    @property
    def n_classes(self) -> int:
        """Classes the CNN knows."""
        return len(self.shares)

    def name(self, c: int | None) -> str:
        """Display name of class ``c``, quoted.

        Examples
        --------
        >>> ImageEvidence(2, 1.0, 1.0, 9.0, (0.5, 0.5), 1.0).name(1)
        "'1'"
        """
        if c is None:
            return "every class"
        return f"'{self.class_names[c]}'" if c < len(self.class_names) else f"'{c}'"

    def summary(self) -> str:
        """The numbers in one line (what the replay's "ours" column shows).

        Examples
        --------
        >>> ImageEvidence(500, 13.04, 12.0, 2000.0, (0.5, 0.5), 0.97, target=1,
        ...               accuracy=0.5).summary()
        "FID 13.0 (real vs real 12.0, noise 2000.0; n=500); read as '1': 50%"
        """
        text = (f"FID {self.fid:.1f} (real vs real {self.fid_real:.1f}, noise "
                f"{self.fid_noise:.1f}; n={self.n})")
        if self.target is not None:
            return text + f"; read as {self.name(self.target)}: {self.accuracy:.0%}"
        return text + (f"; {self.classes_seen} of {self.n_classes} classes seen, top class "
                       f"{self.top_share:.0%}, {self.confident:.0%} read confidently")

    def to_dict(self) -> dict[str, Any]:
        """Plain values (for the replay's JSON)."""
        out = asdict(self)
        out["shares"], out["class_names"] = list(self.shares), list(self.class_names)
        return out


@dataclass(frozen=True)
class Finding:
    """A predicate's answer and the evidence against its thresholds, in words."""

    ok: bool
    text: str


def looks_like_data(ev: ImageEvidence) -> Finding:
    """The images look like real images of the class (or of every class).

    ``fid < NOISE_FID_FRACTION × fid_noise`` and, for images of one class, the CNN reads
    that class in at least :data:`CLASS_ACCURACY` of them; for a model of every class, at
    least :data:`CLASSES_SEEN_FRACTION` of the classes are each read in at least
    :data:`CLASS_PRESENT_SHARE` of the images.

    Examples
    --------
    >>> ev = ImageEvidence(300, 60.0, 57.0, 2200.0, (0.02, 0.97, 0.01), 0.98, target=1,
    ...                    accuracy=0.97, class_names=("0", "1", "2"))
    >>> f = looks_like_data(ev)
    >>> print(f.ok, *f.text.split("; "), sep=chr(10))
    True
    FID 60.0 < 0.5 × noise FID 2200.0 = 1100.0
    the CNN reads '1' in 97% of them (≥ 60%)
    """
    limit = NOISE_FID_FRACTION * ev.fid_noise
    fid_ok = bool(ev.fid < limit)
    parts = [f"FID {ev.fid:.1f} {'<' if fid_ok else '≥'} {NOISE_FID_FRACTION:g} × noise FID "
             f"{ev.fid_noise:.1f} = {limit:.1f}"]
    if ev.target is not None:
        class_ok = bool(ev.accuracy >= CLASS_ACCURACY)
        parts.append(f"the CNN reads {ev.name(ev.target)} in {ev.accuracy:.0%} of them "
                     f"({'≥' if class_ok else 'needs ≥'} {CLASS_ACCURACY:.0%})")
    else:
        need = math.ceil(CLASSES_SEEN_FRACTION * ev.n_classes - 1e-9)
        class_ok = ev.classes_seen >= need
        parts.append(f"{ev.classes_seen} of {ev.n_classes} classes seen in ≥ "
                     f"{CLASS_PRESENT_SHARE:.0%} of the images (needs ≥ {need})")
    return Finding(fid_ok and class_ok, "; ".join(parts))


def no_structure(ev: ImageEvidence) -> Finding:
    """The images show nothing recognisable: what a generator that stopped learning draws.

    ``fid ≥ NOISE_FID_FRACTION × fid_noise``, fewer than :data:`DIGIT_LIKE_SHARE` of the
    images are read confidently as any class, and, for images of one class, the CNN reads
    that class in fewer than :data:`CLASS_ACCURACY` of them.  (Collapsed but recognisable
    images fail the second part; faint but readable strokes in noise fail the third.)

    Examples
    --------
    >>> ev = ImageEvidence(300, 2250.0, 57.0, 2200.0, (0.77, 0.23), 0.0)
    >>> f = no_structure(ev)
    >>> print(f.ok, *f.text.split("; "), sep=chr(10))
    True
    FID 2250.0 ≥ 0.5 × noise FID 2200.0 = 1100.0
    0% read confidently as any class (< 50%)
    >>> faint = ImageEvidence(500, 2486.0, 17.0, 3213.0, (0.25, 0.75), 0.07, target=1,
    ...                       accuracy=0.75)
    >>> no_structure(faint).ok, no_structure(faint).text.split("; ")[-1]
    (False, "the CNN still reads '1' in 75% of them (needs < 60%)")
    """
    limit = NOISE_FID_FRACTION * ev.fid_noise
    far = bool(ev.fid >= limit)
    vague = bool(ev.confident < DIGIT_LIKE_SHARE)
    parts = [f"FID {ev.fid:.1f} {'≥' if far else '<'} {NOISE_FID_FRACTION:g} × noise FID "
             f"{ev.fid_noise:.1f} = {limit:.1f}",
             f"{ev.confident:.0%} read confidently as any class "
             f"({'<' if vague else 'needs <'} {DIGIT_LIKE_SHARE:.0%})"]
    unread = True
    if ev.target is not None:
        unread = not ev.accuracy >= CLASS_ACCURACY
        parts.append(f"the CNN {'reads' if unread else 'still reads'} {ev.name(ev.target)} "
                     f"in {ev.accuracy:.0%} of them ({'<' if unread else 'needs <'} "
                     f"{CLASS_ACCURACY:.0%})")
    return Finding(far and vague and unread, "; ".join(parts))


def collapsed(ev: ImageEvidence) -> Finding:
    """Recognisable images, but only a few of them (mode collapse).

    At least :data:`DIGIT_LIKE_SHARE` of the images are read confidently, at most
    :data:`NOISE_SHARE` are pixel noise, and one of: a single class takes at least
    :data:`COLLAPSE_TOP_SHARE` (a model of every class), at least
    :data:`COLLAPSE_DUP_SHARE` are near-copies of another generated image, or their
    spread is below :data:`COLLAPSE_SPREAD`.

    Examples
    --------
    >>> ev = ImageEvidence(300, 2157.0, 57.0, 2192.0, (0.99, 0.01), 0.98, spread=0.35)
    >>> collapsed(ev).ok
    True
    >>> collapsed(ImageEvidence(300, 2192.0, 57.0, 2192.0, (0.98, 0.02), 0.25)).ok
    False
    """
    recognisable = ev.confident >= DIGIT_LIKE_SHARE and not ev.noise_share > NOISE_SHARE
    signs = []
    if ev.target is None and ev.top_share >= COLLAPSE_TOP_SHARE:
        top = int(np.argmax(ev.shares))
        signs.append(f"{ev.top_share:.0%} read as {ev.name(top)} (≥ {COLLAPSE_TOP_SHARE:.0%})")
    if ev.dup_share >= COLLAPSE_DUP_SHARE:
        signs.append(f"{ev.dup_share:.0%} near-copies of another generated image "
                     f"(≥ {COLLAPSE_DUP_SHARE:.0%})")
    if ev.spread < COLLAPSE_SPREAD:
        signs.append(f"spread {ev.spread:.2f}× the real images' (< {COLLAPSE_SPREAD:g})")
    head = (f"{ev.confident:.0%} read confidently (needs ≥ {DIGIT_LIKE_SHARE:.0%}), "
            f"{ev.noise_share:.0%} pixel noise (needs ≤ {NOISE_SHARE:.0%})")
    if not signs:
        return Finding(False, head + "; no sign of collapse: top class "
                       f"{ev.top_share:.0%}, near-copies {ev.dup_share:.0%}, spread "
                       f"{ev.spread:.2f}")
    return Finding(bool(recognisable), head + "; " + ", ".join(signs))


# ---------------------------------------------------------------------- measuring
@dataclass
class Judge:
    """Measures generated images against held-out real ones with a trained CNN.

    Parameters
    ----------
    extractor : FeatureExtractor
        The project's CNN trained on real images of every class (its penultimate layer
        gives the features, its last layer the class probabilities).
    images, labels : ndarray
        Real images the generators did not train on, and their classes.
    class_names : sequence of str
        Names of the classes (messages only).
    """

    extractor: Any
    images: np.ndarray
    labels: np.ndarray
    class_names: Sequence[str] = ()

    @blas_single_threaded  # as the quality gate: 37.8 vs 45.2 ms a call after torch's work
    def evidence(self, fake: np.ndarray, target: int | None = None, *, max_n: int = MAX_N,
                 seed: int = 0) -> ImageEvidence:
        """The :class:`ImageEvidence` of ``fake`` (uint8, ``(N, C, H, W)``).

        ``target``: the class the images are meant to show (compared with the real images
        of that class); None compares with the real images of every class.  ``n`` is the
        smallest of ``len(fake)``, half the real images and ``max_n``.  numpy's BLAS runs
        in one thread meanwhile (:func:`gda_core.devices.one_blas_thread`).
        """
        labels = np.asarray(self.labels)
        real = self.images if target is None else self.images[labels == target]
        fake = np.asarray(fake)
        if fake.ndim != 4 or fake.dtype != np.uint8 or fake.shape[1:] != real.shape[1:]:
            raise GDAError(f"generated images must be uint8 of shape (N, "
                           f"{', '.join(map(str, real.shape[1:]))}); got {fake.dtype} "
                           f"{fake.shape}")
        n = int(min(len(fake), len(real) // 2, max_n))
        if n < 2:
            raise GDAError(f"too few images to judge: {len(fake)} generated, {len(real)} real")
        rng = np.random.default_rng(seed)
        order = rng.permutation(len(real))
        a, b = real[order[:n]], real[order[n:2 * n]]
        f = fake[rng.permutation(len(fake))[:n]]
        noise = rng.integers(0, 256, f.shape, dtype=np.uint8)
        fa, fb, ff, fn = (self.extractor.transform(x) for x in (a, b, f, noise))
        probs = class_probabilities(self.extractor, ff)
        pred = probs.argmax(axis=1)
        shares = np.bincount(pred, minlength=probs.shape[1]) / n
        k = min(COVERAGE_K, n - 1)
        spread_real = mean_pairwise_distance(fa, random_state=seed)
        unit = np.float32(1 / 255)
        gap = float(np.nanmedian(real_spacing(a * unit)))
        floor = float(np.quantile(smoothness(a), 0.01))
        return ImageEvidence(
            n=n, fid=fid(fa, ff), fid_real=fid(fa, fb), fid_noise=fid(fa, fn),
            shares=tuple(float(s) for s in shares),
            confident=float(np.mean(probs.max(axis=1) >= CONFIDENT_PROBABILITY)),
            target=target,
            accuracy=math.nan if target is None else float(np.mean(pred == target)),
            coverage=prdc(fa, ff, k=k)["coverage"] if k >= 1 else math.nan,
            coverage_real=prdc(fa, fb, k=k)["coverage"] if k >= 1 else math.nan,
            spread=(float(mean_pairwise_distance(ff, random_state=seed) / spread_real)
                    if spread_real > 0 else math.nan),
            dup_share=(float(np.mean(real_spacing(f * unit) < COPY_FRACTION * gap))
                       if gap > 0 else 0.0),
            noise_share=(float(np.mean(smoothness(f) < floor * NOISE_SMOOTHNESS_FRACTION))
                         if floor > 0 else 0.0),
            class_names=tuple(str(c) for c in self.class_names))


def class_probabilities(extractor: Any, features: np.ndarray) -> np.ndarray:
    """Class probabilities from the extractor's features through its CNN's last layer.

    Parameters
    ----------
    extractor : FeatureExtractor
        Trained; its network's last module is the ``Linear`` output layer.
    features : ndarray, shape (N, n_features)
        As returned by ``extractor.transform``.

    Returns
    -------
    ndarray of float64, shape (N, n_classes)
    """
    last = extractor.model_.classifier[-1]
    weight = last.weight.detach().cpu().double().numpy()
    bias = last.bias.detach().cpu().double().numpy()
    logits = np.asarray(features, dtype=np.float64) @ weight.T + bias
    logits -= logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)
