"""Worker processes: finish, stop, fail, get killed, run side by side; RunContext buffering."""

from __future__ import annotations

import io
import math
import os
import signal
import subprocess
from pathlib import Path

import pytest
from conftest import wait_until
from PIL import Image

from gda_core.errors import RunError
from gda_core.runs import (
    FAILED,
    FINISHED,
    ORPHAN_ERROR,
    QUEUED,
    RUNNING,
    STOPPED,
    RunContext,
    RunStore,
    reap_orphans,
    start_worker,
    stop_run,
    wait_for_run,
)
from gda_core.runs.proc import pid_alive, process_start_time

JOB = "tests.jobs_for_tests:count_job"


def launch(store: RunStore, **config) -> tuple[str, int]:
    run_id = store.create_run("demo", config)
    return run_id, start_worker(store.root, run_id, JOB)


def test_count_job_finishes_with_all_events(store: RunStore) -> None:
    run_id, pid = launch(store, steps=30, grid_every=10)
    record = wait_for_run(store, run_id, timeout=30)
    assert record.status == FINISHED, store.log_path(run_id).read_text()
    assert record.error is None and record.pid == pid and record.progress == 1.0
    assert record.started is not None and record.finished >= record.started
    assert record.summary == {"last_value": 29.0}
    events = store.events(run_id)
    assert [e["step"] for e in events] == list(range(30))
    assert [e["value"] for e in events] == [float(i) for i in range(30)]
    assert [a.step for a in store.artifacts(run_id, "grid")] == [0, 10, 20, 29]
    grid = Image.open(io.BytesIO(store.latest_artifact(run_id, "grid").read_bytes()))
    assert grid.size == (32, 32)
    assert store.latest_artifact(run_id, "result").name == "result.json"
    assert "finished" in store.log_path(run_id).read_text()
    wait_until(lambda: not pid_alive(pid))
    assert reap_orphans(store) == []


def test_stop_request_stops_the_run(store: RunStore) -> None:
    run_id, _ = launch(store, steps=100_000, sleep=0.01)
    wait_until(lambda: len(store.events(run_id)) >= 3)
    store.request_stop(run_id)
    record = wait_for_run(store, run_id, timeout=20)
    assert record.status == STOPPED and record.error is None
    assert 3 <= len(store.events(run_id)) < 100_000


def test_sigterm_stops_cleanly(store: RunStore) -> None:
    run_id, pid = launch(store, steps=100_000, sleep=0.01)
    wait_until(lambda: len(store.events(run_id)) >= 3)
    os.kill(pid, signal.SIGTERM)
    record = wait_for_run(store, run_id, timeout=20)
    assert record.status == STOPPED and record.error is None


def test_stop_run_kills_a_job_that_ignores_stops(store: RunStore) -> None:
    run_id, pid = launch(store, steps=100_000, sleep=0.01, ignore_stop=True)
    wait_until(lambda: store.get_run(run_id).status == RUNNING)
    assert stop_run(store, run_id, timeout=0.3) == STOPPED
    record = store.get_run(run_id)
    assert "was killed" in record.error
    assert not pid_alive(pid, record.pid_start)


def test_stop_run_of_a_cooperative_job(store: RunStore) -> None:
    run_id, _ = launch(store, steps=100_000, sleep=0.01)
    wait_until(lambda: store.get_run(run_id).status == RUNNING)
    assert stop_run(store, run_id, timeout=10) == STOPPED
    assert store.get_run(run_id).error is None


@pytest.mark.parametrize(("config", "message"), [
    ({"raise_at": 3}, "count_job was told to fail at step 3"),
    ({"nan_at": 4}, "the value became NaN at step 4 (training diverged)"),
    ({"steps": 0}, "count_job: 'steps' must be an integer >= 1, got 0"),
])
def test_gda_errors_fail_the_run_with_their_message(store: RunStore, config, message) -> None:
    run_id, _ = launch(store, **config)
    record = wait_for_run(store, run_id, timeout=20)
    assert record.status == FAILED and record.error == message
    events = store.events(run_id)
    if "raise_at" in config:
        assert [e["step"] for e in events] == [0, 1, 2]
    if "nan_at" in config:
        assert math.isnan(events[-1]["value"]) and len(events) == 5


def test_other_errors_fail_with_type_and_traceback_in_log(store: RunStore) -> None:
    run_id, _ = launch(store, raise_at=2, raise_type="runtime")
    record = wait_for_run(store, run_id, timeout=20)
    assert record.status == FAILED
    assert record.error == "RuntimeError: count_job was told to crash at step 2"
    log = store.log_path(run_id).read_text()
    assert "Traceback (most recent call last)" in log and "count_job" in log
    assert "Traceback" not in record.error


def test_unknown_job_function_fails_the_run(store: RunStore) -> None:
    run_id = store.create_run("demo", {})
    start_worker(store.root, run_id, "tests.jobs_for_tests:no_such_job")
    record = wait_for_run(store, run_id, timeout=20)
    assert record.status == FAILED and "no job function 'no_such_job'" in record.error


def test_sigkill_leaves_failed_run_with_events_and_grid(store: RunStore) -> None:
    run_id, pid = launch(store, steps=100_000, sleep=0.01, grid_every=2)
    wait_until(lambda: len(store.artifacts(run_id, "grid")) >= 3)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not pid_alive(pid))
    n_events = len(store.events(run_id))
    assert n_events >= 5
    assert store.get_run(run_id).status == RUNNING  # nobody has noticed yet
    assert reap_orphans(store) == [run_id]
    record = store.get_run(run_id)
    assert record.status == FAILED and record.error == ORPHAN_ERROR
    assert record.finished is not None
    assert len(store.events(run_id)) == n_events
    Image.open(store.latest_artifact(run_id, "grid")).verify()
    assert reap_orphans(store) == []


def test_two_workers_do_not_cross_talk(store: RunStore) -> None:
    a, _ = launch(store, steps=40, scale=1.0, sleep=0.005, grid_every=7)
    b, _ = launch(store, steps=25, scale=-2.0, sleep=0.005, grid_every=5)
    assert wait_for_run(store, a, timeout=30).status == FINISHED
    assert wait_for_run(store, b, timeout=30).status == FINISHED
    ea, eb = store.events(a), store.events(b)
    assert [e["value"] for e in ea] == [float(i) for i in range(40)]
    assert [e["value"] for e in eb] == [-2.0 * i for i in range(25)]
    assert [e["seq"] for e in ea] == list(range(1, 41))
    assert [e["seq"] for e in eb] == list(range(1, 26))
    assert [g.step for g in store.artifacts(a, "grid")] == [0, 7, 14, 21, 28, 35, 39]
    assert [g.step for g in store.artifacts(b, "grid")] == [0, 5, 10, 15, 20, 24]
    assert all(g.path.parent.name == a for g in store.artifacts(a, "grid"))


def test_start_worker_refuses_bad_requests(store: RunStore) -> None:
    run_id = store.create_run("demo", {})
    with pytest.raises(RunError, match=r"package\.module:function"):
        start_worker(store.root, run_id, "os:system; rm -rf /")
    with pytest.raises(RunError, match="not a valid run id"):
        start_worker(store.root, "../" + run_id, JOB)
    store.request_stop(run_id)  # a queued run stops at once
    with pytest.raises(RunError, match="only a queued run"):
        start_worker(store.root, run_id, JOB)


def test_reap_orphans_checks_pid_and_start_time(store: RunStore) -> None:
    me = os.getpid()
    alive = store.create_run("demo", {})
    store.set_worker(alive, me, process_start_time(me))
    store.set_status(alive, RUNNING)
    reused = store.create_run("demo", {})  # our pid, but another process's start time
    store.set_worker(reused, me, (process_start_time(me) or 0) + 1)
    store.set_status(reused, RUNNING)
    never_started = store.create_run("demo", {})
    dead = store.create_run("demo", {})
    proc = subprocess.Popen(["true"])
    proc.wait()
    store.set_worker(dead, proc.pid, None)  # a queued run whose worker died early
    reaped = reap_orphans(store)
    assert sorted(reaped) == sorted([reused, dead])
    assert store.get_run(alive).status == RUNNING
    assert store.get_run(never_started).status == QUEUED
    assert store.get_run(dead).error == ORPHAN_ERROR


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_context_buffers_events_and_throttles_stop_checks(store: RunStore) -> None:
    run_id = store.create_run("demo", {"x": 1})
    store.set_status(run_id, RUNNING)
    clock = FakeClock()
    ctx = RunContext(store, run_id, store.get_run(run_id).config, clock=clock)
    assert ctx.config == {"x": 1}
    for step in range(10):
        ctx.log({"step": step, "loss": 1.0})
    assert store.events(run_id) == []  # buffered
    clock.now = 0.6
    ctx.log([{"step": 10}, {"step": 11}])
    assert len(store.events(run_id)) == 12
    for step in range(12, 62):
        ctx.log({"step": step})
    assert len(store.events(run_id)) == 62  # 50 events flush without waiting
    ctx.progress(0.5, {"loss": 0.25})
    ctx.progress(0.6)
    assert store.get_run(run_id).progress == 0.5  # the second is throttled
    ctx.save_grid(62, b"png")
    record = store.get_run(run_id)
    assert record.progress == 0.6 and record.summary == {"loss": 0.25}
    with pytest.raises(ValueError, match="step"):
        ctx.log({"loss": 1.0})

    assert not ctx.should_stop()
    store.request_stop(run_id)
    assert not ctx.should_stop()  # checked at most every 0.5 s
    clock.now = 1.2
    assert ctx.should_stop() and ctx.should_stop() and ctx.stop_seen


def test_a_worker_that_cannot_start_fails_its_run(store: RunStore, monkeypatch) -> None:
    """An unwritable artifacts folder: the run is failed with the reason, not left queued."""
    run_id = store.create_run("demo", {"steps": 3})
    real_mkdir = Path.mkdir

    def refuse(self, *args, **kwargs):
        if self == store.artifact_dir(run_id):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refuse)
    with pytest.raises(RunError, match="could not start the worker"):
        start_worker(store.root, run_id, JOB)
    record = store.get_run(run_id)
    assert record.status == FAILED and "Permission denied" in record.error


def test_a_run_that_never_got_a_worker_is_reaped(store: RunStore, monkeypatch) -> None:
    from gda_core.runs import worker

    run_id = store.create_run("demo", {"steps": 3})   # queued, no process ever started
    assert reap_orphans(store) == []                     # young: it may still be starting
    monkeypatch.setattr(worker, "NEVER_STARTED_AFTER", 0.0)
    assert reap_orphans(store) == [run_id]
    record = store.get_run(run_id)
    assert record.status == FAILED and record.error == worker.NEVER_STARTED_ERROR
