"""Comparisons and sweeps as background jobs: results per unit, Stop, killed workers, ETA;
the local executor's unit semantics."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from conftest import wait_until

from gda_core.datasets import ImbalanceSpec
from gda_core.errors import ConfigError, RunError
from gda_core.experiments import ClassifierConfig, CompareConfig, run_comparison
from gda_core.experiments.jobs import start_comparison, start_sweep
from gda_core.experiments.persist import list_sweeps, load_comparison, load_sweep
from gda_core.runs import FAILED, FINISHED, STOPPED, RunStore, reap_orphans, stop_run, wait_for_run
from gda_core.runs.eta import TimeLeft
from gda_core.runs.executors import ExecutorConfig, UnitFailure, run_units
from gda_core.runs.proc import pid_alive

FAST = ClassifierConfig(epochs=1, width=8, fc_units=32)
SPEC = ImbalanceSpec(ratio=0.2, minority_classes=(3, 8), classes=(0, 1, 3, 8),
                     majority_count=60, test_per_class=10)
SMALL = CompareConfig(imbalance=SPEC, methods=("baseline", "smote"), seeds=(0, 1),
                      method_params={"smote": {"k_neighbors": 3}}, classifier=FAST,
                      sample_quality=False)
SLOW_GAN = {"epochs": 1, "min_steps": 4000, "batch_size": 16, "latent_dim": 8, "width": 8}
"""A DCGAN that trains for minutes: the unit a test stops or kills."""


def runs_done(store: RunStore, run_id: str) -> int:
    return int((store.get_run(run_id).summary or {}).get("runs_done", 0))


# ------------------------------------------------------------------ local executor
def _unit(shared: int, item: int, report) -> int:
    report(0.5, f"item {item}")
    if item == 2:
        raise RuntimeError("unit 2 broke")
    return shared + item


def test_local_units_report_failures_and_go_on():
    got, reports = {}, []
    complete = run_units(_unit, [1, 2, 3], shared=10, on_result=got.__setitem__,
                         progress=lambda f, m: reports.append(round(f, 3)))
    assert complete
    assert got[1] == 11 and got[3] == 13
    assert isinstance(got[2], UnitFailure) and "unit 2 broke" in got[2].message
    assert reports == [0.167, 0.5, 0.833]           # inside each unit, on the job's scale


def test_local_units_stop_between_and_inside_units():
    got, calls = {}, []

    def stop() -> bool:
        calls.append(1)
        return len(got) >= 1          # stop once the first unit is in
    assert not run_units(_unit, [1, 3, 4], shared=0, on_result=got.__setitem__,
                         should_stop=stop)
    assert got == {1: 1}               # unit 3 was abandoned at its first progress report


def test_executor_settings_are_checked():
    with pytest.raises(ConfigError, match="unknown executor"):
        ExecutorConfig("dask").validate()
    with pytest.raises(ConfigError, match="only used with the ray"):
        ExecutorConfig("local", address="auto").validate()
    with pytest.raises(ConfigError, match="whole number"):
        ExecutorConfig("ray", num_cpus=0).validate()
    with pytest.raises(ConfigError, match="only set for the ray"):
        ExecutorConfig("local", num_cpus=2).validate()


def test_time_left_follows_the_pace_of_the_unit_in_progress():
    """Four quick units (80% of the job in 10 s), then a GAN at 0.1% of the job a second:
    the estimate is minutes, not the seconds the pace since the start would give."""
    now = [0.0]
    eta = TimeLeft(window=60, min_span=3, clock=lambda: now[0])
    for t, f, unit in [(0, 0.0, "seed 0 · baseline"), (2.5, 0.2, "seed 0 · smote"),
                       (5, 0.4, "seed 0 · adasyn"), (7.5, 0.6, "seed 0 · random"),
                       (10, 0.8, "seed 0 · dcgan")]:
        now[0] = t
        eta.update(f, unit)
    now[0] = 11
    assert eta.update(0.801, "seed 0 · dcgan") is None          # too early in the unit
    for t in range(12, 40):
        now[0] = t
        left = eta.update(0.8 + (t - 10) * 0.001, "seed 0 · dcgan")
    assert 150 < left < 200                                     # 0.17 left at 0.001/s
    now[0] = 41
    assert eta.update(1.0, "seed 0 · dcgan") == 0.0
    assert eta.update(0.2, "seed 1 · baseline") is None        # a new unit: a new pace


# ------------------------------------------------------------------ comparison jobs
def test_comparison_job_gives_the_same_result_as_in_process(store, digits_splits):
    run_id = start_comparison(store, SMALL)
    record = wait_for_run(store, run_id, timeout=180)
    assert record.status == FINISHED, record.error
    assert record.summary["runs_done"] == record.summary["runs_total"] == 4
    assert record.summary["eta_s"] is None and record.summary["message"] == "done"
    assert record.config["job"]["executor"]["kind"] == "local"
    job = load_comparison(store, run_id)
    here = run_comparison(SMALL, splits=digits_splits)
    assert job.is_complete()
    assert [(r.method, r.seed) for r in job.runs] == [(r.method, r.seed) for r in here.runs]
    for a, b in zip(job.runs, here.runs, strict=True):
        assert a.metrics == b.metrics and a.confusion_matrix == b.confusion_matrix
    assert np.array_equal(job.synthetic_samples["smote"][2], here.synthetic_samples["smote"][2])


def test_comparison_job_rejects_bad_settings_before_creating_a_run(store):
    with pytest.raises(ConfigError, match="unknown method"):
        start_comparison(store, CompareConfig(methods=("nope",)))
    with pytest.raises(ConfigError, match="unknown executor"):
        start_comparison(store, SMALL, executor=ExecutorConfig("dask"))
    assert store.list_runs(limit=None) == []


def _slow_config() -> CompareConfig:
    return CompareConfig(imbalance=SPEC, methods=("baseline", "smote", "dcgan"), seeds=(0,),
                         method_params={"smote": {"k_neighbors": 3}, "dcgan": SLOW_GAN},
                         classifier=FAST, sample_quality=False)


def test_stop_keeps_the_finished_methods(store):
    run_id = start_comparison(store, _slow_config())
    wait_until(lambda: runs_done(store, run_id) >= 2)       # baseline and SMOTE are in
    summary = store.get_run(run_id).summary
    assert "dcgan" in summary["message"] or summary["runs_done"] == 2
    wait_until(lambda: (store.get_run(run_id).summary or {}).get("eta_s") is not None)
    assert stop_run(store, run_id, timeout=20) == STOPPED
    record = store.get_run(run_id)
    assert record.error is None                 # it stopped by itself, within the timeout
    partial = load_comparison(store, run_id)
    assert [r.method for r in partial.runs] == ["baseline", "smote"]
    assert partial.missing_runs() == [("dcgan", 0)] and not partial.is_complete()
    assert record.summary["message"] == "stopped"


def test_a_killed_worker_keeps_what_finished(store):
    run_id = start_comparison(store, _slow_config())
    wait_until(lambda: runs_done(store, run_id) >= 2)
    os.killpg(store.get_run(run_id).pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(store.get_run(run_id).pid, store.get_run(run_id).pid_start),
               timeout=20)
    assert run_id in reap_orphans(store)
    assert store.get_run(run_id).status == FAILED
    partial = load_comparison(store, run_id)
    assert [r.method for r in partial.runs] == ["baseline", "smote"]


def test_a_running_comparison_without_results_says_so(store):
    run_id = store.create_run("comparison", SMALL.to_dict())
    store.set_status(run_id, "running")
    with pytest.raises(RunError, match="no saved result yet"):
        load_comparison(store, run_id)


# ------------------------------------------------------------------ sweep jobs
def test_sweep_job_saves_the_sweep(store, digits_splits):
    config = CompareConfig(imbalance=SPEC, methods=("baseline",), seeds=(0, 1),
                           method_params={"smote": {"k_neighbors": 3}}, classifier=FAST,
                           sample_quality=False)
    with pytest.raises(ConfigError, match="at least 0"):
        start_sweep(store, config, "smote", (0, -1))
    run_id = start_sweep(store, config, "smote", (0, 1))
    record = wait_for_run(store, run_id, timeout=180)
    assert record.status == FINISHED, record.error
    assert [r.id for r in list_sweeps(store)] == [run_id]
    sweep = load_sweep(store, run_id)
    assert sweep.runs["seed"].tolist() == [0, 0, 1, 1]
    assert record.summary["seeds_done"] == [0, 1]
