"""Faults through the command line, as a user meets them: a damaged, locked or read-only run
store, read-only artefact and output folders, a killed worker.  Each ends with exit status 2,
one ``error:`` line saying what to do, no traceback, and nothing computed is lost (the result
is printed, and written to the JSON or the rescue folder).

Read-only folders are read-only to the CLI even when the tests run as root: the CLI then runs
without the capabilities that override file permissions (``unprivileged`` in conftest).  The
same faults in the browser: tests/test_browser_faults.py.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, read_only, unprivileged, wait_until, writable_again

from gda_core.experiments import ComparisonResult
from gda_core.runs import RunStore
from gda_core.runs.proc import kill_hard, pid_alive

COMPARE = ["compare", "--dataset", "digits", "--methods", "baseline", "--epochs", "1",
           "--seeds", "0", "--quiet"]
TRAIN = ["train", "--dataset", "digits", "--synthesizer", "gan", "--class", "3",
         "--quiet", "--param", "min_steps=100000", "--param", "batch_size=16"]


@pytest.fixture(autouse=True)
def _writable_afterwards(tmp_path):
    (tmp_path / "home").mkdir()
    yield
    writable_again(tmp_path)


def cli(args: list[str], home: Path, *, as_user: bool = False, env: dict | None = None,
        timeout: float = 300) -> subprocess.CompletedProcess:
    """``python -m gda_core ARGS`` in a fresh process (as ``nobody`` under root when
    ``as_user``); asserts that nothing printed a traceback."""
    proc = subprocess.run(
        [sys.executable, "-m", "gda_core", *args], cwd=REPO, capture_output=True, text=True,
        timeout=timeout, env={**os.environ, "PYTHONPATH": str(REPO), "HOME": str(home),
                              "GDA_RESCUE_DIR": str(home / "rescued"), **(env or {})},
        **(unprivileged() if as_user else {}))
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr[-3000:]
    return proc


def a_store(folder: Path) -> RunStore:
    """A run store with one finished run in it (so the database has pages to damage)."""
    store = RunStore(folder)
    run_id = store.create_run("demo", {"steps": 1}, name="an earlier run")
    store.set_status(run_id, "running")
    store.finish_run(run_id)
    return store


def damage(store: RunStore, how: str) -> None:
    data = store.db_path.read_bytes()
    for extra in ("-wal", "-shm"):
        Path(str(store.db_path) + extra).unlink(missing_ok=True)
    store.db_path.write_bytes(b"garbage " * 512 if how == "garbage" else data[:1500])


def rescued(home: Path) -> list[Path]:
    return sorted((home / "rescued").glob("result-*.json"))


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_damaged_database(tmp_path, how):
    store = a_store(tmp_path / "runs")
    damage(store, how)
    proc = cli([*TRAIN, "--runs-dir", str(store.root)], tmp_path / "home")
    assert proc.returncode == 2
    assert "error: the run store" in proc.stderr and "damaged. Move it aside" in proc.stderr

    # a comparison that finishes before the store is touched keeps its result
    proc = cli([*COMPARE, "--save", "--runs-dir", str(store.root)], tmp_path / "home")
    assert proc.returncode == 2
    assert "baseline" in proc.stdout                                   # the table was printed
    assert "error: could not save to the run store" in proc.stderr
    (kept,) = rescued(tmp_path / "home")
    assert f"the result was written to {kept} instead" in proc.stderr
    assert [r.method for r in ComparisonResult.from_json(kept).runs] == ["baseline"]


def test_a_locked_database(tmp_path):
    store = a_store(tmp_path / "runs")
    blocker = sqlite3.connect(store.db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        out = tmp_path / "home" / "out.json"
        proc = cli([*COMPARE, "--save", "--runs-dir", str(store.root), "--json", str(out)],
                   tmp_path / "home", env={"GDA_RUNS_LOCK_WAIT": "2"})
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert proc.returncode == 2
    assert "another program kept it locked for over 2 s" in proc.stderr
    assert len(ComparisonResult.from_json(out).runs) == 1          # the JSON was written first
    assert rescued(tmp_path / "home") == []                          # so nothing to rescue
    assert len(RunStore(store.root).list_runs()) == 1                # and no half-saved run


def test_a_read_only_runs_folder(tmp_path):
    parent = tmp_path / "locked"
    parent.mkdir()
    read_only(parent)
    proc = cli([*TRAIN, "--runs-dir", str(parent / "runs")], tmp_path / "home", as_user=True)
    assert proc.returncode == 2
    assert "error: cannot create the run store" in proc.stderr
    assert "Choose another folder" in proc.stderr

    # an existing store that became read-only (folder and database)
    store = a_store(tmp_path / "runs")
    for path in (store.db_path, store.root / "artifacts", store.root):
        read_only(path)
    out = tmp_path / "home" / "out.json"
    proc = cli([*COMPARE, "--save", "--runs-dir", str(store.root), "--json", str(out)],
               tmp_path / "home", as_user=True)
    assert proc.returncode == 2
    assert "error: could not save to the run store" in proc.stderr
    assert "not writable" in proc.stderr or "cannot" in proc.stderr
    assert len(ComparisonResult.from_json(out).runs) == 1


def test_a_read_only_artifacts_folder_fails_the_run_at_once(tmp_path):
    store = a_store(tmp_path / "runs")
    read_only(store.root / "artifacts")
    proc = cli([*TRAIN, "--runs-dir", str(store.root)], tmp_path / "home", as_user=True)
    assert proc.returncode == 2
    assert "could not start the worker" in proc.stderr
    (failed,) = [r for r in store.list_runs() if r.kind != "demo"]
    assert failed.status == "failed" and "could not start the worker" in failed.error


def test_a_read_only_output_folder_is_refused_before_any_work(tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    read_only(out_dir)
    for option, target in (("--json", out_dir / "r.json"), ("--export", out_dir / "export")):
        proc = cli([*COMPARE, option, str(target)], tmp_path / "home", as_user=True)
        assert proc.returncode == 2
        assert f"error: {option} {target}: cannot write in {out_dir}" in proc.stderr
        assert "baseline" not in proc.stdout                  # refused before training
    proc = cli([*TRAIN, "--json", str(tmp_path / "missing" / "r.json")], tmp_path / "home")
    assert proc.returncode == 2 and "does not exist" in proc.stderr


def test_outputs_that_fail_at_the_end_fail_alone_and_the_result_is_rescued(tmp_path,
                                                                          monkeypatch, capsys):
    """A folder that became unwritable during a long run: each output is tried on its own,
    and a result that reached neither its JSON nor the store goes to the rescue folder."""
    from gda_core.cli.commands import write_outputs
    from gda_core.errors import RunError

    monkeypatch.setenv("GDA_RESCUE_DIR", str(tmp_path / "rescued"))
    in_the_way = tmp_path / "a-file"
    in_the_way.write_text("not a folder")

    def to_json(path):
        Path(path).write_text('{"runs": []}')

    def save():
        raise RunError("the run store cannot be used (database is locked)")

    exported = []
    failed = write_outputs(to_json, json_path=in_the_way / "r.json", save=save,
                           export=lambda: exported.append(1) or [tmp_path / "x"],
                           export_to=tmp_path / "export", stopped=False)
    err = capsys.readouterr()
    assert failed and exported == [1]
    assert f"error: could not write {in_the_way / 'r.json'}" in err.err
    assert "error: could not save to the run store: the run store cannot be used" in err.err
    (kept,) = (tmp_path / "rescued").glob("result-*.json")
    assert json.loads(kept.read_text()) == {"runs": []}
    assert f"written to {kept} instead" in err.err


def test_a_killed_worker_ends_the_train_command(tmp_path):
    runs = tmp_path / "runs"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gda_core", *TRAIN, "--runs-dir", str(runs)], cwd=REPO,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)})
    pid = None
    try:
        wait_until(lambda: runs.is_dir() and any(
            r.status == "running" for r in RunStore(runs).list_runs()), timeout=120)
        (record,) = RunStore(runs).list_runs()
        pid = record.pid
        wait_until(lambda: RunStore(runs).events(record.id), timeout=120)
        os.kill(pid, signal.SIGKILL)
        started = time.monotonic()
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
        if pid is not None and pid_alive(pid):
            kill_hard(pid)
    assert time.monotonic() - started < 30
    assert proc.returncode == 2, stderr
    assert "Traceback" not in stdout + stderr
    assert "failed – the worker process ended unexpectedly" in stdout
    assert RunStore(runs).events(record.id)              # what it logged is still there


def test_the_quality_cache_survives_a_damaged_or_unwritable_cache(tmp_path):
    """A corrupt cached feature extractor is retrained and replaced; a cache that cannot be
    written only means it is not cached (the comparison still gets its quality gate)."""
    from gda_core.metrics.features import FeatureExtractor

    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    labels = np.repeat([0, 1], 20)
    settings = {"epochs": 1, "width": 4, "device": "cpu"}
    first = FeatureExtractor.cached(images, labels, tmp_path / "cache", **settings)
    (path,) = (tmp_path / "cache").glob("extractor-*.pt")
    assert not first.from_cache_
    path.write_bytes(b"not a checkpoint")
    again = FeatureExtractor.cached(images, labels, tmp_path / "cache", **settings)
    assert not again.from_cache_                                  # retrained ...
    assert FeatureExtractor.cached(images, labels, tmp_path / "cache",
                                   **settings).from_cache_      # ... and cached again
    blocked = tmp_path / "a-file"
    blocked.write_text("a file where the cache folder should be")
    ext = FeatureExtractor.cached(images, labels, blocked, **settings)
    assert ext.transform(images[:2]).shape[0] == 2


def test_an_unwritable_result_is_kept_in_the_rescue_folder(tmp_path, monkeypatch):
    """A job whose result cannot go into the store (here its artefact folder is a file,
    which fails even for root) keeps it in the rescue folder and says where."""
    from gda_core.errors import RunError
    from gda_core.runs import RunContext

    monkeypatch.setenv("GDA_RESCUE_DIR", str(tmp_path / "rescued"))
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run("demo", {})
    store.artifact_dir(run_id).write_text("in the way")
    ctx = RunContext(store, run_id, {})
    with pytest.raises(RunError, match=r"cannot write result\.json .* It was kept in (.*)"
                       ) as err:
        ctx.save_artifact("result", b'{"answer": 42}', suffix=".json")
    kept = tmp_path / "rescued" / f"{run_id}-result.json"
    assert str(kept) in str(err.value)
    assert json.loads(kept.read_text()) == {"answer": 42}


def test_a_damaged_database_still_leaves_the_file(tmp_path):
    store = a_store(tmp_path / "runs")
    run_id = store.list_runs()[0].id
    damage(store, "garbage")
    with pytest.raises(Exception, match=r"damaged.*The file itself was written: (.*)"):
        store.save_artifact(run_id, "result", b"{}", suffix=".json")
    assert (store.artifact_dir(run_id) / "result.json").read_bytes() == b"{}"

