"""Faults in the real app, in headless Chromium: a damaged (garbage, truncated), locked or
read-only run store, a read-only artefacts folder, damaged and missing sample grids,
checkpoints and result files.  Every page that reads the store shows one clear message and
no traceback, and once the fault is gone everything computed before is still there.
(A killed worker: tests/test_browser.py; the same faults through the CLI:
tests/test_faults_cli.py.)

The server runs without root's power over file permissions (``unprivileged`` in conftest),
so a read-only folder is read-only to it even when the tests run as root.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO, read_only, unprivileged, writable_again
from test_browser import SHOTS, browser_page, launch_app

from gda_core.runs import RunStore

pytestmark = pytest.mark.browser

STORE_PAGES = ("train", "compare", "replays", "pareto")
"""Pages that read the run store."""


def _cli(*args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "gda_core", *args, "--quiet"], cwd=REPO,
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]


@pytest.fixture(scope="module")
def app(tmp_path_factory) -> Iterator[tuple[str, RunStore]]:
    """The app on a run store holding a finished training run and a finished comparison."""
    root = tmp_path_factory.mktemp("faults")
    runs = root / "runs"
    _cli("train", "--dataset", "digits", "--synthesizer", "gan", "--class", "3", "--epochs",
         "1", "--param", "min_steps=40", "--sample-every", "10", "--runs-dir", str(runs))
    _cli("compare", "--dataset", "digits", "--methods", "baseline,random", "--epochs", "1",
         "--save", "--runs-dir", str(runs), "--name", "before the faults")
    env = {"GDA_DATA_DIR": str(root / "data"), "GDA_RUNS_DIR": str(runs),
           "GDA_RUNS_LOCK_WAIT": "3"}
    try:
        with launch_app(env, popen=unprivileged()) as url:
            yield url, RunStore(runs)
    finally:
        writable_again(root)


@pytest.fixture
def page(app):
    with browser_page() as pg:
        yield pg


def _no_traceback(page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in page.inner_text("body")


def _open(page, url: str, path: str, expect: str) -> str:
    page.goto(f"{url}/{path}")
    page.get_by_text(expect).first.wait_for(timeout=90_000)
    _no_traceback(page)
    return page.inner_text("body")


def _runs(store: RunStore, kind: str) -> list:
    return [r for r in store.list_runs(kind) if r.status == "finished"]


@contextlib.contextmanager
def _damaged(store: RunStore, how: str) -> Iterator[None]:
    """The database damaged (``garbage`` or ``truncated``) for the block, then restored."""
    backup = store.root / "backup.sqlite3"
    with (contextlib.closing(sqlite3.connect(store.db_path)) as con,
          contextlib.closing(sqlite3.connect(backup)) as dst):  # closed: no lock lingers
        con.backup(dst)
    data = store.db_path.read_bytes()
    for extra in ("-wal", "-shm"):
        Path(str(store.db_path) + extra).unlink(missing_ok=True)
    store.db_path.write_bytes(b"garbage " * 512 if how == "garbage" else data[:1500])
    try:
        yield
    finally:
        shutil.copyfile(backup, store.db_path)
        backup.unlink()


@pytest.mark.parametrize("how", ["garbage", "truncated"])
def test_a_damaged_database_is_one_message_on_every_page(app, page, how):
    url, store = app
    before = {r.id for r in store.list_runs()}
    with _damaged(store, how):
        for path in STORE_PAGES:
            if path == "pareto":  # the page works without the store; only studies need it
                _open(page, url, path, "Pareto explorer")
                page.get_by_text("Study: algorithms").click()
            else:
                page.goto(f"{url}/{path}")
            page.get_by_text("cannot be used").first.wait_for(timeout=90_000)
            _no_traceback(page)
            assert "damaged. Move it aside" in page.inner_text("body"), path
            page.screenshot(path=str(SHOTS / f"30-damaged-{how}-{path}.png"), full_page=True)
    body = _open(page, url, "train", "New training run")  # repaired: nothing was lost
    assert {r.id for r in store.list_runs()} == before
    assert "cannot be used" not in body


def test_a_locked_database_says_so_and_recovers(app, page):
    url, store = app
    # another program holds the whole database (reads too): every page says so
    blocker = sqlite3.connect(store.db_path, isolation_level=None, timeout=60)
    try:
        blocker.execute("PRAGMA locking_mode = EXCLUSIVE")
        blocker.execute("BEGIN EXCLUSIVE")
        blocker.execute("COMMIT")  # the lock stays until the connection closes
        body = _open(page, url, "train", "cannot be used")
        assert "another program kept it locked for over 3 s" in body
        page.screenshot(path=str(SHOTS / "31-locked.png"), full_page=True)
    finally:
        blocker.close()
    # another program is writing: pages still read; starting a run says it is locked
    blocker = sqlite3.connect(store.db_path, isolation_level=None, timeout=60)
    try:
        blocker.execute("BEGIN IMMEDIATE")
        _open(page, url, "train", "New training run")
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("Training could not start").first.wait_for()
        assert "locked for over 3 s" in page.inner_text("body")
        _no_traceback(page)
        page.screenshot(path=str(SHOTS / "31-locked-writing.png"), full_page=True)
    finally:
        blocker.close()  # rolls back
    assert [r.status for r in store.list_runs("train")] == ["finished"]   # no phantom run
    body = _open(page, url, "train", "New training run")
    assert "cannot be used" not in body


def test_a_read_only_artifacts_folder_fails_a_new_run_at_once(app, page):
    url, store = app
    artifacts = store.root / "artifacts"
    before = set(os.listdir(artifacts))
    read_only(artifacts)
    try:
        page.goto(f"{url}/train")
        page.get_by_text("New training run").wait_for(timeout=90_000)
        page.get_by_role("button", name="Train", exact=True).click()
        page.get_by_text("could not start the worker").first.wait_for()
        _no_traceback(page)
        page.screenshot(path=str(SHOTS / "32-artifacts-read-only.png"), full_page=True)
    finally:
        artifacts.chmod(0o755)
    (new,) = [r for r in store.list_runs("train") if r.status != "finished"]
    assert new.status == "failed" and "could not start the worker" in new.error
    assert set(os.listdir(artifacts)) == before        # no phantom "queued" run left behind
    store.delete_run(new.id)


def test_a_read_only_runs_folder_is_one_message(app, page):
    url, store = app
    files = [store.db_path, *(Path(str(store.db_path) + x) for x in ("-wal", "-shm"))]
    for path in [p for p in files if p.exists()] + [store.root]:
        read_only(path)
    try:
        # SQLite in WAL mode writes even to read, so the store cannot be used at all
        body = _open(page, url, "train", "cannot be used")
        assert "the folder or the database file is not writable. Choose another" in body
        page.screenshot(path=str(SHOTS / "33-runs-read-only.png"), full_page=True)
    finally:
        for path in [*files, store.root]:
            if path.exists():
                path.chmod(0o755 if path.is_dir() else 0o644)
    assert len(_runs(store, "train")) == 1                     # the earlier run is intact


def test_damaged_and_missing_grids_checkpoints_and_results(app, page):
    url, store = app
    (train,) = _runs(store, "train")
    grids = store.artifacts(train.id, "grid")
    grids[-1].path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut short")
    store.latest_artifact(train.id, "checkpoint").unlink()
    body = _open(page, url, f"train?run={train.id}", "cannot be shown")
    assert f"The sample grid of step {grids[-1].step} cannot be shown: the file" in body
    assert "is damaged" in body
    page.locator('[data-testid="stPlotlyChart"]').first.wait_for()     # charts still drawn
    page.screenshot(path=str(SHOTS / "34-grid-damaged.png"), full_page=True)
    grids[-1].path.unlink()
    body = _open(page, url, f"train?run={train.id}", "cannot be shown")
    assert "is missing (deleted?)" in body

    (comparison,) = _runs(store, "comparison")
    result = store.latest_artifact(comparison.id, "result")
    result.write_text(result.read_text()[:200])                         # cut short
    page.goto(f"{url}/compare")
    page.get_by_role("tab", name="Past comparisons").click()
    page.get_by_text("comparison(s), newest first").wait_for()
    page.locator(".st-key-compare_history_open button >> visible=true").first.click()
    page.get_by_text("Could not open").first.wait_for()
    body = page.inner_text("body")
    assert "is damaged" in body and str(result.name) in body
    _no_traceback(page)
    page.screenshot(path=str(SHOTS / "35-result-damaged.png"), full_page=True)
