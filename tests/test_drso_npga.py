"""NPGA: niche counts, the niched Pareto tournament (on stubs) and short runs."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from pymoo.core.population import Population

from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.elitist import nd_mask, normalise
from gda_core.optimization.algorithms.npga import (
    NPGA,
    comparison_sets,
    niche_counts,
    niched_pareto_tournament,
    run_npga,
    tournament_winner,
)
from gda_core.optimization.algorithms.registry import solve
from gda_core.optimization.cases import WELDING
from gda_core.optimization.front import non_dominated


def test_normalise_scales_each_objective_by_its_range():
    F = np.array([[1.0, 10.0], [3.0, 10.0], [2.0, 10.0]])
    assert normalise(F).tolist() == [[0.0, 0.0], [1.0, 0.0], [0.5, 0.0]]


def test_niche_counts_hand_checked():
    F = np.array([[0.0, 0.0], [0.05, 0.0], [1.0, 1.0]])
    # d01 = 0.05 -> sh = 1 - 0.05 / 0.1 = 0.5; each point shares 1 with itself
    assert niche_counts(F, 0.1) == pytest.approx([1.5, 1.5, 1.0])
    ref = np.array([[0.03, 0.04], [0.2, 0.0]])  # distances 0.05 and 0.2 from the origin
    assert niche_counts(F[:1], 0.1, reference=ref) == pytest.approx([0.5])
    assert niche_counts(F[:1], 0.1, reference=np.zeros((0, 2))) == pytest.approx([0.0])


def test_tournament_winner_domination_decides():
    rng = np.random.default_rng(0)
    a, b = np.array([2.0, 2.0]), np.array([0.0, 3.0])
    comp = np.array([[1.0, 1.0], [5.0, 5.0]])  # [1, 1] dominates a only
    assert tournament_winner(a, b, comp, 0.0, 9.0, rng) == 1  # b wins despite its crowding
    assert tournament_winner(b, a, comp, 9.0, 0.0, rng) == 0


def test_tournament_winner_sharing_breaks_ties():
    rng = np.random.default_rng(0)
    a, b = np.array([2.0, 2.0]), np.array([0.0, 3.0])
    neither = np.array([[5.0, 5.0], [6.0, 0.5]])  # dominates neither candidate
    both = np.array([[-1.0, -1.0]])  # dominates both
    for comp in (neither, both):
        assert tournament_winner(a, b, comp, 1.0, 2.5, rng) == 0  # a is less crowded
        assert tournament_winner(a, b, comp, 3.0, 2.5, rng) == 1


def test_tournament_winner_exact_tie_is_random_and_seeded():
    a, b, comp = np.array([2.0, 2.0]), np.array([0.0, 3.0]), np.array([[5.0, 5.0]])
    picks = [tournament_winner(a, b, comp, 1.0, 1.0, np.random.default_rng(s))
             for s in range(40)]
    assert set(picks) == {0, 1}
    again = [tournament_winner(a, b, comp, 1.0, 1.0, np.random.default_rng(s))
             for s in range(40)]
    assert picks == again


def test_comparison_sets_exclude_the_candidates():
    rng = np.random.default_rng(1)
    n = 9
    a = rng.integers(0, n, 300)
    b = (a + rng.integers(1, n, 300)) % n
    C = comparison_sets(n, a, b, 4, rng)
    assert C.shape == (300, 4)
    assert C.min() >= 0 and C.max() < n
    assert not np.any(C == a[:, None]) and not np.any(C == b[:, None])
    assert all(len(set(row)) == 4 for row in C.tolist())
    full = comparison_sets(n, a, b, n - 2, rng)  # everyone but the two candidates
    assert all(sorted(row) == sorted(set(range(n)) - {i, j})
               for row, i, j in zip(full.tolist(), a, b, strict=True))


def _stub(F, t_dom, sigma_share=0.1, seed=0):
    pop = Population.new("F", np.asarray(F, dtype=float))
    alg = SimpleNamespace(t_dom=t_dom, sigma_share=sigma_share,
                          random_state=np.random.default_rng(seed))
    return pop, alg


def test_niched_pareto_tournament_on_a_stub():
    F = [[0.0, 1.0], [0.02, 0.98], [1.0, 0.0], [5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]
    pop, alg = _stub(F, t_dom=4)  # comparison set = everyone but the two candidates
    # 1) 5 is dominated (by 3 and 4), 0 is not: 0 wins and joins the pool
    # 2) neither 1 nor 2 is dominated; 1 sits next to 0 in the pool, 2 is alone: 2 wins
    S = niched_pareto_tournament(pop, np.array([[0, 5], [1, 2]]), alg)
    assert S.tolist() == [[0], [2]]


def test_niched_pareto_tournament_both_dominated_goes_to_the_less_crowded():
    F = [[0.0, 1.0], [1.0, 0.0], [0.6, 0.6], [0.62, 0.62], [0.9, 0.9], [3.0, 3.0]]
    pop, alg = _stub(F, t_dom=4)
    # 1) 5 is dominated, 2 is not: 2 joins the pool
    # 2) 3 and 4 are both dominated (by 2); 3 sits next to 2 (niche count 0.91), 4 is
    #    farther than sigma_share from it (niche count 0): 4 wins
    S = niched_pareto_tournament(pop, np.array([[2, 5], [3, 4]]), alg)
    assert S.tolist() == [[2], [4]]


def test_niched_pareto_tournament_counts_against_the_pool_across_calls():
    F = [[0.0, 1.0], [0.02, 0.98], [1.0, 0.0], [5.0, 5.0], [6.0, 6.0], [7.0, 7.0]]
    pop, alg = _stub(F, t_dom=4)
    niched_pareto_tournament(pop, np.array([[0, 5]]), alg)  # 0 selected
    assert niched_pareto_tournament(pop, np.array([[1, 2]]), alg).tolist() == [[2]]


def test_nd_mask_matches_front_non_dominated():
    rng = np.random.default_rng(3)
    for _ in range(20):
        F = np.round(rng.random((30, 2)), 1)  # ties and duplicates
        assert nd_mask(F).tolist() == non_dominated(F).tolist()


def test_npga_run_returns_a_front_and_is_deterministic():
    f1 = solve(WELDING, "npga", pop=20, gens=20, seed=4)
    f2 = solve(WELDING, "npga", pop=20, gens=20, seed=4)
    assert len(f1) > 0
    assert np.array_equal(f1.F, f2.F) and np.array_equal(f1.X, f2.X)
    assert non_dominated(f1.F).all()


def test_npga_returns_its_final_population_as_horn_et_al():
    X = run_npga(WELDING, pop=20, gens=15, pc=0.9, pm=0.5, seed=2)
    assert X.shape == (20, 2)  # the population, no archive
    front = solve(WELDING, "npga", pop=20, gens=15, pc=0.9, pm=0.5, seed=2)
    assert len(front) <= 20 and "archive" not in front.label


def test_npga_with_the_archive_option_is_bounded_by_its_cap():
    X = run_npga(WELDING, pop=20, gens=15, pc=0.9, pm=0.5, seed=2, archive=True,
                 archive_size=8)
    assert len(X) == 8


def test_npga_bad_settings_raise_config_error():
    with pytest.raises(ConfigError, match="t_dom"):
        solve(WELDING, "npga", pop=10, gens=2, t_dom=9)
    with pytest.raises(ConfigError, match="t_dom"):
        NPGA(pop_size=10, t_dom=0)
    with pytest.raises(ConfigError, match="sigma_share"):
        solve(WELDING, "npga", pop=10, gens=2, sigma_share=0.0)
    assert NPGA(pop_size=100).t_dom == 10 and NPGA(pop_size=10).t_dom == 2
