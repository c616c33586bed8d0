"""The one in-memory form every dataset takes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from gda_core.errors import DatasetError


@dataclass(frozen=True)
class ImageDataset:
    """Images with integer labels.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, C, H, W)
        Pixel values 0..255, channels first (C is 1 for grayscale, 3 for RGB).
    labels : ndarray of int64, shape (N,)
        Class indices into ``class_names``.
    class_names : tuple of str
        Human-readable name of each class index.
    source : dict
        Where the data came from (loader name, path, options); JSON-serialisable.

    Examples
    --------
    >>> ds = ImageDataset(np.zeros((2, 1, 8, 8), np.uint8), np.array([0, 1]), ("a", "b"))
    >>> ds.counts()
    {0: 1, 1: 1}
    """

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple[str, ...]
    source: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        images = np.asarray(self.images)
        labels = np.asarray(self.labels)
        if images.ndim != 4:
            raise DatasetError(f"images must have shape (N, C, H, W); got {images.shape}")
        if images.dtype != np.uint8:
            raise DatasetError(f"images must be uint8; got {images.dtype}")
        if images.shape[1] not in (1, 3):
            raise DatasetError(f"images must have 1 or 3 channels; got {images.shape[1]}")
        if labels.shape != (images.shape[0],):
            raise DatasetError(
                f"{images.shape[0]} images but {labels.shape[0] if labels.ndim else 0} labels"
            )
        labels = labels.astype(np.int64, copy=False)
        if labels.size and (labels.min() < 0 or labels.max() >= len(self.class_names)):
            raise DatasetError("labels must index into class_names")
        object.__setattr__(self, "images", images)
        object.__setattr__(self, "labels", labels)
        object.__setattr__(self, "class_names", tuple(str(c) for c in self.class_names))

    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of every image."""
        return tuple(self.images.shape[1:])  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def counts(self) -> dict[int, int]:
        """Number of images per class index (every class, zeros included)."""
        binc = np.bincount(self.labels, minlength=self.n_classes)
        return {i: int(c) for i, c in enumerate(binc)}

    def subset(self, indices: Sequence[int] | np.ndarray) -> ImageDataset:
        """The images at ``indices`` (same classes and source)."""
        idx = np.asarray(indices, dtype=np.int64)
        return ImageDataset(self.images[idx], self.labels[idx], self.class_names, self.source)


@dataclass(frozen=True)
class DatasetSplits:
    """A source's training pool and, when it has one, its official test split.

    ``test`` is ``None`` for sources without a test split (the imbalance step then holds
    out a balanced test set from ``train``).  ``report`` lists what the loader skipped.
    """

    train: ImageDataset
    test: ImageDataset | None = None
    report: tuple[str, ...] = ()

    @property
    def class_names(self) -> tuple[str, ...]:
        return self.train.class_names
