"""Sample quality of the images an oversampler synthesized, inside a comparison.

The reference is the *full* training data of the dataset (before the imbalanced
subsample): its images of a class are the real distribution that the few minority images
were drawn from, and a :class:`~gda_core.metrics.features.FeatureExtractor` trained on
all of it supplies the features.  The extractor is trained once per dataset and cached.
"""

from __future__ import annotations

import math
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from gda_core.datasets import DatasetSplits, ImbalancedData
from gda_core.datasets.split import cap_per_class
from gda_core.metrics.features import CachedFeatures, FeatureExtractor, RandomFeatures
from gda_core.metrics.gate import MIN_CLASS_CHECK, gate_scores
from gda_core.metrics.sample_quality import sample_quality_per_class

MAX_PER_CLASS = 2000
"""Real and synthesized images per class used at most (a seeded subsample beyond)."""

JUDGE_MAX_PER_CLASS = 100
"""Reference images per class the class check's two cross-fitted CNNs learn from at most
(a seeded subsample beyond: their recall only sets the bar, and a judge trained on fewer
images errs towards passing)."""

EXTRACTOR_SEED = 0
"""Seed of the feature extractor: the same for every comparison, so it is cached once."""


def default_cache_dir() -> Path:
    """``<system temp>/gda-workbench-features``: where extractors are cached by default."""
    return Path(tempfile.gettempdir()) / "gda-workbench-features"


@dataclass
class QualityReference:
    """A trained feature extractor and the real images each class is compared with.

    ``labels`` are class indices of the *source* dataset (before re-indexing by
    :func:`~gda_core.datasets.make_imbalanced`).
    """

    extractor: Any
    images: np.ndarray
    labels: np.ndarray
    structure: Any = field(default_factory=lambda: CachedFeatures(RandomFeatures()))
    """The gate's random features (remembering the real images' features)."""
    memo: dict[Any, float] = field(default_factory=dict)
    """Per-class values of the real images alone, kept between scorings."""
    labels_are_source: bool = True
    """Whether ``labels`` are source class indices (False: the comparison's own, as for a
    reference made from one cross-validation fold's training images)."""
    cache_dir: Path | None = None
    device: str = "auto"
    judges: tuple[list[Any], dict[int, tuple[float, int]]] | None = None
    """Two cross-fitted CNNs and, per class (reference labels), how often they recognise
    real images of the class they never saw, ``(share, n)``; see :meth:`class_judges`."""

    def class_judges(self) -> tuple[list[Any], dict[int, tuple[float, int]]]:
        """Two CNNs like the extractor, each trained on half of the reference images
        (stratified), and their recall of every class on the other half: what the class
        check sets the share of synthesized images the extractor (trained on all of them)
        assigns to their class against.  The extractor's recall on its own training
        images would be optimistic; the halves' recall on unseen ones is, if anything,
        pessimistic (half the images), so the check errs towards passing.  Computed once,
        the two CNNs cached beside the extractor."""
        if self.judges is None:
            keep = cap_per_class(self.labels, 2 * JUDGE_MAX_PER_CLASS, EXTRACTOR_SEED)
            self.judges = cross_fitted_judges(self.images[keep], self.labels[keep],
                                              cache_dir=self.cache_dir, device=self.device)
        return self.judges

    def score(self, data: ImbalancedData, new_images: np.ndarray, new_labels: np.ndarray,
              *, train_images: np.ndarray | None = None, train_labels: np.ndarray | None = None,
              held_images: np.ndarray | None = None, held_labels: np.ndarray | None = None,
              random_state: int = 0) -> dict[int, dict[str, float]]:
        """Per-class scores of synthesized images (labels in ``data``'s class indices).

        Parameters
        ----------
        data : ImbalancedData
            The comparison's data (for its class indices).
        new_images, new_labels : ndarray
            The synthesized images and their classes.
        train_images, train_labels : ndarray, optional
            The real images the method learned from (for the gate's copy check; default:
            ``data.train``).
        held_images, held_labels : ndarray, optional
            Real images the method never learned from (the comparison's validation
            hold-out): the unseen references of the memorisation test and the class
            check.
        random_state : int

        Returns
        -------
        dict
            Class index of ``data`` -> the scores of
            :func:`~gda_core.metrics.sample_quality.sample_quality` and the quality
            gate's :func:`~gda_core.metrics.gate.gate_scores`.
        """
        source = (np.asarray(data.source_classes, dtype=np.int64) if self.labels_are_source
                  else np.arange(len(data.class_names), dtype=np.int64))
        y_new = np.asarray(new_labels, dtype=np.int64)
        if train_images is None or train_labels is None:
            train_images, train_labels = data.train.images, data.train.labels
        keep = cap_per_class(y_new, MAX_PER_CLASS, random_state)
        X_new, y_new = new_images[keep], y_new[keep]
        per_class = sample_quality_per_class(
            self.images, self.labels, X_new, source[y_new], self.extractor,
            random_state=random_state, memo=self.memo)
        back = {int(s): i for i, s in enumerate(source.tolist())}
        out = {}
        for s, scores in per_class.items():
            c = back[s]
            held = (None if held_images is None else
                    held_images[np.asarray(held_labels) == c])
            gate = gate_scores(self.images[self.labels == s],
                               train_images[np.asarray(train_labels) == c], X_new[y_new == c],
                               extractor=self.extractor, structure_features=self.structure,
                               random_state=random_state, held_out=held,
                               judge=self.extractor, label=int(s))
            _, recall = self.class_judges()
            share, n = recall.get(int(s), (math.nan, 0))
            if n >= MIN_CLASS_CHECK and not math.isnan(gate.get("class_share", math.nan)):
                gate.update(class_share_real=share, class_n_real=float(n),
                            class_held_out=1.0)
            out[c] = {**scores, **gate}
        return out


def quality_reference(splits: DatasetSplits, *, cache_dir: str | Path | None = None,
                      device: str = "auto", labels_are_source: bool = True
                      ) -> QualityReference:
    """Train (or load from ``cache_dir``) the extractor on ``splits.train``.

    At most :data:`MAX_PER_CLASS` images per class (a seeded subsample) train the
    extractor and serve as the real reference.

    Parameters
    ----------
    splits : DatasetSplits
        The loaded dataset (its training split, capped per class).
    cache_dir : str or Path, optional
        Folder of cached extractors (default :func:`default_cache_dir`).
    device : str
        Device of the extractor.
    labels_are_source : bool
        Whether ``splits``' labels are the source's class indices (False for a fold's
        training images, labelled as the comparison's classes).

    Returns
    -------
    QualityReference
    """
    train = splits.train
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    labels = np.asarray(train.labels, dtype=np.int64)
    keep = cap_per_class(labels, MAX_PER_CLASS, EXTRACTOR_SEED)
    images, labels = train.images[keep], labels[keep]
    extractor = FeatureExtractor.cached(
        images, labels, folder, random_state=EXTRACTOR_SEED,
        n_classes=len(train.class_names), device=device)
    # the real images' features are the same for every method and seed: computed once
    return QualityReference(CachedFeatures(extractor), images, labels,
                            labels_are_source=labels_are_source, cache_dir=folder,
                            device=device)


def cross_fitted_judges(images: np.ndarray, labels: np.ndarray, *,
                        cache_dir: str | Path | None = None, device: str = "auto",
                        seed: int = EXTRACTOR_SEED
                        ) -> tuple[list[Any], dict[int, tuple[float, int]]]:
    """Two CNNs, each trained on one half of the images (stratified), and per class the
    share of its real images that the CNN which did not learn from them assigns to it
    (with how many were labelled).  No class of two: ``([], {})``.

    Examples
    --------
    >>> from gda_core.datasets.digits import load_digits_splits
    >>> t = load_digits_splits().train
    >>> judges, recall = cross_fitted_judges(t.images[:400], t.labels[:400])  # doctest: +SKIP
    >>> len(judges), recall[0]                                                # doctest: +SKIP
    (2, (0.97, 39))
    """
    labels = np.asarray(labels, dtype=np.int64)
    folder = default_cache_dir() if cache_dir is None else Path(cache_dir)
    halves = np.zeros(len(labels), dtype=np.int64)
    rng = np.random.default_rng([seed, 2])
    for c in np.unique(labels):
        rows = rng.permutation(np.flatnonzero(labels == c))
        halves[rows[len(rows) // 2:]] = 1
    hits = np.zeros(len(labels), dtype=bool)
    n_classes = int(labels.max()) + 1 if len(labels) else 0
    judges = []
    for h in (0, 1):
        train, test = halves != h, halves == h
        if len(np.unique(labels[train])) < 2 or not test.any():
            return [], {}
        judge = FeatureExtractor.cached(images[train], labels[train], folder,
                                        random_state=seed, n_classes=n_classes,
                                        device=device)
        hits[test] = judge.predict(images[test]) == labels[test]
        judges.append(judge)
    return judges, {int(c): (float(hits[labels == c].mean()), int(np.sum(labels == c)))
                    for c in np.unique(labels)}

