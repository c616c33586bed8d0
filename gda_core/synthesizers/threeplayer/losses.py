"""Objectives of the three-player game as pure functions of network outputs.

Every function returns a scalar tensor to **minimise**.  The discriminator's outputs are
raw scores (logits for the vanilla GAN, critic values for the Wasserstein one); the
classifier's outputs are class logits.

GAN types (Mescheder et al., 2018, write both as ``f(D(x)) + f(-D(G(z)))``-style games)
--------------------------------------------------------------------------------------
``"vanilla"`` (``f = -softplus(-t) = log sigmoid(t)``)
    D: ``softplus(-D(x)) + softplus(D(G(z)))`` (binary cross-entropy on logits);
    G: ``softplus(-D(G(z)))`` = ``-log sigmoid(D(G(z)))``, the non-saturating form.
``"wasserstein"`` (``f`` = identity)
    D: ``D(G(z)) - D(x)`` plus :data:`WGAN_DRIFT` ``* D(x)^2`` (keeps the critic's
    unconstrained scores near 0, Karras et al., 2018); G: ``-D(G(z))``.

Both are regularised with the zero-centred gradient penalty on real data
(:func:`r1_penalty`, Mescheder et al.'s R1), weighted ``gamma / 2`` by the caller.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

GAN_TYPES: tuple[str, ...] = ("vanilla", "wasserstein")
"""Names accepted by :func:`d_loss` and :func:`g_loss` (the default first)."""

WGAN_DRIFT = 1e-3
"""Weight of the drift term ``E[D(x)^2]`` of the Wasserstein critic (Karras et al.)."""


def _check(gan_type: str) -> None:
    if gan_type not in GAN_TYPES:
        raise ValueError(f"unknown GAN type {gan_type!r}; choose from {', '.join(GAN_TYPES)}")


def d_loss(gan_type: str, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """Discriminator loss (without the gradient penalty).

    Parameters
    ----------
    gan_type : {"vanilla", "wasserstein"}
    real_out, fake_out : Tensor, shape (N,)
        Raw outputs ``D(x)`` on real images and ``D(G(z))`` on generated ones.

    Returns
    -------
    Tensor
        Scalar.  Vanilla: ``mean softplus(-r) + mean softplus(f)``; Wasserstein:
        ``mean f - mean r + WGAN_DRIFT * mean r^2``.
    """
    _check(gan_type)
    real_out, fake_out = real_out.float().flatten(), fake_out.float().flatten()
    if gan_type == "vanilla":
        return F.softplus(-real_out).mean() + F.softplus(fake_out).mean()
    return fake_out.mean() - real_out.mean() + WGAN_DRIFT * (real_out ** 2).mean()


def g_loss(gan_type: str, fake_out: torch.Tensor) -> torch.Tensor:
    """Generator's adversarial loss on ``D(G(z))``, shape (N,).

    Vanilla: ``mean softplus(-f)`` (non-saturating, ``-log sigmoid(f)``); Wasserstein:
    ``-mean f``.
    """
    _check(gan_type)
    fake_out = fake_out.float().flatten()
    if gan_type == "vanilla":
        return F.softplus(-fake_out).mean()
    return -fake_out.mean()


def r1_penalty(real_out: torch.Tensor, real: torch.Tensor) -> torch.Tensor:
    """Zero-centred gradient penalty on real data: ``E ||grad_x D(x)||^2`` (R1).

    Parameters
    ----------
    real_out : Tensor, shape (N,)
        ``D(real)``, computed from ``real`` with ``real.requires_grad`` set.
    real : Tensor, shape (N, C, H, W)
        The real batch.

    Returns
    -------
    Tensor
        Scalar mean over the batch of the squared L2 norm of each image's gradient
        (not multiplied by ``gamma / 2``), differentiable with respect to D's weights.
    """
    (grad,) = torch.autograd.grad(real_out.float().sum(), real, create_graph=True)
    return grad.float().flatten(1).pow(2).sum(1).mean()


def complementary_cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``-mean log(1 - q_y)``: pushes the classifier's probability of class ``y`` down.

    Computed stably as ``logsumexp`` over the other classes minus ``logsumexp`` over all.

    Parameters
    ----------
    logits : Tensor, shape (N, K)
        Classifier logits, ``K >= 2``.
    labels : Tensor of int64, shape (N,)

    Returns
    -------
    Tensor
        Scalar, 0 when ``q_y`` is 0 for every sample.
    """
    logits = logits.float()
    if logits.shape[1] < 2:
        return logits.sum() * 0.0  # one class: nowhere to push the sample
    own = F.one_hot(labels, logits.shape[1]).bool()
    others = torch.logsumexp(logits.masked_fill(own, float("-inf")), dim=1)   # (N,)
    return (torch.logsumexp(logits, dim=1) - others).mean()
