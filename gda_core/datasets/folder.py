"""Images in class folders: ``path/<class>/*.png`` (optionally ``train/`` and ``test/``).

The layout of user datasets such as 3D-printing defect photos (``normal/``,
``underfill_FR/``, ``underfill_Fan/``).  Unreadable files are skipped and reported, never
fatal; hidden files and macOS ``__MACOSX`` folders are ignored.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.errors import DatasetError

FITS = ("crop", "pad", "stretch")
"""How a non-square image becomes ``image_size`` x ``image_size``: centre crop to a square
(aspect ratio kept, edges cut), pad to a square with black (aspect ratio kept, nothing
cut), or stretch (the whole image, distorted)."""

FOLDER_COLORS = ("auto", "grayscale", "rgb")
"""``color`` values of the folder loader: ``"auto"`` keeps colour when any image has it."""

DEFAULT_SIZE = 64
"""Side of user images by default: enough detail for photos, small enough for 2 CPU cores."""

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff",
                              ".webp"})
_JUNK = frozenset({"__MACOSX", "Thumbs.db", "desktop.ini"})
_SPLITS = ("train", "test")
_MAX_WRAPPER_DEPTH = 4


def load_image_folder(path: str | Path, *, image_size: int = DEFAULT_SIZE,
                      color: str = "auto", max_per_class: int | None = None,
                      fit: str = "crop") -> DatasetSplits:
    """Load images from one sub-folder per class.

    Parameters
    ----------
    path : str or Path
        Folder with one sub-folder per class (images may sit in nested folders below it).
        If it holds exactly ``train/`` and ``test/``, each with class folders, they become
        the two splits.  A single wrapping folder (as zips often have) is descended into.
    image_size : int
        Every image becomes ``image_size`` x ``image_size`` pixels (see ``fit``).
    color : {"auto", "grayscale", "rgb"}
        Channels of the result; transparency is composited on white.  ``"auto"``: RGB
        when some image has colour, else grayscale (the choice is in ``source["color"]``).
    max_per_class : int, optional
        Load at most this many images per class and split (first in sorted file order).
    fit : {"crop", "pad", "stretch"}
        How a non-square image is made square (see :data:`FITS`); the default keeps the
        aspect ratio and cuts the edges of the longer side.

    Returns
    -------
    DatasetSplits
        Classes sorted by folder name; ``test`` is None without a ``train/``/``test/``
        layout; ``report`` lists every skipped file as ``"relative/path: reason"``.

    Raises
    ------
    DatasetError
        Missing folder, no class folders, fewer than two classes, or a class with no
        readable image.

    Examples
    --------
    >>> splits = load_image_folder("defects", image_size=64)  # doctest: +SKIP
    >>> splits.class_names  # doctest: +SKIP
    ('normal', 'underfill_FR', 'underfill_Fan')
    """
    _check_options(image_size, color, max_per_class, fit)
    top = Path(path).expanduser()
    if not top.exists():
        raise DatasetError(f"image folder {top} does not exist")
    if not top.is_dir():
        raise DatasetError(f"{top} is a file, not a folder of class folders"
                           + (" (use the 'zip' source for .zip files)"
                              if top.suffix.lower() == ".zip" else ""))
    base = _unwrap(top)
    layout = _split_layout(base) or {"train": base}
    class_dirs = {s: _subdirs(d) for s, d in layout.items()}
    class_names = sorted({c.name for dirs in class_dirs.values() for c in dirs})
    if not class_names:
        raise DatasetError(f"no class folders found in {top}: put the images in one "
                           "sub-folder per class, e.g. normal/ and defect/")
    if len(class_names) < 2:
        raise DatasetError(f"only one class folder ({class_names[0]!r}) found in {top}; "
                           "a classifier needs at least two classes")
    missing = [c for c in class_names if c not in {d.name for d in class_dirs["train"]}]
    if missing:
        raise DatasetError(f"class(es) {', '.join(map(repr, missing))} have a test folder "
                           f"but no train folder in {top}")
    mode = "L" if color == "grayscale" else "RGB"
    report: list[str] = []
    datasets = {}
    with warnings.catch_warnings():  # a decompression bomb is a skipped file, not a warning
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        for split, dirs in class_dirs.items():
            images, labels = [], []
            for class_dir in dirs:
                loaded = _load_class(class_dir, top, image_size, mode, max_per_class, report,
                                     fit)
                images += loaded
                labels += [class_names.index(class_dir.name)] * len(loaded)
            for name in sorted(set(class_names) - {d.name for d in dirs}):
                rel = layout[split].relative_to(top).as_posix()
                report.append(f"{rel}/{name}: no such class folder in the {split} split")
            datasets[split] = (np.stack(images), np.asarray(labels, np.int64))
    if color == "auto":
        grey = all(_is_grey(arr) for arr, _ in datasets.values())
        color = "grayscale" if grey else "rgb"
        if grey:
            datasets = {k: (arr[:, :1], lab) for k, (arr, lab) in datasets.items()}
    source = {"name": "folder", "path": str(top), "image_size": image_size, "color": color,
              "fit": fit}
    out = {k: ImageDataset(arr, lab, tuple(class_names), source)
           for k, (arr, lab) in datasets.items()}
    return DatasetSplits(out["train"], out.get("test"), tuple(report))


def _is_grey(images: np.ndarray) -> bool:
    """Whether RGB images (N, 3, H, W) have equal channels everywhere (no colour)."""
    if images.shape[1] == 1:
        return True
    return bool(np.array_equal(images[:, 0], images[:, 1])
                and np.array_equal(images[:, 1], images[:, 2]))


def _check_options(image_size: int, color: str, max_per_class: int | None,
                   fit: str = "crop") -> None:
    if isinstance(image_size, bool) or not isinstance(image_size, (int, np.integer)) \
            or not 1 <= image_size <= 1024:
        raise DatasetError(f"image_size must be a whole number from 1 to 1024; got "
                           f"{image_size!r}")
    if color not in FOLDER_COLORS:
        raise DatasetError(f"color must be one of {', '.join(FOLDER_COLORS)}; got {color!r}")
    if fit not in FITS:
        raise DatasetError(f"fit must be one of {', '.join(FITS)}; got {fit!r}")
    if max_per_class is not None and (isinstance(max_per_class, bool) or
                                      not isinstance(max_per_class, (int, np.integer))
                                      or max_per_class < 1):
        raise DatasetError(f"max_per_class must be a whole number >= 1 or None; got "
                           f"{max_per_class!r}")


def _hidden(name: str) -> bool:
    return name.startswith(".") or name in _JUNK


def _subdirs(folder: Path) -> list[Path]:
    return sorted((p for p in folder.iterdir() if p.is_dir() and not _hidden(p.name)),
                  key=lambda p: p.name)


def _unwrap(folder: Path) -> Path:
    """Descend through lone wrapping folders (``data.zip`` -> ``data/<classes>``)."""
    for _ in range(_MAX_WRAPPER_DEPTH):
        dirs = _subdirs(folder)
        images = [p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS]
        if len(dirs) != 1 or images or not _subdirs(dirs[0]):
            break
        folder = dirs[0]
    return folder


def _split_layout(folder: Path) -> dict[str, Path] | None:
    """``{"train": ..., "test": ...}`` when ``folder`` holds just those two (any case)."""
    dirs = {p.name.lower(): p for p in _subdirs(folder)}
    if set(dirs) == set(_SPLITS) and all(_subdirs(p) for p in dirs.values()):
        return {s: dirs[s] for s in _SPLITS}
    return None


def _image_files(class_dir: Path, top: Path, report: list[str]) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(class_dir):
        dirnames[:] = sorted(d for d in dirnames if not _hidden(d))
        for fname in filenames:
            if _hidden(fname):
                continue
            file = Path(dirpath, fname)
            if file.suffix.lower() in IMAGE_EXTENSIONS:
                found.append(file)
            else:
                report.append(f"{file.relative_to(top).as_posix()}: not an image "
                              f"(extension {file.suffix or 'missing'})")
    return sorted(found, key=lambda p: p.relative_to(class_dir).as_posix())


def _load_class(class_dir: Path, top: Path, size: int, mode: str,
                max_per_class: int | None, report: list[str],
                fit: str = "crop") -> list[np.ndarray]:
    loaded: list[np.ndarray] = []
    files = _image_files(class_dir, top, report)
    for file in files:
        if max_per_class is not None and len(loaded) >= max_per_class:
            break
        try:
            loaded.append(_read_image(file, size, mode, fit))
        except Exception as exc:
            report.append(f"{file.relative_to(top).as_posix()}: {_reason(exc)}")
    if not loaded:
        rel = class_dir.relative_to(top).as_posix()
        what = f"none of its {len(files)} image file(s) could be read" if files else \
            "it holds no image files (.png, .jpg, ...)"
        raise DatasetError(f"class folder {rel!r} has no usable images: {what}")
    return loaded


def _read_image(file: Path, size: int, mode: str, fit: str = "crop") -> np.ndarray:
    with Image.open(file) as opened:
        limit = Image.MAX_IMAGE_PIXELS
        if limit is not None and opened.width * opened.height > limit:
            raise Image.DecompressionBombError(f"{opened.width}x{opened.height} pixels")
        if opened.format == "JPEG":
            opened.draft(None, (size, size))  # decode big JPEGs at a reduced scale
        im = ImageOps.exif_transpose(opened)
        im = _to_mode(im, mode)
        im = square(im, size, fit)
        arr = np.asarray(im, dtype=np.uint8)
    return arr[None] if mode == "L" else arr.transpose(2, 0, 1)


def square(im: Image.Image, size: int, fit: str = "crop") -> Image.Image:
    """``im`` as a ``size`` x ``size`` image (bilinear, antialiased when shrinking).

    ``fit`` is one of :data:`FITS`.

    Examples
    --------
    >>> wide = Image.new("L", (40, 20), 255)
    >>> [float(np.asarray(square(wide, 10, f)).mean().round()) for f in FITS]
    [255.0, 128.0, 255.0]
    """
    if fit == "crop" and im.size != (size, size):
        return ImageOps.fit(im, (size, size), Image.Resampling.BILINEAR)
    if fit == "pad" and im.size != (size, size):
        return ImageOps.pad(im, (size, size), Image.Resampling.BILINEAR, color=0)
    if im.size != (size, size):
        return im.resize((size, size), Image.Resampling.BILINEAR)
    return im


def _to_mode(im: Image.Image, mode: str) -> Image.Image:
    """Convert any Pillow mode to ``"L"`` or ``"RGB"`` (transparency over white)."""
    if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        im = _wide_to_l(im)
    if im.mode == "P":
        im = im.convert("RGBA" if "transparency" in im.info else "RGB")
    if im.mode in ("RGBA", "LA", "La", "RGBa", "PA") or "transparency" in im.info:
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        im = Image.alpha_composite(white, rgba).convert("RGB")
    if im.mode not in ("L", "RGB"):
        im = im.convert("RGB")
    return im if im.mode == mode else im.convert(mode)


def _wide_to_l(im: Image.Image) -> Image.Image:
    """16-bit, 32-bit and float images to 8-bit grey, scaled rather than clipped."""
    arr = np.asarray(im, dtype=np.float64)
    peak = float(arr.max()) if arr.size else 0.0
    if im.mode.startswith("I;16"):
        scale = 255.0 / 65535.0
    elif im.mode == "F":
        scale = 255.0 if peak <= 1.0 else 1.0
    else:  # "I": 8-bit, 16-bit or wider values stored as int32
        scale = 1.0 if peak <= 255 else 255.0 / (65535.0 if peak <= 65535 else peak)
    return Image.fromarray(np.clip(np.rint(arr * scale), 0, 255).astype(np.uint8), "L")


def _reason(exc: Exception) -> str:
    if isinstance(exc, (Image.DecompressionBombError, Image.DecompressionBombWarning)):
        return (f"too large ({exc}); over Pillow's limit of {Image.MAX_IMAGE_PIXELS} pixels "
                "(possible decompression bomb)")
    if isinstance(exc, UnidentifiedImageError):
        return "not a readable image (unknown or corrupt format)"
    if isinstance(exc, OSError) and "truncated" in str(exc).lower():
        return f"truncated or corrupt image ({exc})"
    return f"corrupt or unsupported image ({type(exc).__name__}: {exc})"
