"""AppTest flows of the Pareto page: run, pick, suggestions, shortlist, upload, study."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO, finish_job, shown
from streamlit.testing.v1 import AppTest

from gda_core.errors import GDAError
from gda_core.optimization import ALGORITHMS, CASES, picking
from gda_core.optimization import explorer as ex
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


def _state(at: AppTest) -> ex.CaseState:
    """The state of the case created last (the one on screen in these flows)."""
    return list(at.session_state[ps.STATE_KEY].values())[-1]


def _frame(at: AppTest, column: str):
    """The first dataframe shown with ``column``."""
    return next(d.value for d in at.dataframe if column in d.value.columns)


def _charts(at: AppTest) -> list[str]:
    """Keys of the plotly charts on the page, in order."""
    return [c.key for c in at.get("plotly_chart")]


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return "\n".join(str(p) for p in parts)


def test_default_run_on_printing_shows_chart_and_metrics(page):
    assert any("Choose algorithms and press" in i.value for i in page.info)
    _button(page, "Run").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    assert _charts(page) == ["pareto-chart", "pareto-design-space"]
    metrics = _frame(page, "M1'")
    assert {"M1'", "Delta'", "HV", "IGD", "points", "seconds"} <= set(metrics.columns)
    defaults = [a for a in ex.DEFAULT_ALGORITHMS if a in ALGORITHMS]
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
    # the fronts, the parallel coordinates and the design space
    assert _charts(page) == ["pareto-chart", "pareto-parallel", "pareto-design-space"]

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
    csv = ex.solutions_frame(cs.shortlist, ("x1", "x2", "x3")).to_csv(index=False)
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
    assert _frame(page, "mean").loc["x1", "mean"] == pytest.approx(177.0)
    assert page.get("plotly_chart")  # the fit figure

    rows = "x1,x2,y1,y2\n" + "".join(f"{i % 3},{i // 3},{i},{i + 1}\n" for i in range(4))
    page.get("file_uploader")[0].upload("few.csv", rows.encode(), "text/csv")
    page.run()
    assert not page.exception
    assert any("at least 6 runs" in e.value for e in page.error)
    assert "Still using the last file that fitted: **printing_ink.csv**" in _texts(page)
    _set_target(page, 500)
    _small_run(page, errors_ok=True)  # the example's case still works
    assert _state(page).archive.case.name == "uploaded"


def _target_input(at: AppTest):
    return next(n for n in at.number_input if n.label == "Target of the mean")


def _set_target(at: AppTest, value: float) -> AppTest:
    _target_input(at).set_value(value).run()
    assert not at.exception
    return at


def test_target_outside_range_warns_and_typed_coefficients_work(page):
    page.number_input(key=next(n.key for n in page.number_input
                               if n.label == "Target of the mean")).set_value(5000).run()
    assert not page.exception
    assert any("outside the reachable range" in w.value for w in page.warning)

    page.radio(key="pareto-source").set_value("Enter coefficients").run()
    page.number_input(key="pareto-k").set_value(2).run()
    assert not page.exception and not page.error
    assert "Type the **target of the mean**" in _texts(page)  # asked, not defaulted
    _set_target(page, 3.7)
    _small_run(page)
    assert _state(page).archive.case.k == 2


def test_bad_problem_inputs_raise_plain_messages():
    with pytest.raises(GDAError, match="non-numeric"):
        ex.fit_upload(b"x1,y1,y2\nfast,1,2\n")
    with pytest.raises(GDAError, match=r"could not read|no rows|design"):
        ex.fit_upload(b"")
    table = ex.coefficient_frame(2)
    table.loc["x1", "mean"] = np.nan
    with pytest.raises(GDAError, match="x1"):
        ex.case_from_coefficients(table)
    bounds = ex.bounds_frame(CASES["printing"])
    bounds.loc["x2", "lower"] = 2.0
    with pytest.raises(GDAError, match="lower bound must be below upper bound for x2"):
        ex.configure(CASES["printing"], "nominal", 500.0, bounds)
    bounds.loc["x2", "lower"] = None
    with pytest.raises(GDAError, match="lower and an upper bound"):
        ex.configure(CASES["printing"], "nominal", 500.0, bounds)


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
    assert "pareto-chart" in _charts(page)


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
    text = ex.pieces_text(best)
    assert "13 points in **2 pieces**" in text
    assert "F1 0 to 0.3 (8 points); F1 0.8 to 1 (5 points)" in text


def test_upload_asks_for_the_target_and_shows_the_fit_checks(page):
    page.radio(key="pareto-source").set_value("Upload a CSV").run()
    _button(page, "Use the example").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    # no mid-range default: the target is asked for and nothing is solved until given
    assert _target_input(page).value is None
    assert "Type the **target of the mean**" in _texts(page)
    assert not any(b.label == "Run" for b in page.button) and _charts(page) == ["pareto-fit"]
    # the fit checks: summary, ANOVA with its note, term tests, notices as warnings
    summary = _frame(page, "r2_adj")
    assert list(summary.index) == ["mean", "sd"] and "lack_of_fit_p" in summary.columns
    assert any(list(d.value.index) == ["Regression", "Residual", "Lack of fit",
                                       "Pure error", "Total"] for d in page.dataframe)
    assert "Pure error from the replicates" in _texts(page)
    assert any("p" in d.value.columns and "in_model" in d.value.columns
               for d in page.dataframe)
    assert page.warning and any("lack of fit" in shown(w.value).lower() for w in page.warning)
    # objective smaller-the-better needs no target
    page.selectbox(key=next(s.key for s in page.selectbox if s.label == "Objective type")) \
        .set_value("smaller").run()
    _small_run(page)
    assert _state(page).archive.case.objective == "smaller"
    # picking a point shows the intervals of the fitted surfaces there
    page.button(key="pareto-pick-knee").click().run()
    intervals = _frame(page, "pi_high")
    assert list(intervals.index) == ["mean", "sd"]
    assert (intervals["pi_low"] < intervals["fit"]).all()
    # model reduction is an info; a log(s) model of sd = 0 runs is refused, the fit stays
    page.checkbox(key="pareto-reduce").check().run()
    assert any("dropped" in shown(i.value).lower() or "reduced" in shown(i.value).lower()
               for i in page.info)
    page.checkbox(key="pareto-log-sd").check().run()
    assert any("positive" in shown(e.value) for e in page.error)
    assert "Still using the last file that fitted" in _texts(page)


def test_typed_in_negative_sd_warns_and_reference_point_picks(page):
    page.radio(key="pareto-source").set_value("Enter coefficients").run()
    page.number_input(key="pareto-k").set_value(1).run()
    assert not page.exception
    # the default for k = 1 is sd = 1 everywhere: no warning; a log(s) model is carried
    assert not any("negative" in shown(w.value) for w in page.warning)
    page.checkbox(key="pareto-coef-log").check().run()
    assert not page.exception
    page.selectbox(key=next(s.key for s in page.selectbox if s.label == "Objective type")) \
        .set_value("smaller").run()
    _small_run(page)
    cs = _state(page)
    assert cs.archive.case.sd.link == "log"
    best = cs.archive.best_known()
    f1 = next(n for n in page.number_input if n.label == "Aspired F1")
    f1.set_value(float(best.F[-1, 0])).run()
    page.button(key="pareto-pick-reference").click().run()
    picked = _state(page).picked
    assert picked["source"].startswith("reference point")
    assert picked["x"] == tuple(best.X[ex.nearest_to_reference(
        best.F, [best.F[-1, 0], best.F[:, 1].min()])])


def test_negative_sd_surface_is_a_warning(page, monkeypatch):
    dip = ex.coefficient_frame(1)
    dip["mean"], dip["sd"] = [0.0, 1.0, 0.0], [0.2, 0.0, -1.0]
    monkeypatch.setattr(ex, "coefficient_frame", lambda k: dip)
    page.radio(key="pareto-source").set_value("Enter coefficients").run()
    page.number_input(key="pareto-k").set_value(1).run()
    assert not page.exception
    assert any("negative standard deviation, -0.8" in shown(w.value) for w in page.warning)
    _set_target(page, 0.5)  # still warned once the problem is complete
    assert any("negative standard deviation" in shown(w.value) for w in page.warning)


def test_natural_units_and_design_space_at_the_pick(page):
    _small_run(page)
    page.button(key="pareto-pick-knee").click().run()
    bkey = ex.case_key(_state(page).archive.case)
    page.number_input(key=f"pareto-units-low-0-{bkey}").set_value(100.0)
    page.number_input(key=f"pareto-units-high-0-{bkey}").set_value(200.0)
    page.text_input(key=f"pareto-units-unit-0-{bkey}").input("rpm").run()
    assert not page.exception and not page.error
    picked = _state(page).picked
    shown_table = page.table[0].value
    assert list(shown_table.index) == ["picked (coded)", "natural"]
    assert shown_table.loc["natural", "x1"] == f"{150 + 50 * picked['x'][0]:.4g}"
    assert shown_table.loc["natural", "x2"] == f"{picked['x'][1]:.4g}"  # left coded
    front = _frame(page, "x1 (rpm)")
    np.testing.assert_allclose(front["x1 (rpm)"], 150 + 50 * front["x1"])
    page.button(key="pareto-add").click().run()
    assert "x1 (rpm)" in _frame(page, "source").columns
    # the design space: two factors, the others at the picked point's values
    assert _charts(page)[-1] == "pareto-design-space"
    page.selectbox(key=f"pareto-ds-y-{bkey}").set_value(2).run()
    assert not page.exception
    page.number_input(key=f"pareto-units-high-0-{bkey}").set_value(100.0).run()
    assert any("must differ for x1" in shown(e.value) for e in page.error)


def test_constraints_keep_feasible_points_only(page):
    bkey = ex.case_key(CASES["printing"])
    page.number_input(key=f"pareto-sd-max-{bkey}").set_value(45.0)
    page.number_input(key=f"pareto-lsl-{bkey}").set_value(450.0).run()
    assert not page.exception and not page.error
    _small_run(page)
    cs = _state(page)
    assert cs.archive.case.sd_max == 45.0 and cs.archive.case.lsl == 450.0
    best = cs.archive.best_known()
    assert len(best) and (best.sd <= 45.0).all() and (best.mean >= 450.0).all()
    assert "Constraints: sd ≤ 45, mean ≥ 450" in _texts(page)
    page.number_input(key=f"pareto-sd-max-{bkey}").set_value(0.001).run()
    _small_run(page)
    assert any("No run found a point that meets the constraints" in w.value
               for w in page.warning)
    page.number_input(key=f"pareto-usl-{bkey}").set_value(400.0).run()
    assert any("must be below the upper" in shown(e.value) for e in page.error)


def test_three_responses_solved_with_nsga3_and_picked(page):
    page.radio(key="pareto-source").set_value("Three or more responses").run()
    assert not page.exception
    assert _frame(page, "objective")["response"].tolist() == ["mean", "sd", "cost"]
    assert any("press **Solve**" in i.value for i in page.info)
    page.number_input(key="pareto-multi-pop").set_value(24)
    page.number_input(key="pareto-multi-gens").set_value(15)
    _button(page, "Solve").click().run()
    assert not page.exception and not page.error, [e.value for e in page.error]
    front = page.session_state["pareto_multi"]["printing-cost"]["front"]
    assert front.F.shape[1] == 3 and front.algorithm == "nsga3"
    assert "NSGA-III pop 24" in _texts(page)
    page.button(key="pareto-multi-compromise").click().run()
    from gda_core.optimization import multi

    row = multi.compromise(front.F)
    assert page.table[0].value["cost"].iloc[0] == f"{front.Y[row, 2]:.4g}"
    page.text_input(key="pareto-multi-ref").input(f"500, {front.Y[:, 1].min()}, 20").run()
    page.button(key="pareto-multi-pick-ref").click().run()
    state = page.session_state["pareto_multi"]["printing-cost"]
    target = [0.0, front.Y[:, 1].min(), 20.0]
    assert state["picked"] == ex.nearest_to_reference(front.F, target)
    page.text_input(key="pareto-multi-ref").input("1, 2").run()
    page.button(key="pareto-multi-pick-ref").click().run()
    assert any("Type 3 numbers" in e.value for e in page.error)
    assert _charts(page) == ["pareto-multi-chart"]
