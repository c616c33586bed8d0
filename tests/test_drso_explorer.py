"""The Pareto explorer's logic in the library (gda_core.optimization.explorer)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import REPO

from gda_core.errors import ConfigError, GDAError
from gda_core.optimization import CASES, Front, FrontArchive, merge_fronts, picking, solve
from gda_core.optimization import explorer as ex

WELDING = CASES["welding"]
EXAMPLE = (REPO / "assets" / "printing_ink.csv").read_bytes()


@pytest.fixture(scope="module")
def ran() -> ex.CaseState:
    cs = ex.CaseState(FrontArchive(WELDING))
    ex.run_algorithms(WELDING, cs.archive, ["nsga2", "spea2"], pop=16, gens=10, pc=0.5,
                      pm=0.5, seed=3, repeats=1)
    ex.run_algorithms(WELDING, cs.archive, ["npga"], pop=16, gens=10, pc=0.5, pm=0.5,
                      seed=3, elitist_archive=True)
    return cs


def test_run_algorithms_seeds_progress_archive_and_errors():
    arc = FrontArchive(WELDING)
    seen: list[tuple[float, str]] = []
    fronts = ex.run_algorithms(WELDING, arc, ["nsga2", "eps"], pop=12, gens=5, pc=0.5,
                               pm=0.5, seed=7, repeats=2,
                               progress=lambda f, t: seen.append((f, t)))
    assert [f.algorithm for f in fronts] == ["nsga2", "nsga2", "eps", "eps"]
    assert [f.settings["seed"] for f in fronts] == [7, 8, 7, 8]
    assert arc.fronts == fronts
    assert seen[0][0] == 0.0 and seen[-1] == (1.0, "4 run(s) done")
    assert all(0.0 <= f <= 1.0 for f, _ in seen)
    with pytest.raises(ConfigError, match="at least one"):
        ex.run_algorithms(WELDING, arc, [], pop=12, gens=5, pc=0.5, pm=0.5, seed=1)
    with pytest.raises(ConfigError, match="unknown algorithm"):
        ex.run_algorithms(WELDING, arc, ["nope"], pop=12, gens=5, pc=0.5, pm=0.5, seed=1)


def test_metrics_table_states_sizes_and_names_archive_variants(ran):
    best = ran.archive.best_known()
    table = ex.metrics_table(ran.archive, best)
    assert list(table.columns) == ["run", "algorithm", "points", "M1'", "Delta'", "HV",
                                   "IGD", "seconds"]
    assert table["algorithm"].tolist() == ["NSGA-II", "SPEA2", "NPGA + archive"]
    assert table["points"].tolist() == [len(f) for f in ran.archive.fronts]
    assert table["HV"].between(0, 1.21).all() and (table["IGD"] >= 0).all()
    assert table["M1'"].between(0, 2).all()
    empty = ex.metrics_table(FrontArchive(WELDING), best)
    assert empty.empty and "points" in empty.columns


def test_solution_resolve_selection_and_shortlist(ran):
    best = ran.archive.best_known()
    sol = ex.solution(best, 2, "here")
    assert sol["x"] == tuple(best.X[2]) and sol["F1"] == best.F[2, 0]
    assert ex.resolve(ran, best, ex.BEST, 2) == {**sol, "source": "best-known front"}
    assert ex.resolve(ran, best, 0, 1)["source"].startswith("run 1: NSGA-II")
    assert ex.resolve(ran, best, 99, 0) is None and ex.resolve(ran, best, -7, 0) is None
    cs = ex.CaseState(ran.archive)
    assert ex.pick_from_selection(cs, best, {"points": [{"customdata": [-1, 4, 0.0]}]})
    assert cs.picked["x"] == tuple(best.X[4])
    assert not ex.pick_from_selection(cs, best, {"points": [{"customdata": ["a", "b"]}]})
    assert ex.add_to_shortlist(cs, cs.picked) and not ex.add_to_shortlist(cs, cs.picked)
    assert ex.resolve(cs, best, ex.SHORTLIST, 0) == cs.picked
    assert ex.resolve(cs, best, ex.PICKED, 0) is cs.picked


def test_case_state_clear_runs_keeps_shortlist(ran):
    cs = ex.CaseState(FrontArchive(WELDING), shortlist=[{"x": (0.0, 0.0)}])
    cs.archive.add(ran.archive.fronts[0])
    cs.picked = {"x": (0.0, 0.0)}
    cs.clear_runs()
    assert cs.archive.fronts == [] and cs.picked is None and cs.shortlist


def test_suggestions_match_picking_and_reference_point(ran):
    best = ran.archive.best_known()
    rows = ex.suggestion_rows(WELDING, best, 0.3, 0.7)
    assert set(rows) == set(ex.SUGGESTIONS)
    assert rows["knee"] == picking.knee(best.F)
    assert rows["ASF"] == picking.asf(best.F, 0.7)
    larger = WELDING.with_settings(objective="larger")
    assert ex.suggestion_rows(larger, best, 0.5, 0.5)["minimum MSE"] is None
    # a reference point at a front point picks that point; k objectives work alike
    for i in (0, len(best) // 2, len(best) - 1):
        assert ex.nearest_to_reference(best.F, best.F[i]) == i
    F3 = np.array([[0.0, 1.0, 5.0], [1.0, 0.0, 5.0], [0.5, 0.5, 0.0]])
    assert ex.nearest_to_reference(F3, [0.5, 0.5, 1.0]) == 2
    with pytest.raises(ConfigError, match="2 finite"):
        ex.nearest_to_reference(best.F, [1.0])
    with pytest.raises(ConfigError, match="empty"):
        ex.nearest_to_reference(np.zeros((0, 2)), [1.0, 1.0])


def test_problem_setup_from_tables_carries_the_sd_link():
    table = ex.coefficient_frame(2)
    case = ex.case_from_coefficients(table)
    assert case.mean.coef == WELDING.mean.coef and case.sd.link == "identity"
    log_case = WELDING.with_settings(sd=WELDING.sd.__class__.from_coefficients(
        np.log(np.abs(WELDING.sd.coef) + 0.1), link="log"))
    frame = ex.case_coefficient_frame(log_case)
    assert frame.attrs["sd_link"] == "log"
    back = ex.case_from_coefficients(frame)
    assert back.sd.link == "log" and "log(s)" in back.description
    assert ex.case_from_coefficients(frame, sd_link="identity").sd.link == "identity"
    bounds = ex.bounds_frame(WELDING)
    bounds.loc["x1", "upper"] = 0.5
    assert ex.configure(WELDING, "smaller", None, bounds).upper == (0.5, 1.0)
    with pytest.raises(GDAError, match="finite target"):
        ex.configure(ex.case_from_coefficients(table), "nominal", None, bounds)
    assert ex.default_objective(WELDING) == "nominal"
    assert ex.default_objective(case) == "nominal"  # no target yet: the user is asked


def _positive_sd_csv(seed: int = 5) -> bytes:
    """A replicated 3x3 design whose runs all have a positive sd."""
    rng = np.random.default_rng(seed)
    g = np.array([(a, b) for a in (-1, 0, 1) for b in (-1, 0, 1)] * 2, float)
    mean = 10 + 3 * g[:, 0] - g[:, 1] + g[:, 0] ** 2
    Y = mean[:, None] + rng.normal(0, 1 + 0.3 * (g[:, :1] + 1), (len(g), 3))
    frame = pd.DataFrame(np.column_stack([g, Y]), columns=["x1", "x2", "y1", "y2", "y3"])
    return frame.to_csv(index=False).encode()


def test_fit_upload_passes_log_and_reduction():
    plain = ex.fit_upload(EXAMPLE)
    assert plain.case.target is None and plain.case.objective == "smaller"
    with pytest.raises(GDAError, match="log model of sd needs positive"):
        ex.fit_upload(EXAMPLE, log_sd=True)  # two runs of the example have sd 0
    logged = ex.fit_upload(_positive_sd_csv(), log_sd=True, reduce=True, alpha=0.05)
    assert logged.case.sd.link == "log" and "log(s) model" in logged.case.description
    assert "reduced" in logged.case.description
    assert sum(logged.mean_fit.kept) < len(logged.mean_fit.kept)


def test_picked_intervals_bracket_the_fit():
    fit = ex.fit_upload(EXAMPLE)
    out = ex.picked_intervals(fit, [0.2, -0.1, 0.4])
    assert list(out.index) == ["mean", "sd"]
    assert (out["pi_low"] < out["ci_low"]).all() and (out["ci_low"] < out["fit"]).all()
    assert (out["fit"] < out["ci_high"]).all() and (out["ci_high"] < out["pi_high"]).all()
    assert out.loc["mean", "fit"] == pytest.approx(fit.case.mean.predict([[0.2, -0.1, 0.4]])[0])


def test_factor_ranges_round_trip_and_tables():
    r = ex.FactorRanges(("speed", "pressure"), (100.0, 2.0), (200.0, 6.0), ("rpm", ""))
    pts = np.array([[-1.0, 1.0], [0.0, 0.5]])
    np.testing.assert_allclose(r.to_natural(pts), [[100.0, 6.0], [150.0, 5.0]])
    np.testing.assert_allclose(r.to_coded(r.to_natural(pts)), pts)
    assert r.unit(0) == "rpm" and r.unit(1) == "natural" and not r.is_coded
    back = ex.FactorRanges.from_frame(r.to_frame())
    assert back == r
    frame = r.to_frame()
    frame.loc["pressure", "high"] = 2.0
    with pytest.raises(ConfigError, match="differ for pressure"):
        ex.FactorRanges.from_frame(frame)
    frame.loc["pressure", "high"] = None
    with pytest.raises(ConfigError, match="numbers"):
        ex.FactorRanges.from_frame(frame)
    assert ex.FactorRanges.coded(("a",)).is_coded


def test_solution_tables_show_natural_units_beside_coded():
    sol = {"source": "s", "F1": 1.0, "F2": 0.5, "mean": 3.0, "sd": 0.5, "x": (0.5, -1.0)}
    r = ex.FactorRanges(("x1", "x2"), (10.0, 0.0), (20.0, 4.0), ("s", "mm"))
    frame = ex.solutions_frame([sol], ("x1", "x2"), r)
    assert list(frame.columns) == ["F1", "F2", "mean", "sd", "x1", "x2", "x1 (s)", "x2 (mm)",
                                   "source"]
    assert frame.iloc[0]["x1 (s)"] == 17.5 and frame.iloc[0]["x2 (mm)"] == 0.0
    coded = ex.solutions_frame([sol], ("x1", "x2"), ex.FactorRanges.coded(("x1", "x2")))
    assert list(coded.columns) == ["F1", "F2", "mean", "sd", "x1", "x2", "source"]
    shown = ex.shown_solution(sol, ("x1", "x2"), r)
    assert list(shown.index) == ["picked (coded)", "natural"]
    assert shown.loc["natural", "x1"] == "17.5" and shown.loc["picked (coded)", "x1"] == "0.5"
    assert list(ex.shown_solution(sol, ("x1", "x2")).index) == ["picked"]


def test_pieces_text_and_front_name():
    t = np.r_[np.linspace(0.0, 0.3, 8), np.linspace(0.8, 1.0, 5)]
    best = Front(np.column_stack([t, -t]), np.column_stack([t, 1.0 - t]), t, 1.0 - t, "x")
    assert "13 points in **2 pieces**" in ex.pieces_text(best)
    f = solve(WELDING, "nsga2", pop=8, gens=2, seed=1, archive=True)
    assert ex.front_name(f) == "NSGA-II + archive"
    merged = merge_fronts(WELDING, [f])
    assert ex.front_name(merged) == merged.algorithm


def test_case_key_is_stable_and_distinguishes_cases():
    a = ex.case_key(WELDING)
    assert a == ex.case_key(WELDING.with_settings(target=3.7))
    assert a != ex.case_key(WELDING.with_settings(target=3.8))
    assert isinstance(ex.bounds_frame(WELDING), pd.DataFrame)


def test_a_piece_the_ga_missed_is_found_and_reported_with_its_range():
    """On printing a single NSGA-II run usually misses the isolated piece (F1 about 382-425,
    sd 12.5-14.8); running through the explorer fills the gaps with eps-constraint solves."""
    from gda_core.optimization import CASES, solve
    from gda_core.optimization.archive import FrontArchive, pieces
    from gda_core.optimization.explorer import pieces_text, run_algorithms

    case = CASES["printing"]
    alone = FrontArchive(case)
    alone.add(solve(case, "nsga2", pop=60, gens=80, seed=1))
    assert len(pieces(alone.best_known())) == 1

    archive = FrontArchive(case)
    run_algorithms(case, archive, ["nsga2"], pop=60, gens=80, pc=0.5, pm=0.5, seed=1)
    best = archive.best_known()
    parts = sorted(pieces(best), key=lambda p: best.F[p, 0].min())
    assert len(parts) == 2 and len(archive.fronts) == 1          # fillers are not runs
    far = best.F[parts[1]]
    assert 380 < far[:, 0].min() < 390 and far[:, 0].max() > 424
    assert far[:, 1].min() < 12.6
    assert "2 pieces" in pieces_text(best)
