"""SLPPL: the supervised autoencoder's training and the class-wise latent prior.

The autoencoder (:class:`~gda_core.synthesizers.threeplayer.nets.SupervisedAutoencoder`)
learns to reconstruct the images (MSE in [-1, 1] units) and to classify them from their
latent code (cross-entropy), so the codes of one class cluster together.  Each class's
codes are then summarised by a Gaussian, ``N(mean_c, cov_c + ridge * I)``: the
generator, initialised from the decoder, starts from codes drawn from its class's
Gaussian, which is what makes its samples class-specific (Dam et al., 2022; BAGAN,
Mariani et al., 2018, uses the same prior).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from gda_core.devices import autocast
from gda_core.synthesizers.threeplayer.nets import SupervisedAutoencoder

RIDGE = 1e-3
"""Ridge added to every class covariance, relative to the mean latent variance."""

_CHUNK = 512


@dataclass
class ClassPrior:
    """Per-class Gaussians of the latent codes.

    Attributes
    ----------
    means : Tensor of float32, shape (K, nz)
    chols : Tensor of float32, shape (K, nz, nz)
        Lower Cholesky factors of the (ridged) covariances.
    """

    means: torch.Tensor
    chols: torch.Tensor

    def sample(self, labels: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """Codes ``mean_y + L_y eps``, shape (N, nz), for class indices ``labels`` (N,).

        ``eps ~ N(0, I)`` is drawn on the CPU from ``generator``; the codes are on the CPU.
        """
        labels = labels.cpu()
        eps = torch.randn(len(labels), self.means.shape[1], generator=generator)  # (N, nz)
        return self.means[labels] + (self.chols[labels] @ eps[:, :, None]).squeeze(2)


def class_prior(latents: torch.Tensor, labels: torch.Tensor, n_classes: int, *,
                ridge: float = RIDGE) -> ClassPrior:
    """Mean and covariance of the codes of every class.

    Parameters
    ----------
    latents : Tensor, shape (N, nz)
    labels : Tensor of int64, shape (N,)
        Class indices ``0 .. n_classes - 1``; every class needs at least one code.
    n_classes : int
    ridge : float
        ``ridge * v`` is added to each covariance's diagonal, ``v`` being the mean
        variance of all codes (``1`` when it is 0), so that classes with fewer codes than
        dimensions still have a positive definite covariance.

    Returns
    -------
    ClassPrior
        Unbiased covariances (zero before the ridge for a class with one code).

    Raises
    ------
    ValueError
        A class has no code.
    """
    z = latents.detach().double().cpu()                                   # (N, nz)
    labels = labels.cpu()
    d = z.shape[1]
    scale = float(z.var(0).mean()) if len(z) > 1 else 0.0
    if not math.isfinite(scale) or scale <= 0:
        scale = 1.0
    eye = torch.eye(d, dtype=torch.float64)
    means, chols = [], []
    for c in range(n_classes):
        zc = z[labels == c]                                               # (n_c, nz)
        if len(zc) == 0:
            raise ValueError(f"class {c} has no latent code")
        mu = zc.mean(0)
        centred = zc - mu
        cov = centred.T @ centred / (len(zc) - 1) if len(zc) > 1 else torch.zeros(d, d,
                                                                                  dtype=z.dtype)
        means.append(mu)
        chols.append(torch.linalg.cholesky(cov + ridge * scale * eye))
    return ClassPrior(torch.stack(means).float(), torch.stack(chols).float())


def fit_autoencoder(ae: SupervisedAutoencoder, X: torch.Tensor, y: torch.Tensor, *,
                    epochs: int, batch_size: int, lr: float, generator: torch.Generator,
                    cast: torch.dtype | None = None,
                    memory_format: torch.memory_format = torch.contiguous_format
                    ) -> list[dict[str, Any]]:
    """Train ``ae`` on reconstruction + classification, in place (left in eval mode).

    Parameters
    ----------
    ae : SupervisedAutoencoder
        On the device of ``X``.
    X : Tensor of float32, shape (N, C, H, W)
        Images in [-1, 1].
    y : Tensor of int64, shape (N,)
        Class indices.
    epochs, batch_size : int
        Shuffled passes over ``X`` (the last, smaller batch is kept unless it has a single
        image, which batch norm cannot take).
    lr : float
        Adam learning rate (betas 0.9, 0.999).
    generator : torch.Generator
        Shuffles the batches (on the CPU).
    cast : torch.dtype, optional
        Autocast dtype (the fast path), else float32.
    memory_format : torch.memory_format

    Returns
    -------
    list of dict
        Per epoch: ``epoch``, ``recon_loss`` (MSE) and ``class_loss`` (cross-entropy),
        means over the epoch's batches.
    """
    dev = X.device
    opt = torch.optim.Adam(ae.parameters(), lr=lr)
    history = []
    n = len(X)
    ae.train()
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=generator).to(dev)
        sums = torch.zeros(2, device=dev)
        batches = 0
        for start in range(0, n, batch_size):
            idx = order[start:start + batch_size]
            if len(idx) < 2 and n >= 2:
                continue
            xb = X[idx].contiguous(memory_format=memory_format)
            with autocast(dev.type, cast):
                recon, logits = ae(xb)
            recon_loss = F.mse_loss(recon.float(), xb)
            class_loss = F.cross_entropy(logits.float(), y[idx])
            opt.zero_grad(set_to_none=True)
            (recon_loss + class_loss).backward()
            opt.step()
            sums += torch.stack([recon_loss.detach(), class_loss.detach()])
            batches += 1
        recon_mean, class_mean = (sums / max(batches, 1)).tolist()
        history.append({"epoch": epoch, "recon_loss": recon_mean, "class_loss": class_mean})
    ae.eval()
    return history


@torch.no_grad()
def encode_all(ae: SupervisedAutoencoder, X: torch.Tensor, *,
               cast: torch.dtype | None = None,
               memory_format: torch.memory_format = torch.contiguous_format) -> torch.Tensor:
    """Latent codes (N, nz), float32, of images ``X`` (N, C, H, W), in eval mode."""
    ae.eval()
    parts = []
    for start in range(0, len(X), _CHUNK):
        xb = X[start:start + _CHUNK].contiguous(memory_format=memory_format)
        with autocast(X.device.type, cast):
            parts.append(ae.encode(xb).float())
    return torch.cat(parts)
