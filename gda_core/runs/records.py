"""Run statuses, their allowed transitions, run ids and the records the store returns."""

from __future__ import annotations

import json
import re
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gda_core.errors import RunError

QUEUED = "queued"
RUNNING = "running"
STOPPING = "stopping"
STOPPED = "stopped"
FAILED = "failed"
FINISHED = "finished"

STATUSES = (QUEUED, RUNNING, STOPPING, STOPPED, FAILED, FINISHED)
ACTIVE_STATUSES = (QUEUED, RUNNING, STOPPING)
TERMINAL_STATUSES = (STOPPED, FAILED, FINISHED)

#: status -> the statuses it may change to.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    QUEUED: (RUNNING, FAILED, STOPPED),
    RUNNING: (STOPPING, FINISHED, FAILED),
    STOPPING: (STOPPED, FINISHED, FAILED),
    STOPPED: (),
    FAILED: (),
    FINISHED: (),
}

_RUN_ID = re.compile(r"[0-9]{8}-[0-9]{6}-[0-9a-z]{4,12}")
_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
_SUFFIX = re.compile(r"(\.[A-Za-z0-9]{1,10}){0,2}")


def new_run_id(now: float | None = None) -> str:
    """A short id that sorts by creation time (UTC), e.g. ``20261125-023012-ab12``."""
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(time.time() if now is None else now))
    return f"{stamp}-{secrets.token_hex(2)}"


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` unchanged, or raise :class:`RunError` if it is not a run id.

    Only ids of the form made by :func:`new_run_id` pass, so an id that came from a URL
    or a form can never name a path outside the store (no ``/``, ``..`` or NUL).
    """
    if not isinstance(run_id, str) or not _RUN_ID.fullmatch(run_id):
        raise RunError(f"{run_id!r} is not a valid run id (expected e.g. 20261125-023012-ab12)")
    return run_id


def check_name(value: str, what: str) -> str:
    """Validate an artifact kind (lower-case identifier, at most 32 characters)."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise ValueError(f"{what} must be a lower-case identifier like 'grid', got {value!r}")
    return value


def check_suffix(suffix: str) -> str:
    """Validate a file suffix such as ``.png``, ``.pt`` or ``.tar.gz`` (may be empty)."""
    if not isinstance(suffix, str) or not _SUFFIX.fullmatch(suffix):
        raise ValueError(f"artifact suffix must look like '.png', got {suffix!r}")
    return suffix


def check_transition(run_id: str, old: str, new: str) -> None:
    """Raise :class:`RunError` unless a run may go from status ``old`` to ``new``."""
    if new not in STATUSES:
        raise RunError(f"unknown run status {new!r}; expected one of {', '.join(STATUSES)}")
    if new not in TRANSITIONS[old]:
        allowed = ", ".join(TRANSITIONS[old]) or "nothing (it is over)"
        raise RunError(f"run {run_id} is {old} and cannot become {new}; "
                       f"a {old} run can become: {allowed}")


def _json_default(obj: Any) -> Any:
    """Make numpy / torch scalars and arrays JSON-serializable."""
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if hasattr(obj, "item"):
        return obj.item()
    if isinstance(obj, (set, tuple)):
        return list(obj)
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"object of type {type(obj).__name__} is not JSON-serializable")


def dumps(obj: Any) -> str:
    """JSON text of ``obj``; NaN and infinities are kept (Python's JSON reads them back)."""
    return json.dumps(obj, default=_json_default, separators=(",", ":"))


def loads(text: str | None) -> Any:
    """Inverse of :func:`dumps`; ``None`` stays ``None``."""
    return None if text is None else json.loads(text)


@dataclass(frozen=True)
class RunRecord:
    """One run as stored; times are seconds since the epoch.

    Attributes
    ----------
    id, kind, name : str
        Id, kind of job (e.g. ``"gan"``) and a label for people.
    config : dict
        Settings the job was started with.
    status : str
        One of :data:`STATUSES`.
    created, started, finished : float or None
        When the run was created, when its worker started it, when it ended.
    error : str or None
        Why it failed (or how it was stopped), in plain words.
    pid, pid_start : int or None
        Process id of the worker and its start time (clock ticks since boot, from
        ``/proc/<pid>/stat``; ``None`` where unavailable), to tell it from a reused pid.
    progress : float
        Fraction done, 0 to 1.
    summary : dict
        Latest summary the job reported (e.g. last losses).
    """

    id: str
    kind: str
    name: str
    config: dict[str, Any]
    status: str
    created: float
    started: float | None = None
    finished: float | None = None
    error: str | None = None
    pid: int | None = None
    pid_start: int | None = None
    progress: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def is_active(self) -> bool:
        """Queued, running or stopping."""
        return self.status in ACTIVE_STATUSES

    @property
    def is_terminal(self) -> bool:
        """Stopped, failed or finished."""
        return self.status in TERMINAL_STATUSES

    @property
    def seconds(self) -> float | None:
        """Seconds from start to end (or to now while it runs); ``None`` before it starts."""
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started


@dataclass(frozen=True)
class ArtifactRecord:
    """A file a run saved, e.g. a sample grid at some step."""

    run_id: str
    kind: str
    step: int | None
    path: Path
    created: float
