"""What job functions share: running a computation that is kept only complete, and finding
and reading the ``result`` artifact a job saved."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from gda_core.errors import RunError
from gda_core.runs.context import RunContext
from gda_core.runs.eta import JobProgress
from gda_core.runs.executors import StopRequested
from gda_core.runs.store import RunStore

T = TypeVar("T")


def run_whole(ctx: RunContext, compute: Callable[[Callable[[float, str], None]], T],
              save: Callable[[T], bytes]) -> T | None:
    """Run ``compute(progress)`` in a job and save its result, or nothing if stopped.

    ``progress(fraction, message)`` reports to the run store (:class:`JobProgress`: time
    left, elapsed) and raises :class:`StopRequested` once a stop was asked for, which ends
    the computation: its result is only meaningful complete (a study's summary, a replay's
    checks), so a stopped job saves nothing.  ``save(result)`` gives the bytes of the
    ``result`` artifact (JSON).

    Returns
    -------
    The result, or None when the job was stopped.
    """
    report = JobProgress(ctx)

    def progress(fraction: float, message: str) -> None:
        report(fraction, message)
        if ctx.should_stop():
            raise StopRequested

    try:
        result = compute(progress)
    except StopRequested:
        report.end(report.fraction, "stopped")
        return None
    ctx.save_artifact("result", save(result), suffix=".json")
    report.end(1.0, "done")
    return result


def result_path(store: RunStore, run_id: str, kind: str, what: str) -> Path:
    """The ``result`` artifact of run ``run_id`` of ``kind`` (``what`` names the kind for
    people, e.g. ``"comparison"``).

    Raises
    ------
    RunError
        When the run does not exist, is of another kind, or has no result (yet, or because
        it was stopped or failed).
    """
    record = store.get_run(run_id)
    if record.kind != kind:
        raise RunError(f"run {run_id} is a {record.kind} run, not a {what}")
    path = store.latest_artifact(run_id, "result")
    if path is None or not path.is_file():
        raise RunError(f"{what} run {run_id} has no saved result"
                       + (" yet" if record.is_active else
                          "" if record.status == "finished" else f" ({record.status})"))
    return path


def read_result(store: RunStore, run_id: str, kind: str, what: str,
                parse: Callable[[Any], T]) -> T:
    """``parse(json)`` of run ``run_id``'s ``result`` artifact (see :func:`result_path`).

    Raises
    ------
    RunError
        As :func:`result_path`, and when the file cannot be read or is not a saved
        ``what`` (damaged, cut short, or edited by hand): the message names the file.
    """
    path = result_path(store, run_id, kind, what)
    try:
        return parse(json.loads(path.read_text(encoding="utf-8")))
    except OSError as exc:
        raise RunError(f"the result of {what} run {run_id} cannot be read "
                       f"({exc.strerror or exc}): {path}") from None
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
        raise RunError(f"the result file of {what} run {run_id} is damaged "
                       f"({type(exc).__name__}: {exc}); delete the run or restore {path}"
                       ) from None
