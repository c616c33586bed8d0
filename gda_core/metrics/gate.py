"""The sample-quality gate: are a method's synthesized images noise, collapsed, or copies?

A comparison must never pass off a failed synthesizer as a result.  For every method and
class the gate measures the synthesized ("fake") images against real images of the class
*at the same sample count*, so each number has a real-vs-real reference beside it:

``fid_equal`` / ``fid_real``
    FID of ``m`` fakes against ``m`` real images (half A of the real images), and FID of
    the other ``m`` real images (half B) against the same half A; mean over
    :data:`REPEATS` random halvings.  ``m`` is half the real images (at most the fakes).
    FID is strongly biased at small ``m``; set beside ``fid_real`` it is still telling: a
    synthesizer whose images look like the class has ``fid_equal / fid_real`` near 1.
``coverage_equal`` / ``coverage_real``
    Coverage (Naeem et al. 2020, k = :data:`K`) of half A by the ``m`` fakes and by half B.
``precision_equal`` / ``precision_real``
    Precision (Kynkaanniemi et al. 2019, k = :data:`K`) of the ``m`` fakes and of half B
    against half A: the share that lies among real images.
``coverage_train`` / ``coverage_fake_train``
    Coverage of the real images the synthesizer did not learn from, by its training images
    and by as many fakes: what the synthesizer could reach, and what it did.
``struct_*``
    The same scores on :class:`~gda_core.metrics.features.RandomFeatures`, a fixed
    random CNN that needs no training.  The task features above come from a classifier
    of the dataset's classes, which with two classes learns to ignore most of an image: on
    25 CIFAR-10 horses against 300 airplanes, a collapsed DCGAN's blurry blobs covered 92%
    of the real horses on those features and 13% on the random ones (real: 92%).
``noise_share``
    Share of fakes whose neighbouring pixels are far less alike than in any real image
    (:func:`smoothness` below the real images' 1st percentile times
    :data:`NOISE_SMOOTHNESS_FRACTION`): static-like noise.  NaN (not judged) when the
    real images themselves are that rough (fine textures).
``copy_share`` (with ``copy_share_real``, ``copy_p``, ``copy_n_fake``, ``copy_n_real``)
    The memorisation test (:func:`~gda_core.metrics.memorisation.memorisation_test`):
    the share of fakes closer to a training image, aligned over flips and shifts and
    compared as standardised 16×16 images, than
    :data:`~gda_core.metrics.memorisation.COPY_RATIO` of that image's distance to its
    nearest other training image, beside the same share of real images the synthesizer
    never saw (its held-out images, and each training image against the others), with a
    one-sided Mann-Whitney test.  Invisible noise, flips and shifts of a training image
    are copies.
``dup_share``
    Among as many fakes as there are training images, the share whose nearest other fake
    (aligned) is that close, on the training images' scale: near-identical images (a
    collapsed generator).
``class_share`` / ``class_share_real``
    The class check (in the spirit of Shmelkov et al. 2018's GAN-test): the share of fakes
    that a classifier trained on real images only (the comparison's feature CNN) assigns
    to their class, beside its share on held-out real images of the class (else on the
    real reference images), ``class_n_real`` of them.
``spread``
    Mean pairwise feature distance of the fakes over that of the real images (1: as
    varied as the data; near 0: every image the same).

:func:`gate_findings` turns the scores into plain-language :class:`~gda_core.notices.Notice`
findings (codes ``"noise"``, ``"unlike-real"``, ``"wrong-class"``, ``"collapsed"``,
``"copies"``); it is a pure function of the scores, with the thresholds below.
:func:`gate_coverage` says which checks could not judge for lack of images.

Task features come from any object with ``transform(images) -> (n, d)`` (the project's
own CNN, :class:`~gda_core.metrics.features.FeatureExtractor`); without one those scores
are NaN, and the random-feature and pixel checks still run.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> smooth = np.repeat(np.repeat(rng.integers(0, 256, (40, 1, 4, 4), np.uint8), 4, 2), 4, 3)
>>> noise = rng.integers(0, 256, (40, 1, 16, 16), np.uint8)
>>> scores = gate_scores(smooth, smooth[:20], noise)
>>> round(scores["noise_share"], 2), [f.code for f in gate_findings(scores)]
(1.0, ['noise'])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gda_core.devices import blas_single_threaded
from gda_core.errors import GDAError
from gda_core.metrics.features import RandomFeatures
from gda_core.metrics.memorisation import COPY_RATIO, copy_ratios, memorisation_test
from gda_core.metrics.sample_quality import (
    covered,
    fid,
    kth_neighbour_sq,
    mean_pairwise_distance,
    prdc,
)
from gda_core.notices import Notice

REPEATS = 5
"""Random halvings of the real images averaged by the equal-count scores."""
K = 3
"""Neighbourhood size of the equal-count coverage (small: the halves are small)."""
NOISE_SMOOTHNESS_FRACTION = 0.5
"""A fake is noise-like when its :func:`smoothness` is below this fraction of the real
images' 1st percentile."""
NOISE_SHARE = 0.5
COPY_SHARE = 0.6
DUP_SHARE = 0.5
"""Shares of noise-like, copied or duplicated fakes above which the gate warns."""
COPY_EXCESS = 0.3
COPY_P = 0.01
"""``"copies"`` also needs the fakes' near-copy share to exceed that of real images the
synthesizer never saw by this much, and the one-sided Mann-Whitney test of their copy
ratios (:func:`~gda_core.metrics.memorisation.memorisation_test`) p below this."""
MIN_CLASS_CHECK = 3
"""Fewest images the class check judges (fakes; and held-out real images for its
reference, else the real reference images)."""
WRONG_CLASS_SHARE = 0.5
WRONG_CLASS_GAP = 0.3
"""``"wrong-class"``: fewer than this share of the fakes are seen as their class by a
classifier trained on real images only, and that share is at least
:data:`WRONG_CLASS_GAP` below the share of real images of the class it sees as such."""
UNLIKE_FID_RATIO = 3.0
UNLIKE_PRECISION = 0.5
UNLIKE_COVERAGE = 0.25
MIN_TRAIN_COVERAGE = 0.1
"""``"unlike-real"`` on a feature space: ``fid_equal / fid_real`` above
:data:`UNLIKE_FID_RATIO`, and either the fakes' precision below :data:`UNLIKE_PRECISION`
times the real images' (few fakes lie among real images), or their coverage below
:data:`UNLIKE_COVERAGE` times the real images' own *and* below that fraction of what the
training images cover (when those cover at least :data:`MIN_TRAIN_COVERAGE`).  The second
arm needs the training images' own coverage: 10 training images of a class cover little of
its 2,000 real images, so any synthesizer's low coverage is then expected, not a failure
(SMOTE on 10 MNIST digits: 7% coverage, 88% precision, no warning)."""
TASK_MIN_REAL = 100
"""The classifier's features speak for ``"unlike-real"`` only when the class has at least
this many real reference images: trained on a handful of them, the CNN draws them close
together and puts any unseen image, real or not, far away (25 digits: new real digits at
5.5× the real-vs-real FID on its features, 2.2× on generic ones)."""
COLLAPSE_SPREAD = 0.35
"""``spread`` below this: the fakes are far less varied than the real images."""

GATE_SCORES = ("fid_equal", "fid_real", "coverage_equal", "coverage_real",
               "precision_equal", "precision_real",
               "struct_fid_equal", "struct_fid_real", "struct_coverage_equal",
               "struct_coverage_real", "struct_precision_equal", "struct_precision_real",
               "coverage_train", "coverage_fake_train", "struct_coverage_train",
               "struct_coverage_fake_train",
               "noise_share", "copy_share", "copy_share_real", "copy_ratio",
               "copy_ratio_real", "copy_p", "copy_n_fake", "copy_n_real", "dup_share",
               "class_share", "class_share_real", "class_n_real", "class_held_out",
               "spread", "n_compared", "n_real")
"""Keys of :func:`gate_scores`."""


def smoothness(images: np.ndarray) -> np.ndarray:
    """Lag-one autocorrelation of every image: how alike neighbouring pixels are.

    ``1 - mean((x[i+1] - x[i])^2) / (2 var(x))`` over horizontal and vertical neighbours,
    per channel, averaged over channels weighted by their variance.  Photographs and
    drawings score about 0.7-1 (more for upscaled images), white noise about 0, a
    checkerboard -1; a flat image scores 1.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, C, H, W)

    Returns
    -------
    ndarray of float64, shape (N,)

    Examples
    --------
    >>> flat = np.full((1, 1, 8, 8), 7, np.uint8)
    >>> board = (np.indices((8, 8)).sum(0) % 2 * 255).astype(np.uint8)[None, None]
    >>> smoothness(flat).tolist(), smoothness(board).round(2).tolist()
    ([1.0], [-1.0])
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4:
        raise GDAError(f"images must have shape (N, C, H, W); got {x.shape}")
    n, c, h, w = x.shape
    var = x.reshape(n, c, -1).var(axis=2)                              # (N, C)
    diffs, count = np.zeros((n, c)), 0
    if w > 1:
        diffs += (np.diff(x, axis=3) ** 2).mean(axis=(2, 3))
        count += 1
    if h > 1:
        diffs += (np.diff(x, axis=2) ** 2).mean(axis=(2, 3))
        count += 1
    if count == 0:
        return np.ones(n)
    diffs /= count
    with np.errstate(invalid="ignore", divide="ignore"):
        per_channel = np.where(var > 1e-9, 1.0 - diffs / (2.0 * var), 1.0)
    weights = var.sum(axis=1)
    out = np.where(weights > 1e-9,
                   (per_channel * var).sum(axis=1) / np.where(weights > 0, weights, 1.0),
                   1.0)
    return out


@blas_single_threaded
def gate_scores(real: np.ndarray, train: np.ndarray, fake: np.ndarray, *,
                extractor: Any | None = None, structure: bool = True,
                structure_features: Any | None = None,
                random_state: int = 0, held_out: np.ndarray | None = None,
                judge: Any | None = None, label: int | None = None) -> dict[str, float]:
    """The gate's scores of one class (see the module docstring).

    Parameters
    ----------
    real : ndarray of uint8, shape (n_real, C, H, W)
        Real images of the class (as many as there are: the reference distribution).
    train : ndarray of uint8, shape (n_train, C, H, W)
        The real images the synthesizer learned from (for the copy check).
    fake : ndarray of uint8, shape (n_fake, C, H, W)
        The synthesized images of the class.
    extractor : object with ``transform``, optional
        Task features (the project's trained CNN) for ``fid_equal``, ``coverage_equal``
        and ``spread`` (NaN without one).
    structure : bool
        Also score on :class:`~gda_core.metrics.features.RandomFeatures` (the
        ``struct_*`` scores; no training, so always available).
    structure_features : object with ``transform``, optional
        The ``RandomFeatures()`` to use, e.g. wrapped in
        :class:`~gda_core.metrics.features.CachedFeatures` by a caller that scores many
        image sets against the same real images (default: a new one).
    random_state : int
        Seeds the halvings and subsamples.
    held_out : ndarray of uint8, optional
        Real images of the class the synthesizer never saw (a comparison's validation
        hold-out): the memorisation test's and the class check's unseen references.
    judge : object with ``predict``, optional
        A classifier trained on real images only (the comparison's feature CNN), for the
        class check: which class does it see in each synthesized image?
    label : int, optional
        The class of ``fake`` in the judge's labels.

    Returns
    -------
    dict
        The :data:`GATE_SCORES`; scores that need more images than given are NaN.
    """
    real, train, fake = (_images(a, n) for a, n in ((real, "real"), (train, "train"),
                                                    (fake, "fake")))
    rng = np.random.default_rng(random_state)
    out = dict.fromkeys(GATE_SCORES, math.nan)
    out["n_compared"], out["n_real"] = 0.0, float(len(real))
    if len(fake) == 0 or len(real) == 0:
        return out
    # ---- pixels: noise-like images
    floor = float(np.quantile(smoothness(real), 0.01))
    if floor > 0:  # real images as rough as noise (fine textures): noise cannot be told apart
        out["noise_share"] = float(np.mean(smoothness(fake) < floor * NOISE_SMOOTHNESS_FRACTION))
    # ---- pixels, aligned over flips and shifts: copies of training images (against real
    # images the synthesizer never saw), near-identical fakes (at the training count)
    held = _images(held_out, "held_out") if held_out is not None else real[:0]
    if len(train) >= 2:
        out.update(memorisation_test(fake, train, held))
        sub = fake[rng.permutation(len(fake))[:max(len(train), 2)]]
        if len(sub) >= 2:
            out["dup_share"] = float(np.mean(copy_ratios(sub, sub, leave_one_out=True,
                                                         scale=train) < COPY_RATIO))
    # ---- classes: what a classifier trained on real images only sees in the fakes
    if judge is not None and label is not None and len(fake) >= MIN_CLASS_CHECK:
        ref, from_held = (held, 1.0) if len(held) >= MIN_CLASS_CHECK else (real, 0.0)
        out["class_share"] = float(np.mean(np.asarray(judge.predict(fake)) == label))
        if len(ref):
            out["class_share_real"] = float(np.mean(np.asarray(judge.predict(ref)) == label))
            out["class_n_real"], out["class_held_out"] = float(len(ref)), from_held
    # ---- features: FID and coverage at equal counts (task and structure), spread
    if len(real) < 4 or len(fake) < 2:
        return out
    m = int(min(len(real) // 2, len(fake)))
    out["n_compared"] = float(m)
    structure_features = RandomFeatures() if structure_features is None else structure_features
    spaces = [("struct_", structure_features)] if structure else []
    if extractor is not None:
        spaces.append(("", extractor))
    learned = {img.tobytes() for img in train}
    unseen = np.array([img.tobytes() not in learned for img in real], dtype=bool)
    if unseen.sum() <= K + 1:  # (almost) every real image was learned from: use them all
        unseen[:] = True
    for prefix, features in spaces:
        f_real = np.asarray(features.transform(real), dtype=np.float64)
        f_fake = np.asarray(features.transform(fake), dtype=np.float64)
        scores = _equal_count(f_real, f_fake, m, np.random.default_rng(random_state))
        if len(train):
            f_train = np.asarray(features.transform(train), dtype=np.float64)
            scores.update(_train_coverage(f_real[unseen], f_train, f_fake,
                                          np.random.default_rng(random_state)))
        out.update({prefix + k: v for k, v in scores.items()})
        spread_real = mean_pairwise_distance(f_real, random_state=random_state)
        spread_fake = mean_pairwise_distance(f_fake, random_state=random_state)
        if spread_real > 0:  # the task features' (listed last) when there are both
            out["spread"] = float(spread_fake / spread_real)
    return out


def _coverage(f_ref: np.ndarray, f_set: np.ndarray, radius_sq: np.ndarray) -> float:
    """Share of ``f_ref`` points whose k-NN ball (squared radius ``radius_sq``, from
    :func:`kth_neighbour_sq`) holds a point of ``f_set`` (coverage, Naeem et al. 2020;
    any number of ``f_set`` points; decided the same on any CPU)."""
    return float(np.mean(covered(f_ref, f_set, radius_sq)))


def _train_coverage(f_ref: np.ndarray, f_train: np.ndarray, f_fake: np.ndarray,
                    rng: np.random.Generator) -> dict[str, float]:
    """Coverage of real images the synthesizer did not learn from, by its training images
    and by as many synthesized ones: what the synthesizer could reach, and what it did."""
    n = min(len(f_train), len(f_fake))
    k = min(K, len(f_ref) - 1)
    if n < 1 or k < 1:
        return {"coverage_train": math.nan, "coverage_fake_train": math.nan}
    radius = kth_neighbour_sq(f_ref, k)  # the same balls for every repeat
    cov_train, cov_fake = [], []
    for _ in range(REPEATS):
        cov_train.append(_coverage(f_ref, f_train[rng.permutation(len(f_train))[:n]], radius))
        cov_fake.append(_coverage(f_ref, f_fake[rng.permutation(len(f_fake))[:n]], radius))
    return {"coverage_train": _mean(cov_train), "coverage_fake_train": _mean(cov_fake)}


def _equal_count(f_real: np.ndarray, f_fake: np.ndarray, m: int,
                 rng: np.random.Generator) -> dict[str, float]:
    """FID and coverage of ``m`` fakes and of ``m`` other reals against ``m`` reals, mean over
    :data:`REPEATS` random halvings of the real features."""
    fids, fids_real, cov, cov_real, prec, prec_real = [], [], [], [], [], []
    k = min(K, m - 1)
    for _ in range(REPEATS):
        order = rng.permutation(len(f_real))
        a, b = f_real[order[:m]], f_real[order[m:2 * m]]
        f = f_fake[rng.permutation(len(f_fake))[:m]]
        fids.append(fid(a, f))
        fids_real.append(fid(a, b))
        if k >= 1:
            fake_scores, real_scores = prdc(a, f, k=k), prdc(a, b, k=k)
            cov.append(fake_scores["coverage"])
            cov_real.append(real_scores["coverage"])
            prec.append(fake_scores["precision"])
            prec_real.append(real_scores["precision"])
    return {"fid_equal": _mean(fids), "fid_real": _mean(fids_real),
            "coverage_equal": _mean(cov), "coverage_real": _mean(cov_real),
            "precision_equal": _mean(prec), "precision_real": _mean(prec_real)}


def gate_findings(scores: dict[str, float], *, what: str = "The synthesized images"
                  ) -> list[Notice]:
    """Plain-language verdicts on one class's :func:`gate_scores` (empty: it passes).

    Parameters
    ----------
    scores : dict
        As returned by :func:`gate_scores` (missing or NaN scores are not judged).
    what : str
        Subject of the messages, e.g. ``"DCGAN's images of class 'defect'"``.

    Returns
    -------
    list of Notice
        Codes, in this order: ``"noise"`` (mostly noise-like images), ``"unlike-real"``
        (equal-count FID far above the real-vs-real FID, and few fakes among real images
        or far less covered than the training images cover; see :data:`UNLIKE_COVERAGE`),
        ``"wrong-class"`` (a classifier trained on real images sees another class in most
        of them), ``"collapsed"`` (near-identical images or far less varied than the real
        ones), ``"copies"`` (mostly near-copies of training images, far more than real
        images the synthesizer never saw; see :data:`COPY_EXCESS`).  ``"noise"`` and
        ``"unlike-real"`` are not repeated as one another, nor ``"collapsed"`` for copies
        (copies of a few images are near-identical to each other by construction).

    Examples
    --------
    >>> gate_findings({"copy_share": 0.9, "copy_share_real": 0.0, "copy_p": 1e-6,
    ...                "copy_n_fake": 40, "copy_n_real": 20})[0].code
    'copies'
    >>> gate_findings({"fid_equal": 40.0, "fid_real": 10.0, "precision_equal": 0.1,
    ...                "precision_real": 0.9, "n_real": 500})[0].code
    'unlike-real'
    >>> gate_findings({"fid_equal": 12.0, "fid_real": 10.0, "coverage_equal": 0.5,
    ...                "noise_share": 0.0})
    []
    """
    get = {k: _num(scores.get(k)) for k in GATE_SCORES}
    found: list[Notice] = []
    if get["noise_share"] > NOISE_SHARE:
        found.append(Notice("noise", (
            f"{what} look like noise: {get['noise_share']:.0%} of them have far less "
            "structure than any real image (neighbouring pixels unrelated). They carry no "
            "information about the class; this method's scores are not a result. Look at "
            "its samples; a GAN may need more steps or pretraining on every training "
            "image.")))
    for prefix, space in (("", "the classifier's features"),
                          ("struct_", "generic image features")):
        evidence = _unlike_real(get, prefix)
        if not found and evidence:
            found.append(Notice("unlike-real", (
                f"{what} do not look like real images of the class: on {space} {evidence}. "
                "Whatever this method's scores, they do not come from realistic images. "
                "Look at its samples.")))
    copies = (get["copy_share"] > COPY_SHARE
              and get["copy_share"] - _zero(get["copy_share_real"]) > COPY_EXCESS
              and get["copy_p"] < COPY_P)
    wrong = (get["class_share"] < WRONG_CLASS_SHARE
             and get["class_share"] <= get["class_share_real"] - WRONG_CLASS_GAP)
    if wrong and not found:
        ref = ("held-out real images" if get["class_held_out"] == 1.0 else
               "the real images it learned from")
        found.append(Notice("wrong-class", (
            f"{what} are not recognised as the class: classifiers trained on real images "
            f"only see it in {get['class_share']:.0%} of them, against "
            f"{get['class_share_real']:.0%} of {int(get['class_n_real'])} {ref} of the "
            "class; they look like another class, or like no real image. A classifier "
            "trained on them learns the wrong thing for this class. Look at its samples.")))
    if not copies and (get["dup_share"] > DUP_SHARE or get["spread"] < COLLAPSE_SPREAD):
        detail = (f"{get['dup_share']:.0%} are near-identical to another synthesized image "
                  "(aligned for flips and small shifts)"
                  if get["dup_share"] > DUP_SHARE else
                  f"they vary {get['spread']:.2f}× as much as the real images")
        found.append(Notice("collapsed", (
            f"{what} are nearly all the same ({detail}): the generator collapsed to a few "
            "outputs, so the synthetic set adds copies of one image, not variety. Try "
            "MAD-GAN, a lower lr_G or fewer steps.")))
    if copies:
        found.append(Notice("copies", (
            f"{what} are near-copies of training images (memorised): "
            f"{get['copy_share']:.0%} of {int(get['copy_n_fake'])} lie closer to a training "
            f"image, after aligning flips and shifts, than {COPY_RATIO:g} of that image's "
            f"distance to its nearest other training image, against "
            f"{_zero(get['copy_share_real']):.0%} of {int(get['copy_n_real'])} real images "
            f"the method never learned from (one-sided Mann-Whitney p = "
            f"{get['copy_p']:.1g}). The method repeats what it saw rather than adding new "
            "images: any gain over the baseline comes from re-weighting those images. The "
            "gallery shows each beside its nearest training image.")))
    return found


def gate_coverage(scores: dict[str, float]) -> list[str]:
    """What the gate could not judge for lack of images, one sentence each (empty when
    every check ran): a check that cannot detect anything at its sample size says so
    instead of passing in silence.

    Examples
    --------
    >>> gate_coverage({"copy_n_fake": 40.0, "copy_n_real": 1.0})
    ['copies: not judged, too few images (1 real image to compare with, 2 needed)']
    """
    get = {k: _num(scores.get(k)) for k in GATE_SCORES}
    out = []
    if get["copy_n_fake"] >= 1 and not get["copy_n_real"] >= 2:
        n = 0 if math.isnan(get["copy_n_real"]) else int(get["copy_n_real"])
        out.append(f"copies: not judged, too few images ({n} real image"
                   f"{'s' if n != 1 else ''} to compare with, 2 needed)")
    if "class_share" in scores and math.isnan(get["class_share"]):
        out.append(f"wrong-class: not judged, too few images (fewer than {MIN_CLASS_CHECK} "
                   "synthesized)")
    if get["n_compared"] == 0 and get["copy_n_fake"] >= 1:
        out.append("unlike-real, collapsed: not judged, too few images (fewer than 4 real "
                   "or 2 synthesized)")
    return out


def _zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def _unlike_real(get: dict[str, float], prefix: str) -> str:
    """The evidence, in words, that the fakes are unlike real images on one feature space
    (``prefix`` ``""`` or ``"struct_"``), or ``""`` (see :func:`gate_findings`)."""
    def g(key: str) -> float:
        return get[prefix + key]

    ratio = g("fid_equal") / g("fid_real") if g("fid_real") > 0 else math.nan
    if not ratio > UNLIKE_FID_RATIO or (prefix == "" and not get["n_real"] >= TASK_MIN_REAL):
        return ""
    far = (f"their FID is {ratio:.1f}× that between two sets of real images of the same size "
           f"({g('fid_equal'):.1f} vs {g('fid_real'):.1f})")
    if g("precision_real") >= 0.3 and g("precision_equal") < UNLIKE_PRECISION * g(
            "precision_real"):
        return (f"{far}, and only {g('precision_equal'):.0%} of them lie among real images "
                f"(real images: {g('precision_real'):.0%})")
    if (g("coverage_real") >= 0.3 and g("coverage_equal") < UNLIKE_COVERAGE * g("coverage_real")
            and g("coverage_train") >= MIN_TRAIN_COVERAGE
            and g("coverage_fake_train") < UNLIKE_COVERAGE * g("coverage_train")):
        return (f"{far}; they cover {g('coverage_equal'):.0%} of the real images (real images "
                f"cover each other {g('coverage_real'):.0%}), and as many of them as there are "
                f"training images cover {g('coverage_fake_train'):.0%} of the images it did not "
                f"learn from, where the training images themselves cover "
                f"{g('coverage_train'):.0%}")
    return ""


def _images(arr: Any, name: str) -> np.ndarray:
    a = np.asarray(arr)
    if a.ndim != 4 or a.dtype != np.uint8:
        raise GDAError(f"{name} images must be a uint8 array of shape (N, C, H, W); got "
                       f"{a.dtype} {a.shape}")
    return a


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return math.nan
    return v


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return float(np.mean(finite)) if finite else math.nan
