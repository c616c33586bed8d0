"""Safe zip extraction (zip slip, zip bombs, junk) and loading zips of class folders."""

from __future__ import annotations

import io
import stat
import zipfile

import pytest
from conftest_data import random_png, zip_bytes

from gda_core.datasets import extract_zip, load_image_zip
from gda_core.errors import DatasetError


def _classes_zip(prefix: str = "parts/") -> dict[str, bytes]:
    return {f"{prefix}{cls}/{i}.png": random_png(10, seed=i)
            for cls, n in (("normal", 4), ("underfill_FR", 2)) for i in range(n)}


def test_zip_slip_is_not_written(tmp_path):
    dest = tmp_path / "a" / "b" / "dest"
    entries = {"ok/x.png": random_png(), "../evil.png": b"x", "/abs.png": b"x",
               "C:/windows.png": b"x", "ok/../../up.png": b"x", "..\\back.png": b"x"}
    root, report = extract_zip(zip_bytes(entries), dest)
    assert root == dest.resolve()
    assert (dest / "ok" / "x.png").is_file()
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                     if p.is_file())
    assert written == ["a/b/dest/ok/x.png"]
    assert not (tmp_path / "abs.png").exists()
    assert len(report) == 5
    for name in ("../evil.png", "/abs.png", "C:/windows.png", "ok/../../up.png"):
        assert any(line.startswith(f"{name}: not extracted") for line in report)


def test_symlink_entries_are_skipped(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("link.png")
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr("real.png", random_png())
    _, report = extract_zip(buf.getvalue(), tmp_path)
    assert not (tmp_path / "link.png").exists() and not (tmp_path / "link.png").is_symlink()
    assert (tmp_path / "real.png").is_file()
    assert report == ["link.png: not extracted, symbolic link"]


def test_zip_bomb_by_declared_size(tmp_path):
    bomb = zip_bytes({"zeros.bin": bytes(5_000_000)})
    assert len(bomb) < 20_000
    with pytest.raises(DatasetError, match="zip bomb"):
        extract_zip(bomb, tmp_path / "out", max_total_bytes=1_000_000)
    assert not (tmp_path / "out").exists()


def test_zip_lying_about_its_size(tmp_path):
    payload = bytearray(zip_bytes({"zeros.bin": bytes(3_000_000)},
                                  compression=zipfile.ZIP_STORED))
    # Declare 10 bytes in the central directory; the real content is 3 MB.
    cd = payload.rfind(b"PK\x01\x02")
    payload[cd + 24:cd + 28] = (10).to_bytes(4, "little")
    _, report = extract_zip(bytes(payload), tmp_path, max_total_bytes=1_000_000)
    assert not (tmp_path / "zeros.bin").exists()  # CRC fails: partial file removed
    assert len(report) == 1 and report[0].startswith("zeros.bin: not extracted, corrupt")


def test_declared_total_counts_every_file(tmp_path):
    payload = zip_bytes({f"{i}.bin": bytes(400_000) for i in range(3)})
    with pytest.raises(DatasetError, match="1,200,000 bytes"):
        extract_zip(payload, tmp_path, max_total_bytes=1_000_000)
    extract_zip(payload, tmp_path / "ok", max_total_bytes=1_200_000)
    assert len(list((tmp_path / "ok").iterdir())) == 3


def test_written_bytes_are_counted(tmp_path):
    # zipfile itself stops at the declared size; the writer counts real bytes as well.
    from gda_core.datasets.archive import _extract_one

    with zipfile.ZipFile(io.BytesIO(zip_bytes({"big.bin": bytes(5000)}))) as zf:
        target = tmp_path / "big.bin"
        with pytest.raises(DatasetError, match="zip bomb"):
            _extract_one(zf, zf.getinfo("big.bin"), target, 4000, "z.zip", [])
        assert not target.exists()
        assert _extract_one(zf, zf.getinfo("big.bin"), target, 5000, "z.zip", []) == 5000


def test_too_many_files(tmp_path):
    payload = zip_bytes({f"f{i}.txt": b"" for i in range(30)})
    with pytest.raises(DatasetError, match="30 files; at most 10"):
        extract_zip(payload, tmp_path, max_files=10)


@pytest.mark.parametrize("source", [b"not a zip at all", b"PK\x03\x04broken", b""])
def test_not_a_zip(tmp_path, source):
    with pytest.raises(DatasetError, match="not a zip file or is corrupt"):
        extract_zip(source, tmp_path)


def test_missing_zip_file(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        extract_zip(tmp_path / "nope.zip", tmp_path / "out")


def test_good_zip_loads_from_path_bytes_and_file(tmp_path):
    entries = {**_classes_zip(), "parts/normal/readme.txt": b"hi", "__MACOSX/._x": b"junk",
               "parts/.DS_Store": b"junk", "../escape.png": b"x"}
    payload = zip_bytes(entries)
    archive = tmp_path / "defects.zip"
    archive.write_bytes(payload)
    for i, source in enumerate((archive, str(archive), payload, io.BytesIO(payload))):
        splits = load_image_zip(source, extract_to=tmp_path / f"x{i}", image_size=8)
        assert splits.class_names == ("normal", "underfill_FR")
        assert splits.train.counts() == {0: 4, 1: 2}
        assert splits.train.source["name"] == "zip"
        report = "\n".join(splits.report)
        assert "../escape.png: not extracted" in report
        assert "parts/normal/readme.txt: not an image" in report
        assert "MACOSX" not in report and "DS_Store" not in report
    assert not (tmp_path / "escape.png").exists()
    assert not (tmp_path / "x0" / "__MACOSX").exists()


def test_zip_to_temporary_folder_with_train_test(tmp_path):
    entries = {**_classes_zip("data/train/"), **_classes_zip("data/test/")}
    splits = load_image_zip(zip_bytes(entries), color="rgb", max_per_class=3)
    assert splits.train.images.shape == (5, 3, 64, 64)  # 64x64 by default for user images
    assert splits.test is not None and len(splits.test) == 5


def test_zip_without_class_folders(tmp_path):
    with pytest.raises(DatasetError, match="the uploaded zip: no class folders"):
        load_image_zip(zip_bytes({"a.png": random_png()}), extract_to=tmp_path)


# ------------------------------------------------------------------ limits and cleanup
def test_default_limits_fit_images_and_refuse_a_2_gib_bomb(tmp_path):
    from gda_core.datasets.archive import MAX_FILE_BYTES, MAX_TOTAL_BYTES

    assert MAX_TOTAL_BYTES <= 512 * 1024**2 and MAX_FILE_BYTES <= 32 * 1024**2
    payload = bytearray(zip_bytes({"a/zeros.bin": bytes(1000)}))
    cd = payload.rfind(b"PK\x01\x02")                   # declare 2 GiB, as a bomb would
    payload[cd + 24:cd + 28] = (2 * 1024**3 - 1).to_bytes(4, "little")
    with pytest.raises(DatasetError, match="zip bomb"):
        extract_zip(bytes(payload), tmp_path / "out")
    assert not (tmp_path / "out").exists()                # refused before writing


def test_one_oversized_entry_is_refused_before_writing(tmp_path):
    payload = zip_bytes({"a/small.png": random_png(), "a/huge.bin": bytes(300_000)})
    with pytest.raises(DatasetError, match=r"huge\.bin .* per file"):
        extract_zip(payload, tmp_path / "out", max_file_bytes=100_000)
    assert not (tmp_path / "out").exists()


def test_a_failed_extraction_leaves_nothing(tmp_path):
    # the second entry writes more than it declares: the first one is removed again
    payload = bytearray(zip_bytes({"a/ok.png": random_png(), "a/liar.bin": bytes(50_000)},
                                  compression=zipfile.ZIP_STORED))
    from gda_core.datasets import archive

    real = archive._extract_one

    def lying(zf, info, target, budget, label, report):
        if info.filename.endswith("liar.bin"):
            raise DatasetError("liar.bin unpacks to more bytes than it declares")
        return real(zf, info, target, budget, label, report)

    import unittest.mock as mock
    with mock.patch.object(archive, "_extract_one", lying):
        with pytest.raises(DatasetError):
            extract_zip(bytes(payload), tmp_path / "fresh")
        assert not (tmp_path / "fresh").exists()          # the folder it created is gone
        (tmp_path / "mine").mkdir()
        (tmp_path / "mine" / "keep.txt").write_text("user file")
        with pytest.raises(DatasetError):
            extract_zip(bytes(payload), tmp_path / "mine")
        assert sorted(p.name for p in (tmp_path / "mine").rglob("*") if p.is_file()) == \
            ["keep.txt"]                                   # only what it wrote is removed


def test_upload_cache_reuses_evicts_and_clears(tmp_path):
    import os

    from gda_core.datasets.uploads import UploadCache

    zips = [zip_bytes({f"c{i}/x.bin": bytes(4000)}) for i in range(3)]
    cache = UploadCache(tmp_path / "uploads", max_bytes=9000)
    first = cache.add("0.zip", zips[0])
    assert cache.add("0.zip", zips[0]) == first             # same bytes: same folder
    second = cache.add("1.zip", zips[1])
    os.utime(first / ".complete", (1, 1))                   # 0.zip: least recently used
    third = cache.add("2.zip", zips[2])                     # 12,000 > 9,000: evict one
    assert not first.exists() and second.exists() and third.exists()
    assert cache.usage() == (2, 8000)
    assert cache.clear(keep=third) == (1, 4000)
    assert cache.usage() == (1, 4000) and third.exists()
    with pytest.raises(DatasetError):
        cache.add("bad.zip", b"not a zip")
    assert cache.usage() == (1, 4000) and len(list(cache.root.iterdir())) == 1
