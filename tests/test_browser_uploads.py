"""Hostile uploads in the real app: a zip over the configured ``server.maxUploadSize`` is
refused by Streamlit, and a zip with ``..`` / absolute entries loads its safe part while
nothing is written outside the data folder. Headless Chromium, as in test_browser.py."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest
from PIL import Image
from test_browser import SHOTS, browser_page, launch_app

pytestmark = pytest.mark.browser
LIMIT_MB = 1


@pytest.fixture(scope="module")
def small_limit_server(tmp_path_factory):
    """The app with ``server.maxUploadSize`` deliberately set to 1 MB."""
    data = tmp_path_factory.mktemp("data")
    env = {"GDA_DATA_DIR": str(data), "GDA_RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    with launch_app(env, "--server.maxUploadSize", str(LIMIT_MB)) as url:
        yield url, data


@pytest.fixture
def page(small_limit_server):
    with browser_page() as pg:
        yield pg


def _png(seed: int) -> bytes:
    buf = io.BytesIO()
    arr = np.random.default_rng(seed).integers(0, 255, (12, 12), dtype=np.uint8)
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def _choose_zip_source(page, url: str) -> None:
    page.goto(f"{url}/data")
    page.get_by_text("1 · Source").wait_for(timeout=60_000)
    page.get_by_text("Dataset", exact=True).first.wait_for()
    page.locator('[data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="Zip").first.click()
    page.get_by_text("Zip of class folders", exact=True).wait_for()


def test_upload_over_the_size_limit_is_refused(small_limit_server, page, tmp_path):
    url, data = small_limit_server
    big = tmp_path / "big.zip"
    with zipfile.ZipFile(big, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a/noise.bin", np.random.default_rng(0).bytes(2 * 1024 * 1024))
    _choose_zip_source(page, url)
    page.locator('input[type="file"]').set_input_files(str(big))
    page.get_by_text(f"File must be {LIMIT_MB}.0MB or smaller").wait_for()
    page.screenshot(path=str(SHOTS / "20-upload-too-large.png"), full_page=True)
    assert not (data / "uploads").exists() or not any((data / "uploads").iterdir())
    assert "Traceback" not in page.inner_text("body")


def test_zip_slip_entries_are_not_written(small_limit_server, page, tmp_path):
    url, data = small_limit_server
    hostile = tmp_path / "hostile.zip"
    with zipfile.ZipFile(hostile, "w") as zf:
        for i in range(6):
            zf.writestr(f"ok/{i}.png", _png(i))
            zf.writestr(f"also/{i}.png", _png(10 + i))
        zf.writestr("../escaped.png", _png(99))
        zf.writestr("/tmp/absolute-gda-test.png", _png(98))
    _choose_zip_source(page, url)
    page.locator('input[type="file"]').set_input_files(str(hostile))
    page.wait_for_timeout(1000)
    page.get_by_role("button", name="Load dataset").click()
    page.get_by_text("file(s) skipped while loading").wait_for(timeout=60_000)
    page.screenshot(path=str(SHOTS / "21-upload-zip-slip.png"), full_page=True)
    body = page.inner_text("body")
    assert "Traceback" not in body and "2 classes" in body
    assert not (data.parent / "escaped.png").exists()
    assert not (data / "uploads" / "escaped.png").exists()
    assert not os.path.exists("/tmp/absolute-gda-test.png")
    written = [p for p in data.rglob("*.png")]
    assert written and all(p.resolve().is_relative_to(data.resolve()) for p in written)
