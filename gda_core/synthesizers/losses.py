"""GAN objectives as pure functions of the discriminator's raw outputs (logits).

Every function takes the discriminator's *pre-sigmoid* outputs and returns a scalar
tensor to **minimise**.  Working on logits with ``binary_cross_entropy_with_logits`` and
``logsigmoid`` keeps the losses finite where ``log(sigmoid(x))`` would underflow.

Losses (``kind``)
-----------------
``"non-saturating"``
    Goodfellow et al.'s practical variant: D is a logistic classifier, G maximises
    ``log D(G(z))`` (minimises ``-log sigmoid(D(G(z)))``).  G keeps a useful gradient even
    when D confidently rejects its samples.  The default.
``"minimax"``
    The original saturating game: G minimises ``log(1 - D(G(z)))``.  Its gradient
    vanishes when D wins early (``D(G(z)) -> 0``); kept for teaching and comparison.
``"least-squares"``
    LSGAN (Mao et al., 2017) with targets a=0 (fake), b=1 (real), c=1 (G's wish):
    ``D: 1/2 (D(x) - 1)^2 + 1/2 D(G(z))^2``, ``G: 1/2 (D(G(z)) - 1)^2``.
``"wgan-gp"``
    Wasserstein critic (Gulrajani et al., 2017): ``D: E[D(G(z))] - E[D(x)]`` plus
    ``GP_WEIGHT *`` :func:`gradient_penalty` (added by the trainer), ``G: -E[D(G(z))]``.
``"wasserstein"``
    The same critic and generator objectives without a penalty of their own: the
    three-player models (:mod:`gda_core.synthesizers.threeplayer.losses`) regularise it
    with R1 and a drift term instead.

These names are the library's one vocabulary of adversarial losses: the two-player GANs'
``loss`` parameter takes :data:`GAN_LOSSES`, the three-player models' ``gan_type``
:data:`THREE_PLAYER_LOSSES`, and both modules compute them with :func:`d_loss` and
:func:`g_loss`.

Label smoothing is one-sided (Salimans et al., 2016): the real target becomes
``1 - label_smoothing``; fakes keep target 0.  It has no meaning for ``"wgan-gp"`` and is
ignored there.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

GAN_LOSSES: tuple[str, ...] = ("non-saturating", "minimax", "least-squares", "wgan-gp")
"""Choices of the two-player GANs' ``loss`` parameter (the default first)."""

THREE_PLAYER_LOSSES: tuple[str, ...] = ("non-saturating", "wasserstein")
"""Choices of the three-player models' ``gan_type`` parameter (the default first)."""

LOSS_ALIASES: tuple[tuple[str, str], ...] = (("vanilla", "non-saturating"),)
"""Old spellings still accepted from saved settings and files: the three-player models
called the non-saturating game ``"vanilla"``."""

_KINDS: tuple[str, ...] = (*GAN_LOSSES, "wasserstein")

GP_WEIGHT = 10.0
"""Weight lambda of the gradient penalty in WGAN-GP (the paper's value)."""


def check_loss(kind: str, choices: tuple[str, ...] = _KINDS) -> None:
    """Raise ``ValueError`` unless ``kind`` is one of ``choices`` (default: every loss)."""
    if kind not in choices:
        raise ValueError(f"unknown GAN loss {kind!r}; choose from {', '.join(choices)}")


def d_loss(kind: str, real_out: torch.Tensor, fake_out: torch.Tensor, *,
           label_smoothing: float = 0.0) -> torch.Tensor:
    """Discriminator (critic) loss on real and fake outputs.

    Parameters
    ----------
    kind : str
        One of :data:`GAN_LOSSES`, or ``"wasserstein"``.
    real_out, fake_out : Tensor, shape (N,) or (N, 1)
        Raw discriminator outputs (logits; critic scores for ``"wgan-gp"``).
    label_smoothing : float
        One-sided smoothing of the real target (``1 -> 1 - label_smoothing``).

    Returns
    -------
    Tensor
        Scalar, the sum of the real and fake terms (as in the PyTorch DCGAN example).
        The WGAN-GP gradient penalty is *not* included.
    """
    check_loss(kind)
    real_out, fake_out = real_out.float().flatten(), fake_out.float().flatten()
    real_target = 1.0 - float(label_smoothing)
    if kind in ("non-saturating", "minimax"):
        # -[t log s(r) + (1 - t) log(1 - s(r))] - log(1 - s(f)), averaged over the batch
        return (F.binary_cross_entropy_with_logits(real_out, torch.full_like(real_out,
                                                                             real_target))
                + F.binary_cross_entropy_with_logits(fake_out, torch.zeros_like(fake_out)))
    if kind == "least-squares":
        return 0.5 * ((real_out - real_target) ** 2).mean() + 0.5 * (fake_out ** 2).mean()
    return fake_out.mean() - real_out.mean()  # wgan-gp / wasserstein critic


def g_loss(kind: str, fake_out: torch.Tensor) -> torch.Tensor:
    """Generator loss on the discriminator's outputs for generated images.

    Parameters
    ----------
    kind : str
        One of :data:`GAN_LOSSES`, or ``"wasserstein"``.
    fake_out : Tensor, shape (N,) or (N, 1)
        Raw discriminator outputs ``D(G(z))``.

    Returns
    -------
    Tensor
        Scalar to minimise.  For ``"minimax"`` it is ``mean log(1 - sigmoid(f))``, which is
        negative and tends to ``-inf`` as G wins.
    """
    check_loss(kind)
    fake_out = fake_out.float().flatten()
    if kind == "non-saturating":
        return -F.logsigmoid(fake_out).mean()  # -log D(G(z))
    if kind == "minimax":
        return F.logsigmoid(-fake_out).mean()  # log(1 - D(G(z))), since 1 - s(f) = s(-f)
    if kind == "least-squares":
        return 0.5 * ((fake_out - 1.0) ** 2).mean()
    return -fake_out.mean()  # wgan-gp / wasserstein


def gradient_penalty(critic: Callable[[torch.Tensor], torch.Tensor], real: torch.Tensor,
                     fake: torch.Tensor, *, generator: torch.Generator | None = None
                     ) -> torch.Tensor:
    """WGAN-GP penalty ``E[(||grad_x D(x_hat)||_2 - 1)^2]`` on random interpolates.

    Parameters
    ----------
    critic : callable
        Maps a batch of images to scores (wrap conditional critics in a lambda).
    real, fake : Tensor, shape (N, C, H, W)
        ``fake`` is detached here; the penalty trains only the critic.
    generator : torch.Generator, optional
        Draws the interpolation weights ``eps ~ U(0, 1)`` (one per image), on the CPU so
        that results do not depend on the device.

    Returns
    -------
    Tensor
        Scalar penalty (not yet multiplied by :data:`GP_WEIGHT`).
    """
    eps = torch.rand(real.shape[0], *([1] * (real.dim() - 1)), generator=generator)
    eps = eps.to(device=real.device, dtype=real.dtype)
    x_hat = (eps * real.detach() + (1 - eps) * fake.detach()).requires_grad_(True)
    scores = critic(x_hat).float()
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    norms = grad.float().flatten(1).norm(2, dim=1)
    return ((norms - 1.0) ** 2).mean()


# ---------------------------------------------------------------------------- MAD-GAN
def madgan_d_loss(logits_real: torch.Tensor, logits_fake_list: Sequence[torch.Tensor], *,
                  label_smoothing: float = 0.0) -> torch.Tensor:
    """MAD-GAN discriminator loss (Ghosh et al., 2018) with a (k+1)-way softmax.

    Class ``i < k`` means "made by generator i", class ``k`` means "real".  The loss is the
    cross-entropy of every real image against class ``k`` plus that of every image of
    generator ``i`` against class ``i``, each averaged over its batch and summed.

    Parameters
    ----------
    logits_real : Tensor, shape (N, k + 1)
    logits_fake_list : sequence of k Tensors, shape (M_i, k + 1)
        Discriminator logits for the images of generator ``i`` (in order).
    label_smoothing : float
        Smoothing of the real rows only, as in ``F.cross_entropy`` (the target puts
        ``1 - label_smoothing * k / (k + 1)`` on "real" and the rest evenly elsewhere).
    """
    k = len(logits_fake_list)
    if logits_real.shape[-1] != k + 1:
        raise ValueError(f"{k} generators need {k + 1} discriminator outputs; "
                         f"got {logits_real.shape[-1]}")
    real_target = torch.full((logits_real.shape[0],), k, dtype=torch.long,
                             device=logits_real.device)
    loss = F.cross_entropy(logits_real.float(), real_target,
                           label_smoothing=float(label_smoothing))
    for i, logits in enumerate(logits_fake_list):
        target = torch.full((logits.shape[0],), i, dtype=torch.long, device=logits.device)
        loss = loss + F.cross_entropy(logits.float(), target)
    return loss


def madgan_g_loss(logits_fake_i: torch.Tensor, real_index: int) -> torch.Tensor:
    """MAD-GAN loss of one generator: ``-log softmax(D(G_i(z)))[real]`` (non-saturating).

    Parameters
    ----------
    logits_fake_i : Tensor, shape (M, k + 1)
        Discriminator logits for generator ``i``'s images.
    real_index : int
        Index of the "real" class (``k``).
    """
    target = torch.full((logits_fake_i.shape[0],), int(real_index), dtype=torch.long,
                        device=logits_fake_i.device)
    return F.cross_entropy(logits_fake_i.float(), target)
