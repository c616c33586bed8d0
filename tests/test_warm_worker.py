"""Warm workers: started before their run, handed it, and never left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import wait_until

from gda_core.errors import RunError
from gda_core.runs import (
    FINISHED,
    STOPPED,
    RunStore,
    StandbyWorkers,
    WarmWorker,
    start_worker,
    stop_run,
    wait_for_run,
)
from gda_core.runs.proc import pid_alive

JOB = "tests.jobs_for_tests:count_job"
PRELOAD = ["tests.jobs_for_tests"]


@pytest.fixture
def warm():
    worker = WarmWorker(PRELOAD)
    yield worker
    worker.close()
    if worker.process.poll() is None:  # a test left it running its run
        try:
            os.killpg(worker.process.pid, signal.SIGKILL)
        except OSError:
            pass
    worker.process.wait(30)


def test_a_warm_worker_runs_the_run_it_is_handed(store: RunStore, warm: WarmWorker) -> None:
    assert warm.wait_ready(60) and warm.alive()
    run_id = store.create_run("demo", {"steps": 12, "grid_every": 5})
    pid = start_worker(store.root, run_id, JOB, warm=warm)
    assert pid == warm.process.pid and not warm.alive()  # one run per warm worker
    record = wait_for_run(store, run_id, timeout=60)
    assert record.status == FINISHED, store.log_path(run_id).read_text()
    assert record.pid == pid and record.summary == {"last_value": 11.0}
    assert [e["step"] for e in store.events(run_id)] == list(range(12))
    log = store.log_path(run_id).read_text()  # its output went to the run's log
    assert f"[worker] pid {pid} run {run_id}" in log and "finished" in log
    assert warm.process.wait(30) == 0


def test_a_run_handed_before_the_imports_end_still_runs(store: RunStore) -> None:
    worker = WarmWorker(PRELOAD)  # handed at once, not waited for
    run_id = store.create_run("demo", {"steps": 3})
    start_worker(store.root, run_id, JOB, warm=worker)
    assert wait_for_run(store, run_id, timeout=60).status == FINISHED
    assert worker.process.wait(30) == 0


def test_a_warm_run_can_be_stopped(store: RunStore, warm: WarmWorker) -> None:
    run_id = store.create_run("demo", {"steps": 100000, "sleep": 0.01})
    start_worker(store.root, run_id, JOB, warm=warm)
    wait_until(lambda: store.last_seq(run_id) > 3, timeout=60)
    assert stop_run(store, run_id) == STOPPED


def test_a_dead_warm_worker_means_a_cold_start(store: RunStore, warm: WarmWorker) -> None:
    os.killpg(warm.process.pid, signal.SIGKILL)
    warm.process.wait(30)
    assert not warm.alive()
    run_id = store.create_run("demo", {"steps": 3})
    pid = start_worker(store.root, run_id, JOB, warm=warm)
    assert pid != warm.process.pid
    assert wait_for_run(store, run_id, timeout=60).status == FINISHED


def test_a_used_warm_worker_is_not_handed_a_second_run(store: RunStore,
                                                       warm: WarmWorker) -> None:
    first = store.create_run("demo", {"steps": 2})
    second = store.create_run("demo", {"steps": 2})
    assert start_worker(store.root, first, JOB, warm=warm) == warm.process.pid
    assert start_worker(store.root, second, JOB, warm=warm) != warm.process.pid
    for run_id in (first, second):
        assert wait_for_run(store, run_id, timeout=60).status == FINISHED


def test_closing_an_idle_warm_worker_ends_it(warm: WarmWorker) -> None:
    assert warm.wait_ready(60)
    warm.close()
    assert warm.process.wait(30) == 0 and not warm.alive()


def test_a_refused_run_leaves_the_warm_worker_unused(store: RunStore,
                                                     warm: WarmWorker) -> None:
    run_id = store.create_run("demo", {"steps": 2})
    with pytest.raises(RunError, match=r"package\.module:function"):
        start_worker(store.root, run_id, "not a job", warm=warm)
    assert warm.alive()  # the checks come before the hand-over


@pytest.mark.parametrize("line", ["not json", "[1, 2]", '{"root": 1}',
                                  '{"root": "ROOT", "run": "../x", "job": "a:b"}'])
def test_a_standby_given_garbage_exits_without_running_anything(line: str, tmp_path) -> None:
    proc = subprocess.Popen([sys.executable, "-W", "ignore::RuntimeWarning:runpy", "-m",
                             "gda_core.runs.worker", "--standby"],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    message = line.replace("ROOT", str(tmp_path)) + "\n"
    _, err = proc.communicate(message.encode(), timeout=60)
    assert proc.returncode == 0 and not err, err.decode()
    assert list(tmp_path.iterdir()) == []  # no store opened, nothing written


def test_the_standby_ends_when_the_process_that_started_it_dies(tmp_path) -> None:
    script = textwrap.dedent("""
        import os, sys
        from gda_core.runs import WarmWorker
        w = WarmWorker(["json"])
        assert w.wait_ready(60)
        print(w.process.pid, flush=True)
        os._exit(0)  # no cleanup at all, as a killed server
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, check=True)
    pid = int(out.stdout.strip())
    wait_until(lambda: not pid_alive(pid), timeout=30)


def test_standby_workers_keep_one_ready(store: RunStore) -> None:
    standby = StandbyWorkers(PRELOAD)
    try:
        assert standby.wait_ready(60)
        run_id = store.create_run("demo", {"steps": 2})
        first = standby.start(store.root, run_id, JOB)
        assert wait_for_run(store, run_id, timeout=60).status == FINISHED
        assert standby.wait_ready(60)  # the next one, started at once
        run_id = store.create_run("demo", {"steps": 2})
        second = standby.start(store.root, run_id, JOB)
        assert second != first
        assert wait_for_run(store, run_id, timeout=60).status == FINISHED
    finally:
        standby.close()



def test_the_next_warm_worker_waits_for_the_respawn_delay(store: RunStore) -> None:
    # its imports would compete with the handed-over run's first steps
    standby = StandbyWorkers(PRELOAD, respawn_delay=1.5)
    try:
        assert standby.wait_ready(60)
        run_id = store.create_run("demo", {"steps": 2})
        handed = time.monotonic()
        standby.start(store.root, run_id, JOB)
        standby.prepare()  # during the delay: nothing is started
        assert standby.warm is None
        wait_until(lambda: standby.warm is not None, timeout=30)  # the timer starts it
        assert time.monotonic() - handed >= 1.4
        assert standby.wait_ready(60)
        assert wait_for_run(store, run_id, timeout=60).status == FINISHED
    finally:
        standby.close()
    assert standby.warm is None

def test_preload_names_are_checked() -> None:
    with pytest.raises(RunError, match="not a module name"):
        WarmWorker(["os; rm -rf /"])
