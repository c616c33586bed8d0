"""Faults seen from the dashboard: the app restarts while a run is in flight, then the run's
worker is killed; a fresh session shows each state correctly and keeps what was logged.
(Worker-level faults: tests/test_runs_worker.py; NaN losses: tests/test_synth_*.py;
a locked database: tests/test_runs_store.py.)"""

from __future__ import annotations

import os
import signal
import time

from conftest import REPO
from streamlit.testing.v1 import AppTest

from gda_core.experiments.train import JOB, RUN_KIND, TrainJobConfig
from gda_core.runs import ORPHAN_ERROR, RunStore, start_worker
from gda_core.runs.proc import kill_hard, pid_alive

LONG = {"epochs": 1, "min_steps": 100_000, "batch_size": 16, "latent_dim": 8}


def _fresh_session(run_id: str) -> AppTest:
    """A new browser session of a restarted app, opening the run's deep link."""
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    return at


def _progress_text(at: AppTest) -> str:
    return "\n".join(p.proto.text for p in at.get("progress"))


def test_run_in_flight_across_restart_then_killed(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params=LONG, classes=(3,)).to_dict())
    pid = start_worker(store.root, run_id, JOB)
    try:
        deadline = time.monotonic() + 60
        while len(store.events(run_id)) < 5 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert store.events(run_id), "the worker logged nothing"

        at = _fresh_session(run_id)  # the app was restarted: a new server, a new session
        assert store.get_run(run_id).status == "running"
        assert _progress_text(at).startswith("running ·")
        assert any(run_id in s.value for s in at.subheader)
        assert any(b.label == "Stop" for b in at.button)

        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 20
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        n_events = len(store.events(run_id))

        at = _fresh_session(run_id)  # the page reaps the dead worker and says why
        record = store.get_run(run_id)
        assert record.status == "failed" and record.error == ORPHAN_ERROR
        assert any("The run failed" in e.value and ORPHAN_ERROR[:30] in e.value
                   for e in at.error)
        assert len(store.events(run_id)) == n_events  # nothing logged was lost
        assert len(at.get("plotly_chart")) >= 1  # its charts are still drawn
    finally:
        if pid_alive(pid):
            kill_hard(pid)
