"""The contract every registered algorithm keeps, and the fast SPEA2 against pymoo's."""

from __future__ import annotations

import numpy as np
import pytest
from pymoo.algorithms.moo.spea2 import SPEA2, _truncation_candidate

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.registry import ALGORITHMS, pymoo_runner, solve
from gda_core.optimization.algorithms.spea2_fast import (
    FastSPEA2,
    domination_matrix,
    pairwise_distances,
    truncate_by_distance,
)
from gda_core.optimization.cases import PRINTING, WELDING
from gda_core.optimization.front import Front, non_dominated
from gda_core.optimization.objectives import evaluate_case

CASES = [PRINTING, WELDING]
GENETIC = [name for name, info in ALGORITHMS.items() if info.genetic]


def _solve(case, name: str, seed: int = 3, **kwargs) -> Front:
    options = {} if ALGORITHMS[name].genetic else {"n_points": 6, "n_starts": 2}
    return solve(case, name, pop=12, gens=8, seed=seed, **options, **kwargs)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_contract(name, case):
    front = _solve(case, name)
    assert isinstance(front, Front) and len(front) > 0
    lo, hi = case.bounds
    assert front.X.shape == (len(front), case.k)
    assert np.all(front.X >= lo) and np.all(front.X <= hi)
    F, mean, sd = evaluate_case(case, front.X)
    assert np.array_equal(front.F, F)
    assert np.array_equal(front.mean, mean) and np.array_equal(front.sd, sd)
    assert non_dominated(front.F).all()
    again = _solve(case, name)
    assert np.array_equal(front.F, again.F) and np.array_equal(front.X, again.X)


@pytest.mark.parametrize("name", list(ALGORITHMS))
def test_progress_reaches_one(name):
    seen: list[float] = []
    _solve(WELDING, name, progress=seen.append)
    assert seen and seen == sorted(seen) and seen[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("name", GENETIC)
@pytest.mark.parametrize("bad", [{"pc": 1.5}, {"pm": -0.1}, {"pc": 0.0, "pm": 0.0},
                                 {"pop": 2}, {"gens": 0}], ids=str)
def test_bad_settings_raise_config_error(name, bad):
    settings = {"pop": 12, "gens": 3, "pc": 0.5, "pm": 0.5, **bad}
    with pytest.raises(ConfigError):
        solve(WELDING, name, seed=1, **settings)


def test_unknown_algorithm_is_a_config_error():
    with pytest.raises(ConfigError, match="unknown algorithm"):
        solve(WELDING, "nope")


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_fast_spea2_returns_what_pymoo_spea2_returns(case):
    old, new = pymoo_runner(SPEA2), pymoo_runner(FastSPEA2)
    for pop, gens, seed in ((20, 25, 1), (30, 15, 7)):
        a = old(case, pop=pop, gens=gens, pc=0.5, pm=0.5, seed=seed)
        b = new(case, pop=pop, gens=gens, pc=0.5, pm=0.5, seed=seed)
        assert np.array_equal(a, b)


def _pymoo_truncation(dists: np.ndarray, n_keep: int) -> list[int]:
    survivors = list(range(len(dists)))
    while len(survivors) > n_keep:
        i = _truncation_candidate(dists, survivors)
        survivors = [survivors[j] for j in range(len(survivors)) if j != i]
    return survivors


def test_truncation_matches_pymoo_including_ties():
    rng = np.random.default_rng(0)
    for t in range(40):
        n = int(rng.integers(3, 40))
        F = rng.random((n, 2))
        if t % 2:
            F = np.round(F, 1)  # equal distances and duplicates
        D = pairwise_distances(F)
        k = int(rng.integers(1, n + 1))
        assert truncate_by_distance(D, k).tolist() == _pymoo_truncation(D, k)


def test_domination_matrix():
    F = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 2.0], [1.0, 1.0]])
    M = domination_matrix(F)
    assert M.astype(int).tolist() == [[0, 1, 1, 1], [0, 0, 0, 0], [0, 0, 0, 0],
                                      [0, 0, 0, 0]]
