"""Registry of dataset sources and the single entry point :func:`load_source`."""

from __future__ import annotations

import dataclasses
import numbers
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from gda_core.datasets.archive import load_image_zip
from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.datasets.cache import DecodedCache
from gda_core.datasets.digits import load_digits_splits
from gda_core.datasets.folder import DEFAULT_SIZE, FITS, load_image_folder
from gda_core.datasets.torchvision_sources import load_torchvision_splits
from gda_core.datasets.transforms import COLORS, convert_channels, resize_images
from gda_core.errors import DatasetError


@dataclass(frozen=True)
class SourceInfo:
    """What a source is and what it needs.

    ``needs`` is ``"none"`` (bundled), ``"root"`` (a folder for the dataset files) or
    ``"path"`` (an image folder or a zip).
    """

    name: str
    label: str
    needs: Literal["none", "root", "path"]
    has_test_split: bool
    description: str


SOURCES: dict[str, SourceInfo] = {
    "digits": SourceInfo("digits", "Digits (scikit-learn, 8×8)", "none", False,
                         "1,797 grey 8×8 handwritten digits bundled with scikit-learn; "
                         "nothing to download"),
    "mnist": SourceInfo("mnist", "MNIST", "root", True,
                        "70,000 grey 28×28 handwritten digits (60,000 train / 10,000 test) "
                        "from the four IDX files"),
    "fashion-mnist": SourceInfo("fashion-mnist", "Fashion-MNIST", "root", True,
                                "70,000 grey 28×28 clothing images in 10 classes (60,000 "
                                "train / 10,000 test) from the four IDX files"),
    "cifar10": SourceInfo("cifar10", "CIFAR-10", "root", True,
                          "60,000 colour 32×32 images in 10 classes (50,000 train / 10,000 "
                          "test), torchvision's cifar-10-batches-py"),
    "folder": SourceInfo("folder", "Image folder", "path", False,
                         "your images, one sub-folder per class (optional train/ and test/)"),
    "zip": SourceInfo("zip", "Zip upload", "path", False,
                      "a .zip of class folders, extracted safely and loaded like a folder"),
}


def load_source(name: str, *, root: str | Path | None = None, path: str | Path | None = None,
                image_size: int | None = None, color: str | None = None,
                download: bool = False, extract_to: str | Path | None = None,
                fit: str | None = None,
                cache_dir: str | Path | None = None) -> DatasetSplits:
    """Load any registered source by name.

    Parameters
    ----------
    name : str
        A key of :data:`SOURCES`.
    root : str or Path, optional
        Folder with the files of ``mnist``, ``fashion-mnist`` or ``cifar10``.
    path : str or Path, optional
        Image folder (``folder``; a .zip is accepted too) or zip file (``zip``).
    image_size : int, optional
        Resize to this side.  None: native size (``folder`` / ``zip``: 64).
    color : {"grayscale", "rgb", "auto"}, optional
        Convert channels.  None or ``"auto"``: native (``folder`` / ``zip``: RGB when some
        image has colour, else grayscale).
    fit : {"crop", "pad", "stretch"}, optional
        ``folder`` / ``zip`` only: how non-square images become square (default
        ``"crop"``, a centre crop that keeps the aspect ratio; see
        :data:`gda_core.datasets.folder.FITS`).
    download : bool
        Let ``mnist`` / ``fashion-mnist`` / ``cifar10`` download missing files into ``root``.
    extract_to : str or Path, optional
        ``zip`` only: where to extract (default: a temporary folder).  Given, the zip is
        always extracted there, so the load bypasses ``cache_dir``.
    cache_dir : str or Path, optional
        Folder of a :class:`~gda_core.datasets.cache.DecodedCache`: a load of the same
        source, options and unchanged files as an earlier one reads the decoded images
        from there instead of decoding them again (``digits`` is never cached).  None
        (default): no cache.  The product passes
        :func:`~gda_core.datasets.cache.default_cache_dir`.

    Returns
    -------
    DatasetSplits

    Raises
    ------
    DatasetError
        Unknown name, missing ``root`` / ``path``, bad options, or a loader error.

    Examples
    --------
    >>> load_source("digits", image_size=16).train.image_shape
    (1, 16, 16)
    """
    key = str(name).strip().lower().replace("_", "-")
    if key not in SOURCES:
        raise DatasetError(f"unknown dataset source {name!r}; valid: {', '.join(SOURCES)}")
    info = SOURCES[key]
    bad_size = isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral)
    if image_size is not None and (bad_size or not 1 <= image_size <= 1024):
        raise DatasetError(f"image size must be a whole number from 1 to 1024; got "
                           f"{image_size!r}")
    if color == "auto":
        color = None
    if color is not None and color not in COLORS:
        raise DatasetError(f"color must be one of {', '.join(COLORS)} or auto; got {color!r}")
    if fit is not None and fit not in FITS:
        raise DatasetError(f"fit must be one of {', '.join(FITS)}; got {fit!r}")
    if info.needs == "root" and not root:
        raise DatasetError(f"{info.label} needs a root folder holding its files (or where "
                           "to download them)")
    if info.needs == "path" and not path:
        raise DatasetError(f"{info.label} needs a path: "
                           + ("a .zip file" if key == "zip" else "a folder of class folders"))
    if key == "digits":
        return _postprocess(load_digits_splits(), image_size, color)
    cache = None if cache_dir is None else DecodedCache(cache_dir)
    if key in ("folder", "zip"):
        user_path = Path(str(path))
        size, col, how = image_size or DEFAULT_SIZE, color or "auto", fit or "crop"

        def load_user() -> DatasetSplits:
            return _load_user_images(key, user_path, size, col, extract_to, how)

        if cache is None or extract_to is not None:  # extract_to asks for the files on disk
            return load_user()
        return cache.get_or_load(key, load_user, path=user_path, image_size=size, color=col,
                                 fit=how)

    def load_files() -> DatasetSplits:
        splits = load_torchvision_splits(key, str(root), download=download)
        return _postprocess(splits, image_size, color)

    if cache is None:
        return load_files()
    return cache.get_or_load(key, load_files, root=str(root), image_size=image_size,
                             color=color)


def _load_user_images(key: str, path: Path, image_size: int, color: str,
                      extract_to: str | Path | None, fit: str) -> DatasetSplits:
    if key == "zip" or (path.is_file() and zipfile.is_zipfile(path)):
        return load_image_zip(path, extract_to=extract_to, image_size=image_size,
                              color=color, fit=fit)
    return load_image_folder(path, image_size=image_size, color=color, fit=fit)


def _postprocess(splits: DatasetSplits, image_size: int | None,
                 color: str | None) -> DatasetSplits:
    if image_size is None and color is None:
        return splits
    return dataclasses.replace(splits, train=_transform(splits.train, image_size, color),
                               test=None if splits.test is None
                               else _transform(splits.test, image_size, color))


def _transform(ds: ImageDataset, image_size: int | None, color: str | None) -> ImageDataset:
    images = ds.images
    if color == "grayscale":  # fewer channels to resize
        images = convert_channels(images, color)
    if image_size is not None:
        images = resize_images(images, image_size)
    if color == "rgb":  # fewer channels to resize
        images = convert_channels(images, color)
    source = {**ds.source, "image_size": image_size, "color": color}
    return ImageDataset(images, ds.labels, ds.class_names, source)
