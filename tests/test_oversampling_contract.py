"""Contract every registered oversampler honours (imbalanced-learn's fit_resample).

GAN synthesizers are registered too; they run with tiny settings (``fast_params``) so that
this file stays fast.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest_synth import fast_params

from gda_core.oversampling import OVERSAMPLERS, make_oversampler


@pytest.fixture(scope="module")
def near_border_xy():
    """Overlapping classes so that every method (ADASYN, Borderline-SMOTE too) works."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (90, 1, 6, 6), dtype=np.uint8)
    y = np.array([0] * 60 + [1] * 18 + [2] * 12)
    return X, y


@pytest.mark.parametrize("name", list(OVERSAMPLERS))
def test_balances_and_keeps_shape_dtype(name, near_border_xy):
    X, y = near_border_xy
    sampler = make_oversampler(name, random_state=0, **fast_params(name))
    X_res, y_res = sampler.fit_resample(X, y)
    assert X_res.dtype == np.uint8 and y_res.dtype == np.int64
    assert X_res.shape[1:] == X.shape[1:] and len(X_res) == len(y_res)
    counts = np.bincount(y_res)
    tolerance = 0.2 if name == "adasyn" else 0  # ADASYN only approximately balances
    assert counts.min() >= (1 - tolerance) * counts.max()
    # originals first, unchanged; synthesized ones after
    assert sampler.n_original_ == len(y)
    assert np.array_equal(X_res[: len(y)], X) and np.array_equal(y_res[: len(y)], y)
    new = np.bincount(y_res[len(y):], minlength=3)
    assert {c: int(new[c]) for c in range(3)} == sampler.n_generated_
    assert sampler.n_generated_[0] == 0


@pytest.mark.parametrize("name", list(OVERSAMPLERS))
def test_deterministic_for_a_seed(name, near_border_xy):
    X, y = near_border_xy
    a = make_oversampler(name, random_state=3, **fast_params(name)).fit_resample(X, y)
    b = make_oversampler(name, random_state=3, **fast_params(name)).fit_resample(X, y)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@pytest.mark.parametrize("name", list(OVERSAMPLERS))
def test_rgb_images(name):
    X = np.random.default_rng(1).integers(0, 256, (52, 3, 5, 5), dtype=np.uint8)
    y = np.array([0] * 40 + [1] * 12)
    X_res, y_res = make_oversampler(name, random_state=0, **fast_params(name)).fit_resample(X, y)
    assert X_res.shape[1:] == (3, 5, 5)
    assert np.bincount(y_res)[1] > 12


@pytest.mark.parametrize("name", list(OVERSAMPLERS))
def test_registry_entry_is_described(name):
    cls = OVERSAMPLERS[name]
    assert cls.name == name and cls.label and cls.description
    sampler = cls()
    assert set(sampler.get_params()) == {"sampling_strategy", "random_state",
                                         *(p.name for p in cls.params)}
    for p in cls.params:
        assert p.parse(p.default) == p.default


@pytest.mark.parametrize("name", [n for n, c in OVERSAMPLERS.items() if c.params])
def test_constructor_only_stores(name):
    # invalid values are accepted by the constructor and rejected at fit time
    cls = OVERSAMPLERS[name]
    p = cls.params[0]
    bad = {"int": -5, "float": -1.0, "bool": "maybe", "choice": "nope"}[p.kind]
    sampler = cls(**{p.name: bad})
    assert getattr(sampler, p.name) == bad
    if p.kind != "bool":
        with pytest.raises(ValueError):
            sampler.fit_resample(np.zeros((6, 1, 2, 2), np.uint8), np.array([0] * 4 + [1] * 2))
