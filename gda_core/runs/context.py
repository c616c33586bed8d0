"""What a job function gets: its settings and buffered ways to report back to the store."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gda_core.runs.store import RunStore, event_step


class RunContext:
    """Handed to ``job(ctx)`` by the worker; all reporting goes through it.

    Events are buffered and written every ``flush_every`` seconds or ``flush_size``
    events (and before a grid is saved, on progress and at the end), so a job may log
    every step cheaply.  :meth:`should_stop` reads the store at most every
    ``check_every`` seconds.  Not thread-safe: call it from the job's own thread (the
    worker's SIGTERM handler only calls :meth:`request_stop`, which is safe).

    Parameters
    ----------
    store : RunStore
    run_id : str
    config : dict
        The run's settings (as given to :meth:`RunStore.create_run`).
    clock : callable, optional
        Monotonic clock (tests may pass a fake one).

    Examples
    --------
    >>> def my_job(ctx):                                           # doctest: +SKIP
    ...     for step in range(ctx.config["steps"]):
    ...         if ctx.should_stop():
    ...             return
    ...         ctx.log({"step": step, "loss": 0.1})
    ...         ctx.progress((step + 1) / ctx.config["steps"])
    """

    def __init__(self, store: RunStore, run_id: str, config: dict[str, Any], *,
                 flush_every: float = 0.5, flush_size: int = 50, check_every: float = 0.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.store = store
        self.run_id = run_id
        self.config = dict(config)
        self.flush_every = flush_every
        self.flush_size = flush_size
        self.check_every = check_every
        self._clock = clock
        self._buffer: list[dict[str, Any]] = []
        self._last_flush = clock()
        self._last_check = -math.inf
        self._stop = False
        self._pending_progress: tuple[float, dict[str, Any] | None] | None = None
        self._last_progress = -math.inf

    @property
    def artifact_dir(self) -> Path:
        """Folder of this run's files (created on demand), e.g. for scratch checkpoints."""
        folder = self.store.artifact_dir(self.run_id)
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def log(self, events: dict[str, Any] | list[dict[str, Any]]) -> None:
        """Buffer one metric dict or a list of them; each needs an integer ``'step'``."""
        batch = [events] if isinstance(events, dict) else list(events)
        now = time.time()
        for event in batch:
            event_step(event)  # fail in the job, not later in a flush
            self._buffer.append({"time": now, **event})
        if (len(self._buffer) >= self.flush_size
                or self._clock() - self._last_flush >= self.flush_every):
            self.flush()

    def flush(self) -> None:
        """Write buffered events and any throttled progress to the store now."""
        if self._buffer:
            events, self._buffer = self._buffer, []
            self.store.append_events(self.run_id, events)
        self._last_flush = self._clock()
        if self._pending_progress is not None:
            fraction, summary = self._pending_progress
            self._pending_progress = None
            self.store.set_progress(self.run_id, fraction, summary)
            self._last_progress = self._clock()

    def progress(self, fraction: float, summary: dict[str, Any] | None = None) -> None:
        """Report the fraction done (0..1) and optionally a summary dict.

        Written at most every ``flush_every`` seconds (the latest value wins), and
        always when ``fraction`` reaches 1 and at the end of the run.
        """
        pending = self._pending_progress
        if summary is None and pending is not None:
            summary = pending[1]
        self._pending_progress = (float(fraction), summary)
        if fraction >= 1 or self._clock() - self._last_progress >= self.flush_every:
            self.flush()

    def save_grid(self, step: int, png_bytes: bytes) -> Path:
        """Save a sample-grid PNG for ``step`` (after flushing the events before it)."""
        self.flush()
        return self.store.save_artifact(self.run_id, "grid", png_bytes, step=step)

    def save_artifact(self, kind: str, data: bytes, *, step: int | None = None,
                      suffix: str = ".png") -> Path:
        """Save any file of the run (a result, a checkpoint); see
        :meth:`RunStore.save_artifact`.  When the store cannot take it, the file is kept in
        :func:`~gda_core.runs.store.rescue_dir` and the error says so."""
        return self.store.save_artifact(self.run_id, kind, data, step=step, suffix=suffix,
                                        rescue=True)

    def request_stop(self) -> None:
        """Make :meth:`should_stop` true from now on (the worker's SIGTERM handler)."""
        self._stop = True

    @property
    def stop_seen(self) -> bool:
        """Whether this job has been told to stop (by the store or by a signal)."""
        return self._stop

    def should_stop(self) -> bool:
        """Whether the job should wrap up and return (stop requested or SIGTERM)."""
        if self._stop:
            return True
        now = self._clock()
        if now - self._last_check >= self.check_every:
            self._last_check = now
            if self.store.stop_requested(self.run_id):
                self._stop = True
        return self._stop
