"""The explorer as the study defines it: NPGA without an archive, the archive as an option
alike for every genetic algorithm, and M1' / Delta' by the study's eqs. (4), (7), (8)
normalised by the objectives' ranges over the design region."""

from __future__ import annotations

import numpy as np
import pytest
from pymoo.algorithms.moo.nsga2 import NSGA2
from pymoo.optimize import minimize

from gda_core.errors import ConfigError
from gda_core.optimization import CASES, ObjectiveRanges, front_metrics, objective_ranges, solve
from gda_core.optimization.algorithms.npga import NPGA
from gda_core.optimization.algorithms.operators import variation
from gda_core.optimization.algorithms.registry import ALGORITHMS
from gda_core.optimization.algorithms.spea2_fast import FastSPEA2
from gda_core.optimization.front import dominates, non_dominated
from gda_core.optimization.indicators import delta_prime, m1_best_known, m1_prime
from gda_core.optimization.objectives import evaluate_case
from gda_core.optimization.problem import DualResponseProblem

WELDING, PRINTING = CASES["welding"], CASES["printing"]
GENETIC = [name for name, info in ALGORITHMS.items() if info.genetic]
CLASSES = {"nsga2": NSGA2, "spea2": FastSPEA2, "npga": NPGA}


# ------------------------------------------------------------------ NPGA and the archive
@pytest.mark.parametrize("case", [WELDING, PRINTING], ids=lambda c: c.name)
@pytest.mark.parametrize("seed", [1, 2])
def test_npga_default_front_has_at_most_pop_points(case, seed):
    front = solve(case, "npga", pop=30, gens=30, pc=0.5, pm=0.5, seed=seed)
    assert 0 < len(front) <= 30
    assert front.label.startswith("NPGA pop 30") and "archive" not in front.settings


def test_every_genetic_algorithm_is_covered():
    assert set(GENETIC) == set(CLASSES)


@pytest.mark.parametrize("name", GENETIC)
def test_archive_is_the_non_dominated_union_of_every_generation(name):
    """The same rule for every algorithm: rebuilt here from pymoo directly."""
    case, pop, gens, seed = WELDING, 16, 12, 5
    seen = []
    crossover, mutation = variation(0.5, 0.5)
    algorithm = CLASSES[name](pop_size=pop, crossover=crossover, mutation=mutation,
                              eliminate_duplicates=True)
    minimize(DualResponseProblem(case), algorithm, ("n_gen", gens), seed=seed, verbose=False,
             callback=lambda alg: seen.append(alg.pop.get("F")))
    union = np.vstack(seen)
    expected = {tuple(f) for f in union[non_dominated(union)]}

    uncapped = solve(case, name, pop=pop, gens=gens, seed=seed, archive=True,
                     archive_size=10_000)
    assert {tuple(f) for f in uncapped.F} == expected
    plain = solve(case, name, pop=pop, gens=gens, seed=seed)  # the final population
    assert all(any(np.array_equal(a, p) or dominates(a, p) for a in uncapped.F)
               for p in plain.F)


@pytest.mark.parametrize("name", GENETIC)
def test_archive_option_is_capped_named_and_seeded(name):
    kwargs = {"pop": 20, "gens": 15, "pc": 0.9, "pm": 0.5, "seed": 3}
    front = solve(WELDING, name, archive=True, **kwargs)
    assert len(front) <= 20
    assert front.label.startswith(f"{ALGORITHMS[name].label} + archive pop 20")
    assert front.settings["archive"] is True and front.settings["archive_size"] == 20
    small = solve(WELDING, name, archive=True, archive_size=5, **kwargs)
    assert len(small) == 5
    again = solve(WELDING, name, archive=True, archive_size=5, **kwargs)
    assert np.array_equal(small.X, again.X)


def test_archive_options_are_checked():
    with pytest.raises(ConfigError, match="archive size must be at least 1"):
        solve(WELDING, "nsga2", pop=10, gens=2, archive=True, archive_size=0)
    with pytest.raises(ConfigError, match="needs archive=True"):
        solve(WELDING, "spea2", pop=10, gens=2, archive_size=5)
    eps = solve(WELDING, "eps", archive=True, n_points=4, n_starts=1)  # not a population
    assert "archive" not in eps.settings and "archive" not in eps.label


# ------------------------------------------------------------------ the study's formulas
def test_m1_prime_is_eq_4_by_hand():
    # F_min = (0, 1), F_max = (4, 9); means of the front (2, 3):
    # M1' = (2 - 0) / (4 - 0) + (3 - 1) / (9 - 1) = 0.5 + 0.25
    ranges = ObjectiveRanges(np.array([0.0, 1.0]), np.array([4.0, 9.0]),
                             np.array([[0.0, 9.0], [4.0, 1.0]]), "by hand")
    F = np.array([[1.0, 4.0], [3.0, 2.0]])
    assert m1_prime(F, ranges) == pytest.approx(0.75)
    # the mean Euclidean distance (the best-known variant) is a different number
    z = np.array([[0.25, 3 / 8], [0.75, 1 / 8]])
    assert m1_best_known(F, ranges) == pytest.approx(np.linalg.norm(z, axis=1).mean())
    assert np.isnan(m1_prime(np.zeros((0, 2)), ranges))


def test_delta_prime_is_eqs_7_8_by_hand():
    # normalised by F_max - F_min = (4, 8): the points map to (0, .75), (.25, .5), (1, 0)
    # the case's front ends (0, 7.2) and (4, 0) map to (0, .9) and (1, 0)
    ranges = ObjectiveRanges(np.zeros(2), np.array([4.0, 8.0]),
                             np.array([[0.0, 7.2], [4.0, 0.0]]), "by hand")
    F = np.array([[4.0, 0.0], [0.0, 6.0], [1.0, 4.0]])  # unsorted on purpose
    d1, d2 = np.hypot(0.25, 0.25), np.hypot(0.75, 0.5)
    d_f, d_l = 0.15, 0.0  # (0, .75) to the F1 end (0, .9); (1, 0) is the sd end itself
    mean = (d1 + d2) / 2
    expected = (d_f + d_l + abs(d1 - mean) + abs(d2 - mean)) / (d_f + d_l + 2 * mean)
    assert delta_prime(F, ranges) == pytest.approx(expected)
    assert front_metrics(F, F, ranges)["Delta'"] == pytest.approx(expected)


def test_study_metrics_do_not_depend_on_the_reference_front():
    ranges = objective_ranges(WELDING)
    front = solve(WELDING, "nsga2", pop=20, gens=10, seed=1)
    other = solve(WELDING, "spea2", pop=20, gens=10, seed=2)
    a = front_metrics(front.F, front.F, ranges)
    b = front_metrics(front.F, np.vstack([front.F, other.F]), ranges)
    assert a["M1'"] == b["M1'"] and a["Delta'"] == b["Delta'"]
    assert np.isnan(front_metrics(front.F, front.F)["M1'"])  # no ranges, no study's M1'
    assert {"M1' (best-known)", "Delta' (best-known)", "points"} <= set(a)


@pytest.mark.parametrize("case", [WELDING, PRINTING], ids=lambda c: c.name)
def test_objective_ranges_bound_a_dense_grid_and_are_attained(case):
    r = objective_ranges(case)
    lo, hi = case.bounds
    n = 301 if case.k == 2 else 61
    grid = np.stack(np.meshgrid(*[np.linspace(a, b, n) for a, b in zip(lo, hi, strict=True)]),
                    -1).reshape(-1, case.k)
    F = evaluate_case(case, grid)[0]
    span = r.f_max - r.f_min
    assert np.all(F.min(axis=0) >= r.f_min - 1e-9 * span)
    assert np.all(F.max(axis=0) <= r.f_max + 1e-9 * span)
    # the grid gets close to the exact extremes (F1's minimum 0 lies on a curve)
    assert np.all(F.max(axis=0) >= r.f_max - 1e-3 * span)
    assert np.all(F.min(axis=0) <= r.f_min + 2e-3 * span)
    # the front's ends: F1's end has the smallest F1, sd's end the smallest sd, and no grid
    # point dominates either of them
    E = r.front_ends
    assert E[0, 0] == pytest.approx(r.f_min[0], abs=1e-6 * span[0])
    assert E[1, 1] == pytest.approx(r.f_min[1], abs=1e-9 * span[1])
    tol = 1e-6 * span
    for e in E:
        assert not np.any(np.all(F <= e - tol, axis=1))
    assert r.method.startswith("exact")


def test_welding_m1_of_every_algorithm_lies_in_the_studys_range():
    """The done-when of issue 15: the study reports M1' of 0.40-0.60 on its cases."""
    ranges = objective_ranges(WELDING)
    values = {}
    for name, info in ALGORITHMS.items():
        for archive in ((False, True) if info.genetic else (False,)):
            front = solve(WELDING, name, pop=50, gens=50, pc=0.5, pm=0.5, seed=1,
                          archive=archive)
            values[front.label] = m1_prime(front.F, ranges)
    assert len(values) == 2 * len(GENETIC) + 1
    assert all(0.40 <= v <= 0.65 for v in values.values()), values
