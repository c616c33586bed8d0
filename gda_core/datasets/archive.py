"""Safe extraction of uploaded zips of class folders.

Nothing is ever written outside the destination: entries with absolute paths, drive
letters or ``..`` components and symbolic links are skipped and reported.  Zip bombs are
refused from the declared sizes before anything is written, and the bytes actually
written are counted too.
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path
from typing import BinaryIO

from gda_core.datasets.base import DatasetSplits
from gda_core.datasets.folder import DEFAULT_SIZE, load_image_folder
from gda_core.errors import DatasetError

ZipSource = str | Path | bytes | bytearray | memoryview | BinaryIO
MAX_TOTAL_BYTES = 512 * 1024**2
"""Default limit of a zip's unpacked size: 512 MiB (100,000 photos of 5 KiB, or 5,000 of
100 KiB); more is refused before anything is written."""
MAX_FILE_BYTES = 32 * 1024**2
"""Default limit of one unpacked entry: 32 MiB (no image of a dataset is that large)."""
_CHUNK = 1 << 20
_DRIVE = re.compile(r"^[A-Za-z]:")


def extract_zip(source: ZipSource, dest: str | Path, *, max_files: int = 20000,
                max_total_bytes: int = MAX_TOTAL_BYTES,
                max_file_bytes: int = MAX_FILE_BYTES) -> tuple[Path, list[str]]:
    """Extract a zip into ``dest`` without ever writing outside it.

    If extraction fails, what it wrote is removed again (``dest`` too, when it created it).

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The zip file, its content, or an open file.
    dest : str or Path
        Destination folder (created when missing).
    max_files : int
        Refuse zips with more file entries than this.
    max_total_bytes : int
        Refuse zips that declare, or turn out to hold, more uncompressed bytes than this.
    max_file_bytes : int
        Refuse zips with an entry that declares, or turns out to hold, more than this.

    Returns
    -------
    dest : Path
        The destination folder, resolved.
    report : list of str
        ``"entry name: reason"`` for every entry that was not extracted.

    Raises
    ------
    DatasetError
        Not a zip, a corrupt zip, or over ``max_files``, ``max_total_bytes`` or
        ``max_file_bytes``.

    Examples
    --------
    >>> dest, skipped = extract_zip("defects.zip", "data/defects")  # doctest: +SKIP
    """
    label = _label(source)
    dest = Path(dest).expanduser()
    with _open_zip(source, label) as zf:
        infos = zf.infolist()
        files = [i for i in infos if not i.is_dir()]
        if len(files) > max_files:
            raise DatasetError(f"{label} holds {len(files)} files; at most {max_files} are "
                               "accepted")
        declared = sum(i.file_size for i in files)
        if declared > max_total_bytes:
            raise DatasetError(f"{label} would unpack to {declared:,} bytes, over the limit "
                               f"of {max_total_bytes:,} (zip bomb protection)")
        big = next((i for i in files if i.file_size > max_file_bytes), None)
        if big is not None:
            raise DatasetError(f"{label}: {big.filename} would unpack to {big.file_size:,} "
                               f"bytes, over the limit of {max_file_bytes:,} per file (zip "
                               "bomb protection)")
        created = not dest.exists()
        dest.mkdir(parents=True, exist_ok=True)
        root = dest.resolve()
        report: list[str] = []
        written: list[Path] = []
        total = 0
        try:
            for info in infos:
                target, problem = _target(root, info)
                if problem:
                    report.append(f"{info.filename}: not extracted, {problem}")
                elif target is not None:
                    n = _extract_one(zf, info, target,
                                     min(max_total_bytes - total, max_file_bytes), label,
                                     report)
                    if n:
                        written.append(target)
                    total += n
        except BaseException:
            _remove(root if created else None, written)
            raise
    return root, report


def _remove(folder: Path | None, files: list[Path]) -> None:
    """Undo a failed extraction: the folder it created, else the files it wrote."""
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for f in files:
        with contextlib.suppress(OSError):
            f.unlink()


def load_image_zip(source: ZipSource, *, extract_to: str | Path | None = None,
                   image_size: int = DEFAULT_SIZE, color: str = "auto",
                   max_per_class: int | None = None, fit: str = "crop") -> DatasetSplits:
    """Extract a zip of class folders and load it with :func:`load_image_folder`.

    Parameters
    ----------
    source : str, Path, bytes or binary file object
        The zip (layout as for :func:`load_image_folder`, optionally wrapped in one folder).
    extract_to : str or Path, optional
        Where to extract; a temporary folder, removed after loading, when None.
    image_size, color, max_per_class, fit
        As for :func:`load_image_folder`.

    Returns
    -------
    DatasetSplits
        ``report`` holds the skipped zip entries followed by the skipped image files.

    Examples
    --------
    >>> splits = load_image_zip("defects.zip", extract_to="data/defects")  # doctest: +SKIP
    """
    label = _label(source)
    with tempfile.TemporaryDirectory(prefix="gda-zip-") as tmp:
        dest, skipped = extract_zip(source, extract_to if extract_to is not None else tmp)
        try:
            splits = load_image_folder(dest, image_size=image_size, color=color,
                                       max_per_class=max_per_class, fit=fit)
        except DatasetError as exc:
            raise DatasetError(f"{label}: {exc}") from exc
    src = {**splits.train.source, "name": "zip", "path": label}
    return DatasetSplits(
        train=dataclasses.replace(splits.train, source=src),
        test=None if splits.test is None else dataclasses.replace(splits.test, source=src),
        report=(*skipped, *splits.report),
    )


def _label(source: ZipSource) -> str:
    if isinstance(source, (str, Path)):
        return str(source)
    return getattr(source, "name", None) or "the uploaded zip"


def _open_zip(source: ZipSource, label: str) -> zipfile.ZipFile:
    if isinstance(source, (str, Path)):
        path = Path(source).expanduser()
        if not path.is_file():
            raise DatasetError(f"zip file {path} does not exist")
        fh: object = path
    elif isinstance(source, (bytes, bytearray, memoryview)):
        fh = io.BytesIO(bytes(source))
    else:
        fh = source
    try:
        return zipfile.ZipFile(fh)  # type: ignore[arg-type]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise DatasetError(f"{label} is not a zip file or is corrupt ({exc})") from exc


def _target(root: Path, info: zipfile.ZipInfo) -> tuple[Path | None, str | None]:
    """Where an entry goes, or why it must not be written (None, None: skip silently)."""
    name = info.filename.replace("\\", "/")
    if "\x00" in name:
        return None, "its name contains a NUL character"
    if name.startswith("/") or _DRIVE.match(name):
        return None, "absolute path"
    parts = [p for p in name.split("/") if p not in ("", ".")]
    if ".." in parts:
        return None, "path leads outside the folder ('..')"
    if not parts or parts[0] == "__MACOSX":
        return None, None
    if stat.S_ISLNK(info.external_attr >> 16):
        return None, "symbolic link"
    target = root.joinpath(*parts)
    if not target.resolve().is_relative_to(root):  # e.g. through a symlink already there
        return None, "path leads outside the folder"
    if info.is_dir():
        try:
            target.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            return None, f"folder could not be created ({exc})"
        return None, None
    return target, None


def _extract_one(zf: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int,
                 label: str, report: list[str]) -> int:
    """Write one entry, at most ``budget`` bytes; return the bytes written."""
    written = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with zf.open(info) as src, open(target, "wb") as out:
            while chunk := src.read(_CHUNK):
                written += len(chunk)
                if written > budget:
                    break
                out.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError,
            OSError) as exc:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        report.append(f"{info.filename}: not extracted, corrupt or unsupported entry ({exc})")
        return 0
    if written > budget:
        target.unlink(missing_ok=True)
        raise DatasetError(f"{label} unpacks to more bytes than it declares, over the limit "
                           "(zip bomb protection); nothing more was extracted")
    return written

