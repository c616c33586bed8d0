"""Oversamplers for image datasets, all honouring ``fit_resample(X, y)``."""

from gda_core.oversampling.augment import TraditionalAugmentation, random_transform
from gda_core.oversampling.base import ImageOversampler, target_counts
from gda_core.oversampling.imblearn_adapter import flatten_images, restore_images
from gda_core.oversampling.params import ParamSpec
from gda_core.oversampling.registry import OVERSAMPLERS, make_oversampler
from gda_core.oversampling.smote_family import (
    ADASYNOversampler,
    BorderlineSMOTEOversampler,
    RandomOversampler,
    SMOTEOversampler,
)

__all__ = [
    "OVERSAMPLERS",
    "ADASYNOversampler",
    "BorderlineSMOTEOversampler",
    "ImageOversampler",
    "ParamSpec",
    "RandomOversampler",
    "SMOTEOversampler",
    "TraditionalAugmentation",
    "flatten_images",
    "make_oversampler",
    "random_transform",
    "restore_images",
    "target_counts",
]
