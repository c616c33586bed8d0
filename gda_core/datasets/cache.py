"""A cache of decoded, resized datasets on disk, so that loading a source again is cheap.

Decoding a folder of photos (or a zip, or the torchvision files) and resizing it is the
slow part of every comparison, training job and sweep.  :class:`DecodedCache` keeps the
result of :func:`gda_core.datasets.load_source` as one ``.npz`` file per source and
options, keyed by a digest of the source, its resolved path, the options (size, colour,
fit) and the size and times of every input file: a changed, added or removed file, or
other options, miss the cache and decode again.

The cache never fails a load: a corrupt, truncated or unreadable entry, a cache folder
that is read-only, missing or not a folder, or a full disk each fall back to decoding
(a bad entry is removed when possible).  Entries are written atomically (a temporary file
in the cache folder, then :func:`os.replace`), read with ``allow_pickle=False``, and the
cache is capped at ``max_bytes``: after a write the least recently used entries go.

Examples
--------
>>> import tempfile
>>> from gda_core.datasets import load_source
>>> splits = load_source("folder", path="defects", cache_dir=tempfile.mkdtemp())  # doctest: +SKIP

The second call with the same folder and options reads the ``.npz`` instead of decoding.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from gda_core.datasets.base import DatasetSplits, ImageDataset

CACHE_VERSION = 1
"""Format of the entries; raising it makes every older entry a miss."""
CACHE_DIR_ENV = "GDA_CACHE_DIR"
"""Environment variable naming the cache folder (``off`` switches the cache off)."""
DEFAULT_MAX_BYTES = 2 * 1024**3
"""Default cap of the cache: 2 GiB (MNIST at 64x64 takes 287 MB)."""
STALE_SECONDS = 3600.0
"""Temporary files older than this are leftovers of an interrupted write."""

_LOG = logging.getLogger(__name__)
_SUFFIX = ".npz"
_TMP_PREFIX = ".tmp-"
# Folders (relative to ``root``) whose files the torchvision loaders read; the same places
# as gda_core.datasets.torchvision_sources looks in.  Listing more files than the loader
# reads only costs a miss when an unrelated file there changes.
_TORCHVISION_DIRS = {
    "mnist": (".", "raw", "MNIST/raw"),
    "fashion-mnist": (".", "raw", "FashionMNIST/raw"),
    "cifar10": ("cifar-10-batches-py",),
}


def default_cache_dir() -> Path | None:
    """The folder of the decoded-dataset cache the product uses.

    ``$GDA_CACHE_DIR`` when set (``off`` switches the cache off), else
    ``gda-workbench/decoded`` in the user's cache folder (``$XDG_CACHE_HOME`` or
    ``~/.cache``).  Nothing is created here.

    Returns
    -------
    Path or None
        None when the cache is switched off or no home folder is known.

    Examples
    --------
    >>> import os
    >>> from unittest import mock
    >>> with mock.patch.dict(os.environ, {"GDA_CACHE_DIR": "/tmp/gda-decoded"}):
    ...     default_cache_dir().as_posix()
    '/tmp/gda-decoded'
    >>> with mock.patch.dict(os.environ, {"GDA_CACHE_DIR": "off"}):
    ...     default_cache_dir() is None
    True
    """
    env = os.environ.get(CACHE_DIR_ENV, "").strip()
    if env.lower() == "off":
        return None
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():  # the XDG spec ignores relative paths
        base = Path(xdg)
    else:
        try:
            base = Path.home() / ".cache"
        except RuntimeError:  # no HOME and no password entry
            return None
    return base / "gda-workbench" / "decoded"


def input_fingerprint(name: str, *, root: str | Path | None = None,
                      path: str | Path | None = None) -> str | None:
    """A digest of the files a source reads: relative path, size and times of each.

    ``folder`` / ``zip``: every file under ``path`` (or the zip itself), hidden files and
    folders (names starting with a dot, which the loader ignores) excepted; ``mnist``,
    ``fashion-mnist``, ``cifar10``: the files in the folders of ``root`` their loader
    looks in.  Modification and status-change times are both used, so a file replaced by
    one of the same size and modification time (``cp -p``, an unzip) changes it too.

    Returns
    -------
    str or None
        None when the files cannot be listed (missing, unreadable, unknown source): such a
        load is not cached.
    """
    digest = hashlib.sha256()
    try:
        if name in ("folder", "zip") and path is not None:
            top = Path(path).expanduser()
            if not top.exists():
                return None
            files = _tree_files(top) if top.is_dir() else iter([(top, ".")])
        elif name in _TORCHVISION_DIRS and root is not None:
            base = Path(root).expanduser()
            files = _flat_files(base, _TORCHVISION_DIRS[name])
        else:
            return None
        for file, rel in files:
            st = os.stat(file)
            digest.update(f"{rel}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\n"
                          .encode("utf-8", "surrogateescape"))
    except OSError:
        return None
    return digest.hexdigest()


def _tree_files(top: Path) -> Iterator[tuple[Path, str]]:
    """Every non-hidden file under ``top`` (links followed, each folder once), sorted."""
    seen: set[str] = set()

    def fail(exc: OSError) -> None:
        raise exc

    for folder, dirs, files in os.walk(top, onerror=fail, followlinks=True):
        real = os.path.realpath(folder)
        if real in seen:  # a link back up the tree
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for fname in sorted(files):
            if not fname.startswith("."):
                file = Path(folder, fname)
                yield file, file.relative_to(top).as_posix()


def _flat_files(base: Path, folders: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """The non-hidden files directly inside each of ``base / folder`` that exists."""
    for sub in folders:
        folder = base / sub
        if not folder.is_dir():
            continue
        for entry in sorted(os.scandir(folder), key=lambda e: e.name):
            if not entry.name.startswith(".") and entry.is_file():
                yield Path(entry.path), f"{sub}/{entry.name}"


def cache_key(name: str, *, root: str | Path | None = None, path: str | Path | None = None,
              image_size: int | None = None, color: str | None = None,
              fit: str | None = None) -> str | None:
    """The key of a load: a sha256 over the cache version, the source, its path as given
    and resolved, the options and :func:`input_fingerprint`.

    Give the options as the loader applies them (defaults filled in), so that equal loads
    get equal keys.

    Returns
    -------
    str or None
        64 hexadecimal digits, or None when the load cannot be cached.

    Examples
    --------
    >>> cache_key("digits") is None  # bundled: nothing to fingerprint
    True
    """
    where = path if name in ("folder", "zip") else root
    if where is None:
        return None
    fingerprint = input_fingerprint(name, root=root, path=path)
    if fingerprint is None:
        return None
    given = Path(str(where))
    material = {"version": CACHE_VERSION, "source": name, "given": str(given),
                "resolved": os.path.realpath(given.expanduser()),
                "image_size": None if image_size is None else int(image_size),
                "color": color, "fit": fit, "inputs": fingerprint}
    text = json.dumps(material, sort_keys=True, ensure_ascii=True)
    return hashlib.sha256(text.encode()).hexdigest()


class DecodedCache:
    """Loaded :class:`DatasetSplits` on disk, one ``<key>.npz`` per load.

    Nothing touches the disk until an entry is read or written; every failure to read or
    write is a miss, never an error.

    Parameters
    ----------
    root : str or Path
        The cache folder (created on the first write).
    max_bytes : int
        Cap on the bytes of all entries; after a write the least recently used entries
        are removed until the rest fits.  An entry larger than this is not stored.

    Examples
    --------
    >>> import tempfile
    >>> from gda_core.datasets.digits import load_digits_splits
    >>> cache = DecodedCache(tempfile.mkdtemp())
    >>> splits = load_digits_splits()
    >>> cache.put("0" * 64, splits)
    True
    >>> again = cache.get("0" * 64)
    >>> bool((again.train.images == splits.train.images).all()), again.train.source
    (True, {'name': 'digits'})
    >>> cache.get("1" * 64) is None
    True
    >>> cache.clear()[0], cache.usage()
    (1, (0, 0))
    """

    def __init__(self, root: str | Path, *, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root).expanduser()
        self.max_bytes = int(max_bytes)

    # ------------------------------------------------------------------ the one entry point
    def get_or_load(self, name: str, load: Callable[[], DatasetSplits], *,
                    root: str | Path | None = None, path: str | Path | None = None,
                    image_size: int | None = None, color: str | None = None,
                    fit: str | None = None) -> DatasetSplits:
        """The cached result of ``load()`` for this source and options, else ``load()``
        (then stored, unless the input files changed while it ran).

        Parameters
        ----------
        name : str
            The source (a key of :data:`gda_core.datasets.SOURCES`).
        load : callable
            Decodes the source; its errors propagate unchanged.
        root, path, image_size, color, fit
            As for :func:`cache_key`.

        Returns
        -------
        DatasetSplits
        """
        options = {"root": root, "path": path, "image_size": image_size, "color": color,
                   "fit": fit}
        key = cache_key(name, **options)
        if key is None:
            return load()
        hit = self.get(key)
        if hit is not None:
            return hit
        splits = load()
        # A download, or an edit while decoding, changes the key: that result is not stored
        # under the old one (the next load stores it).
        if cache_key(name, **options) == key:
            self.put(key, splits)
        return splits

    # ------------------------------------------------------------------ entries
    def path_of(self, key: str) -> Path:
        """The file of the entry ``key``."""
        if len(key) != 64 or any(c not in "0123456789abcdef" for c in key):
            raise ValueError(f"a cache key is 64 lowercase hexadecimal digits; got {key!r}")
        return self.root / f"{key}{_SUFFIX}"

    def get(self, key: str) -> DatasetSplits | None:
        """The entry ``key``, or None when there is none or it cannot be read (a damaged
        entry is then removed).  A hit marks the entry as recently used."""
        file = self.path_of(key)
        try:
            with np.load(file, allow_pickle=False) as npz:
                splits = _from_arrays(key, {name: npz[name] for name in npz.files})
        except FileNotFoundError:
            return None
        except Exception as exc:  # any damage: truncated, garbage, wrong content, no access
            _LOG.warning("decoded-data cache entry %s is unreadable (%s: %s); decoding "
                         "again", file, type(exc).__name__, exc)
            with contextlib.suppress(OSError):
                file.unlink()
            return None
        with contextlib.suppress(OSError):
            os.utime(file)  # most recently used
        return splits

    def put(self, key: str, splits: DatasetSplits) -> bool:
        """Store ``splits`` as the entry ``key`` (atomically), then evict down to
        ``max_bytes``.  Returns whether it was stored; a failure (no room, a read-only
        folder, data that is not JSON-clean) is logged, never raised."""
        file = self.path_of(key)
        arrays = _to_arrays(key, splits)
        if arrays is None:
            return False
        if sum(a.nbytes for a in arrays.values()) > self.max_bytes:
            _LOG.info("decoded data of %s is larger than the cache (%d bytes); not stored",
                      key, self.max_bytes)
            return False
        tmp: str | None = None
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f"{_TMP_PREFIX}{key}-", suffix=_SUFFIX,
                                       dir=self.root)
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **arrays)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, file)
            tmp = None
        except OSError as exc:
            _LOG.info("decoded-data cache %s not written (%s)", self.root, exc)
            return False
        finally:
            if tmp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
        self.evict(keep=file)
        return True

    def entries(self) -> list[tuple[Path, int, float]]:
        """``(file, bytes, last used)`` of every entry, least recently used first."""
        out = []
        try:
            listing = list(os.scandir(self.root))
        except OSError:
            return out
        for entry in listing:
            if _is_entry(entry.name):
                with contextlib.suppress(OSError):
                    st = entry.stat()
                    out.append((Path(entry.path), st.st_size, st.st_mtime))
        return sorted(out, key=lambda e: (e[2], e[0].name))

    def usage(self) -> tuple[int, int]:
        """``(entries, bytes)`` in the cache."""
        entries = self.entries()
        return len(entries), sum(e[1] for e in entries)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used entries (never ``keep``) until the cache fits
        ``max_bytes``, and temporary files of interrupted writes.  Returns what went."""
        gone = []
        entries = self.entries()
        total = sum(e[1] for e in entries)
        for file, size, _ in entries:
            if total <= self.max_bytes:
                break
            if keep is not None and file == keep:
                continue
            try:
                file.unlink()
            except FileNotFoundError:
                pass  # another process removed it: its bytes are gone all the same
            except OSError:
                continue
            total -= size
            gone.append(file)
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.root):
                if (entry.name.startswith(_TMP_PREFIX) and entry.name.endswith(_SUFFIX)
                        and time.time() - entry.stat().st_mtime > STALE_SECONDS):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)
                        gone.append(Path(entry.path))
        return gone

    def clear(self) -> tuple[int, int]:
        """Remove every entry; return ``(entries, bytes)`` removed."""
        n = size = 0
        for file, nbytes, _ in self.entries():
            with contextlib.suppress(OSError):
                file.unlink()
                n, size = n + 1, size + nbytes
        return n, size


def _is_entry(name: str) -> bool:
    stem = name[: -len(_SUFFIX)]
    return (name.endswith(_SUFFIX) and len(stem) == 64
            and all(c in "0123456789abcdef" for c in stem))


def _json_clean(value: Any) -> bool:
    try:
        return json.loads(json.dumps(value)) == value
    except (TypeError, ValueError):
        return False


def _to_arrays(key: str, splits: DatasetSplits) -> dict[str, np.ndarray] | None:
    test = splits.test
    meta = {"version": CACHE_VERSION, "key": key,
            "class_names": list(splits.train.class_names),
            "test_class_names": None if test is None else list(test.class_names),
            "train_source": splits.train.source,
            "test_source": None if test is None else test.source,
            "report": list(splits.report)}
    if not _json_clean(meta):
        _LOG.info("decoded data of %s has a source that is not plain JSON; not cached", key)
        return None
    arrays = {"meta": np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8),
              "train_images": splits.train.images, "train_labels": splits.train.labels}
    if test is not None:
        arrays.update(test_images=test.images, test_labels=test.labels)
    return arrays


def _from_arrays(key: str, arrays: dict[str, np.ndarray]) -> DatasetSplits:
    """The splits stored in an entry; ValueError when it is not what :func:`_to_arrays`
    wrote for ``key``."""
    meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
    if meta.get("version") != CACHE_VERSION or meta.get("key") != key:
        raise ValueError("the entry belongs to another key or cache version")

    def dataset(split: str, names: list[str], source: dict[str, Any]) -> ImageDataset:
        images, labels = arrays[f"{split}_images"], arrays[f"{split}_labels"]
        if images.dtype != np.uint8 or labels.dtype != np.int64:
            raise ValueError(f"{split} arrays have dtypes {images.dtype}, {labels.dtype}")
        return ImageDataset(_writable(images), _writable(labels), tuple(names), source)

    train = dataset("train", meta["class_names"], meta["train_source"])
    test = (None if meta["test_source"] is None
            else dataset("test", meta["test_class_names"], meta["test_source"]))
    return DatasetSplits(train, test, tuple(meta["report"]))


def _writable(array: np.ndarray) -> np.ndarray:
    """Loaders return writable arrays; so does the cache."""
    return array if array.flags.writeable else array.copy()
