"""Replays as background runs of the run store (the Replays page starts and follows them).

A replay run (kind :data:`RUN_KIND`) has the settings ``{"name": ..., "options": {...}}``
and, when it finishes, a ``result`` artifact (:meth:`ReplayResult.to_dict` as JSON).  Its
progress summary carries the message, the elapsed time and the time left.  Stop ends it at
the next progress report (a replay's numbers only make sense complete, so a stopped replay
has no result).
"""

from __future__ import annotations

import json
from dataclasses import asdict

from gda_core.errors import ConfigError
from gda_core.replays.base import ReplayOptions, ReplayResult
from gda_core.replays.registry import REPLAYS, run_replay
from gda_core.runs import RunContext, RunStore, start_worker
from gda_core.runs.records import RunRecord
from gda_core.runs.results import read_result, run_whole

RUN_KIND = "replay"
JOB = "gda_core.replays.job:replay_job"


def start_replay(store: RunStore, name: str, options: ReplayOptions) -> str:
    """Create a replay run and start its worker; return the run id.

    Raises
    ------
    ConfigError
        For an unknown replay (nothing is created then).
    """
    if name not in REPLAYS:
        raise ConfigError(f"unknown replay {name!r}; choose from {', '.join(REPLAYS)}")
    run_id = store.create_run(RUN_KIND, {"name": name, "options": asdict(options)},
                              name=f"{REPLAYS[name].title} ({options.scale})")
    start_worker(store.root, run_id, JOB)
    return run_id


def replay_job(ctx: RunContext) -> None:
    """Worker job: run the replay of ``ctx.config`` and save its result."""
    name = str(ctx.config.get("name"))
    options = ReplayOptions(**dict(ctx.config.get("options") or {}))
    result = run_whole(ctx, lambda progress: run_replay(name, options, progress),
                       lambda r: json.dumps(r.to_dict()).encode())
    if result is not None:
        ctx.progress(1.0, {"message": "done", "matched": result.n_matched,
                           "verdicts": result.n_verdicts, "checks": len(result.checks),
                           "summary": result.summary()})


def list_replays(store: RunStore, limit: int | None = 50) -> list[RunRecord]:
    """Replay runs, newest first."""
    return store.list_runs(RUN_KIND, limit)


def load_replay(store: RunStore, run_id: str) -> ReplayResult:
    """The result of replay run ``run_id`` (:class:`RunError` when it has none)."""
    return read_result(store, run_id, RUN_KIND, "replay", ReplayResult.from_dict)
