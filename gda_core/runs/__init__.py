"""Background runs: a SQLite run store and detached worker processes.

Training runs execute in their own OS process (:func:`start_worker`), so they survive
page reloads, several can run at once and the dashboard can stop them.  Progress,
per-step events and artifacts (sample grids, checkpoints, results) go to a
:class:`RunStore` that any thread or process can read while the worker writes.

Typical use::

    store = RunStore(default_runs_dir())
    run_id = store.create_run("train", TrainJobConfig(synthesizer="dcgan").to_dict())
    start_worker(store.root, run_id, "gda_core.experiments.train:train_job")
    reap_orphans(store)                       # before showing runs
    new = store.events(run_id, after_seq=seen)
    stop_run(store, run_id)

A job is any importable ``function(ctx: RunContext)``, named ``"package.module:function"``
(the training job above, :func:`gda_core.experiments.jobs.compare_job`, ...).
"""

from gda_core.errors import RunError
from gda_core.runs.context import RunContext
from gda_core.runs.records import (
    ACTIVE_STATUSES,
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    STATUSES,
    STOPPED,
    STOPPING,
    TERMINAL_STATUSES,
    TRANSITIONS,
    ArtifactRecord,
    RunRecord,
    check_run_id,
)
from gda_core.runs.store import RunStore, default_runs_dir
from gda_core.runs.worker import (
    ORPHAN_ERROR,
    StandbyWorkers,
    WarmWorker,
    load_job,
    reap_orphans,
    start_worker,
    stop_run,
    wait_for_run,
)

__all__ = [
    "ACTIVE_STATUSES",
    "FAILED",
    "FINISHED",
    "ORPHAN_ERROR",
    "QUEUED",
    "RUNNING",
    "STATUSES",
    "STOPPED",
    "STOPPING",
    "TERMINAL_STATUSES",
    "TRANSITIONS",
    "ArtifactRecord",
    "RunContext",
    "RunError",
    "RunRecord",
    "RunStore",
    "StandbyWorkers",
    "WarmWorker",
    "check_run_id",
    "default_runs_dir",
    "load_job",
    "reap_orphans",
    "start_worker",
    "stop_run",
    "wait_for_run",
]
