"""Dominance, non-dominated filtering, front metrics and the posterior-pick suggestions."""

from __future__ import annotations

import numpy as np
import pytest

from gda_core.errors import ConfigError
from gda_core.optimization import CASES, Front, FrontArchive, merge_fronts, pieces
from gda_core.optimization.front import dominates, non_dominated
from gda_core.optimization.indicators import (
    Normaliser,
    ObjectiveRanges,
    delta_prime,
    front_metrics,
    hypervolume,
    igd,
    m1_best_known,
    m1_prime,
)
from gda_core.optimization.picking import asf, by_pseudo_weight, knee, min_mse, pseudo_weights

UNIT = Normaliser(np.zeros(2), np.ones(2))


def test_dominance():
    assert dominates([0, 1], [1, 1]) and not dominates([1, 1], [0, 1])
    assert not dominates([0, 1], [0, 1])  # equal points do not dominate
    assert not dominates([0, 2], [1, 1])


def test_non_dominated_filter_by_brute_force():
    rng = np.random.default_rng(3)
    F = rng.integers(0, 6, (60, 2)).astype(float)
    mask = non_dominated(F)
    for i in range(len(F)):
        dominated = any(dominates(F[j], F[i]) for j in range(len(F)))
        if dominated:
            assert not mask[i]
    kept = F[mask]
    assert len({tuple(r) for r in kept}) == len(kept)  # duplicates kept once
    assert {tuple(r) for r in kept} == {tuple(r) for r in F if not any(
        dominates(g, r) for g in F)}


def test_m1_prime_by_hand():
    # the study's eq. (4): the sum over objectives of the normalised means
    F = np.array([[0.0, 1.0], [0.6, 0.8], [1.0, 0.0]])
    assert m1_prime(F, UNIT) == pytest.approx(1.6 / 3 + 1.8 / 3)
    norm = Normaliser(np.array([10.0, 0.0]), np.array([20.0, 2.0]))
    assert m1_prime(np.array([[15.0, 1.0]]), norm) == pytest.approx(1.0)


def test_m1_best_known_by_hand():
    F = np.array([[0.0, 1.0], [0.6, 0.8], [1.0, 0.0]])
    assert m1_best_known(F, UNIT) == pytest.approx(1.0)
    norm = Normaliser(np.array([10.0, 0.0]), np.array([20.0, 2.0]))
    assert m1_best_known(np.array([[15.0, 1.0]]), norm) == pytest.approx(np.hypot(0.5, 0.5))


def test_delta_prime_zero_for_even_spacing_with_extremes():
    t = np.linspace(0, 1, 7)
    assert delta_prime(np.column_stack([t, 1 - t]), UNIT) == pytest.approx(0.0, abs=1e-12)


def test_delta_prime_by_hand():
    # three points on the line, missing the extreme (1, 0): d_f = 0, d_l = |(0.5,0.5)-(1,0)|
    F = np.array([[0.0, 1.0], [0.25, 0.75], [0.5, 0.5]])
    d = np.hypot(0.25, 0.25)
    d_l = np.hypot(0.5, 0.5)
    assert delta_prime(F, UNIT) == pytest.approx(d_l / (d_l + 2 * d))
    # uneven spacing: steps a and b
    F = np.array([[0.0, 1.0], [0.2, 0.8], [1.0, 0.0]])
    a, b = np.hypot(0.2, 0.2), np.hypot(0.8, 0.8)
    mean = (a + b) / 2
    assert delta_prime(F, UNIT) == pytest.approx((abs(a - mean) + abs(b - mean)) / (2 * mean))


def test_hypervolume_and_igd_by_hand():
    F = np.array([[0.0, 1.0], [0.5, 0.5], [1.0, 0.0]])
    # reference (1.1, 1.1): strips 0.5 x 0.1 + 0.5 x 0.6 + 0.1 x 1.1
    assert hypervolume(F, UNIT) == pytest.approx(0.5 * 0.1 + 0.5 * 0.6 + 0.1 * 1.1)
    assert igd(F, F, UNIT) == 0.0
    assert igd(F[:1], F, UNIT) == pytest.approx((0 + np.hypot(.5, .5) + np.sqrt(2)) / 3)


def test_metrics_cope_with_disconnected_fronts():
    left = np.column_stack([np.linspace(0, 0.2, 5), np.linspace(1, 0.8, 5)])
    right = np.column_stack([np.linspace(0.8, 1, 5), np.linspace(0.2, 0, 5)])
    F = np.vstack([left, right])
    ranges = ObjectiveRanges(np.zeros(2), np.ones(2), np.array([[0.0, 1.0], [1.0, 0.0]]))
    m = front_metrics(F, F, ranges)
    assert 0 < m["Delta'"] < 1 and m["IGD"] == 0 and m["HV"] > 0
    assert m["Delta'"] == pytest.approx(m["Delta' (best-known)"])  # same box, same ends
    f = Front(np.zeros((10, 1)), F, F[:, 0], F[:, 1], "demo")
    assert [len(p) for p in pieces(f)] == [5, 5]


def test_suggestions_on_a_convex_front():
    t = np.linspace(0, 1, 11)
    F = np.column_stack([t, (1 - t) ** 2])
    assert knee(F) == 5  # farthest below the chord at t = 0.5
    assert asf(F, 0.9) < asf(F, 0.5) < asf(F, 0.1)
    assert by_pseudo_weight(F, 1.0) == 0 and by_pseudo_weight(F, 0.0) == 10
    assert np.allclose(pseudo_weights(F).sum(axis=1), 1.0)
    with pytest.raises(ConfigError):
        asf(F, 1.5)
    with pytest.raises(ConfigError, match="empty"):
        knee(np.zeros((0, 2)))


def test_min_mse():
    mean, sd = np.array([495.0, 500.0, 520.0]), np.array([1.0, 8.0, 0.5])
    assert min_mse(mean, sd, "nominal", 500.0) == 0  # 25 + 1 < 64 < 400.25
    assert min_mse(mean, sd, "larger", None) is None


def test_archive_best_known_is_union_and_reference():
    case = CASES["welding"]
    X1 = np.array([[-1.0, 1.0], [0.0, 0.0]])
    X2 = np.array([[1.0, -1.0], [0.5, 0.5]])
    archive = FrontArchive(case)
    archive.add(Front.from_X(case, X1, "a"))
    archive.add(Front.from_X(case, X2, "b"))
    best = archive.best_known()
    union = merge_fronts(case, archive.fronts)
    assert np.array_equal(best.F, union.F)
    assert non_dominated(best.F).all()
    assert np.all(np.diff(best.F[:, 0]) >= 0)  # sorted by F1
