"""MNIST, Fashion-MNIST and CIFAR-10 with their official train and test splits.

MNIST-style IDX files are parsed here (gzip + numpy), so a folder holding the four files
is enough and torchvision is only needed to download them.  CIFAR-10 is read through
``torchvision.datasets.CIFAR10``.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from gda_core.datasets.base import DatasetSplits, ImageDataset
from gda_core.errors import DatasetError

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot")
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
# name -> (class names, torchvision class / folder name, label for messages)
_IDX_SOURCES = {
    "mnist": (MNIST_CLASSES, "MNIST", "MNIST"),
    "fashion-mnist": (FASHION_CLASSES, "FashionMNIST", "Fashion-MNIST"),
}
_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_CIFAR_DIR = "cifar-10-batches-py"
_CIFAR_FILES = ("data_batch_1", "data_batch_2", "data_batch_3", "data_batch_4",
                "data_batch_5", "test_batch")
NAMES = (*_IDX_SOURCES, "cifar10")


def load_torchvision_splits(name: str, root: str | Path, *,
                            download: bool = False) -> DatasetSplits:
    """Load MNIST, Fashion-MNIST or CIFAR-10 with their official train and test splits.

    Parameters
    ----------
    name : {"mnist", "fashion-mnist", "cifar10"}
        Which dataset.
    root : str or Path
        Folder with the files.  MNIST / Fashion-MNIST: the four IDX files
        (``train-images-idx3-ubyte.gz`` ...; gzipped or not) in ``root``, ``root/raw`` or
        torchvision's ``root/MNIST/raw`` / ``root/FashionMNIST/raw``.  CIFAR-10:
        ``root/cifar-10-batches-py`` (torchvision's layout).
    download : bool
        Download the files into ``root`` with torchvision when they are missing.

    Returns
    -------
    DatasetSplits
        uint8 images ``(N, 1, 28, 28)`` (MNIST, Fashion-MNIST; 60,000 train / 10,000 test)
        or ``(N, 3, 32, 32)`` (CIFAR-10; 50,000 / 10,000).

    Raises
    ------
    DatasetError
        Unknown name, files missing (and ``download`` off or offline), or corrupt files.

    Examples
    --------
    >>> splits = load_torchvision_splits("mnist", "data/mnist")  # doctest: +SKIP
    >>> len(splits.train), len(splits.test)  # doctest: +SKIP
    (60000, 10000)
    """
    if name not in NAMES:
        raise DatasetError(f"unknown torchvision dataset {name!r}; valid: {', '.join(NAMES)}")
    root = Path(root).expanduser()
    if name == "cifar10":
        return _load_cifar10(root, download)
    return _load_idx_dataset(name, root, download)


# ------------------------------------------------------------------ MNIST-style (IDX)
def _candidate_dirs(root: Path, folder: str) -> list[Path]:
    return [root, root / "raw", root / folder / "raw"]


def _find_file(directory: Path, stem: str) -> Path | None:
    for candidate in (directory / stem, directory / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _find_idx_files(root: Path, folder: str) -> dict[str, Path] | None:
    """The four IDX files (stem -> path) from the first folder that holds all of them."""
    stems = [s for pair in _IDX_FILES.values() for s in pair]
    for directory in _candidate_dirs(root, folder):
        found = {s: _find_file(directory, s) for s in stems}
        if all(found.values()):
            return found  # type: ignore[return-value]
    return None


def _load_idx_dataset(name: str, root: Path, download: bool) -> DatasetSplits:
    classes, folder, label = _IDX_SOURCES[name]
    files = _find_idx_files(root, folder)
    if files is None and download:
        _download(name, label, root, folder)
        files = _find_idx_files(root, folder)
    if files is None:
        looked = ", ".join(str(d) for d in _candidate_dirs(root, folder))
        needed = ", ".join(f"{s}.gz" for pair in _IDX_FILES.values() for s in pair)
        hint = (" by hand (the download did not produce them)" if download else
                ", or enable download (CLI: --download; dashboard: the download checkbox) "
                "to fetch them with torchvision")
        raise DatasetError(f"{label} ({name}) files not found. Looked in {looked}; needed "
                           f"{needed} (gzipped or not). Put the four files in {root}{hint}.")
    splits = {}
    for split, (images_stem, labels_stem) in _IDX_FILES.items():
        directory = files[images_stem].parent
        images = _read_idx(files[images_stem], ndim=3)
        labels = _read_idx(files[labels_stem], ndim=1)
        if len(images) != len(labels):
            raise DatasetError(f"{label} {split} split in {directory}: {len(images)} images "
                               f"but {len(labels)} labels; the files do not belong together")
        if labels.size and labels.max() >= len(classes):
            raise DatasetError(f"{label} labels in {directory} go up to {labels.max()}; "
                               f"expected 0..{len(classes) - 1}")
        source = {"name": name, "root": str(root)}
        splits[split] = ImageDataset(images[:, None], labels.astype(np.int64), classes, source)
    return DatasetSplits(train=splits["train"], test=splits["test"])


def _read_idx(path: Path, *, ndim: int) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzipped when its name ends in .gz)."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                data = fh.read()
        else:
            data = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetError(f"{path} is corrupt or truncated and cannot be read ({exc}); "
                           "replace it with a fresh copy") from exc
    header = 4 + 4 * ndim
    if len(data) < header or data[:2] != b"\x00\x00" or data[2] != 0x08 or data[3] != ndim:
        raise DatasetError(f"{path} is not an IDX file of {ndim}-D unsigned bytes (wrong "
                           "magic number); check that it is the right file")
    dims = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected:
        raise DatasetError(f"{path} is truncated or corrupt: {len(data)} bytes, the header "
                           f"promises {expected}; replace it with a fresh copy")
    # Copy so that the arrays are writable like every other loader's.
    return np.frombuffer(data, np.uint8, offset=header).reshape(dims).copy()


# ------------------------------------------------------------------ downloading / CIFAR
def _download(name: str, label: str, root: Path, folder: str) -> None:
    from gda_core._compat.torchvision import import_torchvision

    dataset_cls = getattr(import_torchvision().datasets, folder)
    try:
        for train in (True, False):
            dataset_cls(str(root), train=train, download=True)
    except Exception as exc:
        raise DatasetError(f"{label} could not be downloaded (are you offline?): "
                           f"{_one_line(exc)}. "
                           f"Download the four files by hand and put them in {root}") from exc


def _load_cifar10(root: Path, download: bool) -> DatasetSplits:
    batches = root / _CIFAR_DIR
    missing = [f for f in _CIFAR_FILES if not (batches / f).is_file()]
    if missing and not download:
        what = (f"folder {batches}" if len(missing) == len(_CIFAR_FILES)
                else f"{', '.join(missing)} in {batches}")
        raise DatasetError(
            f"CIFAR-10 files not found: no {what} (needs data_batch_1..5 and test_batch). "
            f"Put the extracted 'CIFAR-10 python version' in {root}, or enable download "
            "(CLI: --download; dashboard: the download checkbox) to fetch it with torchvision")
    from gda_core._compat.torchvision import import_torchvision

    cifar = import_torchvision().datasets.CIFAR10
    splits = {}
    for split in ("train", "test"):
        try:
            ds = cifar(str(root), train=split == "train", download=download)
        except Exception as exc:
            if download:
                raise DatasetError(f"CIFAR-10 could not be downloaded (are you offline?): "
                                   f"{_one_line(exc)}. Download 'CIFAR-10 python version' "
                                   f"by hand and put the extracted {_CIFAR_DIR} in {root}") from exc
            raise DatasetError(f"CIFAR-10 files in {batches} are corrupt or incomplete "
                               f"({_one_line(exc)}); replace them with a fresh copy") from exc
        images = np.ascontiguousarray(np.asarray(ds.data, dtype=np.uint8).transpose(0, 3, 1, 2))
        labels = np.asarray(ds.targets, dtype=np.int64)
        source = {"name": "cifar10", "root": str(root)}
        splits[split] = ImageDataset(images, labels, CIFAR10_CLASSES, source)
    return DatasetSplits(train=splits["train"], test=splits["test"])


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__
