"""GAN losses against values worked out by hand (the arithmetic is in the comments).

Notation: s(x) = sigmoid(x) = 1 / (1 + e^-x);  BCE(x, t) = -[t log s(x) + (1-t) log(1-s(x))]
so BCE(x, 1) = log(1 + e^-x) and BCE(x, 0) = log(1 + e^x).
"""

from __future__ import annotations

import math

import pytest
import torch

from gda_core.synthesizers.losses import (
    GAN_LOSSES,
    d_loss,
    g_loss,
    gradient_penalty,
    madgan_d_loss,
    madgan_g_loss,
)

T = torch.tensor
LN2 = math.log(2.0)


def approx(value: torch.Tensor, expected: float) -> None:
    assert float(value) == pytest.approx(expected, abs=1e-5)


def test_names():
    assert GAN_LOSSES == ("non-saturating", "minimax", "least-squares", "wgan-gp")
    with pytest.raises(ValueError, match="unknown GAN loss"):
        d_loss("hinge", T([0.0]), T([0.0]))
    with pytest.raises(ValueError, match="unknown GAN loss"):
        g_loss("hinge", T([0.0]))


@pytest.mark.parametrize("kind", ["non-saturating", "minimax"])
def test_logistic_discriminator_loss(kind):
    # D undecided: BCE(0, 1) + BCE(0, 0) = log 2 + log 2
    approx(d_loss(kind, T([0.0, 0.0]), T([0.0])), 2 * LN2)
    # real logit 2, fake logit -1: log(1 + e^-2) + log(1 + e^-1) = 0.126928 + 0.313262
    approx(d_loss(kind, T([2.0]), T([-1.0])), 0.126928 + 0.313262)
    # one-sided smoothing 0.1, real logit 2: 0.9 * log(1 + e^-2) + 0.1 * log(1 + e^2)
    #   = 0.9 * 0.126928 + 0.1 * 2.126928 = 0.326928;  fake logit -1 unchanged: + 0.313262
    approx(d_loss(kind, T([2.0]), T([-1.0]), label_smoothing=0.1), 0.326928 + 0.313262)


def test_generator_losses():
    # non-saturating: -log s(1) = log(1 + e^-1) = 0.313262
    approx(g_loss("non-saturating", T([1.0])), 0.313262)
    # minimax: log(1 - s(1)) = log s(-1) = -log(1 + e) = -1.313262
    approx(g_loss("minimax", T([1.0])), -1.313262)
    # least squares: 1/2 (0.2 - 1)^2 = 0.32
    approx(g_loss("least-squares", T([0.2])), 0.32)
    # wgan: -mean(0.5, 1.5) = -1
    approx(g_loss("wgan-gp", T([0.5, 1.5])), -1.0)


def test_minimax_saturates_where_non_saturating_does_not():
    # d/df log(1 - s(f)) = -s(f): at f = -10 that is -4.54e-5 (vanishing);
    # d/df -log s(f) = -(1 - s(f)) = -0.99995 (a full-size gradient)
    grads = {}
    for kind in ("minimax", "non-saturating"):
        f = T([-10.0], requires_grad=True)
        g_loss(kind, f).backward()
        grads[kind] = float(f.grad)
    assert grads["minimax"] == pytest.approx(-4.5398e-5, rel=1e-3)
    assert grads["non-saturating"] == pytest.approx(-0.9999546, rel=1e-5)


def test_least_squares_and_wasserstein_critic():
    # LSGAN: 1/2 mean((0.5 - 1)^2, (1.5 - 1)^2) + 1/2 mean(0.2^2) = 0.125 + 0.02
    approx(d_loss("least-squares", T([0.5, 1.5]), T([0.2])), 0.145)
    # smoothing 0.5 moves the real target to 0.5: 1/2 mean(0, 1) + 0.02 = 0.27
    approx(d_loss("least-squares", T([0.5, 1.5]), T([0.2]), label_smoothing=0.5), 0.27)
    # WGAN critic: mean(fake) - mean(real) = 0.5 - 2 = -1.5 (smoothing ignored)
    approx(d_loss("wgan-gp", T([1.0, 3.0]), T([0.5])), -1.5)
    approx(d_loss("wgan-gp", T([1.0, 3.0]), T([0.5]), label_smoothing=0.2), -1.5)


def test_logits_stay_finite_where_probabilities_would_underflow():
    big = T([200.0])
    assert math.isfinite(float(d_loss("non-saturating", -big, big)))  # ~ 400
    assert math.isfinite(float(g_loss("minimax", big)))                  # ~ -200
    approx(g_loss("minimax", big), -200.0)


def test_gradient_penalty_of_linear_critics():
    # a linear critic f(x) = <w, x> has gradient w everywhere:
    # ||w|| = 2 -> (2 - 1)^2 = 1;  ||w|| = 1 -> 0
    real, fake = torch.randn(4, 1, 2, 2), torch.randn(4, 1, 2, 2)
    gen = torch.Generator().manual_seed(0)
    w2 = torch.zeros(4)
    w2[0] = 2.0
    approx(gradient_penalty(lambda x: x.flatten(1) @ w2, real, fake, generator=gen), 1.0)
    w1 = torch.full((4,), 0.5)  # norm sqrt(4 * 0.25) = 1
    approx(gradient_penalty(lambda x: x.flatten(1) @ w1, real, fake, generator=gen), 0.0)


def test_gradient_penalty_trains_the_critic_only():
    critic = torch.nn.Linear(4, 1)
    fake = torch.randn(3, 4, requires_grad=True)
    penalty = gradient_penalty(critic, torch.randn(3, 4), fake,
                               generator=torch.Generator().manual_seed(1))
    penalty.backward()
    assert critic.weight.grad is not None and fake.grad is None


def test_madgan_losses():
    k = 2  # classes: 0, 1 = generators, 2 = real
    # real row [0, 0, ln 2]: softmax = [1, 1, 2] / 4, p(real) = 1/2 -> CE = ln 2
    # generator 0 row [ln 3, 0, 0]: p(0) = 3/5 -> CE = ln(5/3) = 0.510826
    # generator 1 row [0, 0, 0]: p(1) = 1/3 -> CE = ln 3 = 1.098612
    # total = ln 2 + ln 5 - ln 3 + ln 3 = ln 10
    real = T([[0.0, 0.0, LN2]])
    fakes = [T([[math.log(3.0), 0.0, 0.0]]), T([[0.0, 0.0, 0.0]])]
    approx(madgan_d_loss(real, fakes), math.log(10.0))
    # each generator wants "real": -log p(real) = -log(2/4) = ln 2
    approx(madgan_g_loss(real, real_index=k), LN2)
    # all-zero logits: every CE is ln 3, three terms
    zeros = torch.zeros(5, 3)
    approx(madgan_d_loss(zeros, [zeros, zeros]), 3 * math.log(3.0))
    with pytest.raises(ValueError, match="3 generators need 4"):
        madgan_d_loss(zeros, [zeros, zeros, zeros])
