"""What every GAN synthesizer promises: fit / sample / save / load / fit_resample, seeded
and side-effect free, with per-step diagnostics and callbacks."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from conftest_synth import fast_params, tiny_xy

from gda_core.errors import ConfigError, GDAError
from gda_core.oversampling import OVERSAMPLERS
from gda_core.synthesizers import GAN_LOSSES, SYNTHESIZERS, GANSynthesizer

NAMES = list(SYNTHESIZERS)
KEYS = {"step", "epoch", "d_loss", "g_loss", "g_grad_norm", "d_real", "d_fake", "seconds"}


def make(name, **overrides):
    return SYNTHESIZERS[name](random_state=0, **fast_params(name, **overrides))


@pytest.fixture(scope="module")
def xy():
    return tiny_xy()  # classes 0, 1, 2 with 24, 10, 8 images of 1x8x8


@pytest.fixture(scope="module")
def fitted(xy):
    X, y = xy
    return {name: make(name).fit(X, y) for name in NAMES}


def test_registered_as_oversamplers():
    assert set(NAMES) == {"gan", "dcgan", "cgan", "madgan", "adso", "amo"}
    for name, cls in SYNTHESIZERS.items():
        assert OVERSAMPLERS[name] is cls and issubclass(cls, GANSynthesizer)
        for p in cls.params:  # the Compare page needs bounds and choices for its widgets
            if p.kind in ("int", "float"):
                assert p.low is not None and p.high is not None, p.name
            if p.kind == "choice":
                assert p.default in p.choices, p.name


@pytest.mark.parametrize("name", NAMES)
def test_fit_learns_the_right_classes(name, fitted):
    s = fitted[name]
    # unconditional: one model per class smaller than the largest; conditional: all
    assert s.classes_ == ([0, 1, 2] if s.conditional else [1, 2])
    assert s.image_shape_ == (1, 8, 8) and not s.stopped_early_


@pytest.mark.parametrize("name", NAMES)
def test_samples_shape_dtype_and_labels(name, fitted):
    s = fitted[name]
    one = s.sample(7, 1)
    assert one.shape == (7, 1, 8, 8) and one.dtype == np.uint8
    assert s.sample(5).shape == (5, 1, 8, 8)
    assert s.sample(4, np.array([2, 1, 2, 1])).shape == (4, 1, 8, 8)
    assert s.sample(0, 1).shape == (0, 1, 8, 8)
    assert len(np.unique(one.reshape(7, -1), axis=0)) > 1  # not one image repeated
    with pytest.raises(GDAError, match="not trained on class 7"):
        s.sample(2, 7)
    with pytest.raises(ConfigError, match="one class per image"):
        s.sample(3, [1, 2])


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_samples_and_no_global_rng_change(name, xy):
    X, y = xy
    torch_state, np_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002
    a = make(name).fit(X, y).sample(12, 2)
    b = make(name).fit(X, y).sample(12, 2)
    c = SYNTHESIZERS[name](random_state=1, **fast_params(name)).fit(X, y).sample(12, 2)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.array_equal(np.random.get_state()[1], np_state[1])  # noqa: NPY002


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip(name, xy, tmp_path):
    X, y = xy
    s = make(name).fit(X, y)
    s.sample(3, 1)  # advance the sampling stream: the file keeps its state
    path = tmp_path / f"{name}.pt"
    s.save(path)
    # a single torch.save of tensors and primitives: loadable with weights_only=True
    payload = torch.load(path, weights_only=True)
    assert payload["name"] == name and payload["classes"] == s.classes_
    loaded = GANSynthesizer.load(path)
    assert type(loaded) is type(s) and loaded.get_params() == s.get_params()
    assert loaded.classes_ == s.classes_ and loaded.history_ == s.history_
    expected = s.sample(9, 2)
    assert np.array_equal(loaded.sample(9, 2), expected)
    again = type(s).load(path)  # the subclass's load works too
    assert np.array_equal(again.sample(9, 2), expected)
    buf = io.BytesIO()  # file objects too (for a dashboard download)
    s.save(buf)
    buf.seek(0)
    assert GANSynthesizer.load(buf, device="cpu").classes_ == s.classes_


def test_load_rejects_other_files(tmp_path, fitted):
    path = tmp_path / "x.pt"
    torch.save({"a": torch.zeros(2)}, path)
    with pytest.raises(GDAError, match="not a saved"):
        GANSynthesizer.load(path)
    (tmp_path / "junk.pt").write_bytes(b"not a pickle")
    with pytest.raises(GDAError, match="could not read"):
        GANSynthesizer.load(tmp_path / "junk.pt")
    fitted["dcgan"].save(path)
    with pytest.raises(GDAError, match="not a MAD-GAN"):
        SYNTHESIZERS["madgan"].load(path)


@pytest.mark.parametrize("name", NAMES)
def test_fit_resample_balances_and_reuses_a_fit(name, xy, fitted):
    X, y = xy
    s = make(name)
    X_res, y_res = s.fit_resample(X, y)
    assert X_res.dtype == np.uint8 and X_res.shape[1:] == X.shape[1:]
    assert np.bincount(y_res).tolist() == [24, 24, 24]
    assert np.array_equal(X_res[:len(y)], X)
    again = s.fit_resample(X, y)  # already fitted on these classes: no retraining
    assert np.array_equal(again[0], X_res)
    # the fitted synthesizer from the fixture is reused as is (same history, same nets)
    f = fitted[name]
    steps = len(f.history_)
    f.fit_resample(X, y)
    assert len(f.history_) == steps


@pytest.mark.parametrize("name", ["dcgan", "cgan"])
def test_rgb_odd_size(name):
    X, y = tiny_xy(size=6, channels=3, counts=(20, 6))
    X_res, y_res = make(name).fit_resample(X, y)
    assert X_res.shape == (40, 3, 6, 6) and np.bincount(y_res).tolist() == [20, 20]


@pytest.mark.parametrize("name", NAMES)
def test_history_has_the_diagnostics(name, fitted):
    s = fitted[name]
    h = s.history_
    per_class = not s.conditional
    # 2 epochs of ceil(n / 16) steps per model
    expected = 2 * 1 + 2 * 1 if per_class else 2 * 3
    assert len(h) == expected
    for e in h:
        assert KEYS <= set(e)
        assert all(np.isfinite(e[k]) for k in KEYS)
        assert 0 <= e["d_real"] <= 1 and 0 <= e["d_fake"] <= 1 and e["g_grad_norm"] > 0
        assert ("class" in e) == per_class
    assert "diversity" in h[0] and "diversity" in h[-1]  # first and last steps
    if per_class:
        assert [e["class"] for e in h] == [1, 1, 2, 2]


@pytest.mark.parametrize("name", NAMES)
def test_callback_false_stops_early(name, xy):
    X, y = xy
    events = []

    def callback(event):
        events.append(event)
        return False if len(events) == 3 else None

    s = make(name, epochs=20).fit(X, y, callback=callback)
    assert s.stopped_early_ and len(s.history_) == 3 and len(events) == 3
    assert events[0]["step"] == 1 and events[0]["total_steps"] >= 20
    assert s.sample(2, s.classes_[0]).shape == (2, 1, 8, 8)  # usable
    if not s.conditional:
        assert s.classes_ == [1]  # class 2 never started


@pytest.mark.parametrize("name", NAMES)
def test_on_samples_grids(name, xy):
    X, y = xy
    calls = []
    s = make(name, epochs=5)
    s.fit(X, y, classes=[1, 2], on_samples=lambda step, imgs: calls.append((step, imgs)),
          sample_every=2)
    steps = [c[0] for c in calls]
    if s.conditional:  # 5 epochs x 2 steps (18 images): step 1 (at once), every 2nd step
        assert steps == [1, 2, 4, 6, 8, 10]
    else:  # per class 5 steps: 1, 2, 4 and the last one
        assert steps == [1, 2, 4, 5, 1, 2, 4, 5]
    for _, images in calls:
        assert images.dtype == np.uint8 and images.shape == (64, 1, 8, 8)
    # fixed noise: the first grid of one run equals that of a rerun
    again = []
    make(name, epochs=5).fit(X, y, classes=[1, 2], sample_every=2,
                             on_samples=lambda step, imgs: again.append(imgs))
    assert np.array_equal(again[0], calls[0][1])


def test_bad_input_is_reported(xy):
    X, y = xy
    with pytest.raises(ConfigError, match="class 9"):
        make("dcgan").fit(X, y, classes=[9])
    with pytest.raises(ConfigError, match="uint8"):
        make("dcgan").fit(X.astype(np.float32), y)
    with pytest.raises(ConfigError, match="lr_d must be at most"):
        make("dcgan", lr_d=5.0).fit(X, y)
    with pytest.raises(ConfigError, match="as many images as the largest"):
        make("dcgan").fit(X[:20], np.array([0, 1] * 10))
    with pytest.raises(GDAError, match="not trained yet"):
        make("gan").sample(3)


def test_training_on_one_class_and_tiny_classes():
    X, y = tiny_xy(counts=(1,))
    s = make("dcgan").fit(X, y, classes=[0])  # a single image: batches repeat it
    assert s.sample(3, 0).shape == (3, 1, 8, 8)


@pytest.mark.parametrize("loss", GAN_LOSSES)
@pytest.mark.parametrize("name", ["gan", "dcgan", "cgan"])
def test_every_loss_trains(name, loss, xy):
    X, y = xy
    s = make(name, loss=loss, d_steps=2, label_smoothing=0.1).fit(X, y, classes=[1, 2])
    assert all(np.isfinite(e["d_loss"]) and np.isfinite(e["g_loss"]) for e in s.history_)
    assert s.sample(3, 2).shape == (3, 1, 8, 8)


def test_madgan_without_sharing(xy):
    X, y = xy
    s = make("madgan", share=False, n_generators=3).fit(X, y)
    assert len(s._nets[1][0].generators) == 3
    assert s.sample(6, 1).shape == (6, 1, 8, 8)


def test_a_class_model_does_not_depend_on_the_other_classes(xy):
    X, y = xy
    alone = make("dcgan").fit(X, y, classes=[1]).sample(5, 1)
    together = make("dcgan").fit(X, y, classes=[1, 2]).sample(5, 1)
    assert np.array_equal(alone, together)
