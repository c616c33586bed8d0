"""How a comparison tests its classifiers: a held-out test set, or cross-validation.

With 25 photos of a defect a held-out test set leaves almost nothing to test on (5 images
per class at a fifth) and takes them from what the synthesizer and the classifier could
learn from.  Repeated stratified k-fold cross-validation tests every real image once per
repeat and trains on the rest, so the same few images serve both, and the differences
between methods are tested with a test made for it (the corrected resampled t-test, see
:mod:`gda_core.metrics.stats`).

:func:`resolve_protocol` decides (``CompareConfig.protocol``): ``"auto"`` runs
cross-validation when the data have no test split of their own and one of the kept
classes has fewer than :data:`AUTO_CV_BELOW` images in all, and the held-out protocol
otherwise (a source with its own test split, or a large pool from which a simulated
imbalance is drawn, such as the built-in digits).

:func:`cv_pool` is every real image the imbalance keeps, drawn once (seeded by the first
seed, so every repeat partitions the same images); :func:`fold_indices` is the seeded
stratified partition of one repeat.  A fold's test images never reach the synthesizer, the
classifier, its early stopping or the quality gate's reference: each unit is built from
the fold's training part only (:func:`gda_core.experiments.compare.split_for_unit`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedKFold

from gda_core.datasets import DatasetSplits, ImbalancedData, make_imbalanced
from gda_core.errors import ConfigError

AUTO_CV_BELOW = 100
"""``"auto"`` cross-validates when a kept class has fewer images than this in all (and the
data have no test split of their own)."""

DEFAULT_REPEATS = 2
"""Repeats (seeds) of a cross-validation when none are given: 5 folds x 2 repeats."""


@dataclass(frozen=True)
class Protocol:
    """The protocol a comparison ran, with why, as stored with its result.

    Attributes
    ----------
    kind : {"cv", "holdout"}
    folds : int
        Folds per repeat (cross-validation; 0 for hold-out).
    repeats : int
        Repeats (one per seed) for cross-validation, seeds for hold-out.
    reason : str
        Why this protocol ran, in words.
    test_per_class : list of int
        Test images per class in one unit (a fold, or the held-out test set).
    train_per_class : list of int
        Real images per class the unit learns from (before its validation hold-out).
    """

    kind: str
    folds: int
    repeats: int
    reason: str
    test_per_class: list[int] = field(default_factory=list)
    train_per_class: list[int] = field(default_factory=list)

    @property
    def test_train_ratio(self) -> float:
        """``n_test / n_train`` of a unit, for the corrected resampled t-test."""
        return 1.0 / (self.folds - 1) if self.kind == "cv" else 0.0

    def describe(self, class_names: list[str] | tuple[str, ...]) -> str:
        """One line for people: what ran, on how many test images per class, and why.

        Examples
        --------
        >>> print(Protocol("cv", 5, 2, "a class has 25 images", [5, 50], [20, 200]).describe(
        ...     ["defect", "ok"]))  # doctest: +NORMALIZE_WHITESPACE
        5-fold cross-validation × 2 repeats: every image tested once per repeat,
        5 + 50 test images (defect 5, ok 50) per fold — a class has 25 images
        """
        pairs = list(zip(class_names, self.test_per_class, strict=False))
        if len(pairs) <= 4:
            counts = (" + ".join(str(n) for n in self.test_per_class) + " test images "
                      "(" + ", ".join(f"{c} {n}" for c, n in pairs) + ")")
        elif min(self.test_per_class) == max(self.test_per_class):
            counts = f"{self.test_per_class[0]} test images per class"
        else:  # many classes: the range, and the smallest
            low = sorted(pairs, key=lambda p: p[1])[:2]
            counts = (f"{min(self.test_per_class)} to {max(self.test_per_class)} test images "
                      "per class (fewest: " + ", ".join(f"{n} of class {c}" for c, n in low)
                      + ")")
        if self.kind == "cv":
            times = "repeat" if self.repeats == 1 else "repeats"
            return (f"{self.folds}-fold cross-validation × {self.repeats} {times}: every "
                    f"image tested once per repeat, {counts} per fold — {self.reason}")
        seeds = "seed" if self.repeats == 1 else "seeds"
        return f"held-out test set of {counts}, {self.repeats} {seeds} — {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> Protocol | None:
        if not d:
            return None
        return cls(kind=str(d["kind"]), folds=int(d.get("folds", 0)),
                   repeats=int(d.get("repeats", 1)), reason=str(d.get("reason", "")),
                   test_per_class=[int(n) for n in d.get("test_per_class", [])],
                   train_per_class=[int(n) for n in d.get("train_per_class", [])])


def source_class_sizes(splits: DatasetSplits, classes: tuple[int, ...]) -> dict[int, int]:
    """Images per kept source class in the training pool (the test split not counted)."""
    counts = np.bincount(splits.train.labels, minlength=len(splits.train.class_names))
    return {int(c): int(counts[c]) for c in classes}


def resolve_protocol(kind: str, folds: int, seeds: tuple[int, ...] | list[int],
                     splits: DatasetSplits, kept: ImbalancedData) -> tuple[str, str]:
    """``(kind, reason)``: the protocol that runs for a requested ``kind``.

    ``kept`` is the data the imbalance keeps (any seed): its classes and their source
    indices decide ``"auto"``.
    """
    names = kept.class_names
    sizes = source_class_sizes(splits, kept.source_classes)
    smallest = min(sizes, key=sizes.get)
    small = f"class {names[kept.source_classes.index(smallest)]!r} has {sizes[smallest]} images"
    if kind == "cv":
        return "cv", "cross-validation was asked for"
    if kind == "holdout":
        return "holdout", "a held-out test set was asked for"
    if splits.test is not None:
        return "holdout", "the data have a test split of their own"
    if sizes[smallest] < AUTO_CV_BELOW:
        return "cv", (f"{small} (below {AUTO_CV_BELOW}) and the data have no test split: "
                      "a held-out set would test on a handful of images")
    return "holdout", (f"every class has {AUTO_CV_BELOW} or more images, enough for a "
                       "held-out test set")


def cv_pool(splits: DatasetSplits, spec: Any, seed: int) -> ImbalancedData:
    """Every real image the imbalance keeps (``test`` empty): what the folds partition.

    Parameters
    ----------
    splits : DatasetSplits
        The loaded data (a test split of its own is not used).
    spec : ImbalanceSpec
    seed : int
        Draws the imbalanced subsample (the first seed of the comparison, so that every
        repeat partitions the same images).
    """
    return make_imbalanced(DatasetSplits(splits.train, None, splits.report), spec,
                           random_state=seed, hold_out_test=False)


def check_folds(pool: ImbalancedData, folds: int) -> None:
    """A :class:`ConfigError` naming the class when one has fewer images than folds."""
    counts = np.bincount(pool.train.labels, minlength=len(pool.class_names))
    for c, n in enumerate(counts.tolist()):
        if n < folds:
            raise ConfigError(
                f"class {pool.class_names[c]!r} has {n} images: {folds}-fold "
                f"cross-validation needs at least {folds} per class; lower the folds or "
                "use a held-out test set")


def fold_indices(labels: np.ndarray, folds: int, seed: int, fold: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    """``(train, test)`` row indices of fold ``fold`` of repeat ``seed`` (stratified,
    shuffled by ``seed``; the folds of one seed partition the rows).

    Examples
    --------
    >>> y = np.array([0] * 10 + [1] * 5)
    >>> tests = [fold_indices(y, 5, 0, f)[1] for f in range(5)]
    >>> sorted(np.concatenate(tests).tolist()) == list(range(15))
    True
    >>> [np.bincount(y[t]).tolist() for t in tests]
    [[2, 1], [2, 1], [2, 1], [2, 1], [2, 1]]
    """
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=int(seed))
    for i, (train, test) in enumerate(splitter.split(np.zeros(len(labels)), labels)):
        if i == fold:
            return np.sort(train).astype(np.int64), np.sort(test).astype(np.int64)
    raise ConfigError(f"fold {fold} does not exist: there are {folds} folds")


def default_seeds(config: Any, splits: DatasetSplits) -> tuple[int, ...]:
    """The seeds a comparison runs when none are given: :data:`DEFAULT_REPEATS` repeats
    when ``config``'s protocol resolves to cross-validation on ``splits``, one seed
    otherwise."""
    if config.protocol == "holdout":
        return (0,)
    if config.protocol == "cv":
        return tuple(range(DEFAULT_REPEATS))
    pool = cv_pool(splits, config.imbalance, 0)
    kind, _ = resolve_protocol(config.protocol, config.folds, (0,), splits, pool)
    return tuple(range(DEFAULT_REPEATS)) if kind == "cv" else (0,)
