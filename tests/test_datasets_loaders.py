"""Bundled digits, MNIST-style IDX files, CIFAR-10, transforms and the source registry."""

from __future__ import annotations

import gzip
import urllib.error

import numpy as np
import pytest
from conftest import shared_path
from conftest_data import (
    IDX_STEMS,
    make_class_tree,
    write_fake_cifar10,
    write_fake_mnist,
    write_idx,
    zip_bytes,
)
from PIL import Image

from gda_core.datasets import (
    SOURCES,
    DatasetSplits,
    convert_channels,
    load_source,
    load_torchvision_splits,
    resize_images,
)
from gda_core.datasets.torchvision_sources import CIFAR10_CLASSES, FASHION_CLASSES
from gda_core.errors import DatasetError

# ----------------------------------------------------------------------------- digits


def test_digits(digits_splits: DatasetSplits):
    train = digits_splits.train
    assert digits_splits.test is None
    assert train.images.shape == (1797, 1, 8, 8) and train.images.dtype == np.uint8
    assert train.images.min() == 0 and train.images.max() == 255
    assert train.class_names == tuple("0123456789")
    assert set(np.unique(train.labels)) == set(range(10))
    allowed = np.rint(np.arange(17) * 255 / 16).astype(np.uint8)
    assert np.isin(train.images, allowed).all()
    assert train.source == {"name": "digits"}


# --------------------------------------------------------------- real MNIST / Fashion


@pytest.mark.data
@pytest.mark.parametrize(("name", "classes"), [("mnist", tuple("0123456789")),
                                               ("fashion-mnist", FASHION_CLASSES)])
def test_real_idx_datasets(name, classes):
    root = shared_path(name)
    splits = load_torchvision_splits(name, root)
    assert (len(splits.train), len(splits.test)) == (60000, 10000)
    for ds in (splits.train, splits.test):
        assert ds.images.shape[1:] == (1, 28, 28) and ds.images.dtype == np.uint8
        assert ds.labels.min() == 0 and ds.labels.max() == 9
        assert ds.class_names == classes
        assert ds.source == {"name": name, "root": str(root)}
    assert all(count > 5000 for count in splits.train.counts().values())


@pytest.mark.data
def test_real_mnist_in_torchvision_layout(tmp_path):
    root = shared_path("mnist")
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for stem in IDX_STEMS:
        (raw / f"{stem}.gz").symlink_to(root / f"{stem}.gz")
    splits = load_torchvision_splits("mnist", tmp_path)
    assert (len(splits.train), len(splits.test)) == (60000, 10000)
    direct = load_torchvision_splits("mnist", root)
    np.testing.assert_array_equal(splits.test.images, direct.test.images)


# ------------------------------------------------------------ IDX files built here


@pytest.mark.parametrize("sub", ["", "raw", "FashionMNIST/raw"])
@pytest.mark.parametrize("gz", [True, False])
def test_idx_layouts(tmp_path, sub, gz):
    write_fake_mnist(tmp_path / sub, gz=gz)
    splits = load_source("fashion-mnist", root=tmp_path)
    assert splits.train.images.shape == (30, 1, 28, 28)
    assert splits.test.images.shape == (10, 1, 28, 28)
    assert splits.train.class_names == FASHION_CLASSES
    assert splits.train.labels.tolist() == [i % 10 for i in range(30)]
    assert splits.train.images.flags.writeable


def test_idx_missing_files(tmp_path):
    with pytest.raises(DatasetError) as err:
        load_torchvision_splits("mnist", tmp_path, download=False)
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and "t10k-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path) in msg and "download" in msg


def test_idx_truncated_gzip_names_the_file(tmp_path):
    write_fake_mnist(tmp_path)
    bad = tmp_path / "train-images-idx3-ubyte.gz"
    bad.write_bytes(bad.read_bytes()[:200])
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte\.gz"):
        load_torchvision_splits("mnist", tmp_path)


def test_idx_bad_magic_and_short_data(tmp_path):
    write_fake_mnist(tmp_path)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    labels.write_bytes(gzip.compress(b"\x00\x00\x0d\x01" + b"\x00" * 20))
    with pytest.raises(DatasetError, match=r"t10k-labels-idx1-ubyte\.gz.*magic"):
        load_torchvision_splits("mnist", tmp_path)
    write_fake_mnist(tmp_path)
    images = tmp_path / "train-images-idx3-ubyte.gz"
    images.write_bytes(gzip.compress(gzip.decompress(images.read_bytes())[:-5]))
    with pytest.raises(DatasetError, match=r"train-images-idx3-ubyte\.gz is truncated"):
        load_torchvision_splits("mnist", tmp_path)


def test_idx_count_mismatch(tmp_path):
    write_fake_mnist(tmp_path)
    write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(7))
    with pytest.raises(DatasetError, match="30 images but 7 labels"):
        load_torchvision_splits("mnist", tmp_path)


def test_download_failure_is_a_dataset_error(tmp_path, monkeypatch):
    from gda_core._compat.torchvision import import_torchvision

    class Offline:
        def __init__(self, root, train, download):
            raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(import_torchvision().datasets, "MNIST", Offline)
    with pytest.raises(DatasetError, match=r"could not be downloaded \(are you offline\?\)"):
        load_torchvision_splits("mnist", tmp_path, download=True)


# --------------------------------------------------------------------------- CIFAR-10


def test_cifar10_missing(tmp_path):
    with pytest.raises(DatasetError, match=r"cifar-10-batches-py.*download"):
        load_torchvision_splits("cifar10", tmp_path)


def test_cifar10_from_batches(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    batches = []
    for i in range(6):
        data = rng.integers(0, 256, (4, 3072), dtype=np.uint8)
        data[0, :1024] = 7 + i  # red plane of the first image
        batches.append({"data": data, "labels": [i % 10, 1, 2, 3]})
    write_fake_cifar10(tmp_path, monkeypatch, batches)
    splits = load_torchvision_splits("cifar10", tmp_path)
    assert splits.train.images.shape == (20, 3, 32, 32)
    assert splits.test.images.shape == (4, 3, 32, 32)
    assert splits.train.class_names == CIFAR10_CLASSES
    assert (splits.train.images[4, 0] == 8).all()  # channels first, red plane kept
    assert splits.test.labels.tolist() == [5, 1, 2, 3]


def test_cifar10_corrupt(tmp_path):
    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        (folder / name).write_bytes(b"garbage")
    with pytest.raises(DatasetError, match="corrupt"):
        load_torchvision_splits("cifar10", tmp_path)


# ------------------------------------------------------------------------- transforms


def test_resize_no_op_and_shapes():
    rng = np.random.default_rng(0)
    grey = rng.integers(0, 256, (3, 1, 8, 8), dtype=np.uint8)
    assert resize_images(grey, 8) is grey
    assert resize_images(grey, 16).shape == (3, 1, 16, 16)
    rgb = np.zeros((2, 3, 20, 20), np.uint8)
    rgb[:, 1] = 200
    small = resize_images(rgb, 5)
    assert small.shape == (2, 3, 5, 5) and small.dtype == np.uint8
    assert (small[:, 1] == 200).all() and (small[:, 0] == 0).all()


def test_resize_antialiases():
    stripes = np.zeros((1, 1, 32, 32), np.uint8)
    stripes[..., ::2] = 255  # one-pixel stripes average to grey when shrunk
    small = resize_images(stripes, 8)
    assert 100 < small.mean() < 155 and small.std() < 20


def test_convert_channels_matches_pillow():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (2, 3, 6, 6), dtype=np.uint8)
    grey = convert_channels(rgb, "grayscale")
    assert grey.shape == (2, 1, 6, 6)
    pil = np.asarray(Image.fromarray(rgb[0].transpose(1, 2, 0)).convert("L"))
    assert np.abs(grey[0, 0].astype(int) - pil).max() <= 1
    back = convert_channels(grey, "rgb")
    assert back.shape == (2, 3, 6, 6) and (back == grey).all()
    assert convert_channels(grey, "grayscale") is grey


@pytest.mark.parametrize(("call", "match"), [
    (lambda: resize_images(np.zeros((1, 1, 4, 4), np.uint8), 0), "image size"),
    (lambda: resize_images(np.zeros((1, 1, 4, 4), np.float32), 2), "uint8"),
    (lambda: convert_channels(np.zeros((1, 1, 4, 4), np.uint8), "cmyk"), "color"),
    (lambda: convert_channels(np.zeros((4, 4), np.uint8), "rgb"), "shape"),
])
def test_transform_errors(call, match):
    with pytest.raises(DatasetError, match=match):
        call()


# --------------------------------------------------------------------------- registry


def test_registry():
    assert list(SOURCES) == ["digits", "mnist", "fashion-mnist", "cifar10", "folder", "zip"]
    for name, info in SOURCES.items():
        assert info.name == name and info.label and info.description
        assert info.needs in ("none", "root", "path")
    assert SOURCES["mnist"].has_test_split and not SOURCES["digits"].has_test_split


def test_load_source_digits_postprocessing():
    splits = load_source("digits", image_size=16, color="rgb")
    assert splits.train.images.shape == (1797, 3, 16, 16)
    assert splits.train.source["image_size"] == 16
    assert load_source("digits").train.images.shape == (1797, 1, 8, 8)


def test_load_source_idx_postprocessing(tmp_path):
    write_fake_mnist(tmp_path)
    splits = load_source("mnist", root=str(tmp_path), image_size=32, color="rgb")
    assert splits.train.images.shape == (30, 3, 32, 32)
    assert splits.test.images.shape == (10, 3, 32, 32)


def test_load_source_folder_and_zip(tmp_path):
    make_class_tree(tmp_path / "imgs", {"a": 3, "b": 2}, size=20)
    splits = load_source("folder", path=tmp_path / "imgs")
    # grey images at the photo-friendly defaults: 64x64, colour only when present
    assert splits.train.images.shape == (5, 1, 64, 64)
    payload = {f"set/{c}/{i}.png": (tmp_path / "imgs" / c / f"{i:03d}.png").read_bytes()
               for c, n in (("a", 3), ("b", 2)) for i in range(n)}
    archive = tmp_path / "set.zip"
    archive.write_bytes(zip_bytes(payload))
    for name in ("zip", "folder"):  # a .zip given as a folder is accepted too
        splits = load_source(name, path=archive, image_size=8, color="rgb")
        assert splits.train.images.shape == (5, 3, 8, 8)
        assert splits.class_names == ("a", "b")


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"name": "imagenet"}, "valid: digits, mnist, fashion-mnist, cifar10, folder, zip"),
    ({"name": "mnist"}, "root folder"),
    ({"name": "folder"}, "needs a path"),
    ({"name": "zip"}, "needs a path"),
    ({"name": "digits", "image_size": 0}, "image size"),
    ({"name": "digits", "color": "sepia"}, "color must be one of"),
    ({"name": "mnist", "root": "/nonexistent-gda"}, "mnist"),
])
def test_load_source_errors(kwargs, match):
    with pytest.raises(DatasetError, match=match):
        load_source(**kwargs)
