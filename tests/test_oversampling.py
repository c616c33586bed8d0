"""Oversampling details: the image adapter, strategies and known failure modes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import synthetic_dataset

from gda_core.errors import ConfigError, OversamplingError
from gda_core.oversampling import (
    ADASYNOversampler,
    BorderlineSMOTEOversampler,
    RandomOversampler,
    SMOTEOversampler,
    TraditionalAugmentation,
    flatten_images,
    make_oversampler,
    random_transform,
    restore_images,
    target_counts,
)


def test_adapter_round_trip_shape_and_dtype():
    X = np.random.default_rng(0).integers(0, 256, (5, 3, 4, 6), dtype=np.uint8)
    rows = flatten_images(X)
    assert rows.shape == (5, 72) and rows.dtype == np.float32
    assert np.array_equal(restore_images(rows, X.shape[1:]), X)


def test_restore_rounds_and_clips():
    rows = np.array([[-3.0, 0.4, 0.6, 254.6, 300.0, 127.5]], dtype=np.float32)
    out = restore_images(rows, (1, 2, 3))
    assert out.dtype == np.uint8
    assert out.ravel().tolist() == [0, 0, 1, 255, 255, 128]


def test_smote_images_lie_between_real_minority_images(imbalanced_xy):
    X, y = imbalanced_xy
    X_res, y_res = SMOTEOversampler(random_state=0).fit_resample(X, y)
    new = X_res[len(y):][y_res[len(y):] == 2].astype(int)
    real = X[y == 2].astype(int)
    assert new.min() >= real.min() and new.max() <= real.max()


def test_target_counts_strategies():
    y = np.array([0] * 10 + [1] * 4 + [2] * 2)
    assert target_counts(y, "auto") == {0: 0, 1: 6, 2: 8}
    assert target_counts(y, "minority") == {0: 0, 1: 0, 2: 8}
    assert target_counts(y, {1: 5}) == {0: 0, 1: 1, 2: 0}
    with pytest.raises(ConfigError, match="remove"):
        target_counts(y, {1: 3})
    with pytest.raises(ConfigError, match="not in the training set"):
        target_counts(y, {7: 3})


def test_dict_strategy_reaches_requested_totals(imbalanced_xy):
    X, y = imbalanced_xy
    _, y_res = SMOTEOversampler(sampling_strategy={1: 20, 2: 30}, k_neighbors=3,
                                random_state=0).fit_resample(X, y)
    assert np.bincount(y_res).tolist() == [60, 20, 30]


def test_k_neighbors_too_large_is_explained(imbalanced_xy):
    X, y = imbalanced_xy  # class 2 has 6 images
    with pytest.raises(OversamplingError, match=r"class 2 has 6; set k_neighbors to at most 5"):
        SMOTEOversampler(k_neighbors=6).fit_resample(X, y)
    with pytest.raises(OversamplingError, match="n_neighbors"):
        ADASYNOversampler(n_neighbors=8).fit_resample(X, y)


def test_single_image_class():
    ds = synthetic_dataset({0: 30, 1: 1}, size=4)
    with pytest.raises(OversamplingError, match=r"only 1 image.*random oversampling"):
        SMOTEOversampler().fit_resample(ds.images, ds.labels)
    _, y_res = RandomOversampler(random_state=0).fit_resample(ds.images, ds.labels)
    assert np.bincount(y_res).tolist() == [30, 30]
    _, y_res = TraditionalAugmentation(random_state=0).fit_resample(ds.images, ds.labels)
    assert np.bincount(y_res).tolist() == [30, 30]


def test_adasyn_with_separated_classes_is_explained():
    # two far-apart clusters: no majority image among the minority's neighbours
    X = np.concatenate([np.zeros((40, 1, 4, 4), np.uint8), np.full((8, 1, 4, 4), 250, np.uint8)])
    X[:, 0, 0, 0] = np.arange(48)
    y = np.array([0] * 40 + [1] * 8)
    with pytest.raises(OversamplingError, match="Use SMOTE or Borderline-SMOTE"):
        ADASYNOversampler(random_state=0).fit_resample(X, y)


def test_borderline_smote_reports_zero_generated():
    X = np.concatenate([np.zeros((40, 1, 4, 4), np.uint8), np.full((8, 1, 4, 4), 250, np.uint8)])
    X[:, 0, 0, 0] = np.arange(48)
    y = np.array([0] * 40 + [1] * 8)
    sampler = BorderlineSMOTEOversampler(random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    assert len(X_res) == len(X)
    assert sampler.n_generated_ == {0: 0, 1: 0}
    assert sampler.warnings_ and "0 images generated for class 1" in sampler.warnings_[0].message
    assert sampler.warnings_[0].code == "no-images-generated"


@pytest.mark.parametrize(
    ("X", "y", "match"),
    [
        (np.zeros((4, 4, 4), np.uint8), np.zeros(4, int), "shape"),
        (np.zeros((4, 1, 4, 4), np.float32), np.array([0, 0, 1, 1]), "uint8"),
        (np.zeros((4, 1, 4, 4), np.uint8), np.array([0, 1, 1]), "labels"),
        (np.zeros((0, 1, 4, 4), np.uint8), np.zeros(0, int), "no training images"),
        (np.zeros((4, 1, 4, 4), np.uint8), np.zeros(4, int), "two classes"),
    ],
)
def test_bad_input_messages(X, y, match):
    with pytest.raises(OversamplingError, match=match):
        SMOTEOversampler().fit_resample(X, y)


def test_make_oversampler_errors():
    with pytest.raises(ConfigError, match=r"unknown method 'vae'.*smote"):
        make_oversampler("vae")
    with pytest.raises(ConfigError, match="no parameter 'k'"):
        make_oversampler("smote", k=3)


def test_random_transform_is_seeded_and_in_range():
    batch = torch.rand(16, 1, 8, 8)
    a = random_transform(batch, torch.Generator().manual_seed(0))
    b = random_transform(batch, torch.Generator().manual_seed(0))
    c = random_transform(batch, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= 0 and a.max() <= 1 and a.shape == batch.shape


def test_random_transform_identity_when_disabled():
    batch = torch.rand(4, 3, 8, 8)
    out = random_transform(batch.clone(), torch.Generator().manual_seed(0), hflip=False,
                           rotation=0, shift=0, brightness=0, contrast=0, noise_std=0)
    assert torch.allclose(out, batch)


def test_augmentation_changes_images_but_keeps_class_content(imbalanced_xy):
    X, y = imbalanced_xy
    sampler = TraditionalAugmentation(random_state=0, noise_std=0.0)
    X_res, y_res = sampler.fit_resample(X, y)
    new = X_res[len(y):]
    assert not any(np.array_equal(n, o) for n in new[:10] for o in X)
    # brightness stays near the source class's (classes differ by brightness here)
    for c in (1, 2):
        assert abs(new[y_res[len(y):] == c].mean() - X[y == c].mean()) < 40
