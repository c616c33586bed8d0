"""Helpers for the dataset-loader tests: tiny IDX files, images and zips built on the fly."""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

IDX_STEMS = ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
             "t10k-labels-idx1-ubyte")


def write_idx(path: Path, array: np.ndarray, *, gz: bool = True) -> Path:
    """Write ``array`` (uint8) as an IDX file, gzipped with a ``.gz`` suffix when ``gz``."""
    arr = np.ascontiguousarray(array, dtype=np.uint8)
    header = bytes([0, 0, 0x08, arr.ndim]) + np.asarray(arr.shape, ">u4").tobytes()
    data = header + arr.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        path = path.with_name(path.name + ".gz")
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def write_fake_mnist(folder: Path, *, n_train: int = 30, n_test: int = 10,
                     gz: bool = True) -> None:
    """The four MNIST files with random 28x28 images and labels 0..9 in ``folder``."""
    rng = np.random.default_rng(0)
    for stem, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{stem}-images-idx3-ubyte",
                  rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), gz=gz)
        write_idx(folder / f"{stem}-labels-idx1-ubyte", np.arange(n) % 10, gz=gz)


def image_bytes(array: np.ndarray, fmt: str = "PNG", mode: str | None = None,
                **save_kwargs: object) -> bytes:
    """Encode a numpy image (H x W or H x W x C) with Pillow."""
    img = Image.fromarray(np.asarray(array), mode) if mode else Image.fromarray(array)
    buf = io.BytesIO()
    img.save(buf, format=fmt, **save_kwargs)
    return buf.getvalue()


def random_png(size: int = 12, seed: int = 0, channels: int = 1) -> bytes:
    rng = np.random.default_rng(seed)
    shape = (size, size) if channels == 1 else (size, size, channels)
    return image_bytes(rng.integers(0, 256, shape, dtype=np.uint8))


def make_class_tree(root: Path, counts: dict[str, int], *, size: int = 12) -> Path:
    """``root/<class>/<i>.png`` with ``counts[class]`` random grey PNGs each."""
    for c, (name, n) in enumerate(counts.items()):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (folder / f"{i:03d}.png").write_bytes(random_png(size, seed=100 * c + i))
    return root


def zip_bytes(entries: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, payload in entries.items():
            zf.writestr(name, payload)
    return buf.getvalue()


def write_fake_cifar10(root: Path, monkeypatch, batches: list[dict]) -> Path:
    """``root/cifar-10-batches-py`` with ``batches`` (5 training, then the test batch; each
    ``{"data": uint8 (n, 3072), "labels": [...]}``) and the meta file; torchvision's md5
    checks are patched out (these are not the real files).  Returns the batch folder."""
    import pickle

    from gda_core._compat.torchvision import import_torchvision
    from gda_core.datasets.torchvision_sources import CIFAR10_CLASSES

    tv = import_torchvision()
    monkeypatch.setattr(tv.datasets.CIFAR10, "_check_integrity", lambda self: True)
    monkeypatch.setattr(tv.datasets.cifar, "check_integrity", lambda *a, **k: True)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for name, batch in zip(names, batches, strict=True):
        (folder / name).write_bytes(pickle.dumps(batch))
    (folder / "batches.meta").write_bytes(pickle.dumps({"label_names": list(CIFAR10_CLASSES)}))
    return folder
