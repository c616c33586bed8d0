"""Figures of the Pareto explorer: traces per algorithm, customdata, pieces, parcoords, fits."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from gda_core.optimization import CASES, Front, fit_experiment, merge_fronts, solve
from gda_core.viz.pareto import (
    BEST,
    PICKED,
    SHORTLIST,
    fit_figure,
    fronts_figure,
    parallel_figure,
    selected_refs,
)

WELDING = CASES["welding"]


@pytest.fixture(scope="module")
def runs() -> list[Front]:
    return [solve(WELDING, "nsga2", pop=20, gens=15, seed=1),
            solve(WELDING, "nsga2", pop=20, gens=15, seed=2),
            solve(WELDING, "spea2", pop=20, gens=15, seed=1)]


def _two_piece_front() -> Front:
    """A synthetic front with a clear gap in F1 (two connected pieces)."""
    t = np.r_[np.linspace(0.0, 0.3, 8), np.linspace(0.8, 1.0, 5)]
    F = np.column_stack([t, 1.0 - t])
    X = np.column_stack([t, -t])
    return Front(X, F, 3.7 + t, 1.0 - t, "best-known")


def _by_run(fig, run: int):
    return [t for t in fig.data if t.customdata is not None and len(t.customdata)
            and int(t.customdata[0][0]) == run]


def test_traces_per_run_share_a_colour_per_algorithm(runs):
    best = merge_fronts(WELDING, runs)
    fig = fronts_figure(runs, best, target=3.7, variables=WELDING.variables)
    run_traces = [t for t in fig.data if t.meta and t.meta["run"] >= 0]
    assert len(run_traces) == 3
    nsga = [t for t in run_traces if t.legendgroup == "nsga2"]
    spea = [t for t in run_traces if t.legendgroup == "spea2"]
    assert len(nsga) == 2 and len(spea) == 1
    assert nsga[0].marker.color == nsga[1].marker.color != spea[0].marker.color
    assert nsga[0].marker.symbol == nsga[1].marker.symbol != spea[0].marker.symbol
    assert [t.showlegend for t in nsga] == [True, False]  # one legend entry per algorithm
    assert nsga[0].name == "NSGA-II" and spea[0].name == "SPEA2"
    assert fig.layout.clickmode == "event+select"


def test_customdata_maps_back_to_run_and_row(runs):
    fig = fronts_figure(runs, None, view="objectives", variables=WELDING.variables)
    for r, front in enumerate(runs):
        (trace,) = _by_run(fig, r)
        cd = np.asarray(trace.customdata)
        assert cd.shape == (len(front), 2 + WELDING.k)
        assert cd[:, 1].tolist() == list(range(len(front)))
        np.testing.assert_allclose(cd[:, 2:], front.X)
        np.testing.assert_allclose(trace.x, front.F[:, 0])  # F1 vs F2 view
        np.testing.assert_allclose(trace.y, front.F[:, 1])


def test_mean_view_has_target_line_for_nominal(runs):
    fig = fronts_figure(runs, view="mean", objective="nominal", target=3.7)
    assert any(s.type == "line" and s.x0 == 3.7 for s in fig.layout.shapes)
    np.testing.assert_allclose(_by_run(fig, 0)[0].x, runs[0].mean)
    smaller = fronts_figure(runs, view="mean", objective="smaller")
    assert not smaller.layout.shapes


def test_best_known_pieces_are_separate_segments():
    best = _two_piece_front()
    fig = fronts_figure([], best, variables=("x1", "x2"))
    segments = _by_run(fig, BEST)
    assert len(segments) == 2
    assert all(t.mode == "lines+markers" for t in segments)
    assert [t.showlegend for t in segments] == [True, False]
    rows = [np.asarray(t.customdata)[:, 1].astype(int).tolist() for t in segments]
    assert rows == [list(range(8)), list(range(8, 13))]
    assert segments[0].line.color == segments[1].line.color


def test_picked_and_shortlist_are_stars(runs):
    sol = {"F1": 0.1, "F2": 0.5, "mean": 3.6, "sd": 0.5, "x": (0.1, 0.2), "source": "knee"}
    fig = fronts_figure(runs, picked=sol, shortlist=[sol, {**sol, "x": (0.3, 0.4)}])
    (picked,) = _by_run(fig, PICKED)
    (short,) = _by_run(fig, SHORTLIST)
    assert picked.marker.symbol == "star" and short.marker.symbol == "star"
    assert len(short.x) == 2 and picked.x == (3.6,)


def test_selected_refs_reads_lists_and_typed_array_dicts():
    sel = {"points": [{"customdata": [2, 5, 0.1]},
                      {"customdata": {"0": -1, "1": 7, "2": 0.3}},
                      {"x": 1.0}]}
    assert selected_refs(sel) == [(2, 5), (-1, 7)]
    assert selected_refs(None) == [] and selected_refs({"points": []}) == []


def test_parallel_coordinates_marks_the_picked_solution(runs):
    front = runs[0]
    sol = {"F1": 0.1, "F2": 0.5, "mean": 3.6, "sd": 0.5, "x": (0.1, 0.2)}
    fig = parallel_figure(front, WELDING.variables, bounds=WELDING.bounds, picked=sol)
    assert list(fig.layout.xaxis.ticktext) == ["x1", "x2", "mean", "sd"]
    lines = [t for t in fig.data if t.meta["role"] == "front"]
    assert sorted(r for t in lines for r in t.meta["rows"]) == list(range(len(front)))
    colours = [t.line.color for t in lines]
    assert len(set(colours)) == len(colours)  # one viridis shade per trace
    (picked,) = [t for t in fig.data if t.meta["role"] == "picked"]
    assert picked.line.width >= 3 and tuple(picked.customdata) == (0.1, 0.2, 3.6, 0.5)
    assert [a.text for a in fig.layout.annotations if "<b>" in a.text] == [
        "<b>0.1</b>", "<b>0.2</b>", "<b>3.6</b>", "<b>0.5</b>"]
    # variables are scaled to the bounds: x1 = 0.1 in [-1, 1] sits at 0.55
    assert picked.y[0] == pytest.approx(0.55)
    (bar,) = [t for t in fig.data if t.meta["role"] == "colorbar"]
    assert bar.marker.colorbar.title.text == "F1"
    plain = parallel_figure(front, color_by="sd")
    assert not [t for t in plain.data if t.meta["role"] == "picked"]


def test_fit_figure_has_observed_vs_fitted_for_mean_and_sd():
    fit = fit_experiment(REPO / "assets" / "printing_ink.csv", objective="smaller")
    fig = fit_figure(fit)
    points = [t for t in fig.data if t.mode == "markers"]
    assert len(points) == 2 and all(len(t.x) == 27 for t in points)
    titles = [a.text for a in fig.layout.annotations]
    assert titles[0].startswith("mean: R²") and titles[1].startswith("sd: R²")


def test_archive_variants_get_their_own_colour_marker_and_name():
    runs = [solve(WELDING, "nsga2", pop=12, gens=5, seed=1),
            solve(WELDING, "nsga2", pop=12, gens=5, seed=1, archive=True),
            solve(WELDING, "npga", pop=12, gens=5, seed=1)]
    fig = fronts_figure(runs, None)
    traces = [t for t in fig.data if t.meta and t.meta["run"] >= 0]
    assert [t.legendgroup for t in traces] == ["nsga2", "nsga2+archive", "npga"]
    assert [t.name for t in traces] == ["NSGA-II", "NSGA-II + archive", "NPGA"]
    assert len({t.marker.symbol for t in traces}) == 3
    assert len({t.marker.color for t in traces}) == 3


def test_design_space_contours_front_and_pick():
    from gda_core.viz.pareto import design_space_figure

    case = CASES["printing"]
    front = solve(case, "nsga2", pop=16, gens=5, seed=1)
    picked = {"x": tuple(front.X[2])}
    fig = design_space_figure(case, 0, 2, fixed=front.X[2], front=front, picked=picked, n=9)
    roles = [t.meta["role"] for t in fig.data]
    assert roles == ["mean", "front", "picked", "sd", "front", "picked"]
    mean = fig.data[0]
    x = np.array([mean.x[4], front.X[2, 1], mean.y[7]])  # x2 held at the pick's value
    assert mean.z[7][4] == pytest.approx(case.mean.predict(x[None])[0])
    sd = fig.data[3]
    assert sd.z[7][4] == pytest.approx(case.sd.predict(x[None])[0])
    np.testing.assert_allclose(fig.data[1].x, front.X[:, 0])
    np.testing.assert_allclose(fig.data[1].y, front.X[:, 2])
    assert fig.data[2].x[0] == front.X[2, 0] and fig.data[2].y[0] == front.X[2, 2]
    assert "x2 = " in fig.layout.title.text
    centre = design_space_figure(case, 0, 1, n=5)  # others at the centre, nothing overlaid
    assert [t.meta["role"] for t in centre.data] == ["mean", "sd"]
    assert "x3 = 0" in centre.layout.title.text
    with pytest.raises(ValueError, match="two different factors"):
        design_space_figure(case, 1, 1)


def test_multi_front_figure_3d_and_scatter_matrix():
    import dataclasses

    from gda_core.optimization.multi import MULTI_CASES, Response, solve_multi
    from gda_core.viz.pareto import multi_front_figure

    case = MULTI_CASES["printing-cost"]
    front = solve_multi(case, pop=12, gens=3, seed=1)
    fig = multi_front_figure(front, picked=1)
    assert [t.type for t in fig.data] == ["scatter3d", "scatter3d"]
    assert fig.data[1].z[0] == front.Y[1, 2]
    four = dataclasses.replace(case, responses=(*case.responses,
                                                Response("y4", case.responses[2].surface)))
    f4 = solve_multi(four, pop=12, gens=3, seed=1)
    assert [t.type for t in multi_front_figure(f4).data] == ["splom"]
