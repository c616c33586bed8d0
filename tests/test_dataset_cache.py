"""The cache of decoded datasets: hits skip decoding, any change misses, damage falls back."""

from __future__ import annotations

import errno
import os
import pickle
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, read_only, unprivileged, writable_again
from conftest_data import image_bytes, write_fake_cifar10, write_fake_mnist, zip_bytes

from gda_core.datasets import (
    DatasetSplits,
    DecodedCache,
    default_cache_dir,
    folder,
    load_source,
    sources,
)
from gda_core.datasets.cache import cache_key
from gda_core.experiments import CompareConfig, DataConfig


def _write(path: Path, payload: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(payload)


def _wide(seed: int) -> bytes:
    """A colour image wider than tall, so that every ``fit`` gives other pixels."""
    rng = np.random.default_rng(seed)
    return image_bytes(rng.integers(0, 256, (10, 18, 3), dtype=np.uint8))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    """train/ and test/ with two classes of wide colour PNGs, a note and a broken file (so
    the report is not empty), and a hidden file."""
    top = tmp_path / "photos"
    for split, n in (("train", 4), ("test", 2)):
        for c, name in enumerate(("ok", "defect")):
            for i in range(n):
                _write(top / split / name / f"{i}.png", _wide(100 * c + 10 * i + len(split)))
    _write(top / "train" / "ok" / "notes.txt", b"printer settings")
    _write(top / "train" / "defect" / "broken.png", b"\x89PNG\r\n\x1a\nnot really")
    _write(top / "train" / "ok" / ".DS_Store", b"\x00junk")
    return top


@pytest.fixture
def decodes(monkeypatch) -> list[Path]:
    """Every image file the folder loader decodes, in order."""
    calls: list[Path] = []
    real = folder._read_image

    def counting(file, *args, **kwargs):
        calls.append(Path(file))
        return real(file, *args, **kwargs)

    monkeypatch.setattr(folder, "_read_image", counting)
    return calls


def assert_same(a: DatasetSplits, b: DatasetSplits) -> None:
    assert a.report == b.report
    assert (a.test is None) == (b.test is None)
    for x, y in ((a.train, b.train), (a.test, b.test)):
        if x is None:
            continue
        assert x.images.dtype == y.images.dtype == np.uint8
        assert x.labels.dtype == y.labels.dtype == np.int64
        np.testing.assert_array_equal(x.images, y.images)
        np.testing.assert_array_equal(x.labels, y.labels)
        assert x.class_names == y.class_names
        assert x.source == y.source


def load(top: Path, cache: Path | None, **options) -> DatasetSplits:
    return load_source("folder", path=top, cache_dir=cache, **{"image_size": 8, **options})


# ------------------------------------------------------------------------- hits and misses
def test_a_second_load_reads_the_cache_not_the_images(photos, tmp_path, decodes):
    cache = tmp_path / "cache"
    plain = load(photos, None)
    n = len(decodes)
    assert n == 13 and plain.test is not None and plain.report  # 12 images + broken.png
    first = load(photos, cache)
    assert len(decodes) == 2 * n
    assert DecodedCache(cache).usage()[0] == 1
    second = load(photos, cache)
    assert len(decodes) == 2 * n  # nothing decoded
    assert_same(second, plain)
    assert_same(first, plain)
    assert second.train.images.flags.writeable  # like every loader's arrays


def test_defaults_spelled_out_hit_the_same_entry(photos, tmp_path, decodes):
    cache = tmp_path / "cache"
    load_source("folder", path=photos, cache_dir=cache)
    n = len(decodes)
    again = load_source("folder", path=str(photos), cache_dir=cache, image_size=64,
                        color="auto", fit="crop")
    assert len(decodes) == n
    assert again.train.image_shape == (3, 64, 64)


@pytest.mark.parametrize("options", [{"image_size": 9}, {"color": "grayscale"},
                                     {"fit": "pad"}, {"fit": "stretch"}])
def test_other_options_miss(photos, tmp_path, decodes, options):
    cache = tmp_path / "cache"
    load(photos, cache)
    n = len(decodes)
    got = load(photos, cache, **options)
    assert len(decodes) == 2 * n
    assert_same(got, load(photos, None, **options))
    assert DecodedCache(cache).usage()[0] == 2


def _modify(photos: Path) -> None:
    _write(photos / "train" / "ok" / "0.png", _wide(999))


def _same_size_and_time(photos: Path) -> None:
    """Another image of the same byte size, with the old modification time put back (as
    ``cp -p`` or an unzip do): only the status-change time tells."""
    file = photos / "train" / "ok" / "0.png"
    st = file.stat()
    data = bytearray(file.read_bytes())
    other = (photos / "train" / "ok" / "1.png").read_bytes()
    if len(other) == len(data):
        data[:] = other
    else:  # flip a pixel byte inside the compressed stream: same size, other file
        data[-20] ^= 0xFF
    time.sleep(0.01)
    file.write_bytes(bytes(data))
    os.utime(file, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert file.stat().st_size == st.st_size and file.stat().st_mtime_ns == st.st_mtime_ns


def _add(photos: Path) -> None:
    _write(photos / "train" / "defect" / "new.png", _wide(555))


def _add_note(photos: Path) -> None:  # not an image, but it is in the report
    _write(photos / "train" / "defect" / "readme.md", b"# notes")


def _delete(photos: Path) -> None:
    (photos / "train" / "ok" / "1.png").unlink()


def _rename(photos: Path) -> None:
    (photos / "train" / "ok" / "1.png").rename(photos / "train" / "ok" / "9.png")


def _move_class(photos: Path) -> None:
    (photos / "test" / "ok" / "0.png").rename(photos / "test" / "defect" / "x.png")


@pytest.mark.parametrize("change", [_modify, _same_size_and_time, _add, _add_note, _delete,
                                    _rename, _move_class])
def test_a_changed_added_or_removed_file_misses(photos, tmp_path, decodes, change):
    cache = tmp_path / "cache"
    load(photos, cache)
    change(photos)
    n = len(decodes)
    got = load(photos, cache)
    assert len(decodes) > n  # decoded again
    assert_same(got, load(photos, None))


def test_hidden_files_do_not_count(photos, tmp_path, decodes):
    """Like the loader, the key ignores hidden files: the upload cache touches its
    ``.complete`` marker on every reuse, which must not throw the decoded data away."""
    cache = tmp_path / "cache"
    load(photos, cache)
    n = len(decodes)
    _write(photos / ".complete", b"upload.zip")
    _write(photos / "train" / ".cache" / "x.png", _wide(1))
    load(photos, cache)
    assert len(decodes) == n


def test_an_edit_while_decoding_is_not_stored(photos, tmp_path):
    cache = DecodedCache(tmp_path / "cache")

    def load_then_edit() -> DatasetSplits:
        splits = load(photos, None)
        _add(photos)  # e.g. a download finishing, or the user copying more images
        return splits

    cache.get_or_load("folder", load_then_edit, path=photos, image_size=8, color="auto",
                      fit="crop")
    assert cache.usage() == (0, 0)
    cache.get_or_load("folder", lambda: load(photos, None), path=photos, image_size=8,
                      color="auto", fit="crop")
    assert cache.usage()[0] == 1


# ------------------------------------------------------------------------- other sources
def test_a_zip_is_cached(photos, tmp_path, decodes):
    payload = {f"set/{p.relative_to(photos).as_posix()}": p.read_bytes()
               for p in sorted(photos.rglob("*")) if p.is_file()}
    archive = tmp_path / "set.zip"
    archive.write_bytes(zip_bytes(payload))
    cache = tmp_path / "cache"
    plain = load_source("zip", path=archive, image_size=8)
    n = len(decodes)
    for name in ("zip", "folder"):  # a .zip given as a folder is cached too
        load_source(name, path=archive, image_size=8, cache_dir=cache)
        k = len(decodes)
        got = load_source(name, path=archive, image_size=8, cache_dir=cache)
        assert len(decodes) == k
        assert_same(got, plain)
    assert len(decodes) == 3 * n
    del payload["set/train/ok/0.png"]
    archive.write_bytes(zip_bytes(payload))  # another zip under the same name
    got = load_source("zip", path=archive, image_size=8, cache_dir=cache)
    assert len(decodes) > 3 * n and len(got.train) == len(plain.train) - 1


def test_a_zip_extracted_to_a_folder_is_always_extracted(photos, tmp_path, decodes):
    archive = tmp_path / "set.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for p in sorted(photos.rglob("*.png")):
            zf.write(p, p.relative_to(photos).as_posix())
    cache = tmp_path / "cache"
    load_source("zip", path=archive, image_size=8, cache_dir=cache)
    out = tmp_path / "extracted"
    load_source("zip", path=archive, image_size=8, cache_dir=cache, extract_to=out)
    assert (out / "train" / "ok" / "0.png").is_file()  # the caller asked for the files


def test_mnist_files_are_cached(tmp_path, monkeypatch):
    calls = []
    real = sources.load_torchvision_splits
    monkeypatch.setattr(sources, "load_torchvision_splits",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    root = tmp_path / "mnist"
    write_fake_mnist(root / "raw")
    cache = tmp_path / "cache"
    plain = load_source("mnist", root=root, image_size=12, color="rgb")
    first = load_source("mnist", root=root, image_size=12, color="rgb", cache_dir=cache)
    second = load_source("mnist", root=str(root), image_size=12, color="rgb", cache_dir=cache)
    assert len(calls) == 2
    assert_same(first, plain)
    assert_same(second, plain)
    load_source("mnist", root=root, image_size=14, color="rgb", cache_dir=cache)
    assert len(calls) == 3  # another size
    write_fake_mnist(root / "raw", n_train=20)  # new files
    got = load_source("mnist", root=root, image_size=12, color="rgb", cache_dir=cache)
    assert len(calls) == 4 and len(got.train) == 20


def test_cifar10_files_are_cached(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    batches = write_fake_cifar10(tmp_path, monkeypatch, [
        {"data": rng.integers(0, 256, (3, 3072), dtype=np.uint8), "labels": [0, 1, 2]}
        for _ in range(6)])
    calls = []
    real = sources.load_torchvision_splits
    monkeypatch.setattr(sources, "load_torchvision_splits",
                        lambda *a, **k: calls.append(a) or real(*a, **k))
    cache = tmp_path / "cache"
    first = load_source("cifar10", root=tmp_path, cache_dir=cache)
    second = load_source("cifar10", root=tmp_path, cache_dir=cache)
    assert len(calls) == 1
    assert_same(second, first)
    assert second.train.images.shape == (15, 3, 32, 32)
    (batches / "test_batch").write_bytes(pickle.dumps({"data": rng.integers(
        0, 256, (2, 3072), dtype=np.uint8), "labels": [4, 5]}))
    got = load_source("cifar10", root=tmp_path, cache_dir=cache)
    assert len(calls) == 2 and got.test.labels.tolist() == [4, 5]


def test_digits_is_not_cached(tmp_path):
    load_source("digits", image_size=16, cache_dir=tmp_path / "cache")
    assert not (tmp_path / "cache").exists()


# ------------------------------------------------------------------------- damage
def _entry(cache: Path) -> Path:
    (file,) = cache.glob("*.npz")
    return file


def _truncate(file: Path) -> None:
    file.write_bytes(file.read_bytes()[: file.stat().st_size // 2])


def _garbage(file: Path) -> None:
    file.write_bytes(b"not a zip at all" * 100)


def _empty(file: Path) -> None:
    file.write_bytes(b"")


def _flip_a_byte(file: Path) -> None:  # the zip's CRC catches it
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))


def _other_entry(file: Path) -> None:
    """A valid entry of another key, under this key's name."""
    other = DecodedCache(file.parent)
    splits = load_source("digits")
    key = "f" * 64
    other.put(key, splits)
    os.replace(other.path_of(key), file)


def _wrong_dtype(file: Path) -> None:
    with np.load(file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["train_labels"] = arrays["train_labels"].astype(np.float32)
    with open(file, "wb") as fh:
        np.savez(fh, **arrays)


@pytest.mark.parametrize("damage", [_truncate, _garbage, _empty, _flip_a_byte, _other_entry,
                                    _wrong_dtype])
def test_a_damaged_entry_is_decoded_again(photos, tmp_path, decodes, damage):
    cache = tmp_path / "cache"
    plain = load(photos, None)
    n = len(decodes)
    load(photos, cache)
    damage(_entry(cache))
    got = load(photos, cache)
    assert len(decodes) == 3 * n  # decoded again ...
    assert_same(got, plain)
    got = load(photos, cache)  # ... and the entry was replaced by a good one
    assert len(decodes) == 3 * n
    assert_same(got, plain)


def test_a_damaged_entry_is_removed_even_when_none_replaces_it(photos, tmp_path,
                                                               monkeypatch):
    cache = tmp_path / "cache"
    load(photos, cache)
    _garbage(_entry(cache))

    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", no_room)
    assert_same(load(photos, cache), load(photos, None))
    assert list(cache.iterdir()) == []


_RAN = []


def _record_unpickling():
    _RAN.append(True)
    return "payload"


class _Payload:
    def __reduce__(self):
        return (_record_unpickling, ())


def test_an_entry_holding_a_pickle_is_never_unpickled(photos, tmp_path, decodes):
    cache = tmp_path / "cache"
    plain = load(photos, cache)
    file = _entry(cache)
    with np.load(file, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    arrays["meta"] = np.array([_Payload()], dtype=object)
    with open(file, "wb") as fh:
        np.savez(fh, **arrays)  # numpy pickles object arrays
    _RAN.clear()
    got = load(photos, cache)
    assert not _RAN
    assert_same(got, plain)


def test_a_cache_path_that_cannot_be_a_folder_still_loads(photos, tmp_path, decodes):
    blocker = tmp_path / "a-file"
    blocker.write_text("in the way")
    plain = load(photos, None)
    got = load(photos, blocker / "cache")
    assert_same(got, plain)
    got = load(photos, blocker)  # the cache folder is a file
    assert_same(got, plain)
    assert blocker.read_text() == "in the way"


def test_a_folder_in_place_of_the_entry_still_loads(photos, tmp_path, decodes):
    cache = tmp_path / "cache"
    load(photos, cache)
    file = _entry(cache)
    file.unlink()
    file.mkdir()
    for _ in range(2):
        assert_same(load(photos, cache), load(photos, None))


def test_a_full_disk_still_loads(photos, tmp_path, decodes, monkeypatch):
    def no_room(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", no_room)
    cache = tmp_path / "cache"
    got = load(photos, cache)
    assert_same(got, load(photos, None))
    assert list(cache.iterdir()) == []  # no entry, no temporary file left behind


_CHILD = textwrap.dedent("""
    import sys
    from gda_core.datasets import DecodedCache, folder, load_source

    if sys.argv[3] == "no-decoding":
        def boom(*args, **kwargs):
            raise AssertionError("decoded")
        folder._read_image = boom
    splits = load_source("folder", path=sys.argv[1], cache_dir=sys.argv[2], image_size=8)
    print(len(splits.train), DecodedCache(sys.argv[2]).usage()[0])
""")


def _child(photos: Path, cache: Path, mode: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-c", _CHILD, str(photos), str(cache), mode],
                          capture_output=True, text=True, env=env, timeout=120,
                          **unprivileged())


def test_a_read_only_cache_folder_still_loads_and_still_hits(photos, tmp_path):
    cache = tmp_path / "cache"
    cache.mkdir()
    read_only(cache)
    try:
        empty = _child(photos, cache, "decode")
        assert empty.returncode == 0, empty.stderr
        assert empty.stdout.split() == ["8", "0"]  # loaded; nothing could be written
        assert "Traceback" not in empty.stderr
        cache.chmod(0o755)
        load(photos, cache)  # stored by a process that may write
        read_only(cache)
        hit = _child(photos, cache, "no-decoding")
        assert hit.returncode == 0, hit.stderr
        assert hit.stdout.split() == ["8", "1"]
    finally:
        writable_again(tmp_path)


# ------------------------------------------------------------------------- size cap
def _splits(seed: int, n: int = 10) -> DatasetSplits:
    from gda_core.datasets import ImageDataset

    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (n, 1, 16, 16), dtype=np.uint8)
    return DatasetSplits(ImageDataset(images, np.arange(n) % 2, ("a", "b"), {"seed": seed}))


def test_the_least_recently_used_entries_go_first(tmp_path):
    one = DecodedCache(tmp_path / "probe")
    one.put("0" * 64, _splits(0))
    size = one.usage()[1]
    cache = DecodedCache(tmp_path / "cache", max_bytes=2 * size + size // 2)
    a, b, c = "a" * 64, "b" * 64, "c" * 64
    assert cache.put(a, _splits(1)) and cache.put(b, _splits(2))
    now = time.time()
    os.utime(cache.path_of(a), (now - 100, now - 100))
    os.utime(cache.path_of(b), (now - 50, now - 50))
    assert cache.get(a) is not None  # a is now the most recently used
    assert cache.put(c, _splits(3))
    assert cache.get(b) is None and cache.get(a) is not None and cache.get(c) is not None
    assert cache.usage()[1] <= cache.max_bytes


def test_the_cache_stays_under_its_cap(photos, tmp_path):
    cache = DecodedCache(tmp_path / "cache", max_bytes=40_000)
    sizes = (8, 12, 16, 20, 24)
    for size in sizes:
        cache.get_or_load("folder", lambda size=size: load(photos, None, image_size=size),
                          path=photos, image_size=size, color="auto", fit="crop")
        assert 0 < cache.usage()[1] <= cache.max_bytes
    assert cache.usage()[0] < len(sizes)  # some went


def test_an_entry_larger_than_the_cache_is_not_stored(tmp_path):
    cache = DecodedCache(tmp_path / "cache", max_bytes=1000)
    assert not cache.put("a" * 64, _splits(0, n=10))  # 2,560 bytes of images
    assert cache.usage() == (0, 0)


def test_leftovers_of_interrupted_writes_are_removed(tmp_path):
    cache = DecodedCache(tmp_path)
    stale = tmp_path / f".tmp-{'a' * 64}-x.npz"
    fresh = tmp_path / f".tmp-{'b' * 64}-y.npz"
    mine = tmp_path / "keep.npz"  # not the cache's: never touched
    for f in (stale, fresh, mine):
        f.write_bytes(b"partial")
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    os.utime(mine, (time.time() - 7200, time.time() - 7200))
    cache.put("c" * 64, _splits(0))
    assert not stale.exists() and fresh.exists() and mine.exists()
    assert cache.clear()[0] == 1 and mine.exists()


# ------------------------------------------------------------------------- where it lives
def test_default_cache_dir(monkeypatch, tmp_path):
    monkeypatch.setenv("GDA_CACHE_DIR", str(tmp_path / "mine"))
    assert default_cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("GDA_CACHE_DIR", "OFF")
    assert default_cache_dir() is None
    monkeypatch.delenv("GDA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "gda-workbench" / "decoded"
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "gda-workbench" / "decoded"


def test_tests_never_use_the_real_cache(decoded_cache_dir):
    assert default_cache_dir() == decoded_cache_dir


def test_the_experiments_load_through_the_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GDA_CACHE_DIR", str(tmp_path))
    assert DataConfig(source="folder", path="x").load_kwargs()["cache_dir"] == tmp_path
    monkeypatch.setenv("GDA_CACHE_DIR", "off")
    assert DataConfig().load_kwargs()["cache_dir"] is None


def test_saved_configs_do_not_change():
    """Where the cache lives is the machine's business: no new field in saved configs, so
    older run records still load and compare equal."""
    saved = CompareConfig().to_dict()
    assert set(saved["data"]) == {"source", "root", "path", "image_size", "color",
                                  "download", "fit"}
    assert CompareConfig.from_dict(saved) == CompareConfig()


def test_cli_no_data_cache_switches_it_off(tmp_path, capsys):
    from gda_core.cli.main import main

    code = main(["train", "--no-data-cache", "--dataset", "folder", "--path",
                 str(tmp_path / "missing"), "--runs-dir", str(tmp_path / "runs")])
    assert code == 2 and "does not exist" in capsys.readouterr().err
    assert os.environ["GDA_CACHE_DIR"] == "off" and default_cache_dir() is None


def test_keys_differ_by_path_spelling_only_in_the_source_they_return(photos, tmp_path):
    """The source dict names the path as given, so two spellings are two entries; both
    keys exist and differ, and each load returns its own spelling."""
    rel = os.path.relpath(photos)
    key_abs = cache_key("folder", path=photos, image_size=8, color="auto", fit="crop")
    key_rel = cache_key("folder", path=rel, image_size=8, color="auto", fit="crop")
    assert key_abs and key_rel and key_abs != key_rel
    cache = tmp_path / "cache"
    load(photos, cache)
    assert load(Path(rel), cache).train.source["path"] == rel
