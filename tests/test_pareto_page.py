"""AppTest flows of the Pareto page: run, pick, suggestions, shortlist, upload, study."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, finish_job, shown
from streamlit.testing.v1 import AppTest

from gda_core.errors import GDAError
from gda_core.optimization import CASES, picking
from pages import _pareto_state as ps

TIMEOUT = 120


@pytest.fixture
def page(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/pareto.py").run()
    assert not at.exception
    return at


def _small_run(at: AppTest, algorithms=("nsga2",), errors_ok: bool = False) -> AppTest:
    at.multiselect(key="pareto-algorithms").set_value(list(algorithms))
    at.number_input(key="pareto-pop").set_value(20)
    at.number_input(key="pareto-gens").set_value(20)
    _button(at, "Run").click().run()
    assert not at.exception
    assert errors_ok or not at.error, [e.value for e in at.error]
    return at


def _button(at: AppTest, label: str):
    return next(b for b in at.button if b.label == label)


def _state(at: AppTest) -> ps.CaseState:
    """The state of the case created last (the one on screen in these flows)."""
    return list(at.session_state[ps.STATE_KEY].values())[-1]


def _frame(at: AppTest, column: str):
    """The first dataframe shown with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


def test_default_run_on_printing_shows_chart_and_metrics(page):
    assert any("Choose algorithms and press" in i.value for i in page.info)
    _button(page, "Run").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    assert len(page.get("plotly_chart")) == 1
    metrics = _frame(page, "M1'")
    assert {"M1'", "Delta'", "HV", "IGD", "points", "seconds"} <= set(metrics.columns)
    defaults = [a for a in ps.DEFAULT_ALGORITHMS if a in ps.ALGORITHMS]
    assert len(metrics) == len(defaults)
    assert metrics["HV"].between(0, 1.21).all()
    assert "Best-known front:" in _texts(page) and "normalised" in _texts(page)
    cs = _state(page)
    assert cs.archive.case.name == "printing" and len(cs.archive.fronts) == len(defaults)


def test_a_chart_selection_picks_that_solution(page):
    _small_run(page)
    best = _state(page).archive.best_known()
    page.session_state[ps.PICK_REQUEST_KEY] = {
        "selection": {"points": [{"customdata": {"0": -1, "1": 3, "2": 0.0}}],
                      "point_indices": [3], "box": [], "lasso": []}}
    page.run()
    assert not page.exception
    shown = page.table[0].value
    assert list(shown.columns) == ["x1", "x2", "x3", "mean", "sd", "F1", "F2"]
    assert shown["mean"].iloc[0] == f"{best.mean[3]:.4g}"
    assert shown["x2"].iloc[0] == f"{best.X[3, 1]:.4g}"
    assert "best-known front" in _texts(page)
    assert len(page.get("plotly_chart")) == 2  # the fronts and the parallel coordinates

    front = _state(page).archive.fronts[0]  # a point of run 1
    page.session_state[ps.PICK_REQUEST_KEY] = {"points": [{"customdata": [0, 5, 0.0]}]}
    page.run()
    assert page.table[0].value["sd"].iloc[0] == f"{front.sd[5]:.4g}"
    assert "run 1: NSGA-II" in _texts(page)


def test_knee_suggestion_and_shortlist(page):
    _small_run(page)
    page.button(key="pareto-pick-knee").click().run()
    cs = _state(page)
    best = cs.archive.best_known()
    row = picking.knee(best.F)
    assert cs.picked["source"] == "knee"
    assert cs.picked["x"] == tuple(best.X[row])
    assert page.table[0].value["sd"].iloc[0] == f"{best.sd[row]:.4g}"

    page.button(key="pareto-add").click().run()
    page.button(key="pareto-pick-minimum MSE").click().run()
    page.button(key="pareto-add").click().run()
    page.button(key="pareto-add").click().run()  # the same point twice: kept once
    assert not page.exception
    frame = _frame(page, "source")
    assert list(frame.columns) == ["F1", "F2", "mean", "sd", "x1", "x2", "x3", "source"]
    assert frame["source"].tolist() == ["knee", "minimum MSE"]
    csv = ps.solutions_frame(cs.shortlist, ("x1", "x2", "x3")).to_csv(index=False)
    assert csv.splitlines()[0] == "F1,F2,mean,sd,x1,x2,x3,source"
    assert any(getattr(e, "proto", None) is not None and "shortlist" in str(e.proto.label)
               for e in page.get("download_button"))

    page.multiselect(key="pareto-remove").set_value([0])
    page.button(key="pareto-remove-btn").click().run()
    assert [s["source"] for s in _state(page).shortlist] == ["minimum MSE"]
    page.button(key="pareto-clear-shortlist").click().run()
    assert _state(page).shortlist == []


def test_bad_uploads_are_messages_and_keep_the_last_good_fit(page):
    page.radio(key="pareto-source").set_value("Upload a CSV").run()
    assert any("Use the example" in i.value for i in page.info)
    uploader = page.get("file_uploader")[0]
    uploader.upload("bad.csv", b"x1,x2,y1,y2\n1,a,3,4\n", "text/csv")
    page.run()
    assert not page.exception
    assert any("non-numeric" in shown(e.value) and "bad.csv" in shown(e.value) for e in page.error)

    _button(page, "Use the example").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    assert any("R² mean 0.927" in e.label for e in page.expander)
    assert page.dataframe[0].value.loc["x1", "mean"] == pytest.approx(177.0)
    assert page.get("plotly_chart")  # the fit figure

    rows = "x1,x2,y1,y2\n" + "".join(f"{i % 3},{i // 3},{i},{i + 1}\n" for i in range(4))
    page.get("file_uploader")[0].upload("few.csv", rows.encode(), "text/csv")
    page.run()
    assert not page.exception
    assert any("at least 6 runs" in e.value for e in page.error)
    assert "Still using the last file that fitted: **printing_ink.csv**" in _texts(page)
    _small_run(page, errors_ok=True)  # the example's case still works
    assert _state(page).archive.case.name == "uploaded"


def test_target_outside_range_warns_and_typed_coefficients_work(page):
    page.number_input(key=next(n.key for n in page.number_input
                               if n.label == "Target of the mean")).set_value(5000).run()
    assert not page.exception
    assert any("outside the reachable range" in w.value for w in page.warning)

    page.radio(key="pareto-source").set_value("Enter coefficients").run()
    page.number_input(key="pareto-k").set_value(2).run()
    assert not page.exception and not page.error
    _small_run(page)
    assert _state(page).archive.case.k == 2


def test_bad_problem_inputs_raise_plain_messages():
    with pytest.raises(GDAError, match="non-numeric"):
        ps.fit_upload(b"x1,y1,y2\nfast,1,2\n")
    with pytest.raises(GDAError, match=r"could not read|no rows|design"):
        ps.fit_upload(b"")
    table = ps.coefficient_frame(2)
    table.loc["x1", "mean"] = np.nan
    with pytest.raises(GDAError, match="x1"):
        ps.case_from_coefficients(table)
    bounds = ps.bounds_frame(CASES["printing"])
    bounds.loc["x2", "lower"] = 2.0
    with pytest.raises(GDAError, match="lower bound must be below upper bound for x2"):
        ps.configure(CASES["printing"], "nominal", 500.0, bounds)
    bounds.loc["x2", "lower"] = None
    with pytest.raises(GDAError, match="lower and an upper bound"):
        ps.configure(CASES["printing"], "nominal", 500.0, bounds)


def test_study_with_tiny_settings(page):
    page.multiselect(key="pareto-study-algorithms").set_value(["nsga2"])
    page.multiselect(key="pareto-study-pops").set_value([20])
    page.multiselect(key="pareto-study-rates").set_value([(0.5, 0.5)])
    page.number_input(key="pareto-study-repeats").set_value(2)
    page.number_input(key="pareto-study-gens").set_value(10)
    _button(page, "Run study").click().run()
    assert finish_job(page, "pareto_study_job").status == "finished"   # a background job
    assert not page.exception and not page.error, [e.value for e in page.error]
    summary = _frame(page, "M1' mean")
    assert summary["algorithm"].tolist() == ["NSGA-II"] and summary["runs"].tolist() == [2]
    # the study's fronts feed the best-known front and the metrics beside the chart
    assert len(_state(page).archive.fronts) == 2
    assert len(page.get("plotly_chart")) == 1


def test_clear_runs_keeps_the_shortlist(page):
    _small_run(page)
    page.button(key="pareto-pick-knee").click().run()
    page.button(key="pareto-add").click().run()
    page.button(key="pareto-clear").click().run()
    cs = _state(page)
    assert cs.archive.fronts == [] and cs.picked is None and len(cs.shortlist) == 1
    assert any("Choose algorithms and press" in i.value for i in page.info)


def test_pieces_text_names_each_piece_in_f1():
    from gda_core.optimization import Front

    t = np.r_[np.linspace(0.0, 0.3, 8), np.linspace(0.8, 1.0, 5)]
    F = np.column_stack([t, 1.0 - t])
    best = Front(np.column_stack([t, -t]), F, t, 1.0 - t, "best-known")
    text = ps.pieces_text(best)
    assert "13 points in **2 pieces**" in text
    assert "F1 0 to 0.3 (8 points); F1 0.8 to 1 (5 points)" in text
