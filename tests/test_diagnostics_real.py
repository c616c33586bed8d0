"""Training diagnostics judged against the real data, on constructed runs: each failure
(collapsed from the start, copies of a few images, D wins) must raise its own warning, and
healthy runs, short runs and a fresh generator must raise none."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gda_core.datasets.digits import load_digits_splits
from gda_core.synthesizers.diagnostics import SIGNALS, diagnose
from gda_core.synthesizers.trainer import mean_pairwise_rms, near_duplicate_share, nearest_gap


def run(n: int = 400, *, d_real=0.6, d_fake=0.4, g_loss=lambda i: 1.0, diversity=0.8,
        dup_share=0.05, every: int = 10, cls: int | None = None) -> list[dict]:
    """A constructed history: per-step values, diversity every ``every`` steps."""
    out = []
    for i in range(1, n + 1):
        e = {"step": i, "d_loss": 1.2, "g_loss": g_loss(i), "g_grad_norm": 1.0,
             "d_real": d_real(i) if callable(d_real) else d_real,
             "d_fake": d_fake(i) if callable(d_fake) else d_fake}
        if i == 1 or i % every == 0:
            e["diversity"] = diversity(i) if callable(diversity) else diversity
            e["dup_share"] = dup_share(i) if callable(dup_share) else dup_share
        if cls is not None:
            e["class"] = cls
        out.append(e)
    return out


def codes(history) -> list[str]:
    return [w.code for w in diagnose(history)]


def test_a_healthy_run_raises_nothing():
    assert codes(run()) == []
    # a fresh generator draws near-identical images at first: not a collapse
    start = run(dup_share=lambda i: 0.95 if i < 60 else 0.05,
                diversity=lambda i: 0.05 if i < 60 else 0.8)
    assert codes(start) == []


def test_collapsed_from_the_start_is_a_mode_collapse():
    """A cGAN whose samples of a class are nearly identical from step 1 never 'fell' from a
    peak, so the old check stayed silent; judged against the real images it is caught."""
    found = diagnose(run(dup_share=0.9, diversity=0.6, cls=3))
    assert [w.code for w in found] == ["mode-collapse"]
    assert "90% of the images drawn from fixed noise are near-identical" in found[0].message
    assert found[0].class_label == 3 and found[0].signals == SIGNALS["mode-collapse"]
    low = diagnose(run(diversity=0.15, dup_share=0.0))
    assert [w.code for w in low] == ["mode-collapse"]
    assert "vary 0.15× as much as the real images" in low[0].message


def test_a_short_run_is_not_judged_against_the_real_data():
    assert codes(run(60, dup_share=0.9, diversity=0.1)) == []


def test_d_wins_is_said_once_and_not_called_a_collapse():
    """On real photos D(x) ≈ 1 and D(G(z)) ≈ 0 throughout, the images stopped varying, and
    the old view said 'mode collapse'; what happened is that D won."""
    history = run(d_real=0.97, d_fake=0.02, g_loss=lambda i: 1.0 + i / 50, diversity=0.1,
                  dup_share=0.8)
    found = diagnose(history)
    assert [w.code for w in found] == ["d-wins"]
    assert "D(x) = 0.97, D(G(z)) = 0.02" in found[0].message
    assert "not a collapse of its own" in found[0].message
    # D as sure only lately, the generator's loss flat: saturated, not 'wins'
    late = run(d_real=lambda i: 0.995 if i > 300 else 0.6,
               d_fake=lambda i: 0.004 if i > 300 else 0.4, g_loss=lambda i: 5.0)
    assert codes(late) == ["discriminator-saturated"]


def test_d_wins_needs_both_sides():
    assert codes(run(d_real=0.97, d_fake=0.3, g_loss=lambda i: 1.0 + i / 50)) == []
    assert codes(run(d_real=0.6, d_fake=0.02, g_loss=lambda i: 1.0 + i / 50)) == []


# ------------------------------------------------ the measurements behind the signals
@pytest.fixture(scope="module")
def digits() -> torch.Tensor:
    images = load_digits_splits().train.images[:300]
    return torch.from_numpy(images.astype(np.float32) / 127.5 - 1.0)


def test_copies_of_six_images_are_near_duplicates_though_their_pixels_vary(digits):
    """300 copies of 6 digits scored 0.27 pixel diversity against the real 0.34: pixel
    diversity alone cannot see this collapse; the near-duplicate share can."""
    real = digits[:64]
    gap = nearest_gap(real)
    copies = digits[:6].repeat(50, 1, 1, 1)[:64]
    assert mean_pairwise_rms(copies) / mean_pairwise_rms(real) > 0.6
    assert near_duplicate_share(copies, gap) == 1.0
    assert near_duplicate_share(digits[64:128], gap) < 0.1
    noisy = copies + 0.2 * torch.randn(copies.shape, generator=torch.Generator().manual_seed(0))
    assert near_duplicate_share(noisy, gap) < 0.5          # noise is not a duplicate


def test_near_duplicates_are_counted_within_classes(digits):
    labels = torch.arange(64) % 2
    gap = nearest_gap(digits[:64], labels)
    same_per_class = torch.stack([digits[c] for c in labels.tolist()])
    assert near_duplicate_share(same_per_class, gap, labels) == 1.0
    assert np.isnan(near_duplicate_share(digits[:8], 0.0))


def test_each_warning_plots_its_own_signals_and_thresholds():
    from gda_core.viz.diagnostics import warning_figure

    history = run(d_real=0.97, d_fake=0.02, g_loss=lambda i: 1.0 + i / 50, cls=3)
    (found,) = diagnose(history)
    fig = warning_figure(history, {"code": found.code, "step": found.step,
                                   "class_label": found.class_label})
    assert [t.name for t in fig.data] == ["D(x)", "D(G(z))", "G loss"]
    assert sorted(s.y0 for s in fig.layout.shapes if s.type == "line") == [0.1, 0.9]
    assert any(s.type == "rect" and s.x0 == found.step for s in fig.layout.shapes)
    # an end-of-training image check has no logged signal to plot
    assert warning_figure(history, {"code": "copies", "step": 400, "class_label": 3}) is None


def test_d_won_from_the_start_on_real_photos():
    """As a DCGAN on 25 CIFAR-10 horses without augmentation did: D(x) ≈ 0.98 and
    D(G(z)) ≈ 0.01 from step 1, G's loss high (4.6 -> 5.8, not 1.5x) all along."""
    rng = np.random.default_rng(0)
    history = run(2000, d_real=lambda i: min(0.999, 0.975 + rng.normal(0, 0.01)),
                  d_fake=lambda i: max(0.0, 0.01 + rng.normal(0, 0.004)),
                  g_loss=lambda i: 4.6 + i / 1700 + rng.normal(0, 0.3), diversity=0.7,
                  dup_share=0.0, every=25)
    (found,) = diagnose(history)
    assert found.code == "d-wins" and found.step < 100
    assert "it has done so for 100% of the run" in found.message
