"""The cache of extracted uploads: one folder per distinct zip, a size cap, eviction.

Every zip a user uploads is extracted once into ``root/<digest of its bytes>/`` (the same
zip again reuses the folder).  The cache holds at most ``max_bytes`` of extracted files:
after adding an upload, the least recently used other uploads are removed until it fits.
A failed extraction leaves nothing behind.

Examples
--------
>>> import io, tempfile, zipfile
>>> buf = io.BytesIO()
>>> with zipfile.ZipFile(buf, "w") as zf:
...     zf.writestr("ok/a.txt", "x" * 10)
>>> cache = UploadCache(tempfile.mkdtemp(), max_bytes=1000)
>>> folder = cache.add("a.zip", buf.getvalue())
>>> (folder / "ok" / "a.txt").read_text() == "x" * 10, cache.usage()
(True, (1, 10))
>>> cache.clear(), cache.usage()
((1, 10), (0, 0))
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
from pathlib import Path

from gda_core.datasets.archive import MAX_TOTAL_BYTES, extract_zip

COMPLETE = ".complete"
SKIPPED = ".skipped"
DEFAULT_MAX_BYTES = 2 * MAX_TOTAL_BYTES
"""Default cap of the cache: room for the largest upload and another one."""


class UploadCache:
    """Extracted uploads under ``root``, at most ``max_bytes`` of files in all.

    Parameters
    ----------
    root : str or Path
        The cache folder (created when needed).
    max_bytes : int
        Cap on the extracted bytes kept; least recently used uploads go first.
    """

    def __init__(self, root: str | Path, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.root = Path(root)
        self.max_bytes = int(max_bytes)

    def add(self, name: str, payload: bytes) -> Path:
        """Extract ``payload`` (a zip named ``name``) once and return its folder.

        Entries that were not extracted (unsafe paths, links) are listed in ``.skipped``
        inside the folder (see :func:`skipped_entries`).  Then older uploads are evicted
        until the cache fits ``max_bytes``.

        Raises
        ------
        DatasetError
            A bad or oversized zip (nothing of it is kept), or one that alone is larger
            than the cache.
        """
        digest = hashlib.sha256(payload).hexdigest()[:16]
        dest = self.root / digest
        if (dest / COMPLETE).exists():
            os.utime(dest / COMPLETE)  # most recently used
            return dest
        shutil.rmtree(dest, ignore_errors=True)  # a half-extracted earlier attempt
        try:
            _, skipped = extract_zip(payload, dest,
                                     max_total_bytes=min(MAX_TOTAL_BYTES, self.max_bytes))
            (dest / SKIPPED).write_text("\n".join(skipped), encoding="utf-8")
            (dest / COMPLETE).write_text(name, encoding="utf-8")
        except BaseException:
            shutil.rmtree(dest, ignore_errors=True)
            raise
        self.evict(keep=dest)
        return dest

    def entries(self) -> list[tuple[Path, int, float]]:
        """``(folder, bytes, last used)`` of every complete upload, least recently used
        first."""
        out = []
        if not self.root.is_dir():
            return out
        for folder in self.root.iterdir():
            marker = folder / COMPLETE
            if folder.is_dir() and marker.exists():
                out.append((folder, _size(folder), marker.stat().st_mtime))
        return sorted(out, key=lambda e: e[2])

    def usage(self) -> tuple[int, int]:
        """``(uploads, bytes)`` in the cache."""
        entries = self.entries()
        return len(entries), sum(e[1] for e in entries)

    def evict(self, keep: Path | None = None) -> list[Path]:
        """Remove least recently used uploads (never ``keep``) until the cache fits; also
        leftovers of interrupted extractions older than an hour.  Returns what went."""
        gone = []
        entries = self.entries()
        total = sum(e[1] for e in entries)
        for folder, size, _ in entries:
            if total <= self.max_bytes:
                break
            if keep is not None and folder.resolve() == keep.resolve():
                continue
            shutil.rmtree(folder, ignore_errors=True)
            total -= size
            gone.append(folder)
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if (folder.is_dir() and not (folder / COMPLETE).exists()
                        and time.time() - folder.stat().st_mtime > 3600):
                    shutil.rmtree(folder, ignore_errors=True)
                    gone.append(folder)
        return gone

    def clear(self, keep: str | Path | None = None) -> tuple[int, int]:
        """Remove every upload but ``keep`` (e.g. the one in use); return ``(uploads,
        bytes)`` removed."""
        kept = None if keep is None else Path(keep).resolve()
        n = size = 0
        for folder, nbytes, _ in self.entries():
            if kept is not None and folder.resolve() == kept:
                continue
            shutil.rmtree(folder, ignore_errors=True)
            n, size = n + 1, size + nbytes
        if self.root.is_dir():  # leftovers of failed extractions
            for folder in self.root.iterdir():
                if folder.is_dir() and not (folder / COMPLETE).exists():
                    shutil.rmtree(folder, ignore_errors=True)
        return n, size


def skipped_entries(folder: str | Path | None) -> list[str]:
    """Zip entries that were not extracted into an upload folder (empty for other folders)."""
    if not folder:
        return []
    report = Path(folder) / SKIPPED
    if not report.is_file():
        return []
    try:
        return [line for line in report.read_text(encoding="utf-8").splitlines() if line]
    except OSError:
        return []


def _size(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        try:
            if path.is_file() and path.name not in (COMPLETE, SKIPPED):
                total += path.stat().st_size
        except OSError:
            continue
    return total
