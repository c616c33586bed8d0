"""Data for the GAN replays: MNIST / Fashion-MNIST when available, else built-in digits;
and the judge that measures the generated images (:mod:`gda_core.replays.evidence`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gda_core.datasets import DatasetSplits, load_source
from gda_core.datasets import default_cache_dir as decoded_cache_dir
from gda_core.datasets.split import cap_per_class
from gda_core.datasets.transforms import resize_images
from gda_core.errors import GDAError
from gda_core.replays.base import ReplayOptions
from gda_core.replays.evidence import Judge

JUDGE_PER_CLASS = 2000
"""Held-out real images per class the judge keeps at most (a seeded subsample)."""


@dataclass
class GanData:
    """Training images of a GAN replay, the source they came from, and notes.

    ``splits`` is the whole source (its test split, when it has one, holds the images the
    judge compares with); ``images`` / ``labels`` are what the GANs train on.
    """

    images: np.ndarray
    labels: np.ndarray
    description: str
    notes: list[str]
    splits: DatasetSplits

    @property
    def held_out(self) -> bool:
        """True when the judge compares with a test split the GANs never saw."""
        return self.splits.test is not None


def gan_data(options: ReplayOptions, source: str = "mnist", *,
             classes: Sequence[int] | None = None, limit: int | None = 6000) -> GanData:
    """The training images of a GAN replay and the source they come from.

    With ``options.root`` (or ``options.download``) the torchvision source is used; without
    it, or when loading fails, scikit-learn's digits (8x8) stand in, and a note says so.
    ``classes`` keeps only those labels; ``limit`` caps the number of images (a subsample
    seeded with ``options.seed``; None keeps all).

    Examples
    --------
    >>> d = gan_data(ReplayOptions(scale="smoke"), classes=[0, 1], limit=100)
    >>> d.images.shape, sorted(set(d.labels.tolist())), d.held_out
    ((100, 1, 8, 8), [0, 1], False)
    """
    notes: list[str] = []
    splits = None
    if options.root or options.download:
        try:
            splits = load_source(source, root=options.root, download=options.download,
                                 cache_dir=decoded_cache_dir())
            desc = f"{source} from {options.root}"
        except GDAError as exc:
            notes.append(f"{source} could not be loaded ({exc}); used the built-in digits")
    if splits is None:
        splits = load_source("digits")
        desc = "built-in digits (8x8) standing in for " + source
        if not notes:
            notes.append(f"no {source} folder given: the built-in digits (8x8) stand in, so "
                         "the phenomena may be weaker or absent; pass the MNIST folder "
                         "(root) to replay on the study's data")
    X, y = splits.train.images, np.asarray(splits.train.labels, dtype=np.int64)
    if classes is not None:
        keep = np.isin(y, list(classes))
        X, y = X[keep], y[keep]
    if limit is not None and len(y) > limit:
        idx = np.sort(np.random.default_rng(options.seed).choice(len(y), limit, replace=False))
        X, y = X[idx], y[idx]
    return GanData(X, y, desc, notes, splits)


def gan_images(options: ReplayOptions, source: str = "mnist", *, classes=None,
               limit: int = 6000) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """``(images, labels, description, notes)`` of :func:`gan_data`."""
    d = gan_data(options, source, classes=classes, limit=limit)
    return d.images, d.labels, d.description, d.notes


def make_judge(data: GanData, *, size: int | None = None, seed: int = 0) -> Judge:
    """A :class:`~gda_core.replays.evidence.Judge` for a GAN replay's data.

    The CNN is the project's feature extractor trained on the source's training images (at
    most 2,000 per class; cached, see :func:`gda_core.experiments.quality.quality_reference`).
    The judge compares with the test split when there is one (images no GAN trained on),
    else with the training images.  ``size`` resizes everything (images of that side).

    Examples
    --------
    >>> judge = make_judge(gan_data(ReplayOptions(scale="smoke")))   # doctest: +SKIP
    """
    from gda_core.experiments.quality import default_cache_dir, quality_reference
    from gda_core.metrics.features import FeatureExtractor

    splits = data.splits
    ref = splits.test if splits.test is not None else splits.train
    images, labels = ref.images, np.asarray(ref.labels, dtype=np.int64)
    keep = cap_per_class(labels, JUDGE_PER_CLASS, seed)
    images, labels = images[keep], labels[keep]
    if size is None:
        extractor = quality_reference(splits).extractor
    else:
        train = splits.train
        tkeep = cap_per_class(np.asarray(train.labels, dtype=np.int64), JUDGE_PER_CLASS,
                              seed)
        extractor = FeatureExtractor.cached(
            resize_images(train.images[tkeep], size), np.asarray(train.labels)[tkeep],
            default_cache_dir(), random_state=seed, n_classes=len(splits.class_names),
            epochs=5)
        images = resize_images(images, size)
    return Judge(extractor, images, labels, tuple(splits.class_names))

