"""Training warnings on synthetic histories, and divergence in real training runs."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
import torch
from conftest_synth import fast_params, tiny_xy

from gda_core.errors import ConfigError, GDAError
from gda_core.synthesizers import SYNTHESIZERS, diagnose, losses
from gda_core.synthesizers import diagnostics as dg
from gda_core.synthesizers.nets import DCGANDiscriminator, DCGANGenerator
from gda_core.synthesizers.trainer import GANLoopConfig, grad_norm, to_unit, train_gan


def history(n=100, *, grad=None, d_fake=None, diversity=None, every=10, seed=0, **extra):
    """n healthy steps (noisy); ``grad``, ``d_fake``, ``diversity``: step -> value."""
    rng = np.random.default_rng(seed)
    out = []
    for step in range(1, n + 1):
        e = {**extra, "step": step, "epoch": step, "d_loss": 1.3 + 0.05 * rng.standard_normal(),
             "g_loss": 0.8 + 0.05 * rng.standard_normal(), "d_real": 0.55,
             "g_grad_norm": grad(step) if grad else 0.5 * (1 + 0.2 * rng.standard_normal()),
             "d_fake": d_fake(step) if d_fake else 0.45 + 0.02 * rng.standard_normal()}
        if step == 1 or step % every == 0:
            e["diversity"] = diversity(step) if diversity else \
                min(0.9, 0.1 + 0.02 * step) + 0.03 * rng.standard_normal()
        out.append(e)
    return out


def codes(h):
    return [w.code for w in diagnose(h)]


def test_healthy_history_gives_no_warning():
    assert diagnose(history()) == []
    assert diagnose([]) == [] and diagnose(history(5)) == []


def test_vanishing_gradient():
    h = history(grad=lambda s: 1.0 if s <= 40 else 0.01, d_fake=lambda s: 0.4 if s <= 40
                else 0.01)
    (w,) = diagnose(h)
    assert w.code == "vanishing-gradient" and w.step == 41 and w.class_label is None
    assert "non-saturating" in w.message and "lr_D" in w.message


def test_small_gradients_alone_are_not_vanishing():
    # G's gradient may shrink near an equilibrium where D is fooled half the time
    h = history(grad=lambda s: 1.0 if s <= 40 else 0.01)
    assert codes(h) == []
    h = history(d_fake=lambda s: 0.01)  # D wins, but G still gets gradients
    assert codes(h) == []


def test_mode_collapse():
    # diversity climbs to 0.9, then falls to 0.1 from step 70 on
    h = history(diversity=lambda s: 0.1 if s >= 70 else min(0.9, 0.1 + 0.02 * s))
    (w,) = diagnose(h)
    assert w.code == "mode-collapse" and w.step == 70
    assert "MAD-GAN" in w.message and "0.10" in w.message


def test_low_initial_diversity_is_not_a_collapse():
    # fresh generators make near-identical images; diversity that grows is healthy
    h = history(diversity=lambda s: 0.01 + 0.008 * s)
    assert codes(h) == []


def test_divergence():
    h = history(50)
    h[30]["d_loss"] = math.nan
    (w,) = diagnose(h)
    assert w.code == "divergence" and w.step == 31 and "learning rates" in w.message
    h = history(20)
    h[-1]["g_grad_norm"] = math.inf
    assert codes(h) == ["divergence"]


def test_a_finite_explosion_is_divergence():
    # a least-squares GAN's D loss went from ~1 to 1.7e10 without ever being NaN
    h = history(100)
    for e in h[60:]:
        e["d_loss"] = 1.7e10
    (w,) = diagnose(h)
    assert w.code == "divergence" and w.step == 61
    assert "1.7e+10" in w.message and "stayed finite" in w.message
    h = history(100)
    for e in h[60:]:
        e["g_loss"] = 40.0          # 50 times larger: a bad run, not an explosion
    assert codes(h) == []


def test_a_saturated_discriminator_is_a_warning():
    h = history(100, d_fake=lambda s: 0.45 if s <= 50 else 0.001)
    for e in h[50:]:
        e["d_real"] = 0.999
    (w,) = diagnose(h)
    assert w.code == "discriminator-saturated" and w.step == 51
    assert "memorised" in w.message and "DiffAugment" in w.message
    # when the generator's gradient vanished too, that warning says it already
    h = history(100, grad=lambda s: 1.0 if s <= 50 else 0.01,
                d_fake=lambda s: 0.45 if s <= 50 else 0.001)
    for e in h[50:]:
        e["d_real"] = 0.999
    assert codes(h) == ["vanishing-gradient"]


def test_per_class_histories_are_checked_separately():
    healthy = history(60, **{"class": 1})
    collapsed = history(60, diversity=lambda s: 0.05 if s >= 40 else 0.8, **{"class": 2})
    (w,) = diagnose(healthy + collapsed)
    assert w.code == "mode-collapse" and w.class_label == 2 and w.message.startswith("Class 2")


def test_thresholds_are_module_constants():
    assert dg.VANISHING_GRAD_RATIO == 0.05 and dg.VANISHING_D_FAKE == 0.05
    assert dg.MODE_COLLAPSE_RATIO == 0.3
    assert dg.EXPLODE_RATIO == 1000 and dg.SATURATED_D == 0.99


# ------------------------------------------------------------ divergence in training
def test_nan_loss_raises_and_keeps_history(monkeypatch):
    X, y = tiny_xy()
    real_g_loss = losses.g_loss
    calls = []

    def poisoned(kind, fake_out):
        calls.append(1)
        value = real_g_loss(kind, fake_out)
        return value * math.nan if len(calls) >= 3 else value

    monkeypatch.setattr(losses, "g_loss", poisoned)
    s = SYNTHESIZERS["dcgan"](random_state=0, **fast_params("dcgan", epochs=5))
    with pytest.raises(GDAError, match=r"training diverged: .* at step 3 for class 1; "
                                       r"lower the learning rates"):
        s.fit(X, y)
    assert len(s.history_) == 3 and math.isnan(s.history_[-1]["g_loss"])
    assert codes(s.history_) == ["divergence"]
    with pytest.raises(GDAError, match="not trained yet"):  # no half-trained model left
        s.sample(2, 1)


def test_huge_learning_rate_diverges():
    X, _ = tiny_xy(counts=(16,))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G, D = DCGANGenerator(8, 1, 8, width=8), DCGANDiscriminator(1, 8, width=8)
    config = GANLoopConfig(epochs=20, batch_size=16, lr_d=1e30, lr_g=1e30)
    hist: list[dict] = []
    with pytest.raises(GDAError, match="diverged"):
        train_gan(G, D, to_unit(X), None, config, seed=0, history=hist)
    assert hist and not all(math.isfinite(hist[-1][k]) for k in ("d_loss", "g_loss",
                                                                   "g_grad_norm"))


def test_out_of_range_learning_rate_is_a_config_error():
    X, y = tiny_xy()
    with pytest.raises(ConfigError, match="lr_g"):
        SYNTHESIZERS["gan"](lr_g=0.0).fit(X, y)


def test_grad_norm_is_the_total_l2_norm_and_keeps_non_finite_values():
    gen = torch.Generator().manual_seed(0)
    params = [torch.zeros(s, requires_grad=True) for s in ((3, 4), (5,), (2, 2, 2))]
    for p in params:
        p.grad = torch.randn(p.shape, generator=gen)
    params.append(torch.zeros(2, requires_grad=True))  # no gradient: left out
    expected = math.sqrt(sum(float((p.grad ** 2).sum()) for p in params[:3]))
    assert float(grad_norm(params)) == pytest.approx(expected, rel=1e-6)
    assert float(grad_norm(params[3:])) == 0.0
    # the trainer stops on a non-finite norm: it must not be clipped or raised here
    params[1].grad[2] = math.inf
    assert math.isinf(float(grad_norm(params)))
    params[1].grad[2] = math.nan
    assert math.isnan(float(grad_norm(params)))


def _grouped_run(read_every: int, *, steps: int = 11, stop_at: int | None = None,
                 history: list[dict] | None = None, **config: Any) -> tuple[Any, ...]:
    """A tiny DCGAN trained with ``read_every``: (history, samples, callback steps, outcome)."""
    X, _ = tiny_xy(counts=(16,))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        G, D = DCGANGenerator(8, 1, 8, width=8), DCGANDiscriminator(1, 8, width=8)
    cfg = GANLoopConfig(epochs=1, min_steps=steps, batch_size=8, sample_every=4,
                        diversity_every=5, read_every=read_every, **config)
    history = [] if history is None else history
    samples: list[tuple[int, np.ndarray]] = []
    called: list[int] = []

    def callback(event: dict) -> bool:
        called.append(event["step"])
        assert event["total_steps"] == steps
        return event["step"] != stop_at

    outcome = train_gan(G, D, to_unit(X), None, cfg, seed=0, history=history,
                        callback=callback, on_samples=lambda s, im: samples.append((s, im)))
    return history, samples, called, outcome


def _without_seconds(history: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "seconds"} for e in history]


@pytest.mark.parametrize("monitor", [True, False])
def test_figures_read_in_groups_give_the_same_history_samples_and_callbacks(monitor):
    one = _grouped_run(1, monitor=monitor)
    grouped = _grouped_run(3, monitor=monitor)
    assert [list(e) for e in grouped[0]] == [list(e) for e in one[0]]  # same keys, same order
    assert _without_seconds(grouped[0]) == _without_seconds(one[0])
    assert [e["step"] for e in grouped[0]] == list(range(1, 12))
    assert [s for s, _ in grouped[1]] == [s for s, _ in one[1]] == [1, 4, 8, 11]
    assert all(np.array_equal(a, b) for (_, a), (_, b) in zip(grouped[1], one[1], strict=True))
    assert grouped[2] == one[2] == list(range(1, 12))
    assert not grouped[3].stopped_early


def test_a_stop_asked_inside_a_group_ends_training_with_that_group():
    # step 1 is read at once (first diversity and grid); steps 2, 3, 4 form the next group
    history, _, called, outcome = _grouped_run(3, stop_at=2, steps=30)
    assert called == [1, 2]  # nothing is passed on after the stop
    assert [e["step"] for e in history] == [1, 2, 3, 4]  # the steps that ran are kept
    assert outcome.stopped_early and outcome.steps == 4
    _, _, called_one, outcome_one = _grouped_run(1, stop_at=2, steps=30)
    assert called_one == [1, 2] and outcome_one.steps == 2


@pytest.mark.parametrize("read_every", [1, 4])
def test_a_diverged_step_read_in_a_group_is_named_and_ends_the_history(read_every,
                                                                      monkeypatch):
    from gda_core.synthesizers import trainer

    calls = iter(range(1, 100))
    real_norm = trainer.grad_norm
    monkeypatch.setattr(trainer, "grad_norm", lambda params: real_norm(params) * (
        math.nan if next(calls) == 3 else 1.0))
    history: list[dict] = []
    with pytest.raises(GDAError, match="generator gradient norm became nan at step 3"):
        _grouped_run(read_every, steps=20, history=history)
    assert [e["step"] for e in history] == [1, 2, 3]  # kept up to the bad step, no further
    assert math.isnan(history[-1]["g_grad_norm"]) and math.isfinite(history[1]["g_loss"])


def test_read_interval_is_one_on_the_cpu_and_ten_on_a_gpu():
    from gda_core.synthesizers.trainer import READ_EVERY_GPU, read_interval

    assert read_interval("cpu") == 1 and read_interval("cuda") == READ_EVERY_GPU == 10
    assert read_interval("cpu", 5) == 5 and read_interval("cuda", 1) == 1


def test_advice_does_not_suggest_diffaugment_when_it_is_on():
    steps = [{"step": i, "d_loss": 0.1, "g_loss": 1.0 + i / 10, "g_grad_norm": 1.0,
              "d_real": 0.97, "d_fake": 0.03} for i in range(1, 201)]
    plain = diagnose(steps)[0].message
    on = diagnose(steps, augmented=True)[0].message
    assert "turn DiffAugment on" in plain
    assert "turn DiffAugment on" not in on and "DiffAugment is already on" in on
