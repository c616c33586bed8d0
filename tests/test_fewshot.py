"""Few-shot GAN training: DiffAugment, spectral norm, pretraining, class-balanced cGAN
batches, and refits only on the same data."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest_synth import fast_params, tiny_xy

from gda_core.synthesizers import SYNTHESIZERS
from gda_core.synthesizers.base import data_fingerprint
from gda_core.synthesizers.diagnostics import diagnose
from gda_core.synthesizers.diffaugment import (
    POLICIES,
    color,
    cutout,
    diff_augment,
    resolve_policy,
    translation,
)
from gda_core.synthesizers.nets import DCGANDiscriminator
from gda_core.synthesizers.trainer import balanced_batches


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


# ------------------------------------------------------------------ DiffAugment
def test_translation_shifts_content_and_fills_with_zero():
    x = torch.zeros(64, 1, 16, 16)
    x[:, :, 6:10, 6:10] = 1.0                         # a bright square in the middle
    y = translation(x, _gen())
    assert y.shape == x.shape
    assert torch.equal(y.sum(dim=(1, 2, 3)), x.sum(dim=(1, 2, 3)))  # moved, not cut
    rows = [int(torch.nonzero(img[0])[:, 0].min()) for img in y]
    assert set(rows) == set(range(4, 9))              # up to 2 = 16/8 pixels either way
    full = translation(torch.ones(64, 1, 16, 16), _gen())
    assert (full == 0).any() and set(full.unique().tolist()) == {0.0, 1.0}


def test_cutout_zeroes_one_square_of_half_the_side():
    y = cutout(torch.ones(200, 3, 16, 16), _gen())
    zeros = (y == 0).all(dim=1)                         # same mask on every channel
    assert bool(((y == 0).any(dim=1) == zeros).all())
    per_image = zeros.sum(dim=(1, 2))
    assert per_image.max() == 64 and per_image.min() >= 16   # 8x8 square, may hang over
    inside = y[per_image == 64][0, 0] == 0
    r, c = torch.nonzero(inside)[:, 0], torch.nonzero(inside)[:, 1]
    assert (r.max() - r.min(), c.max() - c.min()) == (7, 7)


def test_color_changes_brightness_saturation_contrast_per_image():
    x = torch.rand(32, 3, 8, 8) * 2 - 1
    y = color(x, _gen())
    means = (y - x).mean(dim=(1, 2, 3))
    assert means.std() > 0.05                           # different per image
    grey = torch.full((4, 3, 8, 8), 0.2)
    out = color(grey, _gen())                           # a flat image stays flat
    assert torch.allclose(out, out[:, :1, :1, :1].expand_as(out))


def test_diff_augment_is_seeded_differentiable_and_checks_names():
    x = (torch.rand(8, 3, 16, 16) * 2 - 1).requires_grad_(True)
    ops = POLICIES["color,translation,cutout"]
    a, b = diff_augment(x, ops, _gen(3)), diff_augment(x, ops, _gen(3))
    assert torch.equal(a, b)
    assert not torch.equal(a, diff_augment(x, ops, _gen(4)))
    a.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown augmentation 'flip'"):
        diff_augment(x, ("flip",), _gen())
    assert resolve_policy("auto", 999, 1000) == ops and resolve_policy("auto", 1000, 1000) == ()
    assert resolve_policy("translation", 5, 1000) == ("translation",)


def test_augment_reaches_the_discriminator():
    """With augmentation the discriminator sees other images, so training differs."""
    X, y = tiny_xy(size=16, counts=(30, 12))
    runs = {}
    for policy in ("off", "translation,cutout"):
        gan = SYNTHESIZERS["dcgan"](random_state=0, **fast_params("dcgan", augment=policy,
                                                                  min_steps=5))
        gan.fit(X, y, classes=[1])
        runs[policy] = [e["d_loss"] for e in gan.history_]
    assert runs["off"] != runs["translation,cutout"]
    again = SYNTHESIZERS["dcgan"](random_state=0, **fast_params(
        "dcgan", augment="translation,cutout", min_steps=5)).fit(X, y, classes=[1])
    assert [e["d_loss"] for e in again.history_] == runs["translation,cutout"]


# ------------------------------------------------------------ spectral norm
def test_spectral_norm_bounds_d_and_survives_save_and_load(tmp_path):
    D = DCGANDiscriminator(3, 16, width=8, spectral_norm=True, norm="none")
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in D.modules())
    convs = [m for m in D.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs and all(torch.nn.utils.parametrize.is_parametrized(m, "weight")
                         for m in convs)
    D.train()
    for _ in range(30):                                 # power iterations converge
        D(torch.randn(4, 3, 16, 16))
    sigma = torch.linalg.matrix_norm(convs[0].weight.detach().flatten(1), ord=2)
    assert float(sigma) == pytest.approx(1.0, abs=0.1)
    X, y = tiny_xy(size=16, channels=3, counts=(30, 12))
    gan = SYNTHESIZERS["dcgan"](random_state=1, **fast_params("dcgan", spectral_norm=True))
    gan.fit(X, y, classes=[1])
    gan.save(tmp_path / "sn.pt")
    back = SYNTHESIZERS["dcgan"].load(tmp_path / "sn.pt")
    np.testing.assert_array_equal(back.sample(4, 1), gan.sample(4, 1))


# ----------------------------------------------------------------- pretraining
def test_pretrain_on_all_images_then_fine_tune_each_class():
    X, y = tiny_xy(size=8, counts=(40, 10, 8))
    params = fast_params("dcgan", pretrain="all", pretrain_steps=7, min_steps=3, epochs=1)
    gan = SYNTHESIZERS["dcgan"](random_state=0, **params)
    seen = []
    gan.fit(X, y, callback=lambda e: seen.append((e.get("phase"), e.get("class"))))
    phases = [e.get("phase") for e in gan.history_]
    assert phases[:7] == ["pretrain"] * 7 and "pretrain" not in phases[7:]
    assert [e["class"] for e in gan.history_[7:]] == [1] * 3 + [2] * 3
    assert seen[0] == ("pretrain", None) and gan.classes_ == [1, 2]
    # the class models start from the pretrained weights, not from a fresh initialisation
    fresh = SYNTHESIZERS["dcgan"](random_state=0, **{**params, "pretrain": "off"}).fit(X, y)
    assert gan.history_[7]["d_loss"] != fresh.history_[0]["d_loss"]
    # "majority" pretrains on the largest class only: another pretrained model
    major = SYNTHESIZERS["dcgan"](random_state=0, **{**params, "pretrain": "majority"}).fit(X, y)
    assert [e["d_loss"] for e in major.history_[:7]] != [e["d_loss"] for e in gan.history_[:7]]


def test_stopping_during_pretraining_trains_no_class():
    X, y = tiny_xy(size=8)
    gan = SYNTHESIZERS["gan"](random_state=0, **fast_params("gan", pretrain="all",
                                                            pretrain_steps=10))
    gan.fit(X, y, callback=lambda e: e["step"] < 3)
    assert gan.stopped_early_ and gan.classes_ == [] and len(gan.history_) == 3


# ------------------------------------------------------------------- cGAN labels
def test_cgan_batches_draw_classes_uniformly():
    labels = torch.as_tensor([0] * 500 + [1] * 20 + [2] * 5)
    batches = balanced_batches(labels, 3, 64, _gen())
    drawn = torch.cat([labels[next(batches)] for _ in range(60)])
    share = torch.bincount(drawn, minlength=3).float() / len(drawn)
    assert torch.allclose(share, torch.full((3,), 1 / 3), atol=0.04)


def test_cgan_trains_every_class_as_often():
    X, y = tiny_xy(size=8, counts=(60, 6))
    gan = SYNTHESIZERS["cgan"](random_state=0, **fast_params("cgan", min_steps=4))
    gan.fit(X, y)
    assert gan.classes_ == [0, 1]
    assert SYNTHESIZERS["cgan"].params and "pretrain" not in {p.name for p in gan.params}


# ------------------------------------------------------------------- refitting
def test_fit_resample_refits_on_other_data_and_reuses_the_same():
    X, y = tiny_xy(size=8, counts=(20, 8))
    gan = SYNTHESIZERS["gan"](random_state=0, **fast_params("gan", min_steps=150, hidden=32,
                                                            lr_d=2e-3, lr_g=2e-3))
    first, _ = gan.fit_resample(X, y)
    fits = [len(gan.history_)]
    again, _ = gan.fit_resample(X, y)                    # same data: drawn from the fit
    np.testing.assert_array_equal(first, again)
    assert len(gan.history_) == fits[0]
    other = X.copy()
    other[y == 1] = 255 - other[y == 1]                  # different minority images
    swapped, _ = gan.fit_resample(other, y)
    new = swapped[len(y):]
    assert not np.array_equal(new, first[len(y):])
    # the refitted model learned the new (brighter) images, not the old (darker) ones:
    # each model's images are nearer in brightness to the images it was fitted on (the
    # two sets' means are only 29 grey levels apart: 113 and 142)
    old_mean, new_mean = X[y == 1].mean(), other[y == 1].mean()
    assert abs(first[len(y):].mean() - old_mean) < abs(first[len(y):].mean() - new_mean)
    assert abs(new.mean() - new_mean) < abs(new.mean() - old_mean)
    assert data_fingerprint(other, y) != data_fingerprint(X, y)


def test_training_warnings_reach_the_oversampler():
    X, y = tiny_xy(size=8, counts=(20, 8))
    gan = SYNTHESIZERS["gan"](random_state=0, **fast_params("gan", min_steps=30))
    gan.fit(X, y)
    for e in gan.history_:  # make the recorded run one that collapsed at the end
        if "diversity" in e:
            e["diversity"] = 1.0 if e["step"] < 20 else 0.05
    gan.fit_resample(X, y)  # same data and settings: draws from the fit above
    expected = [(w.code, w.message) for w in diagnose(gan.history_)]
    assert ("mode-collapse" in [c for c, _ in expected])
    assert [(w.code, w.message) for w in gan.warnings_] == expected


def test_color_is_the_papers_three_steps_in_one():
    # brightness, then saturation around the channel mean, then contrast around the image
    # mean, each with the same draws: the one-pass form gives the same images
    x = torch.rand(16, 3, 12, 12) * 2 - 1
    g = _gen()
    b = torch.rand(16, 1, 1, 1, generator=g) - 0.5
    s = torch.rand(16, 1, 1, 1, generator=g) * 2
    c = torch.rand(16, 1, 1, 1, generator=g) + 0.5
    step = x + b
    mean = step.mean(dim=1, keepdim=True)
    step = (step - mean) * s + mean
    mean = step.mean(dim=(1, 2, 3), keepdim=True)
    expected = (step - mean) * c + mean
    assert torch.allclose(color(x, _gen()), expected, atol=1e-5)
