"""Pareto explorer in a real browser: design-space contours with the pick, natural units.

Screenshots go to test-artifacts/browser/ (``2x-pareto-*.png``).
"""

from __future__ import annotations

import pytest
from test_browser import SHOTS, browser_page, full_shot, launch_app

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    env = {"GDA_DATA_DIR": str(tmp_path_factory.mktemp("data")),
           "GDA_RUNS_DIR": str(tmp_path_factory.mktemp("runs"))}
    with launch_app(env) as url:
        yield url


@pytest.fixture
def page(server):
    with browser_page() as pg:
        yield pg


def _set_number(page, label: str, value: str) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(value)
    box.press("Enter")
    page.wait_for_timeout(700)


def test_design_space_with_the_pick_and_natural_units(server, page):
    page.goto(f"{server}/pareto")
    page.get_by_role("button", name="Run", exact=True).wait_for(timeout=60_000)
    algorithms = page.locator('[data-testid="stMultiSelect"]').first
    algorithms.locator('button[aria-label^="Remove "]:visible').first.wait_for()
    others = algorithms.locator(
        'button[aria-label^="Remove "]:not([aria-label="Remove NSGA-II"]):visible')
    while others.count():  # keep NSGA-II only
        others.first.click()
        page.wait_for_timeout(200)
    page.get_by_role("button", name="Run", exact=True).click()
    page.get_by_text("Best-known front:").wait_for(timeout=120_000)
    page.get_by_text("Design space", exact=False).first.wait_for()

    page.get_by_role("button", name="Pick: mean").first.click()  # the knee
    page.get_by_text("Picked ·").wait_for()
    page.get_by_text("Natural units:").click()
    _set_number(page, "x1 low", "100")
    _set_number(page, "x1 high", "200")
    unit = page.get_by_label("x1 unit", exact=True)
    unit.fill("rpm")
    unit.press("Enter")
    page.get_by_text("picked (coded)").wait_for()
    page.wait_for_timeout(1500)
    table = page.locator('[data-testid="stTable"]').first.inner_text()
    assert "natural" in table and "picked (coded)" in table

    design = page.locator(".js-plotly-plot").last
    design.scroll_into_view_if_needed()
    assert design.locator(".contour").count() >= 2 or design.locator(".contourlayer").count()
    legend = design.inner_text()
    assert "picked" in legend and "Pareto set" in legend
    full_shot(page, "20-pareto-design-space-natural-units", max_height=7000)
    design.screenshot(path=str(SHOTS / "21-pareto-design-space.png"))

    page.get_by_role("button", name="Add to shortlist").click()
    page.get_by_text("Shortlist (1)").wait_for()
    page.wait_for_timeout(800)
    body = page.inner_text("body")
    assert "Traceback" not in body


def test_three_responses_solved_and_picked(server, page):
    page.goto(f"{server}/pareto")
    page.get_by_text("Three or more responses").click()
    page.get_by_role("button", name="Solve").wait_for(timeout=60_000)
    page.get_by_role("button", name="Solve").click()
    page.get_by_text("NSGA-III pop 92").wait_for(timeout=120_000)
    page.get_by_role("button", name="Pick the compromise").click()
    page.get_by_text("Picked", exact=True).wait_for()
    page.wait_for_timeout(2000)  # let the 3-D plot draw
    table = page.locator('[data-testid="stTable"]').first.inner_text()
    for name in ("mean", "sd", "cost", "x1", "x2", "x3"):
        assert name in table
    chart = page.locator(".js-plotly-plot").first
    assert chart.locator(".gl-container canvas, canvas").count() >= 1  # WebGL 3-D scene
    assert "picked" in chart.inner_text()
    full_shot(page, "22-pareto-three-responses", max_height=7000)

    page.get_by_label("Aspiration levels", exact=False).fill("500, 30, 9")
    page.get_by_label("Aspiration levels", exact=False).press("Enter")
    page.wait_for_timeout(500)
    page.get_by_role("button", name="Pick nearest to the levels").click()
    page.wait_for_timeout(1500)
    assert "Traceback" not in page.inner_text("body")
    full_shot(page, "23-pareto-three-responses-reference", max_height=7000)
