"""Loading class folders of user images (e.g. 3D-printing defect photos)."""

from __future__ import annotations

import tarfile

import numpy as np
import pytest
from conftest import shared_path
from conftest_data import image_bytes, make_class_tree, random_png
from PIL import Image

from gda_core.datasets import load_image_folder
from gda_core.errors import DatasetError


def _write(path, payload: bytes):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


@pytest.fixture
def defects(tmp_path):
    """Three classes of mixed-mode, mixed-size images plus junk that must be skipped."""
    root = tmp_path / "defects"
    rng = np.random.default_rng(0)
    _write(root / "normal" / "a_grey.png", random_png(10))
    _write(root / "normal" / "b_rgb.jpg",
           image_bytes(rng.integers(0, 256, (40, 30, 3), dtype=np.uint8), "JPEG"))
    rgba = np.zeros((16, 16, 4), np.uint8)  # fully transparent: becomes white
    _write(root / "normal" / "c_rgba.png", image_bytes(rgba))
    palette = Image.fromarray(rng.integers(0, 256, (9, 9, 3), dtype=np.uint8)).quantize(8)
    palette.save(root / "normal" / "d_palette.gif")
    _write(root / "normal" / "e_16bit.png", image_bytes(np.full((8, 8), 65535, np.uint16)))
    _write(root / "normal" / "nested" / "f.bmp",
           image_bytes(rng.integers(0, 256, (7, 7), dtype=np.uint8), "BMP"))
    _write(root / "underfill_FR" / "1.png", random_png(12, seed=1, channels=3))
    _write(root / "underfill_FR" / "2.webp",
           image_bytes(rng.integers(0, 256, (12, 12, 3), dtype=np.uint8), "WEBP"))
    _write(root / "underfill_FR" / "broken.png", b"\x89PNG\r\n\x1a\nnot really")
    jpeg = image_bytes(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8), "JPEG")
    _write(root / "underfill_FR" / "truncated.jpg", jpeg[: len(jpeg) // 2])
    _write(root / "underfill_Fan" / "x.tiff", image_bytes(np.zeros((6, 6), np.uint8), "TIFF"))
    _write(root / "underfill_Fan" / "notes.txt", b"printer settings")
    _write(root / "underfill_Fan" / ".DS_Store", b"\x00junk")
    _write(root / "__MACOSX" / "normal" / "._a_grey.png", b"junk")
    return root


def test_mixed_images(defects):
    splits = load_image_folder(defects, image_size=16)
    train = splits.train
    assert splits.test is None
    assert train.class_names == ("normal", "underfill_FR", "underfill_Fan")
    # some images have colour: "auto" keeps RGB
    assert train.images.shape == (9, 3, 16, 16) and train.images.dtype == np.uint8
    assert train.source["color"] == "rgb" and train.source["fit"] == "crop"
    assert train.counts() == {0: 6, 1: 2, 2: 1}
    # sorted order: a_grey, b_rgb, c_rgba, d_palette, e_16bit, nested/f
    assert (train.images[2] == 255).all()  # transparent -> white
    assert (train.images[4] == 255).all()  # 16-bit white scaled, not clipped
    assert (train.images[8] == 0).all()
    report = "\n".join(splits.report)
    assert len(splits.report) == 3, report
    assert "underfill_FR/broken.png: " in report
    assert "underfill_FR/truncated.jpg: " in report
    assert "underfill_Fan/notes.txt: not an image" in report
    assert "DS_Store" not in report and "MACOSX" not in report
    assert train.source["name"] == "folder"


def test_rgb_and_max_per_class(defects):
    splits = load_image_folder(defects, image_size=8, color="rgb", max_per_class=2)
    assert splits.train.images.shape == (5, 3, 8, 8)
    assert splits.train.counts() == {0: 2, 1: 2, 2: 1}
    grey = load_image_folder(defects, image_size=8, max_per_class=2, color="grayscale").train
    np.testing.assert_array_equal(grey.images[0, 0], splits.train.images[0, 0])


def test_exif_orientation_is_applied(tmp_path):
    arr = np.zeros((10, 20), np.uint8)
    arr[:, 10:] = 255  # stored: left black, right white
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    for cls in ("a", "b"):
        _write(tmp_path / cls / "img.jpg", image_bytes(arr, "JPEG", exif=exif.tobytes()))
    img = load_image_folder(tmp_path, image_size=16).train.images[0, 0].astype(int)
    assert img[:6].mean() < 60 and img[-6:].mean() > 200  # now top black, bottom white


@pytest.mark.filterwarnings("error")
def test_decompression_bombs_are_skipped(tmp_path, monkeypatch):
    make_class_tree(tmp_path, {"a": 2, "b": 2}, size=12)
    _write(tmp_path / "a" / "big.png", random_png(40))  # over the limit: Pillow warns
    _write(tmp_path / "b" / "huge.png", random_png(60))  # over twice the limit: Pillow raises
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    splits = load_image_folder(tmp_path, image_size=8)
    assert splits.train.counts() == {0: 2, 1: 2}
    assert [line.split(":")[0] for line in splits.report] == ["a/big.png", "b/huge.png"]
    assert all("decompression bomb" in line for line in splits.report)


def test_train_test_layout(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 4, "dog": 3, "emu": 2})
    make_class_tree(tmp_path / "test", {"cat": 2, "dog": 1})
    splits = load_image_folder(tmp_path, image_size=12)
    assert splits.class_names == ("cat", "dog", "emu")
    assert splits.train.counts() == {0: 4, 1: 3, 2: 2}
    assert splits.test.counts() == {0: 2, 1: 1, 2: 0}
    assert splits.test.class_names == splits.train.class_names
    assert any("test/emu" in line for line in splits.report)


def test_class_only_in_test_is_an_error(tmp_path):
    make_class_tree(tmp_path / "train", {"cat": 2, "dog": 2})
    make_class_tree(tmp_path / "test", {"cat": 1, "owl": 1})
    with pytest.raises(DatasetError, match="'owl'"):
        load_image_folder(tmp_path)


def test_single_wrapping_folder(tmp_path):
    make_class_tree(tmp_path / "export" / "parts", {"normal": 3, "underfill_Fan": 2})
    (tmp_path / ".hidden").write_text("x")
    (tmp_path / "__MACOSX").mkdir()
    splits = load_image_folder(tmp_path, image_size=8)
    assert splits.class_names == ("normal", "underfill_Fan")
    assert len(splits.train) == 5


@pytest.mark.parametrize("setup", ["empty", "files_only", "one_class", "empty_class",
                                   "unreadable_class"])
def test_bad_folders(tmp_path, setup):
    if setup == "files_only":
        _write(tmp_path / "a.png", random_png())
    elif setup == "one_class":
        make_class_tree(tmp_path, {"only": 3})
    elif setup == "empty_class":
        make_class_tree(tmp_path, {"a": 3})
        (tmp_path / "b").mkdir()
    elif setup == "unreadable_class":
        make_class_tree(tmp_path, {"a": 3})
        _write(tmp_path / "b" / "x.png", b"not a png")
    match = {"empty": "no class folders", "files_only": "no class folders",
             "one_class": "at least two classes", "empty_class": "'b' has no usable images",
             "unreadable_class": "'b' has no usable images"}[setup]
    with pytest.raises(DatasetError, match=match):
        load_image_folder(tmp_path)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"image_size": 0}, "image_size"), ({"color": "cmyk"}, "color"),
    ({"max_per_class": 0}, "max_per_class"),
])
def test_bad_options(tmp_path, kwargs, match):
    make_class_tree(tmp_path, {"a": 1, "b": 1})
    with pytest.raises(DatasetError, match=match):
        load_image_folder(tmp_path, **kwargs)


def test_missing_path_and_file_path(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    (tmp_path / "data.zip").write_bytes(b"PK")
    with pytest.raises(DatasetError, match="'zip' source"):
        load_image_folder(tmp_path / "data.zip")


@pytest.mark.data
def test_cifar10_jpeg_subset(tmp_path):
    archive = shared_path("cifar10") / "cifar10-jpeg.tar.gz"
    wanted = {"train": 20, "test": 5}
    classes: list[str] = []
    taken: dict[tuple[str, str], int] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or len(parts) != 3 or parts[0] not in wanted:
                continue
            split, cls, fname = parts
            if cls not in classes and len(classes) < 3:
                classes.append(cls)
            if cls not in classes or taken.get((split, cls), 0) >= wanted[split]:
                continue
            taken[split, cls] = taken.get((split, cls), 0) + 1
            _write(tmp_path / split / cls / fname, tar.extractfile(member).read())
            if len(taken) == 6 and sum(taken.values()) == 3 * sum(wanted.values()):
                break
    splits = load_image_folder(tmp_path, image_size=16, color="rgb")
    assert splits.class_names == tuple(sorted(classes))
    assert splits.train.images.shape == (60, 3, 16, 16)
    assert splits.test.images.shape == (15, 3, 16, 16)
    assert splits.report == ()
    assert splits.train.images.std() > 20  # real photos, not blank


def test_auto_colour_is_grey_when_no_image_has_colour(tmp_path):
    for c in ("ok", "defect"):
        for i in range(2):
            _write(tmp_path / c / f"{i}.png", random_png(10, seed=i))              # grey
    _write(tmp_path / "ok" / "rgb-but-grey.png",
           image_bytes(np.repeat(np.full((10, 10, 1), 90, np.uint8), 3, axis=2)))
    train = load_image_folder(tmp_path, image_size=8).train
    assert train.images.shape == (5, 1, 8, 8) and train.source["color"] == "grayscale"


@pytest.mark.parametrize("fit, left, middle", [("crop", 255, 255), ("pad", 0, 255),
                                               ("stretch", 0, 255)])
def test_non_square_photos_keep_their_aspect_unless_stretched(tmp_path, fit, left, middle):
    wide = np.zeros((20, 60), np.uint8)
    wide[:, 20:40] = 255            # a white square in the middle third, black on both sides
    for c in ("a", "b"):
        _write(tmp_path / c / "wide.png", image_bytes(wide))
    img = load_image_folder(tmp_path, image_size=12, fit=fit).train.images[0, 0]
    assert img.shape == (12, 12)
    # crop: only the middle square is left (all white); pad: black bands above and below
    # and black sides; stretch: the sides squeezed in, the white third in the middle
    white = img > 200   # bilinear resampling blurs the edges a little
    assert white[6, 0] == (left == 255) and white[6, 6] == (middle == 255)
    if fit == "pad":
        assert (img[0] == 0).all() and (img[-1] == 0).all()   # letterbox bands
    if fit == "crop":
        assert white.all()
    if fit == "stretch":
        assert not white[:, :3].any() and white[:, 5:7].all()


def test_bad_fit_is_refused(defects):
    with pytest.raises(DatasetError, match="fit must be one of crop, pad, stretch"):
        load_image_folder(defects, fit="squash")
