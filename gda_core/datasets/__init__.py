"""Datasets: the in-memory form, loaders for every source, and imbalance presets.

Every loader returns :class:`DatasetSplits` of uint8 ``(N, C, H, W)`` images;
:func:`load_source` picks the loader by name (see :data:`SOURCES`) and, given a
``cache_dir``, keeps what it decoded in a :class:`DecodedCache`.
"""

from gda_core.datasets.archive import extract_zip, load_image_zip
from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.datasets.cache import DecodedCache, default_cache_dir
from gda_core.datasets.digits import load_digits_splits
from gda_core.datasets.folder import load_image_folder
from gda_core.datasets.imbalance import (
    PRESETS,
    ImbalancedData,
    ImbalanceSpec,
    make_imbalanced,
    suggest_spec,
)
from gda_core.datasets.sources import SOURCES, SourceInfo, load_source
from gda_core.datasets.torchvision_sources import load_torchvision_splits
from gda_core.datasets.transforms import convert_channels, resize_images

__all__ = [
    "PRESETS",
    "SOURCES",
    "DatasetSplits",
    "DecodedCache",
    "ImageDataset",
    "ImbalanceSpec",
    "ImbalancedData",
    "SourceInfo",
    "convert_channels",
    "default_cache_dir",
    "extract_zip",
    "load_digits_splits",
    "load_image_folder",
    "load_image_zip",
    "load_source",
    "load_torchvision_splits",
    "make_imbalanced",
    "resize_images",
    "suggest_spec",
]
