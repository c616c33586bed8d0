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


# --------------------------------------------- scikit-learn's estimator API, imblearn Pipeline
@pytest.mark.parametrize("name", list(OVERSAMPLERS))
def test_clone_get_and_set_params(name):
    from sklearn.base import clone

    sampler = make_oversampler(name, random_state=4, **fast_params(name))
    params = sampler.get_params(deep=True)
    twin = clone(sampler)
    assert type(twin) is type(sampler) and twin is not sampler
    assert twin.get_params(deep=False) == params
    assert twin.set_params(random_state=9) is twin and twin.random_state == 9
    assert sampler.random_state == 4                      # the original is untouched
    with pytest.raises(ValueError, match="invalid parameter 'nope'"):
        twin.set_params(nope=1)


@pytest.mark.parametrize("name", list(OVERSAMPLERS))
def test_in_an_imblearn_pipeline_with_a_flattening_step(name, near_border_xy):
    """What imbalanced-learn users do: sampler -> flatten -> scikit-learn classifier; the
    sampler runs in fit only, predict sees the test images unchanged."""
    from imblearn.pipeline import Pipeline
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.preprocessing import FunctionTransformer

    X, y = near_border_xy
    pipe = Pipeline([
        ("oversample", make_oversampler(name, random_state=0, **fast_params(name))),
        ("flatten", FunctionTransformer(lambda a: a.reshape(len(a), -1) / 255.0)),
        ("clf", LogisticRegression(max_iter=200)),
    ])
    pipe.fit(X, y)
    assert pipe.predict(X[:7]).shape == (7,)
    assert pipe.named_steps["oversample"].n_original_ == len(y)
    search = GridSearchCV(pipe, {"oversample__random_state": [0, 1]}, cv=2)
    search.fit(X, y)
    assert search.best_params_["oversample__random_state"] in (0, 1)
