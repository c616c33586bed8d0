"""Constraints of a dual response case (sd cap, spec limits on the mean) for every
algorithm, and the CLI's constraint, fit and pick options."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import REPO

from gda_core.cli import main
from gda_core.errors import ConfigError
from gda_core.optimization import ALGORITHMS, CASES, DRSOCase, Front, merge_fronts, solve
from gda_core.optimization.problem import DualResponseProblem

WELDING = CASES["welding"]
# the sd cap and the USL bind (unconstrained front: sd 0.21-0.43, mean 2.7-4.0)
CONSTRAINED = WELDING.with_settings(sd_max=0.40, lsl=3.6, usl=3.95)


def test_constraints_validate_round_trip_and_key():
    assert not WELDING.constrained and CONSTRAINED.constrained
    assert DRSOCase.from_dict(CONSTRAINED.to_dict()) == CONSTRAINED
    assert "sd_max" not in WELDING.to_dict()  # unconstrained cases keep their old form
    assert CONSTRAINED.constraints_text() == "sd ≤ 0.4, 3.6 ≤ mean ≤ 3.95"
    with pytest.raises(ConfigError, match="below the upper"):
        WELDING.with_settings(lsl=4.0, usl=3.0)
    with pytest.raises(ConfigError, match="positive"):
        WELDING.with_settings(sd_max=0.0)
    with pytest.raises(ConfigError, match="finite"):
        WELDING.with_settings(usl=float("nan"))
    v = CONSTRAINED.violation([3.5, 3.7, 4.0], [0.3, 0.4, 0.3])
    np.testing.assert_allclose(v, [0.1, 0.0, 0.05])


def test_penalty_makes_every_feasible_point_better():
    from gda_core.optimization.objectives import evaluate_case

    loose = WELDING.with_settings(sd_max=0.45, lsl=3.0)
    problem = DualResponseProblem(loose)
    X = np.random.default_rng(0).uniform(-1, 1, (2000, 2))
    F = problem.evaluate(X)
    _, mean, sd = evaluate_case(loose, X)
    bad = loose.violation(mean, sd) > 0
    assert bad.any() and (~bad).any()
    assert (F[bad].min(axis=0) > F[~bad].max(axis=0)).all()
    np.testing.assert_allclose(F[~bad], evaluate_case(loose, X[~bad])[0])


@pytest.mark.parametrize("algorithm", list(ALGORITHMS))
def test_every_algorithm_returns_feasible_points_only(algorithm):
    kw = {} if not ALGORITHMS[algorithm].genetic else {"pop": 30, "gens": 30}
    front = solve(CONSTRAINED, algorithm, seed=1, **kw)
    assert len(front) >= 3
    assert (front.sd <= 0.40 + 1e-9).all()
    assert ((front.mean >= 3.6 - 1e-9) & (front.mean <= 3.95 + 1e-9)).all()


def test_an_infeasible_problem_gives_an_empty_front():
    tight = WELDING.with_settings(sd_max=0.01)
    front = solve(tight, "nsga2", pop=12, gens=5, seed=1)
    assert len(front) == 0 and len(merge_fronts(tight, [front])) == 0
    assert len(Front.from_X(tight, np.zeros((3, 2)), "x", filter_dominated=False)) == 3


def test_cli_constraints_pick_and_fit_options(capsys, tmp_path):
    code = main(["drso", "--case", "welding", "--pop", "20", "--gens", "20",
                 "--sd-max", "0.4", "--lsl", "3.6", "--reference", "none", "--pick", "knee",
                 "--out", str(tmp_path / "f.csv")])
    out = capsys.readouterr().out
    assert code == 0 and "constraints: sd ≤ 0.4, mean ≥ 3.6" in out and "picked (knee)" in out
    import pandas as pd

    table = pd.read_csv(tmp_path / "f.csv")
    assert (table["sd"] <= 0.4 + 1e-9).all() and (table["mean"] >= 3.6 - 1e-9).all()
    code = main(["drso", "--case", "welding", "--pop", "12", "--gens", "5", "--reference",
                 "none", "--pick", "0:0.2"])
    assert code == 0 and "nearest to F1 0, sd 0.2" in capsys.readouterr().out
    code = main(["drso", "--case", "welding", "--pop", "12", "--gens", "5",
                 "--sd-max", "0.01", "--reference", "none"])
    assert code == 1 and "no feasible point" in capsys.readouterr().err
    code = main(["drso", "--case", str(REPO / "assets" / "printing_ink.csv"),
                 "--objective", "smaller", "--reduce", "--pop", "12", "--gens", "5",
                 "--reference", "none"])
    captured = capsys.readouterr()
    assert code == 0 and "reduced models" not in captured.err
    assert "warning:" in captured.err and "note:" in captured.err


def test_cli_bad_pick_is_a_message(capsys):
    code = main(["drso", "--case", "welding", "--pop", "12", "--gens", "5", "--reference",
                 "none", "--pick", "elbow"])
    assert code != 0 and "knee, mse or F1:SD" in capsys.readouterr().err
