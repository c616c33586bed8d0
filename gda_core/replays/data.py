"""Data for the GAN replays: MNIST / Fashion-MNIST when available, else built-in digits."""

from __future__ import annotations

import numpy as np

from gda_core.datasets import load_source
from gda_core.errors import GDAError
from gda_core.replays.base import ReplayOptions


def gan_images(options: ReplayOptions, source: str = "mnist", *, classes=None,
               limit: int = 6000) -> tuple[np.ndarray, np.ndarray, str, list[str]]:
    """``(images, labels, description, notes)`` for a GAN replay.

    With ``options.root`` (or ``options.download``) the torchvision source is used; without
    it, or when loading fails, scikit-learn's digits (8x8) stand in, and a note says so.
    ``classes`` keeps only those labels; ``limit`` caps the number of images (seeded).
    """
    notes: list[str] = []
    splits = None
    if options.root or options.download:
        try:
            splits = load_source(source, root=options.root, download=options.download)
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
    X, y = splits.train.images, splits.train.labels
    if classes is not None:
        keep = np.isin(y, classes)
        X, y = X[keep], y[keep]
    if len(y) > limit:
        idx = np.sort(np.random.default_rng(options.seed).choice(len(y), limit, replace=False))
        X, y = X[idx], y[idx]
    return X, y, desc, notes
