"""Objectives of the three-player game as pure functions of network outputs.

Every function returns a scalar tensor to **minimise**.  The discriminator's outputs are
raw scores (logits for the non-saturating game, critic values for the Wasserstein one); the
classifier's outputs are class logits.

Adversarial losses (``gan_type``, named as in :mod:`gda_core.synthesizers.losses`)
------------------------------------------------------------------------------------
``"non-saturating"`` (Mescheder et al., 2018's ``f = -softplus(-t) = log sigmoid(t)``)
    D: ``softplus(-D(x)) + softplus(D(G(z)))`` (binary cross-entropy on logits);
    G: ``softplus(-D(G(z)))`` = ``-log sigmoid(D(G(z)))``.  Saved settings may still call
    it ``"vanilla"`` (see :data:`~gda_core.synthesizers.losses.LOSS_ALIASES`).
``"wasserstein"`` (``f`` = identity)
    D: ``D(G(z)) - D(x)`` plus :data:`WGAN_DRIFT` ``* D(x)^2`` (keeps the critic's
    unconstrained scores near 0, Karras et al., 2018); G: ``-D(G(z))``.

Both are regularised with the zero-centred gradient penalty on real data
(:func:`r1_penalty`, Mescheder et al.'s R1), weighted ``gamma / 2`` by the caller.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gda_core.synthesizers import losses as gan_losses
from gda_core.synthesizers.losses import THREE_PLAYER_LOSSES

WGAN_DRIFT = 1e-3
"""Weight of the drift term ``E[D(x)^2]`` of the Wasserstein critic (Karras et al.)."""


def d_loss(gan_type: str, real_out: torch.Tensor, fake_out: torch.Tensor) -> torch.Tensor:
    """Discriminator loss (without the gradient penalty).

    Parameters
    ----------
    gan_type : {"non-saturating", "wasserstein"}
    real_out, fake_out : Tensor, shape (N,)
        Raw outputs ``D(x)`` on real images and ``D(G(z))`` on generated ones.

    Returns
    -------
    Tensor
        Scalar.  Non-saturating: ``mean softplus(-r) + mean softplus(f)``; Wasserstein:
        ``mean f - mean r + WGAN_DRIFT * mean r^2``.
    """
    gan_losses.check_loss(gan_type, THREE_PLAYER_LOSSES)
    loss = gan_losses.d_loss(gan_type, real_out, fake_out)
    if gan_type == "wasserstein":
        loss = loss + WGAN_DRIFT * (real_out.float() ** 2).mean()
    return loss


def g_loss(gan_type: str, fake_out: torch.Tensor) -> torch.Tensor:
    """Generator's adversarial loss on ``D(G(z))``, shape (N,).

    Non-saturating: ``mean softplus(-f)`` (``-log sigmoid(f)``); Wasserstein: ``-mean f``.
    """
    gan_losses.check_loss(gan_type, THREE_PLAYER_LOSSES)
    return gan_losses.g_loss(gan_type, fake_out)


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
