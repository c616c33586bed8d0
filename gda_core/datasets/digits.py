"""scikit-learn's bundled 8x8 handwritten digits (no download)."""

from __future__ import annotations

import numpy as np

from gda_core.datasets.base import DatasetSplits, ImageDataset


def load_digits_splits() -> DatasetSplits:
    """Load the 1,797 grey 8x8 digits bundled with scikit-learn.

    Returns
    -------
    DatasetSplits
        ``train`` holds every image as uint8 ``(N, 1, 8, 8)`` (the 0..16 values scaled to
        0..255 and rounded), classes ``"0"`` .. ``"9"``; ``test`` is None.

    Examples
    --------
    >>> load_digits_splits().train.image_shape
    (1, 8, 8)
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    images = np.rint(bunch.images * (255.0 / 16.0)).clip(0, 255).astype(np.uint8)[:, None]
    train = ImageDataset(images, bunch.target.astype(np.int64),
                         tuple(str(i) for i in range(10)), {"name": "digits"})
    return DatasetSplits(train=train, test=None)
