"""Comparisons and ratio sweeps as background runs of the run store.

The dashboard's Compare page starts them with :func:`start_comparison` /
:func:`start_sweep`: each becomes a run (kind ``"comparison"`` / ``"ratio_sweep"``, the
same kinds saved results have) executed by a detached worker process
(:mod:`gda_core.runs.worker`), so it goes on when the tab closes or the page reloads.
While it runs, the run's progress summary holds what a page shows: the fraction done,
what it is doing, the elapsed time and an estimate of the time left; after every finished
unit (a method with one seed, or a sweep's seed) the partial result is saved as the run's
``result`` artifact, so a Stop, a failure or a killed worker keeps everything finished.
:func:`load_comparison` / :func:`~gda_core.experiments.persist.load_sweep` read it at any
time.

A run's settings are the comparison's :meth:`CompareConfig.to_dict` plus a ``"job"`` entry
(the executor and, for a sweep, its method, ratios and metric).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from gda_core.datasets import load_source
from gda_core.errors import ConfigError
from gda_core.experiments.compare import run_comparison
from gda_core.experiments.config import CompareConfig
from gda_core.experiments.persist import (
    RUN_KIND,
    SWEEP_KIND,
    comparison_files,
    comparison_summary,
    sweep_files,
    sweep_summary,
)
from gda_core.experiments.result import ComparisonResult, MethodRun
from gda_core.experiments.sweep import RatioSweep, check_sweep_settings, run_ratio_sweep
from gda_core.runs import RunContext, RunStore, StandbyWorkers, start_worker
from gda_core.runs.eta import JobProgress
from gda_core.runs.executors import ExecutorConfig

COMPARE_JOB = "gda_core.experiments.jobs:compare_job"
SWEEP_JOB = "gda_core.experiments.jobs:sweep_job"
WORKER_PRELOAD: tuple[str, ...] = ("gda_core.experiments.jobs", "gda_core.experiments.train")
"""Modules a warm worker (:class:`~gda_core.runs.StandbyWorkers`) imports for the
dashboard's jobs: comparisons, sweeps and training (torch comes with them)."""


def job_settings(config: CompareConfig, executor: ExecutorConfig | None = None,
                 sweep: dict[str, Any] | None = None) -> dict[str, Any]:
    """The run settings of a comparison (or, with ``sweep``, a ratio sweep) job.

    Examples
    --------
    >>> s = job_settings(CompareConfig(seeds=(0, 1)))
    >>> CompareConfig.from_dict(s) == CompareConfig(seeds=(0, 1)), s["job"]["executor"]["kind"]
    (True, 'local')
    """
    job: dict[str, Any] = {"executor": (executor or ExecutorConfig()).to_dict()}
    if sweep is not None:
        job["sweep"] = dict(sweep)
    return {**config.to_dict(), "job": job}


def start_comparison(store: RunStore, config: CompareConfig, *,
                     executor: ExecutorConfig | None = None, name: str = "",
                     standby: StandbyWorkers | None = None) -> str:
    """Validate the settings, create a comparison run and start its worker; return its id.

    ``standby``: hand the run to its warm worker (imports done) instead of starting one.

    Raises
    ------
    ConfigError
        For settings that cannot run (nothing is created then).
    """
    config.validate()
    (executor or ExecutorConfig()).check_available()
    run_id = store.create_run(RUN_KIND, job_settings(config, executor),
                              name=name or _default_name(config))
    _start(store, run_id, COMPARE_JOB, standby)
    return run_id


def _start(store: RunStore, run_id: str, job: str, standby: StandbyWorkers | None) -> None:
    if standby is None:
        start_worker(store.root, run_id, job)
    else:
        standby.start(store.root, run_id, job)


def start_sweep(store: RunStore, config: CompareConfig, method: str,
                ratios: Sequence[float], metric: str = "f1_macro", *,
                executor: ExecutorConfig | None = None, name: str = "",
                standby: StandbyWorkers | None = None) -> str:
    """Like :func:`start_comparison`, for :func:`~gda_core.experiments.run_ratio_sweep`."""
    config.validate()
    (executor or ExecutorConfig()).check_available()
    ratios = check_sweep_settings(method, ratios, metric)
    sweep = {"method": method, "ratios": ratios, "metric": metric}
    run_id = store.create_run(SWEEP_KIND, job_settings(config, executor, sweep),
                              name=name or f"{method} ratio sweep ({metric})")
    _start(store, run_id, SWEEP_JOB, standby)
    return run_id


def compare_job(ctx: RunContext) -> None:
    """Worker job: run the comparison of ``ctx.config``, saving the result after every unit.

    A stop request ends it after the current progress report (the unit in progress is
    abandoned; finished ones are kept) and the run ends ``stopped``.
    """
    config = CompareConfig.from_dict(ctx.config)
    executor = ExecutorConfig.from_dict(ctx.config.get("job", {}).get("executor"))
    report = JobProgress(ctx, whole=True)  # the units' progress is weighted by their cost
    total = len(config.seeds) * len(config.methods)

    def save(result: ComparisonResult) -> None:
        for kind, (data, suffix) in comparison_files(result).items():
            ctx.save_artifact(kind, data, suffix=suffix)
        report.summary = {**comparison_summary(result), "runs_done": len(result.runs),
                          "runs_total": total}

    def on_run(run: MethodRun, partial: ComparisonResult) -> None:
        save(partial)
        report(report.fraction, f"seed {run.seed} · {run.method}: "
               + ("failed" if run.error else "done"))

    report(0.0, f"loading {config.data.source}")
    splits = load_source(config.data.source, **config.data.load_kwargs())
    result = run_comparison(config, splits=splits, progress=report, on_run=on_run,
                            executor=executor, should_stop=ctx.should_stop)
    save(result)
    complete = result.is_complete()
    report.end(1.0 if complete else report.fraction, "done" if complete else "stopped")
    if not result.runs:
        if ctx.stop_seen:
            return
        raise ConfigError("the comparison produced no results")


def sweep_job(ctx: RunContext) -> None:
    """Worker job: run the ratio sweep of ``ctx.config``; the result is saved when each seed
    finishes (a stopped sweep keeps the seeds that finished)."""
    config = CompareConfig.from_dict(ctx.config)
    job = ctx.config.get("job", {})
    executor = ExecutorConfig.from_dict(job.get("executor"))
    sweep = job.get("sweep") or {}
    if "method" not in sweep:
        raise ConfigError("this run has no sweep settings")
    report = JobProgress(ctx)
    report(0.0, f"loading {config.data.source}")
    splits = load_source(config.data.source, **config.data.load_kwargs())

    def save(partial: RatioSweep) -> None:
        for kind, (data, suffix) in sweep_files(partial).items():
            ctx.save_artifact(kind, data, suffix=suffix)
        report.summary = sweep_summary(partial)

    result = run_ratio_sweep(config, sweep["method"], sweep.get("ratios", ()),
                             sweep.get("metric", "f1_macro"), splits=splits, progress=report,
                             executor=executor, should_stop=ctx.should_stop, on_seed=save)
    save(result)
    report.end(report.fraction if ctx.stop_seen else 1.0,
               "stopped" if ctx.stop_seen else "done")


def _default_name(config: CompareConfig) -> str:
    seeds = len(config.seeds)
    return (f"{config.data.source} · {', '.join(config.methods)} · {seeds} "
            f"seed{'s' if seeds != 1 else ''}")
