"""RunStore: CRUD, status transitions, events, artifacts, id safety and concurrency."""

from __future__ import annotations

import dataclasses
import math
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, read_only, unprivileged

from gda_core.errors import GDAError, RunError
from gda_core.runs import (
    FAILED,
    FINISHED,
    QUEUED,
    RUNNING,
    STATUSES,
    STOPPED,
    STOPPING,
    TRANSITIONS,
    RunStore,
    default_runs_dir,
)

# How to bring a fresh (queued) run into each status.
PATH_TO = {
    QUEUED: [],
    RUNNING: [RUNNING],
    STOPPING: [RUNNING, STOPPING],
    STOPPED: [STOPPED],
    FAILED: [FAILED],
    FINISHED: [RUNNING, FINISHED],
}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "runs")


def run_in(store: RunStore, status: str) -> str:
    run_id = store.create_run("demo", {})
    for s in PATH_TO[status]:
        store.set_status(run_id, s)
    return run_id


def test_layout_and_default_dir(store: RunStore, monkeypatch, tmp_path: Path) -> None:
    assert (store.root / "runs.sqlite3").is_file()
    assert (store.root / "artifacts").is_dir()
    with sqlite3.connect(store.db_path) as con:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "elsewhere"))
    assert default_runs_dir() == tmp_path / "elsewhere"
    monkeypatch.delenv("GDA_RUNS_DIR")
    assert default_runs_dir() == Path("runs")


def test_create_get_list(store: RunStore) -> None:
    a = store.create_run("gan", {"epochs": 3, "lr": 1e-3}, name="first")
    b = store.create_run("compare", {"seeds": [0, 1]})
    c = store.create_run("gan", {"epochs": 5})
    record = store.get_run(a)
    assert (record.kind, record.name, record.status) == ("gan", "first", QUEUED)
    assert record.config == {"epochs": 3, "lr": 1e-3}
    assert record.started is None and record.finished is None and record.progress == 0
    assert record.is_active and not record.is_terminal
    with pytest.raises(dataclasses.FrozenInstanceError):
        record.status = RUNNING  # type: ignore[misc]
    assert [r.id for r in store.list_runs()] == [c, b, a]
    assert [r.id for r in store.list_runs(kind="gan")] == [c, a]
    assert [r.id for r in store.list_runs(limit=1)] == [c]
    store.set_status(b, RUNNING)
    assert [r.id for r in store.list_runs(status=[RUNNING, STOPPING])] == [b]
    with pytest.raises(RunError, match="there is no run"):
        store.get_run("20000101-000000-beef")


@pytest.mark.parametrize("old", STATUSES)
def test_status_transitions(store: RunStore, old: str) -> None:
    for new in STATUSES:
        run_id = run_in(store, old)
        if new in TRANSITIONS[old]:
            store.set_status(run_id, new, error="why" if new == FAILED else None)
            record = store.get_run(run_id)
            assert record.status == new
            assert (record.finished is not None) == record.is_terminal
            assert (record.started is not None) == (RUNNING in PATH_TO[old] + [new])
        else:
            with pytest.raises(RunError, match=f"is {old} and cannot become {new}") as info:
                store.set_status(run_id, new)
            assert isinstance(info.value, GDAError) and isinstance(info.value, ValueError)
            assert store.get_run(run_id).status == old
    with pytest.raises(RunError, match="unknown run status"):
        store.set_status(run_in(store, old), "paused")


def test_failed_keeps_error(store: RunStore) -> None:
    run_id = run_in(store, RUNNING)
    store.set_status(run_id, FAILED, error="out of memory")
    assert store.get_run(run_id).error == "out of memory"


def test_request_stop_and_finish(store: RunStore) -> None:
    running, queued, done = (run_in(store, s) for s in (RUNNING, QUEUED, FINISHED))
    assert not store.stop_requested(running)
    assert store.request_stop(running) == STOPPING and store.stop_requested(running)
    assert store.request_stop(queued) == STOPPED and store.stop_requested(queued)
    assert store.request_stop(done) == FINISHED and not store.stop_requested(done)
    assert store.finish_run(running) == STOPPED
    assert store.finish_run(run_in(store, RUNNING)) == FINISHED
    assert store.finish_run(run_in(store, RUNNING), stopped=True) == STOPPED
    for status in (FINISHED, QUEUED, FAILED):
        with pytest.raises(RunError, match="only a running or stopping run can finish"):
            store.finish_run(run_in(store, status))


def test_progress_and_summary(store: RunStore) -> None:
    run_id = run_in(store, RUNNING)
    store.set_progress(run_id, 0.25, {"loss": np.float32(0.5)})
    store.set_progress(run_id, 7)
    record = store.get_run(run_id)
    assert record.progress == 1.0 and record.summary == {"loss": 0.5}
    store.set_progress(run_id, -1)
    assert store.get_run(run_id).progress == 0.0
    with pytest.raises(ValueError, match="NaN"):
        store.set_progress(run_id, math.nan)


def test_events_order_and_incremental_polling(store: RunStore) -> None:
    run_id = run_in(store, RUNNING)
    other = run_in(store, RUNNING)
    assert store.events(run_id) == [] and store.append_events(run_id, []) == 0
    assert store.append_events(run_id, [{"step": i, "loss": i / 10} for i in range(5)]) == 5
    store.append_events(other, [{"step": 0, "loss": -1}])
    assert store.append_events(run_id, [{"step": 5, "loss": math.nan,
                                         "acc": np.float64(0.5), "n": np.int64(3)}]) == 6
    events = store.events(run_id)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5, 6]
    assert [e["step"] for e in events] == [0, 1, 2, 3, 4, 5]
    assert events[1]["loss"] == 0.1 and set(events[0]) == {"seq", "step", "time", "loss"}
    assert math.isnan(events[-1]["loss"]) and events[-1]["acc"] == 0.5 and events[-1]["n"] == 3
    assert [e["seq"] for e in store.events(run_id, after_seq=4)] == [5, 6]
    assert [e["seq"] for e in store.events(run_id, after_seq=1, limit=2)] == [2, 3]
    assert store.events(run_id, after_seq=6) == []
    assert store.last_seq(run_id) == 6
    assert [e["loss"] for e in store.events(other)] == [-1]
    store.append_events(run_id, [{"step": 9, "time": 123.0}])
    assert store.events(run_id, after_seq=6)[0]["time"] == 123.0


@pytest.mark.parametrize("bad", [{"loss": 1}, {"step": "3"}, {"step": 1.5}, "step"])
def test_events_need_integer_step(store: RunStore, bad) -> None:
    run_id = run_in(store, RUNNING)
    with pytest.raises(ValueError, match="step"):
        store.append_events(run_id, [{"step": 0}, bad])
    assert store.events(run_id) == []  # nothing of a bad batch is written


def test_events_of_unknown_run(store: RunStore) -> None:
    with pytest.raises(RunError, match="there is no run"):
        store.append_events("20000101-000000-beef", [{"step": 0}])


def test_artifacts(store: RunStore) -> None:
    run_id = run_in(store, RUNNING)
    assert store.latest_artifact(run_id, "grid") is None and store.artifacts(run_id) == []
    p0 = store.save_artifact(run_id, "grid", b"zero", step=0)
    p5 = store.save_artifact(run_id, "grid", b"five", step=5)
    assert p0 == store.artifact_dir(run_id) / "grid-00000000.png"
    assert store.latest_artifact(run_id, "grid") == p5 and p5.read_bytes() == b"five"
    store.save_artifact(run_id, "grid", b"zero again", step=0)
    assert store.latest_artifact(run_id, "grid") == p0 and p0.read_bytes() == b"zero again"
    result = store.save_artifact(run_id, "result", b"{}", suffix=".json")
    store.save_artifact(run_id, "result", b"{\"ok\": 1}", suffix=".json")
    assert result.name == "result.json" and result.read_bytes() == b"{\"ok\": 1}"
    grids = store.artifacts(run_id, "grid")
    assert [(a.step, a.path.name) for a in grids] == [(5, "grid-00000005.png"),
                                                    (0, "grid-00000000.png")]
    assert len(store.artifacts(run_id)) == 3
    leftovers = [p.name for p in store.artifact_dir(run_id).iterdir() if p.suffix == ".tmp"]
    assert leftovers == []
    for kwargs in ({"kind": "../x"}, {"kind": "Grid"}, {"suffix": "/../x"}, {"step": -1}):
        with pytest.raises(ValueError):
            store.save_artifact(run_id, **{"kind": "grid", "data": b"", **kwargs})


def test_delete_run(store: RunStore) -> None:
    active = run_in(store, RUNNING)
    with pytest.raises(RunError, match="stop it before deleting"):
        store.delete_run(active)
    done = run_in(store, FINISHED)
    store.append_events(done, [{"step": 0}])
    folder = store.save_artifact(done, "grid", b"x", step=0).parent
    store.delete_run(done)
    assert not folder.exists()
    with pytest.raises(RunError):
        store.get_run(done)
    assert store.events(done) == [] and store.artifacts(done) == []
    assert [r.id for r in store.list_runs()] == [active]


@pytest.mark.parametrize("bad_id", [
    "../20261125-023012-ab12", "20261125-023012-ab12/../../etc", "..", "", "a/b",
    "20261125-023012-ab12\x00", "/etc/passwd", "20261125-023012-AB12", None,
])
def test_bad_run_ids_are_rejected(store: RunStore, bad_id) -> None:
    run_in(store, RUNNING)
    before = sorted(store.root.rglob("*"))
    calls = [
        lambda: store.get_run(bad_id),
        lambda: store.artifact_dir(bad_id),
        lambda: store.events(bad_id),
        lambda: store.append_events(bad_id, [{"step": 0}]),
        lambda: store.save_artifact(bad_id, "grid", b"x"),
        lambda: store.set_status(bad_id, RUNNING),
        lambda: store.request_stop(bad_id),
        lambda: store.delete_run(bad_id),
    ]
    for call in calls:
        with pytest.raises(RunError, match="not a valid run id"):
            call()
    after = sorted(store.root.rglob("*"))
    assert [p for p in after if p not in before and "sqlite3" not in p.name] == []


WRITER = textwrap.dedent("""
    import sys
    from gda_core.runs import RunStore
    store = RunStore(sys.argv[1])
    for batch in range(int(sys.argv[3])):
        store.append_events(sys.argv[2], [{"step": batch * 5 + i, "v": batch} for i in range(5)])
""")


def test_concurrent_readers_while_another_process_writes(store: RunStore) -> None:
    run_id, local = run_in(store, RUNNING), run_in(store, RUNNING)
    batches = 300
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(store.root), run_id,
                               str(batches)], cwd=REPO)
    errors: list[BaseException] = []
    seen: dict[str, list[int]] = {}
    partial_reads: list[int] = []

    def reader(name: str) -> None:
        seqs: list[int] = []
        try:
            while len(seqs) < batches * 5:
                writer_done = writer.poll() is not None
                new = store.events(run_id, after_seq=seqs[-1] if seqs else 0)
                seqs.extend(e["seq"] for e in new)
                if new and len(seqs) < batches * 5:
                    partial_reads.append(len(seqs))
                store.list_runs()
                if writer_done and not new:
                    break
        except BaseException as exc:
            errors.append(exc)
        seen[name] = seqs

    threads = [threading.Thread(target=reader, args=(f"r{i}",)) for i in range(3)]
    for t in threads:
        t.start()
    for i in range(100):  # this process writes to another run meanwhile
        store.append_events(local, [{"step": i}])
    for t in threads:
        t.join(timeout=60)
    assert writer.wait(timeout=60) == 0
    assert errors == [] and partial_reads  # readers did overlap the writer
    expected = list(range(1, batches * 5 + 1))
    assert all(seqs == expected for seqs in seen.values()), {k: len(v) for k, v in seen.items()}
    assert [e["step"] for e in store.events(run_id)] == list(range(batches * 5))
    assert len(store.events(local)) == 100


def test_briefly_locked_database_is_retried(tmp_path: Path) -> None:
    store = RunStore(tmp_path, busy_timeout=0.01)
    run_id = run_in(store, RUNNING)
    store.append_events(run_id, [{"step": 0}])
    blocker = sqlite3.connect(store.db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    done: list[float] = []
    errors: list[BaseException] = []

    def append() -> None:
        try:
            store.append_events(run_id, [{"step": i} for i in range(1, 51)])
            done.append(time.monotonic())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=append)
    t0 = time.monotonic()
    thread.start()
    time.sleep(0.3)
    assert done == [] and errors == []  # still waiting for the lock
    blocker.execute("COMMIT")
    blocker.close()
    thread.join(timeout=10)
    assert errors == [] and done and done[0] - t0 >= 0.25
    assert [e["step"] for e in store.events(run_id)] == list(range(51))

    # Without retries the same lock is an error, so the retries are what saved it.
    impatient = RunStore(tmp_path, busy_timeout=0.01, retry_for=0)
    blocker = sqlite3.connect(store.db_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(RunError, match=r"locked.*another program kept it locked"):
            impatient.append_events(run_id, [{"step": 99}])
    finally:
        blocker.execute("COMMIT")
        blocker.close()
    assert store.last_seq(run_id) == 51



# ------------------------------------------------------------- a damaged or read-only store
@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_database_is_a_run_error_saying_what_to_do(tmp_path: Path, damage) -> None:
    store = RunStore(tmp_path)
    run_in(store, RUNNING)
    data = store.db_path.read_bytes()
    for extra in ("-wal", "-shm"):
        Path(str(store.db_path) + extra).unlink(missing_ok=True)
    store.db_path.write_bytes(b"garbage " * 512 if damage == "garbage" else data[:1500])
    with pytest.raises(RunError, match=r"cannot be used .*damaged\. Move it aside"):
        RunStore(tmp_path).list_runs()


def test_a_read_only_runs_folder_is_a_run_error(tmp_path: Path) -> None:
    """In a child for which file permissions hold (root's override dropped, see conftest)."""
    folder = tmp_path / "ro"
    folder.mkdir()
    read_only(folder)
    code = ("from gda_core.runs import RunStore\n"
            "from gda_core.errors import RunError\n"
            f"try:\n    RunStore({str(folder / 'runs')!r})\n"
            "except RunError as exc:\n    print(exc)\n")
    try:
        proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                              text=True, timeout=120, **unprivileged())
    finally:
        folder.chmod(0o700)
    assert proc.stdout.startswith(f"cannot create the run store in {folder / 'runs'}"), proc
    assert "Permission denied" in proc.stdout


def test_an_unwritable_artifact_is_a_run_error(tmp_path: Path, monkeypatch) -> None:
    store = RunStore(tmp_path)
    run_id = run_in(store, RUNNING)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("tempfile.mkstemp", full)
    with pytest.raises(RunError, match=r"cannot write result\.json .*No space left"):
        store.save_artifact(run_id, "result", b"{}", suffix=".json")
