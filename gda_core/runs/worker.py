"""Run a job in its own OS process, stop it, and clean up after workers that died.

A worker is ``python -m gda_core.runs.worker --root ROOT --run ID --job module:function``,
started detached (own session) by :func:`start_worker`, so it keeps going when the page
that started it reloads or closes.  It marks the run running, calls ``function(ctx)``
with a :class:`~gda_core.runs.context.RunContext` and marks the run finished, stopped
or failed.  A worker killed outright cannot do that; :func:`reap_orphans` marks such
runs failed, keeping their events and artifacts.

Starting Python and importing torch and the job's modules takes seconds (4-5 s on 2
busy cores), which a user waits through before the first progress.  A
:class:`WarmWorker` is a worker started *before* its run: ``python -m
gda_core.runs.worker --standby`` imports the modules, then waits on its standard input
for the run it is given (:func:`start_worker` with ``warm=``), and exits if its parent
closes the pipe (or dies) first.  :class:`StandbyWorkers` keeps one ready for a
long-lived process such as the dashboard server.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import re
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from gda_core._compat.threads import prefer_short_spinning
from gda_core.errors import GDAError, RunError
from gda_core.runs import records as rec
from gda_core.runs.context import RunContext
from gda_core.runs.proc import kill_hard, pid_alive, process_start_time, send_signal
from gda_core.runs.records import RunRecord
from gda_core.runs.store import RunStore

ORPHAN_ERROR = "the worker process ended unexpectedly (killed?)"
NEVER_STARTED_ERROR = "its worker process never started"
NEVER_STARTED_AFTER = 120.0
"""Seconds after which a run that still has no worker process is marked failed."""
RESPAWN_DELAY = 3.0
"""Seconds :class:`StandbyWorkers` waits after handing a run over before it starts the next
warm worker (whose imports would otherwise compete with the run's first steps)."""
_JOB = re.compile(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*")


def load_job(spec: str) -> Callable[[RunContext], Any]:
    """Import ``"package.module:function"`` and return the function."""
    if not isinstance(spec, str) or not _JOB.fullmatch(spec):
        raise RunError(f"job {spec!r} must look like 'package.module:function'")
    module_name, func_name = spec.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise RunError(f"cannot import the job module {module_name!r}: {exc}") from exc
    func = getattr(module, func_name, None)
    if not callable(func):
        raise RunError(f"module {module_name!r} has no job function {func_name!r}")
    return func


def _worker_env() -> dict[str, str]:
    """The current environment, with this checkout importable and output unbuffered."""
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH"))
                                        if p)
    env["PYTHONUNBUFFERED"] = "1"
    prefer_short_spinning(env)  # workers share the cores with the app and each other
    return env


# -W: runpy warns that the package __init__ already imported this module; harmless.
_WORKER_CMD = ("-W", "ignore::RuntimeWarning:runpy", "-m", "gda_core.runs.worker")


def start_worker(store_root: str | Path, run_id: str, job: str, *,
                 warm: WarmWorker | None = None) -> int:
    """Launch a detached worker process for a queued run and return its pid.

    Parameters
    ----------
    store_root : str or Path
        Root of the :class:`RunStore` holding the run.
    run_id : str
        A queued run (see :meth:`RunStore.create_run`).
    job : str
        ``"package.module:function"``; the function is called as ``function(ctx)``.
    warm : WarmWorker, optional
        A worker started in advance: the run is handed to it (no interpreter start, no
        imports to wait for).  When it has died or cannot take the run, a new process
        is started as without it.

    The worker's stdout and stderr go to ``artifacts/<run_id>/worker.log``.
    """
    store = RunStore(store_root)
    record = store.get_run(run_id)
    if record.status != rec.QUEUED:
        raise RunError(f"run {run_id} is {record.status}; only a queued run can be started")
    if pid_alive(record.pid, record.pid_start):
        raise RunError(f"run {run_id} already has a worker (pid {record.pid})")
    if not _JOB.fullmatch(job):
        raise RunError(f"job {job!r} must look like 'package.module:function'")
    try:
        store.artifact_dir(run_id).mkdir(parents=True, exist_ok=True)
        if warm is not None and warm.hand(store.root, run_id, job):
            proc = warm.process
        else:
            cmd = [sys.executable, *_WORKER_CMD, "--root", str(store.root), "--run", run_id,
                   "--job", job]
            with open(store.log_path(run_id), "ab") as log:
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT, env=_worker_env(),
                                        start_new_session=True, close_fds=True)
    except OSError as exc:
        store.set_status(run_id, rec.FAILED, error=f"could not start the worker: {exc}")
        raise RunError(f"could not start the worker of run {run_id}: {exc}") from exc
    store.set_worker(run_id, proc.pid, process_start_time(proc.pid))
    # Reap the child when it exits so no zombie lingers in a long-lived server.
    threading.Thread(target=proc.wait, name=f"gda-run-{run_id}", daemon=True).start()
    return proc.pid


class WarmWorker:
    """A worker process started before its run, its imports done when the run comes.

    It runs ``python -m gda_core.runs.worker --standby``, imports ``preload`` (module
    names; a module that fails to import is skipped: the job reports the error) and then
    waits for one run on its standard input.  :func:`start_worker` hands it a run with
    ``warm=``; :meth:`close` (or the end of the process that started it, which closes the
    pipe) makes an idle one exit.  One warm worker takes one run.

    Parameters
    ----------
    preload : sequence of str
        Modules to import while waiting, e.g. the job's module
        (``"gda_core.experiments.train"``); torch comes with them.

    Examples
    --------
    >>> warm = WarmWorker(["json"])
    >>> warm.wait_ready(60), warm.alive()
    (True, True)
    >>> warm.close()
    >>> warm.process.wait(10)
    0
    """

    def __init__(self, preload: Sequence[str] = ()) -> None:
        names = [str(m) for m in preload]
        bad = [m for m in names if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*", m)]
        if bad:
            raise RunError(f"cannot preload {bad[0]!r}: not a module name")
        cmd = [sys.executable, *_WORKER_CMD, "--standby"]
        cmd += [arg for m in names for arg in ("--preload", m)]
        self.process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.DEVNULL, env=_worker_env(),
                                        start_new_session=True, close_fds=True)
        self._lock = threading.Lock()
        self._used = False
        self._ready = False

    def wait_ready(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for its imports to finish; whether they did."""
        if self._ready:
            return True
        out = self.process.stdout
        if out is None or not select.select([out], [], [], max(timeout, 0.0))[0]:
            return False
        self._ready = out.readline().strip() == b"ready"
        return self._ready

    def alive(self) -> bool:
        """Whether the process is running and has not been given a run yet."""
        return not self._used and self.process.poll() is None

    def hand(self, store_root: str | Path, run_id: str, job: str) -> bool:
        """Give it the run; False (and nothing given) when it is gone or already used.

        Call it through :func:`start_worker`, which checks the run and records the
        worker in the store.
        """
        with self._lock:
            if not self.alive():
                return False
            self._used = True
            message = json.dumps({"root": str(store_root), "run": run_id, "job": job})
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(message.encode() + b"\n")
                self.process.stdin.close()
            except (OSError, ValueError):  # it died just now
                return False
            return True

    def close(self) -> None:
        """Let an idle warm worker exit (a worker running its run goes on)."""
        with self._lock:
            self._used = True
            if self.process.stdin is not None and not self.process.stdin.closed:
                try:
                    self.process.stdin.close()
                except OSError:
                    pass


class StandbyWorkers:
    """Keeps one :class:`WarmWorker` ready for the next run of a long-lived process.

    :meth:`start` hands the run to the warm worker (or starts a cold one when it is not
    ready) and starts the next warm worker ``respawn_delay`` seconds later: importing
    torch takes a core for 2-3 s, which, started at once, competed with the new run's
    first steps (and the page drawing them) on a 2-core machine.  Thread-safe: the
    dashboard's sessions share one.  An idle warm worker holds the memory of an
    interpreter with torch imported (about 0.3-0.4 GB).

    Parameters
    ----------
    preload : sequence of str
        Modules every warm worker imports (see :class:`WarmWorker`).
    respawn_delay : float
        Seconds between handing a run over and starting the next warm worker
        (:meth:`prepare` does nothing until then).  ``bench/first_grid.py`` measures it.
    """

    def __init__(self, preload: Sequence[str] = (), *,
                 respawn_delay: float = RESPAWN_DELAY) -> None:
        self.preload = tuple(preload)
        self.respawn_delay = float(respawn_delay)
        self._lock = threading.Lock()
        self._warm: WarmWorker | None = None
        self._hold_until = 0.0
        self._timer: threading.Timer | None = None
        self._closed = False

    @property
    def warm(self) -> WarmWorker | None:
        """The warm worker waiting for the next run (None while none is started)."""
        with self._lock:
            return self._warm

    def prepare(self) -> None:
        """Start a warm worker unless one is ready (or the respawn delay is running)."""
        with self._lock:
            if self._closed or time.monotonic() < self._hold_until:
                return
            if self._warm is None or not self._warm.alive():
                try:
                    self._warm = WarmWorker(self.preload)
                except OSError:  # no process to spare: runs start cold
                    self._warm = None

    def wait_ready(self, timeout: float) -> bool:
        """Prepare a warm worker (after the respawn delay, if one is running) and wait up
        to ``timeout`` seconds in all for its imports."""
        end = time.monotonic() + max(timeout, 0.0)
        with self._lock:
            hold = self._hold_until
        time.sleep(max(0.0, min(hold, end) - time.monotonic()))
        self.prepare()
        with self._lock:
            warm = self._warm
        return warm is not None and warm.wait_ready(end - time.monotonic())

    def start(self, store_root: str | Path, run_id: str, job: str) -> int:
        """:func:`start_worker` with the warm worker; the next one is prepared
        ``respawn_delay`` seconds later."""
        with self._lock:
            warm, self._warm = self._warm, None
        try:
            return start_worker(store_root, run_id, job, warm=warm)
        finally:
            if warm is not None:
                warm.close()  # unused (the run failed its checks): let it go
            self._respawn_later()

    def _respawn_later(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._hold_until = time.monotonic() + self.respawn_delay
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.respawn_delay, self.prepare)
            self._timer.daemon = True  # never keeps a process alive
            self._timer.start()

    def close(self) -> None:
        """Let the idle warm worker exit (and start no other)."""
        with self._lock:
            self._closed = True
            warm, self._warm = self._warm, None
            timer, self._timer = self._timer, None
        if timer is not None:
            timer.cancel()
        if warm is not None:
            warm.close()


def reap_orphans(store: RunStore) -> list[str]:
    """Mark runs whose worker is gone as failed; return their ids.

    A queued, running or stopping run with a recorded pid whose process no longer
    exists, is a zombie, or is another process that reused the pid (different start
    time) becomes ``failed`` with :data:`ORPHAN_ERROR`; a run that got no worker process
    within :data:`NEVER_STARTED_AFTER` seconds (its start failed half-way) becomes
    ``failed`` with :data:`NEVER_STARTED_ERROR`.  Events and artifacts stay.
    Call it before showing the list of runs.
    """
    reaped = []
    now = time.time()
    for record in store.list_runs(limit=None, status=rec.ACTIVE_STATUSES):
        if record.pid is None:
            if now - record.created > NEVER_STARTED_AFTER:
                try:
                    store.set_status(record.id, rec.FAILED, error=NEVER_STARTED_ERROR)
                except RunError:
                    continue
                reaped.append(record.id)
            continue
        if pid_alive(record.pid, record.pid_start):
            continue
        try:
            store.set_status(record.id, rec.FAILED, error=ORPHAN_ERROR)
        except RunError:
            continue  # it ended (or was deleted) in the meantime
        reaped.append(record.id)
    return reaped


def _ended(store: RunStore, run_id: str) -> RunRecord | None:
    """The run if it is over or its worker is gone (reaping it then), else ``None``."""
    record = store.get_run(run_id)
    if record.is_active and record.pid is not None and not pid_alive(record.pid,
                                                                     record.pid_start):
        reap_orphans(store)
        record = store.get_run(run_id)
    return None if record.is_active else record


def wait_for_run(store: RunStore, run_id: str, timeout: float | None = None,
                 poll: float = 0.1) -> RunRecord:
    """Block until the run is over (reaping it if its worker died); ``TimeoutError`` if not."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        record = store.get_run(run_id)
        if not record.is_active:
            return record
        if record.pid is not None and not pid_alive(record.pid, record.pid_start):
            reap_orphans(store)
        elif deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} is still {record.status} after {timeout} s")
        else:
            time.sleep(poll)


def _wait_ended(store: RunStore, run_id: str, timeout: float) -> RunRecord | None:
    deadline = time.monotonic() + timeout
    while True:
        record = _ended(store, run_id)
        if record is not None or time.monotonic() >= deadline:
            return record
        time.sleep(0.05)


def stop_run(store: RunStore, run_id: str, *, timeout: float = 5.0) -> str:
    """Stop a run and return its status afterwards.

    Asks the job to stop (:meth:`RunStore.request_stop`), waits up to ``timeout``
    seconds, then sends the worker SIGTERM (which also makes ``ctx.should_stop()`` true),
    waits ``timeout`` more and finally kills it (with its process group); a killed
    worker's run is marked stopped with a note that it had to be killed.
    """
    store.request_stop(run_id)
    record = _wait_ended(store, run_id, timeout)
    if record is not None:
        return record.status
    record = store.get_run(run_id)
    if record.pid is not None and pid_alive(record.pid, record.pid_start):
        send_signal(record.pid, signal.SIGTERM)
    record = _wait_ended(store, run_id, timeout)
    if record is not None:
        return record.status
    record = store.get_run(run_id)
    if record.pid is not None and pid_alive(record.pid, record.pid_start):
        kill_hard(record.pid)
        deadline = time.monotonic() + 5
        while pid_alive(record.pid, record.pid_start) and time.monotonic() < deadline:
            time.sleep(0.02)
        try:
            store.set_status(run_id, rec.STOPPED,
                             error=f"the worker did not stop within {2 * timeout:g} s "
                                   "and was killed")
        except RunError:
            pass  # it ended by itself at the last moment
    return store.get_run(run_id).status


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, GDAError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"


def _run_job(ctx: RunContext, job: str) -> int:
    """Call the job and record how it ended; the run is already marked running."""
    store, run_id = ctx.store, ctx.run_id
    try:
        load_job(job)(ctx)
        ctx.flush()
    except BaseException as exc:
        traceback.print_exc()
        try:
            ctx.flush()
        except Exception:
            traceback.print_exc()
        message = _failure_message(exc)
        print(f"[worker] run {run_id} failed: {message}", flush=True)
        try:
            store.set_status(run_id, rec.FAILED, error=message)
        except RunError as status_exc:  # deleted or reaped meanwhile
            print(f"[worker] could not record the failure: {status_exc}", flush=True)
        return 1
    status = store.finish_run(run_id, stopped=ctx.stop_seen)
    print(f"[worker] run {run_id} {status}", flush=True)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m gda_core.runs.worker``; returns the exit status.

    0 when the job finished or stopped, 1 when it failed, 2 when the run could not be
    started (it does not exist, or is no longer queued, e.g. stopped while queued).
    """
    parser = argparse.ArgumentParser(prog="python -m gda_core.runs.worker",
                                     description="Run one job of a GDA run store.")
    parser.add_argument("--root", help="root folder of the run store")
    parser.add_argument("--run", help="id of a queued run")
    parser.add_argument("--job", help="package.module:function")
    parser.add_argument("--standby", action="store_true",
                        help="import --preload modules, then read the run as one JSON line "
                             "{root, run, job} from standard input (exit 0 at its end)")
    parser.add_argument("--preload", action="append", default=[],
                        help="module to import while on standby (repeatable)")
    args = parser.parse_args(argv)
    if args.standby:
        given = _standby(args.preload)
        if given is None:
            return 0
        args.root, args.run, args.job = given
    elif not (args.root and args.run and args.job):
        parser.error("--root, --run and --job are required (or --standby)")
    pid = os.getpid()
    print(f"[worker] pid {pid} run {args.run} job {args.job}", flush=True)
    try:
        store = RunStore(args.root)
        ctx = RunContext(store, args.run, store.get_run(args.run).config)
        # SIGTERM (e.g. from stop_run) asks the job to stop instead of killing it.
        signal.signal(signal.SIGTERM, lambda signum, frame: ctx.request_stop())
        store.set_worker(args.run, pid, process_start_time(pid))
        store.set_status(args.run, rec.RUNNING)
    except RunError as exc:
        print(f"[worker] not starting: {exc}", flush=True)
        return 2
    if ctx.stop_seen:  # SIGTERM before the job began
        store.finish_run(args.run, stopped=True)
        return 0
    return _run_job(ctx, args.job)


def _standby(preload: Sequence[str]) -> tuple[str, str, str] | None:
    """Import ``preload``, wait for the run; None when the pipe closes first.

    Once a run is given, standard output and error go to the run's ``worker.log`` (as a
    cold worker's do).
    """
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception:  # the job will say what is wrong
            pass
    try:
        os.write(1, b"ready\n")  # WarmWorker.wait_ready
    except OSError:
        pass
    try:
        given = json.loads(sys.stdin.readline() or "null")
    except ValueError:
        return None
    if not isinstance(given, dict) or not all(isinstance(given.get(k), str)
                                              for k in ("root", "run", "job")):
        return None
    try:
        rec.check_run_id(given["run"])
    except RunError:
        return None  # not a run id: nothing to start, no store to open
    try:
        log_path = RunStore(given["root"]).log_path(given["run"])
        fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    except (OSError, RunError):
        pass  # output stays discarded; the run still starts and records its status
    else:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        os.close(fd)
    return given["root"], given["run"], given["job"]


if __name__ == "__main__":
    sys.exit(main())
