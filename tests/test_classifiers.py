"""The AM-study CNN and its sklearn-style trainer (small, fast fits only)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from gda_core.classifiers import AMStudyCNN, CNNClassifier
from gda_core.errors import ConfigError, GDAError

TINY = {"width": 4, "fc_units": 16}  # small network: fits in milliseconds


def random_images(n: int, size: int = 8, channels: int = 1, n_classes: int = 3,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, (n, channels, size, size), dtype=np.uint8)
    return X, np.arange(n) % n_classes


@pytest.mark.parametrize("size", [8, 16, 28, 32, 64, 128])
@pytest.mark.parametrize("channels", [1, 3])
def test_network_output_shape(size, channels):
    net = AMStudyCNN(channels, 5, size, width=4, fc_units=8)
    assert net(torch.zeros(2, channels, size, size)).shape == (2, 5)


@pytest.mark.parametrize(("size", "channels"), [(8, 1), (28, 1), (32, 3), (128, 3)])
def test_classifier_output_shapes(size, channels):
    X, y = random_images(12, size, channels)
    clf = CNNClassifier(epochs=1, **TINY).fit(X, y, n_classes=4)  # class 3 absent
    proba = clf.predict_proba(X[:5])
    assert proba.shape == (5, 4) and proba.dtype == np.float64
    assert np.allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(X)
    assert pred.shape == (12,) and pred.dtype == np.int64
    assert clf.n_classes_ == 4 and clf.classes_.tolist() == [0, 1, 2, 3]


def test_same_seed_same_model_different_seed_different(imbalanced_xy):
    X, y = imbalanced_xy
    a = CNNClassifier(epochs=3, random_state=7).fit(X, y).predict_proba(X)
    b = CNNClassifier(epochs=3, random_state=7).fit(X, y).predict_proba(X)
    c = CNNClassifier(epochs=3, random_state=8).fit(X, y).predict_proba(X)
    assert np.array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_leaves_global_random_state_alone(imbalanced_xy):
    X, y = imbalanced_xy
    seed, torch_state = torch.initial_seed(), torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002 (the legacy global RNG)
    clf = CNNClassifier(epochs=2, dropout=0.5, random_state=3).fit(X, y)
    clf.predict_proba(X)
    assert torch.initial_seed() == seed
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002


def test_learns_digits():
    d = load_digits()
    X = (d.images * 255 / 16).astype(np.uint8)[:, None]
    X_tr, X_te, y_tr, y_te = train_test_split(X, d.target, test_size=0.25,
                                              stratify=d.target, random_state=0)
    clf = CNNClassifier(epochs=8).fit(X_tr, y_tr)
    assert (clf.predict(X_te) == y_te).mean() > 0.85
    assert clf.score(X_te, y_te) > 0.85  # sklearn's ClassifierMixin


def test_early_stopping_restores_best_epoch():
    # Random labels: nothing to learn, so the validation loss soon stops improving.
    X, y = random_images(200, n_classes=3)
    y = np.random.default_rng(1).permutation(y)
    params = dict(epochs=60, patience=3, lr=3e-3, val_fraction=0.3, batch_size=32, width=8)
    clf = CNNClassifier(**params).fit(X, y)
    val = [h["val_loss"] for h in clf.history_]
    assert len(clf.history_) < 60
    assert clf.best_epoch_ == int(np.argmin(val)) + 1
    assert len(clf.history_) == clf.best_epoch_ + 3  # stopped after `patience` worse epochs
    # The kept weights are those of the best epoch: a run that ends there matches them.
    short = CNNClassifier(**{**params, "epochs": clf.best_epoch_}).fit(X, y)
    assert np.array_equal(short.predict_proba(X), clf.predict_proba(X))


def test_no_validation_when_disabled_or_impossible():
    X, y = random_images(20, n_classes=2)
    clf = CNNClassifier(epochs=3, val_fraction=0.0, **TINY).fit(X, y)
    assert len(clf.history_) == 3 and clf.best_epoch_ == 3
    assert all(np.isnan(h["val_loss"]) for h in clf.history_)
    y_single = y.copy()
    y_single[:] = 0
    y_single[0] = 1  # class 1 has a single image: no stratified split possible
    clf = CNNClassifier(epochs=2, **TINY).fit(X, y_single)
    assert np.isnan(clf.history_[-1]["val_acc"])


def test_callback_once_per_epoch():
    X, y = random_images(30)
    calls = []
    clf = CNNClassifier(epochs=4, patience=10, **TINY)
    clf.fit(X, y, callback=lambda e, n, logs: calls.append((e, n, logs)))
    assert [(e, n) for e, n, _ in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert {"train_loss", "val_loss", "val_acc"} <= set(calls[0][2])
    assert [logs for *_, logs in calls] == clf.history_


@pytest.mark.parametrize(("params", "match"), [
    ({"epochs": 0}, "epochs"),
    ({"epochs": 2.5}, "epochs"),
    ({"lr": 0}, "lr"),
    ({"lr": -1e-3}, "lr"),
    ({"val_fraction": 0.6}, "val_fraction"),
    ({"val_fraction": -0.1}, "val_fraction"),
    ({"batch_size": 0}, "batch_size"),
    ({"patience": 0}, "patience"),
    ({"dropout": 1.0}, "dropout"),
    ({"weight_decay": -1}, "weight_decay"),
    ({"random_state": "x"}, "random_state"),
    ({"device": "tpu"}, "device"),
])
def test_bad_params_raise_config_error(params, match):
    X, y = random_images(10)
    clf = CNNClassifier(**params)  # storing never fails
    with pytest.raises(ConfigError, match=match):
        clf.fit(X, y)


def test_bad_data_raise_config_error():
    X, y = random_images(10)
    clf = CNNClassifier(epochs=1, **TINY)
    with pytest.raises(ConfigError, match="uint8"):
        clf.fit(X.astype(np.float32), y)
    with pytest.raises(ConfigError, match="uint8"):
        clf.fit(X[:, 0], y)  # 3-D
    with pytest.raises(ConfigError, match="labels"):
        clf.fit(X, y[:-1])
    with pytest.raises(ConfigError, match="2 classes"):
        clf.fit(X, np.zeros(10, dtype=int))
    with pytest.raises(ConfigError, match="n_classes"):
        clf.fit(X, y, n_classes=2)


def test_predict_checks():
    X, y = random_images(10)
    with pytest.raises(GDAError, match="fit"):
        CNNClassifier().predict(X)
    clf = CNNClassifier(epochs=1, **TINY).fit(X, y)
    with pytest.raises(ConfigError, match="shape"):
        clf.predict(random_images(2, size=16)[0])


def test_diverging_training_raises():
    X, y = random_images(60)
    clf = CNNClassifier(epochs=5, lr=1e10)
    with pytest.raises(GDAError, match="diverged"):
        clf.fit(X, y)
    with pytest.raises(GDAError, match="fit"):  # the broken network is not kept
        clf.predict(X)


def test_sklearn_params_and_clone():
    clf = CNNClassifier(epochs=3, lr=0.01)
    assert clf.get_params()["epochs"] == 3
    twin = clone(clf)
    assert twin.get_params() == clf.get_params() and not hasattr(twin, "model_")
