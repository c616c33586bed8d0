"""DRSO studies as background runs of the run store (the Pareto page starts and follows them).

A study run (kind :data:`RUN_KIND`) has the settings ``{"case": ..., "config": ...,
"archive": [...]}``: the case, the :class:`StudyConfig` and the fronts already computed for
the case (they join the best-known front the metrics are measured against).  When it
finishes it holds a ``result`` artifact (:meth:`StudyResult.to_dict` as JSON).  Stop ends
it at the next run (a study's summary only makes sense complete, so a stopped study has no
result).
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from gda_core.optimization.archive import FrontArchive
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.front import Front
from gda_core.optimization.study import StudyConfig, StudyResult, run_study
from gda_core.runs import RunContext, RunStore, start_worker
from gda_core.runs.records import RunRecord
from gda_core.runs.results import read_result, run_whole

RUN_KIND = "drso_study"
JOB = "gda_core.optimization.job:study_job"


def start_study(store: RunStore, case: DRSOCase, config: StudyConfig,
                archive: Sequence[Front] = ()) -> str:
    """Validate ``config``, create a study run and start its worker; return the run id.

    Raises
    ------
    ConfigError
        For settings that cannot run (nothing is created then).
    """
    config.settings()  # validates
    settings = {"case": case.to_dict(), "config": config.to_dict(),
                "archive": [f.to_dict() for f in archive]}
    n = len(config.settings())
    run_id = store.create_run(RUN_KIND, settings, name=f"{case.name} study ({n} runs)")
    start_worker(store.root, run_id, JOB)
    return run_id


def study_job(ctx: RunContext) -> None:
    """Worker job: run the study of ``ctx.config`` and save its result."""
    case = DRSOCase.from_dict(ctx.config["case"])
    config = StudyConfig.from_dict(ctx.config["config"])
    archive = FrontArchive(case)
    archive.extend(Front.from_dict(f) for f in ctx.config.get("archive", []))
    run_whole(ctx, lambda progress: run_study(case, config, archive=archive,
                                              progress=progress),
              lambda r: json.dumps(r.to_dict()).encode())


def list_studies(store: RunStore, limit: int | None = 50) -> list[RunRecord]:
    """Study runs, newest first."""
    return store.list_runs(RUN_KIND, limit)


def load_study(store: RunStore, run_id: str) -> StudyResult:
    """The result of study run ``run_id`` (:class:`RunError` when it has none)."""
    return read_result(store, run_id, RUN_KIND, "DRSO study", StudyResult.from_dict)
