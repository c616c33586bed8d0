"""SQLite store of background runs: status, per-step events and artifact files.

Layout under the store's root::

    runs.sqlite3              runs, events and artifacts tables (WAL mode)
    artifacts/<run_id>/       files a run saved (sample grids, checkpoints, results)
    artifacts/<run_id>/worker.log

Every method opens its own short-lived connection, so one :class:`RunStore` may be used
from several threads (Streamlit) and several processes (workers) at once.  Writes take
the write lock up front (``BEGIN IMMEDIATE``) and are retried with a bounded backoff
when the database stays locked past ``busy_timeout``; a failed attempt is rolled back
as a whole, so a retry never loses or duplicates events.
"""

from __future__ import annotations

import contextlib
import operator
import os
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from gda_core.errors import RunError
from gda_core.runs import records as rec
from gda_core.runs.records import ArtifactRecord, RunRecord

T = TypeVar("T")

DB_NAME = "runs.sqlite3"
LOG_NAME = "worker.log"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS runs (
        id TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL DEFAULT '',
        config TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL,
        started REAL, finished REAL, error TEXT, pid INTEGER, pid_start INTEGER,
        progress REAL NOT NULL DEFAULT 0, summary TEXT)""",
    "CREATE INDEX IF NOT EXISTS runs_created ON runs (created)",
    "CREATE INDEX IF NOT EXISTS runs_status ON runs (status)",
    """CREATE TABLE IF NOT EXISTS events (
        run_id TEXT NOT NULL, seq INTEGER NOT NULL, step INTEGER NOT NULL,
        time REAL NOT NULL, payload TEXT NOT NULL,
        PRIMARY KEY (run_id, seq)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS artifacts (
        run_id TEXT NOT NULL, kind TEXT NOT NULL, step INTEGER, relpath TEXT NOT NULL,
        created REAL NOT NULL, PRIMARY KEY (run_id, relpath))""",
    "CREATE INDEX IF NOT EXISTS artifacts_kind ON artifacts (run_id, kind, created)",
)
_SCHEMA_NAMES = {"runs", "runs_created", "runs_status", "events", "artifacts",
                 "artifacts_kind"}
"""Tables and indexes :data:`_SCHEMA` creates."""
_RUN_COLUMNS = ("id, kind, name, config, status, created, started, finished, error, pid, "
                "pid_start, progress, summary")
_RESERVED_EVENT_KEYS = ("seq", "step", "time")


def default_runs_dir() -> Path:
    """``$GDA_RUNS_DIR`` if set, else ``./runs``."""
    return Path(os.environ.get("GDA_RUNS_DIR") or "runs")


def lock_wait(default: float) -> float:
    """Seconds to wait for a locked database: ``GDA_RUNS_LOCK_WAIT`` when it is a number
    >= 0, else ``default``.

    >>> isinstance(lock_wait(60.0), float)
    True
    """
    try:
        value = float(os.environ.get("GDA_RUNS_LOCK_WAIT", ""))
    except ValueError:
        return default
    return value if value >= 0 else default


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    msg = str(exc).lower()
    return "locked" in msg or "busy" in msg


def event_step(event: dict[str, Any]) -> int:
    """The integer ``step`` of a run event; ``ValueError`` when there is none.

    Examples
    --------
    >>> event_step({"step": 3, "loss": 0.5})
    3
    """
    if not isinstance(event, dict) or "step" not in event:
        raise ValueError(f"every event must be a dict with a 'step', got {event!r}")
    try:
        return operator.index(event["step"])
    except TypeError:
        raise ValueError(f"event 'step' must be an integer, got {event['step']!r}") from None


class RunStore:
    """Runs, their events and artifacts under one folder.

    Parameters
    ----------
    root : str or Path, optional
        Folder of the store (created if missing); default :func:`default_runs_dir`.
    busy_timeout : float
        Seconds SQLite itself waits for a lock before an attempt fails.
    retry_for : float, optional
        Seconds to keep retrying an operation that failed because the database was
        locked (backoff from 10 ms doubling up to 0.5 s) before giving up; default
        :func:`lock_wait` (60 s unless ``GDA_RUNS_LOCK_WAIT`` says otherwise).
    """

    def __init__(self, root: str | Path | None = None, *, busy_timeout: float = 5.0,
                 retry_for: float | None = None) -> None:
        self.root = Path(default_runs_dir() if root is None else root).absolute()
        self.retry_for = lock_wait(60.0) if retry_for is None else float(retry_for)
        self.busy_timeout = min(float(busy_timeout), max(self.retry_for, 0.1))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            (self.root / "artifacts").mkdir(exist_ok=True)
        except OSError as exc:
            raise RunError(f"cannot create the run store in {self.root}: "
                           f"{exc.strerror or exc}. Choose another folder (GDA_RUNS_DIR or "
                           "--runs-dir).") from None
        self._init_db()

    def __repr__(self) -> str:
        return f"RunStore({str(self.root)!r})"

    # -- plumbing -----------------------------------------------------------------------

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    def artifact_dir(self, run_id: str) -> Path:
        """``root/artifacts/<run_id>`` (not created here)."""
        return self.root / "artifacts" / rec.check_run_id(run_id)

    def log_path(self, run_id: str) -> Path:
        """The worker's stdout/stderr log of a run."""
        return self.artifact_dir(run_id) / LOG_NAME

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.db_path, timeout=self.busy_timeout, isolation_level=None)
        try:
            con.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout * 1000)}")
            con.execute("PRAGMA synchronous = NORMAL")
            yield con
        finally:
            con.close()

    def _retry(self, attempt: Callable[[], T]) -> T:
        deadline = time.monotonic() + self.retry_for
        delay = 0.01
        while True:
            try:
                return attempt()
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc) or time.monotonic() + delay > deadline:
                    raise self._unusable(exc) from None
            except sqlite3.DatabaseError as exc:  # not a database, malformed, ...
                raise self._unusable(exc) from None
            time.sleep(delay * random.uniform(0.5, 1.0))
            delay = min(delay * 2, 0.5)

    def _unusable(self, exc: sqlite3.Error) -> RunError:
        """A :class:`RunError` saying, in words, why the database cannot be used."""
        text = str(exc)
        low = text.lower()
        if "not a database" in low or "malformed" in low or "corrupt" in low:
            hint = ("the database file is damaged. Move it aside (runs.sqlite3; the artifacts "
                    "folder keeps the results' files) or choose another folder")
        elif "readonly" in low or "read-only" in low or "unable to open" in low:
            hint = "the folder or the database file is not writable. Choose another folder"
        elif "locked" in low or "busy" in low:
            hint = (f"another program kept it locked for over {self.retry_for:g} s. Try again "
                    "when it has finished")
        else:
            hint = "choose another folder if it persists"
        return RunError(f"the run store {self.db_path} cannot be used ({text}): {hint} "
                        "(GDA_RUNS_DIR or --runs-dir).")

    def _read(self, op: Callable[[sqlite3.Connection], T]) -> T:
        def attempt() -> T:
            with self._connect() as con:
                return op(con)
        return self._retry(attempt)

    def _write(self, op: Callable[[sqlite3.Connection], T]) -> T:
        def attempt() -> T:
            with self._connect() as con:
                con.execute("BEGIN IMMEDIATE")
                try:
                    out = op(con)
                    con.execute("COMMIT")
                except BaseException:
                    if con.in_transaction:
                        con.execute("ROLLBACK")
                    raise
                return out
        return self._retry(attempt)

    def _init_db(self) -> None:
        """WAL mode and the tables, written only when missing: opening a store another
        process is writing to (a worker) then only reads, and does not wait for the lock."""
        def state() -> tuple[str, set[str]]:
            with self._connect() as con:
                mode = con.execute("PRAGMA journal_mode").fetchone()[0]
                names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
                return str(mode).lower(), names
        mode, names = self._retry(state)

        if mode != "wal":
            def wal() -> None:
                with self._connect() as con:
                    con.execute("PRAGMA journal_mode = WAL")
            self._retry(wal)

        if not _SCHEMA_NAMES <= names:
            def schema(con: sqlite3.Connection) -> None:
                for statement in _SCHEMA:
                    con.execute(statement)
            self._write(schema)

    @staticmethod
    def _status(con: sqlite3.Connection, run_id: str) -> str:
        row = con.execute("SELECT status FROM runs WHERE id = ?", (run_id,)).fetchone()
        if row is None:
            raise RunError(f"there is no run {run_id} (it may have been deleted)")
        return row[0]

    @staticmethod
    def _record(row: tuple) -> RunRecord:
        (id_, kind, name, config, status, created, started, finished, error, pid,
         pid_start, progress, summary) = row
        return RunRecord(id=id_, kind=kind, name=name, config=rec.loads(config) or {},
                         status=status, created=created, started=started, finished=finished,
                         error=error, pid=pid, pid_start=pid_start, progress=progress,
                         summary=rec.loads(summary) or {})

    # -- runs ---------------------------------------------------------------------------

    def create_run(self, kind: str, config: dict[str, Any], name: str = "") -> str:
        """Add a queued run and return its id."""
        if not isinstance(kind, str) or not kind.strip():
            raise ValueError("a run needs a non-empty kind, e.g. 'gan'")
        config_json = rec.dumps(dict(config))

        def op(con: sqlite3.Connection) -> str:
            for _ in range(20):
                run_id = rec.new_run_id()
                try:
                    con.execute("INSERT INTO runs (id, kind, name, config, status, created) "
                                "VALUES (?, ?, ?, ?, ?, ?)",
                                (run_id, kind, str(name), config_json, rec.QUEUED, time.time()))
                except sqlite3.IntegrityError:
                    continue
                return run_id
            raise RuntimeError("could not find a free run id")
        return self._write(op)

    def get_run(self, run_id: str) -> RunRecord:
        """The run with this id; :class:`RunError` if there is none."""
        rec.check_run_id(run_id)
        row = self._read(lambda con: con.execute(
            f"SELECT {_RUN_COLUMNS} FROM runs WHERE id = ?", (run_id,)).fetchone())
        if row is None:
            raise RunError(f"there is no run {run_id} (it may have been deleted)")
        return self._record(row)

    def list_runs(self, kind: str | None = None, limit: int | None = 100, *,
                  status: str | Iterable[str] | None = None) -> list[RunRecord]:
        """Runs, newest first, optionally of one kind and/or with given status(es)."""
        where, args = [], []
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        if status is not None:
            wanted = [status] if isinstance(status, str) else list(status)
            where.append(f"status IN ({', '.join('?' * len(wanted))})")
            args.extend(wanted)
        sql = (f"SELECT {_RUN_COLUMNS} FROM runs"
               + (f" WHERE {' AND '.join(where)}" if where else "")
               + " ORDER BY created DESC, id DESC LIMIT ?")
        args.append(-1 if limit is None else int(limit))
        rows = self._read(lambda con: con.execute(sql, args).fetchall())
        return [self._record(r) for r in rows]

    def set_status(self, run_id: str, status: str, *, error: str | None = None) -> None:
        """Move a run to ``status``; :class:`RunError` if that transition is not allowed.

        Allowed: queued → running/failed/stopped, running → stopping/finished/failed,
        stopping → stopped/finished/failed.  ``started`` is set on entering running,
        ``finished`` on entering stopped/failed/finished; ``error`` is stored if given.
        """
        rec.check_run_id(run_id)

        def op(con: sqlite3.Connection) -> None:
            rec.check_transition(run_id, self._status(con, run_id), status)
            self._update_status(con, run_id, status, error)
        self._write(op)

    @staticmethod
    def _update_status(con: sqlite3.Connection, run_id: str, status: str,
                       error: str | None) -> None:
        sets, args = ["status = ?"], [status]
        if status == rec.RUNNING:
            sets.append("started = ?")
            args.append(time.time())
        if status in rec.TERMINAL_STATUSES:
            sets.append("finished = ?")
            args.append(time.time())
        if error is not None:
            sets.append("error = ?")
            args.append(str(error))
        con.execute(f"UPDATE runs SET {', '.join(sets)} WHERE id = ?", (*args, run_id))

    def finish_run(self, run_id: str, *, stopped: bool = False) -> str:
        """End a running/stopping run whose job returned normally; return the new status.

        It becomes ``stopped`` if a stop was requested (status ``stopping``) or
        ``stopped`` is true (e.g. the worker got SIGTERM), else ``finished``.  Decided
        in one transaction, so a stop requested at the same moment is not lost.
        """
        rec.check_run_id(run_id)

        def op(con: sqlite3.Connection) -> str:
            old = self._status(con, run_id)
            if old not in (rec.RUNNING, rec.STOPPING):
                raise RunError(f"run {run_id} is {old}; only a running or stopping run "
                               "can finish")
            new = rec.STOPPED if (stopped or old == rec.STOPPING) else rec.FINISHED
            self._update_status(con, run_id, new, None)
            return new
        return self._write(op)

    def set_worker(self, run_id: str, pid: int, pid_start: int | None = None) -> None:
        """Record the worker process of a run (see :attr:`RunRecord.pid_start`)."""
        rec.check_run_id(run_id)

        def op(con: sqlite3.Connection) -> None:
            self._status(con, run_id)
            con.execute("UPDATE runs SET pid = ?, pid_start = ? WHERE id = ?",
                        (int(pid), pid_start, run_id))
        self._write(op)

    def set_progress(self, run_id: str, progress: float,
                     summary: dict[str, Any] | None = None) -> None:
        """Set the fraction done (clipped to 0..1) and, if given, replace the summary."""
        rec.check_run_id(run_id)
        progress = float(progress)
        if progress != progress:
            raise ValueError("progress must be a number between 0 and 1, got NaN")
        progress = min(max(progress, 0.0), 1.0)
        summary_json = None if summary is None else rec.dumps(dict(summary))

        def op(con: sqlite3.Connection) -> None:
            self._status(con, run_id)
            con.execute("UPDATE runs SET progress = ?, summary = COALESCE(?, summary) "
                        "WHERE id = ?", (progress, summary_json, run_id))
        self._write(op)

    def request_stop(self, run_id: str) -> str:
        """Ask a run to stop and return its status afterwards.

        A running run becomes ``stopping`` (its worker sees this via
        :meth:`stop_requested` and ends it as ``stopped``); a queued run becomes
        ``stopped`` at once; any other run is left as it is.
        """
        rec.check_run_id(run_id)

        def op(con: sqlite3.Connection) -> str:
            old = self._status(con, run_id)
            new = {rec.RUNNING: rec.STOPPING, rec.QUEUED: rec.STOPPED}.get(old)
            if new is None:
                return old
            self._update_status(con, run_id, new, None)
            return new
        return self._write(op)

    def stop_requested(self, run_id: str) -> bool:
        """Whether the run was asked to stop (status ``stopping`` or ``stopped``)."""
        rec.check_run_id(run_id)
        status = self._read(lambda con: self._status(con, run_id))
        return status in (rec.STOPPING, rec.STOPPED)

    def delete_run(self, run_id: str) -> None:
        """Remove a run that is over, with its events and artifact folder."""
        rec.check_run_id(run_id)

        def op(con: sqlite3.Connection) -> None:
            status = self._status(con, run_id)
            if status in rec.ACTIVE_STATUSES:
                raise RunError(f"run {run_id} is {status}; stop it before deleting it")
            for table, column in (("events", "run_id"), ("artifacts", "run_id"), ("runs", "id")):
                con.execute(f"DELETE FROM {table} WHERE {column} = ?", (run_id,))
        self._write(op)
        shutil.rmtree(self.artifact_dir(run_id), ignore_errors=True)

    # -- events -------------------------------------------------------------------------

    def append_events(self, run_id: str, events: list[dict[str, Any]]) -> int:
        """Append per-step metric dicts (each with an integer ``'step'``); return last seq.

        Events get consecutive sequence numbers 1, 2, ... per run.  ``'time'`` is taken
        from the event if present, else now.  Any other keys are stored as JSON.
        """
        rec.check_run_id(run_id)
        now = time.time()
        rows = []
        for event in events:
            step = event_step(event)
            payload = {k: v for k, v in event.items() if k not in _RESERVED_EVENT_KEYS}
            rows.append((step, float(event.get("time", now)), rec.dumps(payload)))

        def op(con: sqlite3.Connection) -> int:
            self._status(con, run_id)
            (last,) = con.execute("SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?",
                                  (run_id,)).fetchone()
            con.executemany(
                "INSERT INTO events (run_id, seq, step, time, payload) VALUES (?, ?, ?, ?, ?)",
                [(run_id, last + i, *row) for i, row in enumerate(rows, start=1)])
            return last + len(rows)
        return self._write(op) if rows else self.last_seq(run_id)

    def last_seq(self, run_id: str) -> int:
        """Sequence number of the run's last event (0 when it has none)."""
        rec.check_run_id(run_id)
        return self._read(lambda con: con.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM events WHERE run_id = ?",
            (run_id,)).fetchone()[0])

    def events(self, run_id: str, *, after_seq: int = 0,
               limit: int | None = None) -> list[dict[str, Any]]:
        """Events with ``seq > after_seq`` in order, as ``{'seq', 'step', 'time', ...}``.

        Poll incrementally by passing the ``seq`` of the last event already seen.
        """
        rec.check_run_id(run_id)
        rows = self._read(lambda con: con.execute(
            "SELECT seq, step, time, payload FROM events WHERE run_id = ? AND seq > ? "
            "ORDER BY seq LIMIT ?",
            (run_id, int(after_seq), -1 if limit is None else int(limit))).fetchall())
        return [{"seq": seq, "step": step, "time": t, **rec.loads(payload)}
                for seq, step, t, payload in rows]

    # -- artifacts ----------------------------------------------------------------------

    def save_artifact(self, run_id: str, kind: str, data: bytes, *, step: int | None = None,
                      suffix: str = ".png", rescue: bool = False) -> Path:
        """Write ``data`` to ``artifacts/<run_id>/<kind>[-<step>]<suffix>`` and record it.

        The file is written to a temporary name and renamed into place, so readers never
        see a half-written file.  Saving the same kind and step again replaces it; an
        artifact without a step (e.g. the final ``result``) is one file per kind.  The file
        is written before the database is touched, so a database that cannot be used
        still leaves the file in place (the error names it).

        Parameters
        ----------
        rescue : bool
            When the file cannot be written into the store (a read-only or full folder),
            write it to :func:`rescue_dir` instead and say where in the error: for results
            and checkpoints that took long to compute.

        Raises
        ------
        RunError
            When the file cannot be written or recorded, or there is no such run.
        """
        rec.check_run_id(run_id)
        rec.check_name(kind, "artifact kind")
        rec.check_suffix(suffix)
        if step is not None:
            step = operator.index(step)
            if step < 0:
                raise ValueError(f"artifact step must be >= 0, got {step}")
        folder = self.artifact_dir(run_id)
        name = f"{kind}{suffix}" if step is None else f"{kind}-{step:08d}{suffix}"
        try:
            write_atomic(folder / name, data)
        except OSError as exc:
            message = (f"cannot write {name} of run {run_id} in {folder}: "
                       f"{exc.strerror or exc} (is the runs folder read-only or full?)")
            if rescue:
                message += " " + _rescue(run_id, name, data)
            raise RunError(message) from None
        relpath = (folder / name).relative_to(self.root).as_posix()

        def record(con: sqlite3.Connection) -> None:
            self._status(con, run_id)
            con.execute("INSERT OR REPLACE INTO artifacts (run_id, kind, step, relpath, "
                        "created) VALUES (?, ?, ?, ?, ?)",
                        (run_id, kind, step, relpath, time.time()))

        try:
            self._write(record)
        except RunError as exc:
            if str(exc).startswith("there is no run"):
                with contextlib.suppress(OSError):
                    (folder / name).unlink()
                    folder.rmdir()  # only when empty
                raise
            raise RunError(f"{exc} The file itself was written: {folder / name}") from None
        return folder / name

    def artifacts(self, run_id: str, kind: str | None = None) -> list[ArtifactRecord]:
        """Artifacts of a run (optionally of one kind), oldest first."""
        rec.check_run_id(run_id)
        sql = "SELECT run_id, kind, step, relpath, created FROM artifacts WHERE run_id = ?"
        args: tuple = (run_id,)
        if kind is not None:
            sql += " AND kind = ?"
            args += (kind,)
        rows = self._read(lambda con: con.execute(sql + " ORDER BY created, rowid",
                                                  args).fetchall())
        return [ArtifactRecord(r, k, s, self.root / p, c) for r, k, s, p, c in rows]

    def latest_artifact(self, run_id: str, kind: str) -> Path | None:
        """Path of the most recently saved artifact of this kind, or ``None``."""
        rec.check_run_id(run_id)
        row = self._read(lambda con: con.execute(
            "SELECT relpath FROM artifacts WHERE run_id = ? AND kind = ? "
            "ORDER BY created DESC, rowid DESC LIMIT 1", (run_id, kind)).fetchone())
        return None if row is None else self.root / row[0]


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file renamed into place (folders are
    created); readers never see half a file.  Raises :class:`OSError`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(data))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def rescue_dir() -> Path:
    """``<system temp>/gda-workbench-rescued``: where a result or checkpoint goes when the
    run store cannot take it (``GDA_RESCUE_DIR`` overrides)."""
    return Path(os.environ.get("GDA_RESCUE_DIR")
                or Path(tempfile.gettempdir()) / "gda-workbench-rescued")


def _rescue(run_id: str, name: str, data: bytes) -> str:
    """Write an artifact the store refused to :func:`rescue_dir`; say where (or that not)."""
    path = rescue_dir() / f"{run_id}-{name}"
    try:
        write_atomic(path, data)
    except OSError as exc:
        return f"It could not be kept elsewhere either ({path}: {exc.strerror or exc})."
    return f"It was kept in {path}."
