"""Property tests (hypothesis): imbalance counts, adapter round trips, dominance and
non-dominated filtering, metric ranges. CI runs them derandomised (see conftest.py)."""

from __future__ import annotations

import numpy as np
from conftest import synthetic_dataset
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from gda_core.datasets.base import DatasetSplits
from gda_core.datasets.imbalance import ImbalanceSpec, make_imbalanced
from gda_core.metrics.classification import acsa, confusion, evaluate, gmean
from gda_core.optimization.front import dominates, non_dominated
from gda_core.optimization.indicators import Normaliser, delta_prime, hypervolume, m1_prime
from gda_core.oversampling import make_oversampler
from gda_core.oversampling.imblearn_adapter import flatten_images, restore_images

points = arrays(np.float64, st.tuples(st.integers(1, 40), st.just(2)),
                elements=st.floats(-1e3, 1e3, allow_nan=False, width=32))


@given(points)
def test_non_dominated_rows_are_exactly_the_undominated(F):
    mask = non_dominated(F)
    assert mask.any()
    for i in range(len(F)):
        undominated = not any(dominates(F[j], F[i]) for j in range(len(F)))
        if mask[i]:
            assert undominated
        elif undominated:  # dropped only as a duplicate of a kept point
            assert any(mask[j] and np.array_equal(F[j], F[i]) for j in range(len(F)))


@given(arrays(np.float64, 2, elements=st.floats(-10, 10)),
       arrays(np.float64, 2, elements=st.floats(-10, 10)))
def test_dominance_is_irreflexive_and_antisymmetric(a, b):
    assert not dominates(a, a)
    assert not (dominates(a, b) and dominates(b, a))


@given(points)
def test_front_metrics_ranges(F):
    F = F[non_dominated(F)]
    norm = Normaliser.from_front(F)
    hv = hypervolume(F, norm)
    assert 0 <= hv <= 1.1 * 1.1 + 1e-9
    assert m1_prime(F, norm) >= 0
    if len(F) >= 2:
        assert delta_prime(F, norm) >= 0


@given(st.floats(0.01, 1.0), st.integers(5, 30), st.sets(st.integers(0, 3), min_size=1,
                                                          max_size=3))
def test_ratio_subsampling_counts(ratio, majority, minority):
    ds = synthetic_dataset({c: 40 for c in range(4)}, seed=1)
    test = synthetic_dataset({c: 5 for c in range(4)}, seed=2)
    spec = ImbalanceSpec(ratio=ratio, minority_classes=tuple(sorted(minority)),
                         majority_count=majority, test_per_class=5)
    data = make_imbalanced(DatasetSplits(ds, test), spec, random_state=0)
    counts = data.train.counts()
    n_minor = max(1, round(ratio * majority))
    for new, src in enumerate(data.source_classes):
        assert counts[new] == (n_minor if src in minority else majority)
    assert set(np.bincount(data.test.labels).tolist()) == {5}


@given(st.integers(1, 4), st.integers(1, 6), st.integers(1, 6), st.integers(0, 2**31 - 1))
def test_flatten_restore_round_trip(c, h, w, seed):
    X = np.random.default_rng(seed).integers(0, 256, (3, c, h, w), dtype=np.uint8)
    rows = flatten_images(X)
    assert rows.shape == (3, c * h * w)
    assert np.array_equal(restore_images(rows, X.shape[1:]), X)


@given(st.integers(0, 1000))
def test_oversampler_keeps_originals_and_balances(seed):
    ds = synthetic_dataset({0: 20, 1: 6, 2: 9}, seed=seed)
    X_res, y_res = make_oversampler("random", random_state=seed).fit_resample(
        ds.images, ds.labels)
    assert np.array_equal(X_res[: len(ds.labels)], ds.images)
    assert np.bincount(y_res).tolist() == [20, 20, 20]
    assert X_res.dtype == np.uint8


@given(arrays(np.int64, st.integers(1, 60), elements=st.integers(0, 3)),
       st.integers(0, 2**31 - 1))
def test_classification_metric_ranges(y_true, seed):
    y_pred = np.random.default_rng(seed).integers(0, 4, len(y_true))
    cm = confusion(y_true, y_pred, 4)
    assert cm.sum() == len(y_true)
    for value in (acsa(cm), gmean(cm)):
        assert 0.0 <= value <= 1.0
    assume(len(np.unique(y_true)) >= 2)
    m = evaluate(y_true, y_pred, n_classes=4, minority_classes=(1,), majority_classes=(0,))
    for key in ("accuracy", "precision_macro", "recall_macro", "f1_macro"):
        assert 0.0 <= m[key] <= 1.0
