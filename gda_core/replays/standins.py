"""Built-in stand-in datasets for replays whose original data is not shipped."""

from __future__ import annotations

import numpy as np

from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.datasets.digits import load_digits_splits

#: Digits merged into the stand-in's "normal" class; 3 and 8 play the two defects.
NORMAL_DIGITS = (0, 1, 2, 4, 5, 6, 7, 9)
DEFECT_DIGITS = (3, 8)


def am_standin() -> DatasetSplits:
    """A three-class stand-in for the AM (3D-printing) defect data, built from digits.

    Class 0 "normal" merges the digits 0, 1, 2, 4, 5, 6, 7, 9 (about 1440 varied images,
    as normal surfaces vary); classes 1 and 2 are the digits 3 and 8, two defect types that
    look alike. With the ``am-study`` preset it has the study's shape: 500 normal and 25
    images per defect for training, 100 per class for testing.
    """
    src = load_digits_splits().train
    mapping = np.full(10, -1)
    mapping[list(NORMAL_DIGITS)] = 0
    mapping[DEFECT_DIGITS[0]], mapping[DEFECT_DIGITS[1]] = 1, 2
    labels = mapping[src.labels]
    order = np.argsort(labels, kind="stable")
    train = ImageDataset(src.images[order], labels[order].astype(np.int64),
                         ("normal", "defect A (digit 3)", "defect B (digit 8)"),
                         "am-standin (digits)")
    return DatasetSplits(train, None, ("stand-in for the AM defect images, built from "
                                       "scikit-learn's digits",))
