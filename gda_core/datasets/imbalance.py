"""Build an imbalanced training set and a balanced held-out test set.

Two ways to describe the imbalance (:class:`ImbalanceSpec`):

* **per-class counts** – ``counts={0: 500, 1: 25, 2: 25}``; a count of ``None`` keeps every
  available image of that class (after the test set is held out, capped by
  ``max_per_class``); classes not listed are dropped;
* **ratio** – ``ratio=0.1, minority_classes=(3, 8)``: every majority class keeps
  ``majority_count`` images (default: the largest count all of them can give) and every
  minority class ``round(ratio * majority_count)`` (at least 1).

Labels of the result are re-indexed ``0..k-1`` over the kept classes, in source order, and
``class_names`` follow.  Sampling is seeded and without replacement.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.errors import ConfigError, DatasetError


@dataclass(frozen=True)
class ImbalanceSpec:
    """How to subsample a source into an imbalanced training set.

    Parameters
    ----------
    counts : mapping of int to (int or None), optional
        Training images per source class index; ``None`` means all available.
    ratio : float, optional
        Minority / majority size ratio, in (0, 1].  Used when ``counts`` is None.
    minority_classes : tuple of int
        Source class indices that are minorities (ratio mode: required; counts mode:
        default = every class with fewer images than the largest).
    classes : tuple of int, optional
        Ratio mode: source classes to keep (default: all).
    majority_count : int, optional
        Ratio mode: images per majority class.
    test_per_class : int
        Size of the balanced test set per class.
    max_per_class : int, optional
        Cap applied to counts given as ``None`` (all available) in counts mode.
    hflip : bool
        Add a horizontally flipped copy of every training image (as in the AM study).
    name, description : str
        Shown in the UI and stored with results.

    Examples
    --------
    >>> spec = ImbalanceSpec(ratio=0.1, minority_classes=(3, 8), test_per_class=30)
    >>> spec.mode
    'ratio'
    """

    counts: Mapping[int, int | None] | None = None
    ratio: float | None = None
    minority_classes: tuple[int, ...] = ()
    classes: tuple[int, ...] | None = None
    majority_count: int | None = None
    test_per_class: int = 100
    max_per_class: int | None = None
    hflip: bool = False
    name: str = "custom"
    description: str = ""

    @property
    def mode(self) -> str:
        """``"counts"`` or ``"ratio"``."""
        return "counts" if self.counts is not None else "ratio"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form (``counts`` keys become strings)."""
        d = {
            "counts": None
            if self.counts is None
            else {str(k): v for k, v in self.counts.items()},
            "ratio": self.ratio,
            "minority_classes": list(self.minority_classes),
            "classes": None if self.classes is None else list(self.classes),
            "majority_count": self.majority_count,
            "test_per_class": self.test_per_class,
            "max_per_class": self.max_per_class,
            "hflip": self.hflip,
            "name": self.name,
            "description": self.description,
        }
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ImbalanceSpec:
        """Inverse of :meth:`to_dict`."""
        counts = d.get("counts")
        return cls(
            counts=None if counts is None else {int(k): v for k, v in counts.items()},
            ratio=d.get("ratio"),
            minority_classes=tuple(int(c) for c in d.get("minority_classes", ())),
            classes=None if d.get("classes") is None else tuple(int(c) for c in d["classes"]),
            majority_count=d.get("majority_count"),
            test_per_class=int(d.get("test_per_class", 100)),
            max_per_class=d.get("max_per_class"),
            hflip=bool(d.get("hflip", False)),
            name=str(d.get("name", "custom")),
            description=str(d.get("description", "")),
        )


PRESETS: dict[str, ImbalanceSpec] = {
    "am-study": ImbalanceSpec(
        counts={0: 500, 1: 25, 2: 25},
        test_per_class=100,
        name="am-study",
        description=(
            "3D-printing defect study: class 0 (normal) with 500 images against two defect "
            "classes (1, 2) of 25 each; 100 test images per class."
        ),
    ),
    "mnist-case1": ImbalanceSpec(
        counts={1: None, 2: 6},
        test_per_class=100,
        name="mnist-case1",
        description="Binary: every image of class 1 (majority) against 6 images of class 2.",
    ),
    "mnist-case2": ImbalanceSpec(
        counts={1: None, 2: 6, 3: 6, 4: 6, 5: 6},
        test_per_class=100,
        name="mnist-case2",
        description="Class 1 (majority, all images) against classes 2..5 with 6 images each.",
    ),
    "mnist-case3": ImbalanceSpec(
        counts={0: 67, **{c: None for c in range(1, 10)}},
        test_per_class=100,
        name="mnist-case3",
        description="All ten classes; class 0 reduced to 67 images (about 1% of the others).",
    ),
    "lt-100": ImbalanceSpec(
        counts=dict(enumerate((4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40))),
        test_per_class=100,
        name="lt-100",
        description=(
            "Long tail with imbalance factor 100: 4000, 2000, 1000, 750, 500, 350, 200, "
            "100, 60, 40 images for classes 0..9; 100 test images per class."
        ),
    ),
}


@dataclass(frozen=True)
class ImbalancedData:
    """The result of :func:`make_imbalanced`.

    ``minority_classes`` and ``majority_classes`` are indices in the re-indexed label
    space of ``train`` / ``test``; ``source_classes[i]`` is the source index of class ``i``.
    """

    train: ImageDataset
    test: ImageDataset
    minority_classes: tuple[int, ...]
    majority_classes: tuple[int, ...]
    source_classes: tuple[int, ...]
    spec: ImbalanceSpec
    notes: tuple[str, ...] = field(default=())

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.train.class_names

    def summary(self) -> list[dict[str, Any]]:
        """One row per class: name, role, train and test counts."""
        tr, te = self.train.counts(), self.test.counts()
        return [
            {
                "class": name,
                "role": "minority" if i in self.minority_classes else "majority",
                "train": tr[i],
                "test": te[i],
            }
            for i, name in enumerate(self.class_names)
        ]


def get_preset(name: str) -> ImbalanceSpec:
    """The preset called ``name``; a :class:`ConfigError` lists the valid names."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ConfigError(
            f"unknown imbalance preset {name!r}; choose one of {', '.join(PRESETS)}"
        ) from None


def make_imbalanced(
    splits: DatasetSplits, spec: ImbalanceSpec, *, random_state: int | None = 0,
    hold_out_test: bool = True,
) -> ImbalancedData:
    """Subsample ``splits`` into an imbalanced training set and a balanced test set.

    The test set takes ``spec.test_per_class`` images of every kept class from the
    source's test split, or, when the source has none, holds them out of the training
    pool first.  A class without enough images raises a :class:`DatasetError` naming it.

    With ``hold_out_test=False`` nothing is held out: ``train`` is every real image the
    imbalance keeps (a cross-validation pool) and ``test`` is empty.

    Examples
    --------
    >>> from gda_core.datasets.digits import load_digits_splits
    >>> data = make_imbalanced(load_digits_splits(),
    ...     ImbalanceSpec(ratio=0.1, minority_classes=(3, 8), test_per_class=30))
    >>> data.train.counts()[3] < data.train.counts()[0]
    True
    """
    pool = splits.train
    names = pool.class_names
    classes = _kept_classes(spec, len(names))
    rng = np.random.default_rng(random_state)
    by_class = {c: rng.permutation(np.flatnonzero(pool.labels == c)) for c in classes}

    notes: list[str] = []
    if not hold_out_test:
        test_idx, test_src = [np.zeros(0, dtype=np.int64)], pool
    elif splits.test is not None:
        test_idx = _take_test(splits.test, classes, spec.test_per_class, rng, notes)
        test_src = splits.test
    else:
        test_idx = []
        for c in classes:
            need = spec.test_per_class
            if len(by_class[c]) <= need:
                raise DatasetError(
                    f"class {names[c]!r} has {len(by_class[c])} images, not enough to hold "
                    f"out {need} for testing and keep some for training; lower the test "
                    "images per class"
                )
            test_idx.append(by_class[c][:need])
            by_class[c] = by_class[c][need:]
        test_src = pool

    available = {c: len(by_class[c]) for c in classes}
    counts, minority = _train_counts(spec, classes, available, names)
    for c in classes:
        if counts[c] > available[c]:
            held = " after holding out the test images" if splits.test is None else ""
            raise DatasetError(
                f"class {names[c]!r} has {available[c]} training images{held}, but "
                f"{counts[c]} were asked for; lower its count or choose another preset"
            )
    train_idx = np.concatenate([by_class[c][: counts[c]] for c in classes])
    train = _reindex(pool.subset(np.sort(train_idx)), classes)
    test = _reindex(test_src.subset(np.sort(np.concatenate(test_idx))), classes)
    if spec.hflip:
        train = ImageDataset(
            np.concatenate([train.images, train.images[..., ::-1]]),
            np.concatenate([train.labels, train.labels]),
            train.class_names,
            train.source,
        )
        notes.append("training images doubled with horizontal flips")
    pos = {c: i for i, c in enumerate(classes)}
    minority_new = tuple(pos[c] for c in classes if c in minority)
    majority_new = tuple(pos[c] for c in classes if c not in minority)
    return ImbalancedData(
        train, test, minority_new, majority_new, tuple(classes), spec, tuple(notes)
    )


def _kept_classes(spec: ImbalanceSpec, n_classes: int) -> list[int]:
    if spec.counts is not None:
        classes = sorted(int(c) for c in spec.counts)
        if not classes:
            raise ConfigError("give a training count for at least two classes")
    else:
        classes = sorted(spec.classes) if spec.classes is not None else list(range(n_classes))
    bad = [c for c in classes if not 0 <= c < n_classes]
    if bad:
        raise ConfigError(
            f"class index {bad[0]} does not exist: this dataset has {n_classes} classes "
            f"(0..{n_classes - 1})"
        )
    if len(classes) < 2:
        raise ConfigError("an imbalanced classification task needs at least two classes")
    if spec.test_per_class < 1:
        raise ConfigError("test images per class must be at least 1")
    return classes


def _take_test(
    test: ImageDataset, classes: list[int], per_class: int, rng: np.random.Generator,
    notes: list[str],
) -> list[np.ndarray]:
    avail = {c: int(np.sum(test.labels == c)) for c in classes}
    short = [c for c in classes if avail[c] == 0]
    if short:
        raise DatasetError(
            f"the test split has no images of class {test.class_names[short[0]]!r}"
        )
    n = min(per_class, *avail.values())
    if n < per_class:
        notes.append(f"test split limited to {n} images per class (smallest class)")
    return [rng.permutation(np.flatnonzero(test.labels == c))[:n] for c in classes]


def _train_counts(
    spec: ImbalanceSpec, classes: list[int], available: dict[int, int], names: tuple[str, ...]
) -> tuple[dict[int, int], set[int]]:
    if spec.counts is not None:
        counts: dict[int, int] = {}
        for c in classes:
            want = spec.counts[c]
            if want is None:
                want = available[c]
                if spec.max_per_class is not None:
                    want = min(want, int(spec.max_per_class))
            if int(want) < 1:
                raise ConfigError(f"class {names[c]!r}: a training count must be at least 1")
            counts[c] = int(want)
        if spec.minority_classes:
            minority = set(spec.minority_classes)
        else:
            top = max(counts.values())
            minority = {c for c in classes if counts[c] < top}
        return counts, minority

    ratio = spec.ratio
    if ratio is None or not np.isfinite(ratio) or not 0 < ratio <= 1:
        raise ConfigError(
            f"the minority/majority ratio must be in (0, 1]; got {ratio}. "
            "Use 0.1 for ten majority images per minority image."
        )
    minority = set(spec.minority_classes)
    if not minority:
        raise ConfigError("choose at least one minority class")
    unknown = minority - set(classes)
    if unknown:
        raise ConfigError(f"minority class {min(unknown)} is not among the kept classes")
    majority = [c for c in classes if c not in minority]
    if not majority:
        raise ConfigError("at least one class must stay a majority class")
    if spec.majority_count is not None and spec.majority_count < 1:
        raise ConfigError(f"the majority count must be at least 1; got {spec.majority_count}")
    n_major = spec.majority_count or min(available[c] for c in majority)
    if n_major < 1:
        raise ConfigError("the majority count must be at least 1")
    n_minor = max(1, round(ratio * n_major))
    counts = {c: (n_minor if c in minority else int(n_major)) for c in classes}
    return counts, minority


def _reindex(ds: ImageDataset, classes: list[int]) -> ImageDataset:
    lut = np.full(ds.n_classes, -1, dtype=np.int64)
    lut[classes] = np.arange(len(classes))
    names = tuple(ds.class_names[c] for c in classes)
    return ImageDataset(ds.images, lut[ds.labels], names, ds.source)


def suggest_spec(splits: DatasetSplits) -> ImbalanceSpec:
    """A sensible starting imbalance for freshly loaded data.

    Data that is already imbalanced (smallest class under half the largest, e.g. a
    defect folder) keeps every image, the smaller classes being the minority; balanced
    data gets a ratio of 0.1 for its smallest class (the last of equal ones).  The test
    set takes up to 100 images per class from a test split, or about a fifth of the
    smallest class (at most 30) when it has to be held out.

    Examples
    --------
    >>> from gda_core.datasets.digits import load_digits_splits
    >>> suggest_spec(load_digits_splits()).test_per_class
    30
    """
    counts = splits.train.counts()
    smallest, largest = min(counts.values()), max(counts.values())
    if splits.test is not None:
        test_counts = [n for n in splits.test.counts().values() if n > 0]
        test = max(1, min(100, min(test_counts))) if test_counts else 1
    else:
        test = max(1, min(30, smallest // 5))
    if largest and smallest < 0.5 * largest:
        return ImbalanceSpec(counts=dict.fromkeys(counts), test_per_class=test,
                             name="counts", description="every image of every class")
    # the smallest class (the last of equal ones); digits-like data: the AM study's 3 and 8
    minority = (3, 8) if len(counts) == 10 else (min(counts, key=lambda c: (counts[c], -c)),)
    return ImbalanceSpec(ratio=0.1, minority_classes=minority, test_per_class=test,
                         name="ratio")


def with_overrides(spec: ImbalanceSpec, **changes: Any) -> ImbalanceSpec:
    """A copy of ``spec`` with some fields changed (e.g. ``test_per_class``)."""
    return replace(spec, **changes)
