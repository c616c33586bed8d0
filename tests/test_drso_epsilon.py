"""The epsilon-constraint method: feasibility, non-domination, the ends of the front."""

from __future__ import annotations

import numpy as np
import pytest

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.epsilon import (
    epsilon_constraint,
    latin_hypercube,
    polish,
    run_epsilon,
)
from gda_core.optimization.cases import PRINTING, WELDING
from gda_core.optimization.front import non_dominated
from gda_core.optimization.objectives import evaluate_case

CASES = {"printing": PRINTING, "welding": WELDING,
         "welding-smaller": WELDING.with_settings(objective="smaller", target=None),
         "printing-larger": PRINTING.with_settings(objective="larger", target=None)}


def _tol(F: np.ndarray) -> float:
    return 1e-8 * max(1.0, float(np.ptp(F[:, 0])))


@pytest.mark.parametrize("name", list(CASES))
def test_points_feasible_and_non_dominated(name):
    case = CASES[name]
    X, eps = epsilon_constraint(case, n_points=8, n_starts=3, seed=0)
    lo, hi = case.bounds
    assert len(X) >= 2 and len(X) == len(eps)
    assert np.all(X >= lo) and np.all(X <= hi)
    F = evaluate_case(case, X)[0]
    assert np.all(F[:, 0] <= eps + _tol(F))
    assert non_dominated(F).all()
    assert np.all(np.diff(eps) > 0)


@pytest.mark.parametrize("case", [PRINTING, WELDING], ids=["printing", "welding"])
def test_the_front_reaches_both_ends(case):
    X, _ = epsilon_constraint(case, n_points=6, n_starts=4, seed=1)
    F = evaluate_case(case, X)[0]
    assert F[:, 0].min() < 1e-6  # both targets are reachable in the box
    rng = np.random.default_rng(0)
    lo, hi = case.bounds
    sample = lo + rng.random((20_000, case.k)) * (hi - lo)
    sd_sample = evaluate_case(case, sample)[0][:, 1]
    assert F[:, 1].min() <= sd_sample.min() + 1e-9  # the sd-minimiser is on the front


def test_same_seed_same_points():
    a = epsilon_constraint(PRINTING, n_points=6, n_starts=2, seed=5)
    b = epsilon_constraint(PRINTING, n_points=6, n_starts=2, seed=5)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_runner_ignores_genetic_settings_and_reports_progress():
    seen = []
    X = run_epsilon(WELDING, pop=7, gens=3, pc=0.1, pm=0.2, seed=1, progress=seen.append,
                    n_points=5, n_starts=2)
    assert X.shape[1] == WELDING.k and len(X) >= 2
    assert seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


def test_polish_never_makes_a_point_worse():
    rng = np.random.default_rng(2)
    X = rng.uniform(-1, 1, (6, PRINTING.k))
    Y = polish(PRINTING, X, n_starts=1, seed=0)
    F0, F1 = evaluate_case(PRINTING, X)[0], evaluate_case(PRINTING, Y)[0]
    assert np.all(F1[:, 0] <= F0[:, 0] + _tol(F0))
    assert np.all(F1[:, 1] <= F0[:, 1] + 1e-12)
    assert np.any(F1[:, 1] < F0[:, 1] - 1e-6)  # random points are far from the front


def test_latin_hypercube_one_point_per_stratum():
    rng = np.random.default_rng(0)
    P = latin_hypercube(10, np.array([-1.0, 0.0]), np.array([1.0, 5.0]), rng)
    for j, (lo, hi) in enumerate([(-1.0, 1.0), (0.0, 5.0)]):
        strata = np.floor((P[:, j] - lo) / (hi - lo) * 10).astype(int)
        assert sorted(strata.tolist()) == list(range(10))


def test_bad_options_raise_config_error():
    with pytest.raises(ConfigError, match="eps values"):
        epsilon_constraint(WELDING, n_points=1)
    with pytest.raises(ConfigError, match="starts"):
        epsilon_constraint(WELDING, n_points=5, n_starts=0)
