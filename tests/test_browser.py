"""Browser flows: the real app under `streamlit run`, driven in headless Chromium.

Uses Playwright for Python with Debian's Chromium (never `playwright install`).  Skipped when
/usr/bin/chromium is missing, unless GDA_REQUIRE_BROWSER=1 (set by .ci/run), where it fails.
Screenshots of every step are saved under test-artifacts/browser/.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = REPO / "test-artifacts" / "browser"
DEFAULT_WAIT_MS = 120_000
"""Ceiling of every wait without its own (Playwright's default, 30 s, failed under load)."""

pytestmark = pytest.mark.browser


def _require_browser() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("GDA_REQUIRE_BROWSER") == "1":
        pytest.fail("GDA_REQUIRE_BROWSER=1 but /usr/bin/chromium is missing")
    pytest.skip("/usr/bin/chromium not installed (apt-get install chromium chromium-driver)")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def launch_app(env: dict[str, str], *extra: str, popen: dict | None = None) -> Iterator[str]:
    """``streamlit run app.py`` on a free localhost port; yields its URL, stops it after
    (``popen``: more ``subprocess.Popen`` arguments)."""
    _require_browser()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", *extra],
        cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        **(popen or {}),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start: " + proc.stdout.read().decode()[-2000:])
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextlib.contextmanager
def browser_page() -> Iterator:
    """A Playwright page in Debian's headless Chromium (never `playwright install`)."""
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu",
                  "--disable-background-networking", "--disable-component-update",
                  "--no-first-run", "--disable-sync"],
        )
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            # every wait is on app state; the ceiling allows a loaded 2-core machine
            page.set_default_timeout(DEFAULT_WAIT_MS)
            yield page
        finally:
            browser.close()


RUNS_DIRS: dict[str, str] = {}
"""Run-store folder of each running test server, by URL (to reach its worker processes)."""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"GDA_DATA_DIR": str(tmp_path_factory.mktemp("data")),
           "GDA_RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    with launch_app(env) as url:
        RUNS_DIRS[url] = env["GDA_RUNS_DIR"]
        yield url


@pytest.fixture
def page(server):
    with browser_page() as pg:
        yield pg


def choose(page, key: str, option: str) -> None:
    """Pick ``option`` in the selectbox keyed ``key``.

    A rerun that is still drawing the page (a cold first load) can close the list as it
    opens, so the list is opened again until the option shows, within the default wait.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + DEFAULT_WAIT_MS / 1000
    item = page.get_by_role("option", name=option)
    while True:
        page.locator(f".st-key-{key}").click()
        try:
            item.wait_for(timeout=5_000)
            break
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.keyboard.press("Escape")
    item.click()


def _shot(page, name: str) -> None:
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_data_to_compare_on_digits(server, page):
    page.goto(f"{server}/data")
    page.get_by_text("3 · Sample images").wait_for(timeout=60_000)
    page.get_by_text("Smallest / largest class").wait_for()
    _shot(page, "01-data")

    nav = page.locator('[data-testid="stSidebarNav"]')
    assert nav.count() == 0  # the legacy pages/ sidebar list stays hidden
    page.get_by_role("link", name="Compare").first.click()
    page.get_by_role("button", name="Run comparison").wait_for()
    epochs = page.get_by_role("spinbutton", name="Epochs (max)")
    epochs.fill("5")
    epochs.press("Tab")
    methods = page.locator('[data-testid="stMultiSelect"]').first
    methods.locator("input").first.click()
    page.keyboard.type("Random oversampling")
    page.get_by_role("option", name="Random oversampling").wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    methods.get_by_text("Random oversampling").wait_for()
    page.get_by_text("5 method(s) × 1 seed(s)").wait_for()  # the server's rerun, not only the chip
    _shot(page, "02-compare-form")
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("Confusion matrices").wait_for(timeout=240_000)
    page.wait_for_timeout(1500)  # let plotly draw
    full_shot(page, "03-compare-result")
    assert page.locator(".js-plotly-plot").count() == 5
    body = page.inner_text("body")
    for name in ("SMOTE", "Borderline-SMOTE", "ADASYN", "Metrics on the balanced test set",
                 "Gallery", "Quality gate: the synthesized images beside real ones"):
        assert name in body
    # the quality gate calls random oversampling what it is, above the metrics
    assert "Random oversampling" in body and "near-copies of training images" in body
    assert page.locator('[data-testid="stDataFrame"]').count() >= 2  # metrics, gate
    assert "Traceback" not in body


def test_cross_validated_comparison_answers_first(server, page):
    """Cross-validation chosen on the page: the protocol line says what each fold tests on
    before the run, and the answer is the first thing on the results."""
    page.goto(f"{server}/compare")
    page.get_by_role("button", name="Run comparison").wait_for(timeout=60_000)
    choose(page, "compare_protocol", "Cross-validation")
    page.get_by_text("5-fold cross-validation × 1 repeat").first.wait_for()
    for name, value in (("Folds", "2"), ("Repeats", "1"), ("Epochs (max)", "2")):
        box = page.get_by_role("spinbutton", name=name)
        box.fill(value)
        box.press("Tab")
    page.get_by_text("4 method(s) × 2 folds × 1 repeat(s) = 8 trainings").wait_for()
    line = page.get_by_text("2-fold cross-validation × 1 repeat: every image tested once")
    line.first.wait_for()
    assert "test images per class" in line.first.inner_text()
    _shot(page, "03b-compare-cv-form")
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("Confusion matrices").wait_for(timeout=240_000)
    full_shot(page, "03c-compare-cv-result")
    results = page.locator('[data-testid="stTabPanel"]').first
    first = results.locator('[data-testid="stAlert"]').first
    # the alert's text, not its icon's ligature name ("help") that headless Chromium prints
    text = first.locator('[data-testid="stMarkdownContainer"]').first.inner_text().strip()
    assert text.startswith(("Use ", "No method is shown to help")), text
    assert "corrected resampled t-test" in text or "No method" in text
    body = page.inner_text("body")
    assert "Metrics on the test images" in body and "over 2 folds" in body
    assert "Traceback" not in body


def test_train_live_without_clicks_survives_reload_and_stops(server, page):
    page.goto(f"{server}/train")
    page.get_by_text("New training run").wait_for(timeout=60_000)
    steps = page.get_by_role("spinbutton", name="min_steps")
    steps.fill("6000")
    steps.press("Tab")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_role("button", name="Stop").wait_for(timeout=60_000)
    page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    _shot(page, "04-train-running")
    assert page.get_by_text("Log scale").count() == 1        # the charts' own controls
    first_progress = page.get_by_text("running ·").first.inner_text()
    first_grid = page.locator("img").last.get_attribute("src")
    page.wait_for_timeout(4000)  # no click: the fragment refreshes by itself
    assert page.get_by_text("running ·").first.inner_text() != first_progress
    assert page.locator("img").last.get_attribute("src") != first_grid
    _shot(page, "05-train-moved")

    url = page.url
    assert "run=" in url
    page.reload()
    page.get_by_role("button", name="Stop").wait_for(timeout=60_000)  # still training
    _shot(page, "06-train-after-reload")
    page.get_by_role("button", name="Stop").click()
    page.get_by_text("stopped ·").first.wait_for(timeout=60_000)
    _shot(page, "07-train-stopped")
    assert "Traceback" not in page.inner_text("body")


def test_train_two_classes_at_once(server, page):
    from gda_core.runs import RunStore

    page.goto(f"{server}/train")
    page.get_by_text("New training run").wait_for(timeout=60_000)
    for name, value in (("min_steps", "3000"), ("n_jobs", "2")):
        box = page.get_by_role("spinbutton", name=name)
        box.fill(value)
        box.press("Tab")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("learning classes 3, 8 at once").first.wait_for(timeout=60_000)
    page.get_by_text("left").first.wait_for(timeout=60_000)  # one pace for both: an estimate
    _shot(page, "14-train-two-classes-running")
    page.get_by_text("finished ·").first.wait_for(timeout=180_000)
    full_shot(page, "15-train-two-classes-finished")
    body = page.inner_text("body")
    assert "Traceback" not in body
    assert re.search(r"Samples from fixed noise · step \d+ · class [38], its step 3000", body)
    store = RunStore(RUNS_DIRS[server])
    run = store.list_runs("train")[0]
    assert run.summary["trained_classes"] == [3, 8]
    classes = [e["class"] for e in store.events(run.id)]
    assert sorted(classes) == [3] * 3000 + [8] * 3000
    assert classes != sorted(classes)  # they trained at once: their steps interleave


def test_comparison_with_a_gan_survives_reload_and_closed_tab_and_stops(server, page):
    page.goto(f"{server}/compare")
    page.get_by_role("button", name="Run comparison").wait_for(timeout=60_000)
    epochs = page.get_by_role("spinbutton", name="Epochs (max)")
    epochs.fill("2")
    epochs.press("Tab")
    methods = page.locator('[data-testid="stMultiSelect"]').first
    methods.locator("input").first.click()
    page.keyboard.type("DCGAN")
    page.get_by_role("option", name="DCGAN").first.wait_for()
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_text("Quality gate with image features").click()  # off: quicker
    page.get_by_text("Method settings").click()
    steps = page.locator(".st-key-param-dcgan-min_steps input")
    steps.fill("20000")                                           # minutes of training
    steps.press("Tab")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Run comparison").click()
    progress = page.get_by_text("runs done").first
    progress.wait_for(timeout=60_000)
    page.get_by_text("DCGAN: training").first.wait_for(timeout=180_000)  # 4 methods done
    page.get_by_text("left").first.wait_for(timeout=60_000)            # an estimate
    _shot(page, "08-compare-running")
    assert page.get_by_role("button", name="Run comparison").is_disabled()

    page.reload()                                                # a reload: still running
    page.get_by_text("DCGAN: training").first.wait_for(timeout=60_000)
    _shot(page, "09-compare-after-reload")

    browser = page.context.browser
    page.close()                                                 # close the tab, reopen
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.set_default_timeout(DEFAULT_WAIT_MS)
    page.goto(f"{server}/compare")
    page.get_by_text("DCGAN: training").first.wait_for(timeout=60_000)
    text = page.get_by_text("runs done").first.inner_text()
    assert "running" in text and "4 of 5 runs done" in text and "left" in text, text
    table = page.locator('[data-testid="stDataFrame"]').first
    table.wait_for()
    _shot(page, "10-compare-reopened")

    page.get_by_role("button", name="Stop").click()
    page.get_by_text("was stopped").first.wait_for(timeout=60_000)
    page.get_by_text("Confusion matrices").wait_for(timeout=60_000)
    page.wait_for_timeout(1500)
    full_shot(page, "11-compare-stopped")
    body = page.inner_text("body")
    assert "4 of 5 method × seed runs" in body and "ADASYN" in body
    page.get_by_role("tab", name="Past comparisons").click()
    page.get_by_text("stopped (partial)").first.wait_for(state="attached")
    _shot(page, "12-compare-history")
    assert "Traceback" not in page.inner_text("body")


def test_train_page_notices_a_killed_worker_without_a_reload(server, page):
    import signal

    from gda_core.runs import RunStore

    page.goto(f"{server}/train")
    page.get_by_text("New training run").wait_for(timeout=60_000)
    steps = page.get_by_role("spinbutton", name="min_steps")
    steps.fill("20000")
    steps.press("Tab")
    page.get_by_role("button", name="Train", exact=True).click()
    page.get_by_text("running ·").first.wait_for(timeout=60_000)
    store = RunStore(RUNS_DIRS[server])
    (record,) = [r for r in store.list_runs("train") if r.is_active]
    os.killpg(record.pid, signal.SIGKILL)           # the worker dies; nobody reloads
    page.get_by_text("The run failed").first.wait_for(timeout=30_000)
    _shot(page, "13-train-worker-killed")
    body = page.inner_text("body")
    assert "ended unexpectedly" in body and "running ·" not in body
    assert "Traceback" not in body


def full_shot(page, name: str, max_height: int = 6000) -> None:
    """Screenshot of the whole page: the viewport grows to the app's scroll height first
    (Streamlit scrolls inside its main container, so full_page alone stops at the fold),
    up to ``max_height`` pixels."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stAppViewContainer], body')].map(e => e.scrollHeight))")
    page.set_viewport_size({"width": 1400, "height": min(max(int(height), 1000), max_height)})
    page.wait_for_timeout(800)  # let plotly resize
    _shot(page, name)


def test_pareto_run_pick_shortlist_download(server, page, tmp_path):
    page.goto(f"{server}/pareto")
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
    algorithms = page.locator('[data-testid="stMultiSelect"]').first
    algorithms.locator('button[aria-label^="Remove "]:visible').first.wait_for()
    others = algorithms.locator(
        'button[aria-label^="Remove "]:not([aria-label="Remove NSGA-II"]):visible')
    while others.count():  # keep NSGA-II only
        others.first.click()
        page.wait_for_timeout(200)
    assert algorithms.locator('button[aria-label^="Remove "]:visible').count() == 1
    full_shot(page, "10-pareto-problem")

    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Best-known front:").wait_for(timeout=120_000)
    chart = page.locator(".js-plotly-plot").first
    chart.wait_for()
    page.wait_for_timeout(1500)  # let plotly draw
    full_shot(page, "11-pareto-front")
    body = page.inner_text("body")
    # the isolated piece a single NSGA-II run misses is found by the automatic gap fill
    assert "2 pieces" in body and "NSGA-II" in body and "Traceback" not in body

    # click a point of the best-known front (the last scatter trace before any star)
    points = chart.locator(".scatterlayer .trace").last.locator(".points path")
    assert points.count() > 10
    target = points.nth(points.count() // 3)
    target.scroll_into_view_if_needed()
    box = target.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.wait_for_timeout(300)
    page.mouse.click(x, y)
    page.get_by_text("Picked ·").wait_for()
    page.wait_for_timeout(1500)
    full_shot(page, "12-pareto-picked")
    table = page.locator('[data-testid="stTable"]').first.inner_text()
    for name in ("x1", "x2", "x3", "mean", "sd", "F1", "F2"):
        assert name in table
    assert page.locator(".js-plotly-plot").count() == 3  # + parallel coordinates, design space

    page.get_by_role("button", name="Add to shortlist").click()
    page.get_by_text("Shortlist (1)").wait_for()
    page.wait_for_timeout(1000)
    full_shot(page, "13-pareto-shortlist")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download shortlist (CSV)").click()
    path = tmp_path / "shortlist.csv"
    download.value.save_as(path)
    lines = path.read_text().splitlines()
    assert lines[0].split(",")[:7] == ["F1", "F2", "mean", "sd", "x1", "x2", "x3"]
    assert len(lines) == 2
    assert "Traceback" not in page.inner_text("body")
