"""k responses: MultiResponseCase, pymoo algorithms by name, k-objective picking."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from gda_core.errors import ConfigError
from gda_core.optimization import CASES
from gda_core.optimization.front import non_dominated
from gda_core.optimization.multi import (
    MULTI_ALGORITHMS,
    MULTI_CASES,
    MultiResponseCase,
    Response,
    asf_k,
    compromise,
    reference_directions,
    solve_multi,
)

CASE = MULTI_CASES["printing-cost"]


def test_objectives_follow_each_goal():
    s = CASES["welding"].mean
    X = np.array([[0.0, 0.0], [1.0, -1.0]])
    y = s.predict(X)
    case = MultiResponseCase("t", (Response("a", s, "min"), Response("b", s, "max"),
                                   Response("c", s, "target", 3.0)), (-1, -1), (1, 1))
    F, Y = case.evaluate(X)
    np.testing.assert_allclose(Y, np.column_stack([y, y, y]))
    np.testing.assert_allclose(F, np.column_stack([y, -y, np.abs(y - 3.0)]))
    assert [r.objective_label() for r in case.responses] == ["a", "−b", "|c − 3|"]


def test_case_validation():
    s = CASES["welding"].mean
    with pytest.raises(ConfigError, match="at least two"):
        MultiResponseCase("t", (Response("a", s),), (-1, -1), (1, 1))
    with pytest.raises(ConfigError, match="no finite target"):
        Response("a", s, "target")
    with pytest.raises(ConfigError, match="must differ"):
        MultiResponseCase("t", (Response("a", s), Response("a", s)), (-1, -1), (1, 1))
    with pytest.raises(ConfigError, match="same variables"):
        MultiResponseCase("t", (Response("a", s), Response("b", CASES["printing"].sd)),
                          (-1, -1), (1, 1))


def test_the_two_response_case_matches_the_dual_response_objectives():
    w = CASES["welding"]
    two = MultiResponseCase("w", (Response("mean", w.mean, "target", w.target),
                                  Response("sd", w.sd, "min")), w.lower, w.upper)
    X = np.random.default_rng(0).uniform(-1, 1, (50, 2))
    from gda_core.optimization.objectives import evaluate_case

    np.testing.assert_allclose(two.evaluate(X)[0], evaluate_case(w, X)[0])


@pytest.mark.parametrize("algorithm", list(MULTI_ALGORITHMS))
def test_every_algorithm_gives_a_seeded_non_dominated_three_objective_front(algorithm):
    a = solve_multi(CASE, algorithm, pop=24, gens=8, seed=3)
    b = solve_multi(CASE, algorithm, pop=24, gens=8, seed=3)
    assert a.F.shape[1] == 3 and len(a) >= 3
    np.testing.assert_array_equal(a.X, b.X)
    assert non_dominated(a.F).all()
    lo, hi = np.asarray(CASE.lower), np.asarray(CASE.upper)
    assert ((a.X >= lo - 1e-9) & (a.X <= hi + 1e-9)).all()
    assert list(a.to_frame().columns) == ["mean", "sd", "cost", "x1", "x2", "x3"]


def test_nsga3_spreads_over_the_cost_trade_off():
    front = solve_multi(CASE, "nsga3", pop=92, gens=60, seed=1)
    cost = front.Y[:, 2]
    assert cost.max() - cost.min() > 4  # the cost objective is explored, not ignored
    assert np.abs(front.Y[:, 0] - 500).min() < 5  # some points are on target


def test_reference_directions_and_bad_settings():
    assert reference_directions(3, 92).shape == (91, 3)
    assert reference_directions(4, 10).shape[0] <= 10
    with pytest.raises(ConfigError, match="unknown algorithm"):
        solve_multi(CASE, "nope", pop=10, gens=2)
    with pytest.raises(ConfigError, match="at least 4"):
        solve_multi(CASE, "nsga3", pop=2, gens=2)


def test_picking_for_k_objectives():
    F = np.array([[0.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [0.9, 0.9, 0.9]])
    assert compromise(F) == 1
    assert asf_k(F, [1, 1, 1]) == 1
    assert asf_k(F, [10, 1, 1]) == 0  # much weight on the first objective
    with pytest.raises(ConfigError, match="3 positive weights"):
        asf_k(F, [1, 1])
    extra = Response("speed", CASE.responses[2].surface, "max")
    four = dataclasses.replace(CASE, responses=(*CASE.responses, extra))
    front = solve_multi(four, "nsga3", pop=20, gens=3, seed=1)
    assert front.F.shape[1] == 4 and 0 <= compromise(front.F) < len(front)


def test_cli_solves_and_picks_the_three_response_case(capsys, tmp_path):
    from gda_core.cli import main

    out = tmp_path / "front.csv"
    code = main(["drso", "--case", "printing-cost", "--algorithm", "nsga3", "--pop", "24",
                 "--gens", "10", "--pick", "500:30:9", "--out", str(out)])
    text = capsys.readouterr().out
    assert code == 0 and "NSGA-III pop 24" in text and "3 objectives" in text
    assert "picked (nearest to 500:30:9)" in text
    assert out.read_text().splitlines()[0] == "mean,sd,cost,x1,x2,x3"
    assert main(["drso", "--case", "printing-cost", "--pop", "12", "--gens", "3", "--pick",
                 "compromise"]) == 0
    assert "compromise" in capsys.readouterr().out
    code = main(["drso", "--case", "printing-cost", "--algorithm", "eps"])
    assert code != 0 and "choose --algorithm from nsga3" in capsys.readouterr().err
    code = main(["drso", "--case", "printing-cost", "--pop", "12", "--gens", "3", "--pick",
                 "1:2"])
    assert code != 0 and "3 response levels" in capsys.readouterr().err
