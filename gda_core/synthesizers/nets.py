"""Generator and discriminator networks: MLP (vanilla GAN), DCGAN, conditional, MAD-GAN.

Image sizes
-----------
The DCGAN stacks double (generator) or halve (discriminator) the resolution with stride-2
4x4 (transposed) convolutions between 4x4 and a square *base size* ``S``, the smallest
power of two that holds the image and at least 8 (:func:`base_size`): 8 -> 8, 28 -> 32,
32 -> 32, 64 -> 64, 128 -> 128, 6x5 -> 8.  The generator draws ``S x S`` images and crops
the centre ``H x W``; the discriminator pads its ``H x W`` input with zeros (mid-grey in
[-1, 1] units) back to ``S x S``.  Real and generated images are padded alike, so the
padding carries no information; for MNIST's 28x28 this costs the 2-pixel border of a
32x32 DCGAN, which is black anyway.  The MLP networks work on any ``H x W`` directly.

All networks map to / from images in [-1, 1] (``Tanh`` output), layout N x C x H x W.

Conditioning (``n_classes > 0``)
--------------------------------
Generators concatenate a learned label embedding (``embed_dim`` numbers) to ``z``.
The DCGAN discriminator embeds the label as one extra ``S x S`` input channel; the MLP
discriminator concatenates an embedding to the flattened image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import parametrize

LEAK = 0.2
"""Negative slope of the discriminators' LeakyReLU (Radford et al.)."""


def base_size(height: int, width: int) -> int:
    """Side of the square a DCGAN is built for: the next power of two >= the image, >= 8.

    Examples
    --------
    >>> [base_size(s, s) for s in (5, 8, 28, 32, 64, 100)]
    [8, 8, 32, 32, 64, 128]
    """
    side = max(int(height), int(width), 8)
    return 1 << (side - 1).bit_length()


def _hw(image_size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(image_size, int):
        return image_size, image_size
    h, w = image_size
    return int(h), int(w)


def center_crop(x: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """The central ``h`` x ``w`` pixels of images ``x`` (..., H, W)."""
    top, left = (x.shape[-2] - h) // 2, (x.shape[-1] - w) // 2
    return x[..., top:top + h, left:left + w]


def center_pad(x: torch.Tensor, side: int) -> torch.Tensor:
    """Images ``x`` (..., H, W) zero-padded evenly on every side to ``side`` x ``side``."""
    dh, dw = side - x.shape[-2], side - x.shape[-1]
    if dh == 0 and dw == 0:
        return x
    return F.pad(x, (dw // 2, dw - dw // 2, dh // 2, dh - dh // 2))


def weights_init(module: nn.Module) -> None:
    """DCGAN initialisation; use as ``net.apply(weights_init)``.

    (Transposed) convolutions and linear layers: weights ~ N(0, 0.02), biases 0.
    Batch/group norm: weights ~ N(1, 0.02), biases 0.  Embeddings keep PyTorch's N(0, 1).
    """
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        weight = (module.parametrizations.weight.original  # spectrally normalised layers
                  if parametrize.is_parametrized(module, "weight") else module.weight)
        nn.init.normal_(weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm1d, nn.BatchNorm2d, nn.GroupNorm)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class _Generator(nn.Module):
    """Shared interface: ``forward(z, labels) = render(features(z, labels))``.

    ``features`` runs every layer but the last block (the *trunk*); ``render`` runs the
    last block (the *head*) and shapes the output.  MAD-GAN shares the trunk.
    """

    latent_dim: int
    channels: int
    image_size: tuple[int, int]
    trunk: nn.Module
    head: nn.Module
    embed: nn.Embedding | None

    def _inputs(self, z: torch.Tensor, labels: torch.Tensor | None) -> torch.Tensor:
        if self.embed is None:
            return z
        if labels is None:
            raise ValueError("this generator is conditional: pass labels")
        return torch.cat([z, self.embed(labels).to(z.dtype)], dim=1)  # (N, nz + embed_dim)

    def features(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        raise NotImplementedError

    def render(self, features: torch.Tensor, head: nn.Module | None = None) -> torch.Tensor:
        raise NotImplementedError

    def new_head(self) -> nn.Module:
        """A freshly initialised copy of the last block (for MAD-GAN's extra generators)."""
        raise NotImplementedError

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Images in [-1, 1], shape (N, C, H, W), from noise ``z`` of shape (N, latent_dim)."""
        return self.render(self.features(z, labels))


# ------------------------------------------------------------------------------ MLP
class MLPGenerator(_Generator):
    """Fully connected generator of the vanilla GAN (Goodfellow et al., 2014).

    Parameters
    ----------
    latent_dim : int
        Length of the noise vector ``z``.
    channels : int
        Image channels C (1 or 3).
    image_size : int or (int, int)
        H x W of the images (any size).
    hidden : int
        Units of the first hidden layer (the second has twice as many).
    n_classes : int
        Number of classes for a conditional generator; 0 for an unconditional one.
    embed_dim : int
        Length of the label embedding when conditional.
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int | tuple[int, int], *,
                 hidden: int = 256, n_classes: int = 0, embed_dim: int = 16) -> None:
        super().__init__()
        self.latent_dim, self.channels = int(latent_dim), int(channels)
        self.image_size = _hw(image_size)
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        nz = latent_dim + (embed_dim if n_classes else 0)
        self.trunk = nn.Sequential(
            nn.Linear(nz, hidden, bias=False),               # (N, nz) -> (N, hidden)
            nn.BatchNorm1d(hidden),
            nn.ReLU(True),
            nn.Linear(hidden, 2 * hidden, bias=False),       # -> (N, 2*hidden)
            nn.BatchNorm1d(2 * hidden),
            nn.ReLU(True),
        )
        self._hidden = 2 * hidden
        self.head = self.new_head()                          # -> (N, C*H*W), Tanh

    def new_head(self) -> nn.Module:
        h, w = self.image_size
        return nn.Sequential(nn.Linear(self._hidden, self.channels * h * w), nn.Tanh())

    def features(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        return self.trunk(self._inputs(z, labels))           # (N, 2*hidden)

    def render(self, features: torch.Tensor, head: nn.Module | None = None) -> torch.Tensor:
        out = (head or self.head)(features)                  # (N, C*H*W)
        return out.view(-1, self.channels, *self.image_size)  # (N, C, H, W)


class MLPDiscriminator(nn.Module):
    """Fully connected discriminator: LeakyReLU(0.2) layers, raw logits out.

    Parameters
    ----------
    channels : int
    image_size : int or (int, int)
    hidden : int
        Units of the second hidden layer (the first has twice as many).
    n_classes : int
        Conditional when > 0 (label embedding concatenated to the flattened image).
    n_out : int
        Outputs: 1 (real/fake logit) or k + 1 for MAD-GAN.
    embed_dim : int
    spectral_norm : bool
        Spectral normalisation of every linear layer (Miyato et al., 2018).
    """

    def __init__(self, channels: int, image_size: int | tuple[int, int], *,
                 hidden: int = 256, n_classes: int = 0, n_out: int = 1,
                 embed_dim: int = 16, spectral_norm: bool = False) -> None:
        super().__init__()
        h, w = _hw(image_size)
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        n_in = channels * h * w + (embed_dim if n_classes else 0)
        self.n_out = int(n_out)
        self.net = nn.Sequential(
            nn.Linear(n_in, 2 * hidden),                     # (N, C*H*W [+ e]) -> (N, 2*hidden)
            nn.LeakyReLU(LEAK, inplace=True),
            nn.Linear(2 * hidden, hidden),                   # -> (N, hidden)
            nn.LeakyReLU(LEAK, inplace=True),
            nn.Linear(hidden, n_out),                        # -> (N, n_out)
        )
        if spectral_norm:
            apply_spectral_norm(self.net)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits, shape (N,) for one output, else (N, n_out)."""
        flat = x.reshape(x.shape[0], -1)                     # (N, C*H*W)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is conditional: pass labels")
            flat = torch.cat([flat, self.embed(labels).to(flat.dtype)], dim=1)
        out = self.net(flat)
        return out.squeeze(1) if self.n_out == 1 else out


# ---------------------------------------------------------------------------- DCGAN
class DCGANGenerator(_Generator):
    """DCGAN generator (Radford et al., 2016): transposed conv + BatchNorm + ReLU, Tanh out.

    For base size ``S`` (:func:`base_size`) and ``width`` = ngf it has ``log2(S) - 1``
    transposed convolutions, as in the PyTorch DCGAN example (there S = 64)::

        z (nz [+ embed_dim]) x 1 x 1
        -> (ngf * S/8) x 4 x 4 -> (ngf * S/16) x 8 x 8 -> ... -> ngf x S/2 x S/2   [trunk]
        -> C x S x S (Tanh), centre-cropped to C x H x W                             [head]

    Parameters
    ----------
    latent_dim, channels, image_size, n_classes, embed_dim
        As for :class:`MLPGenerator`.
    width : int
        ngf, the channels of the last hidden feature map.
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int | tuple[int, int], *,
                 width: int = 64, n_classes: int = 0, embed_dim: int = 16) -> None:
        super().__init__()
        self.latent_dim, self.channels = int(latent_dim), int(channels)
        self.image_size = _hw(image_size)
        self.side = base_size(*self.image_size)
        self.embed = nn.Embedding(n_classes, embed_dim) if n_classes else None
        nz = latent_dim + (embed_dim if n_classes else 0)
        c = width * self.side // 8
        layers: list[nn.Module] = [
            nn.ConvTranspose2d(nz, c, 4, 1, 0, bias=False),  # (N, nz, 1, 1) -> (N, c, 4, 4)
            nn.BatchNorm2d(c),
            nn.ReLU(True),
        ]
        size = 4
        while size < self.side // 2:
            layers += [
                # (N, c, s, s) -> (N, c/2, 2s, 2s)
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(True),
            ]
            c, size = c // 2, size * 2
        self.trunk = nn.Sequential(*layers)                  # -> (N, ngf, S/2, S/2)
        self._feat_channels = c
        self.head = self.new_head()                          # -> (N, C, S, S), Tanh

    def new_head(self) -> nn.Module:
        return nn.Sequential(
            nn.ConvTranspose2d(self._feat_channels, self.channels, 4, 2, 1, bias=False),
            nn.Tanh(),                                       # (N, ngf, S/2, S/2) -> (N, C, S, S)
        )

    def features(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        x = self._inputs(z, labels)                          # (N, nz')
        return self.trunk(x[:, :, None, None])               # (N, nz', 1, 1) -> (N, ngf, S/2, S/2)

    def render(self, features: torch.Tensor, head: nn.Module | None = None) -> torch.Tensor:
        out = (head or self.head)(features)                  # (N, C, S, S)
        return center_crop(out, *self.image_size)           # (N, C, H, W)


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator: strided conv + BatchNorm + LeakyReLU(0.2), raw logits out.

    ::

        C [+1 label channel] x S x S (input zero-padded from H x W)
        -> ndf x S/2 x S/2                        (no normalisation on the first layer)
        -> (ndf*2) x S/4 x S/4 -> ... -> (ndf * S/8) x 4 x 4
        -> n_out x 1 x 1 (4x4 convolution, no sigmoid: the losses take logits)

    Parameters
    ----------
    channels, image_size, n_classes
        As for :class:`MLPDiscriminator`.
    width : int
        ndf, the channels of the first feature map.
    n_out : int
        1 (real/fake logit or critic score) or k + 1 for MAD-GAN.
    norm : {"batch", "layer", "none"}
        Normalisation of the hidden layers.  WGAN-GP's penalty is per sample, which batch
        norm breaks; use ``"layer"`` (``GroupNorm(1, c)``) there, as Gulrajani et al. do.
    spectral_norm : bool
        Spectral normalisation of every convolution (Miyato et al., 2018), which bounds
        the discriminator's Lipschitz constant; usually with ``norm="none"``, as in SNGAN.
    """

    def __init__(self, channels: int, image_size: int | tuple[int, int], *, width: int = 64,
                 n_classes: int = 0, n_out: int = 1, norm: str = "batch",
                 spectral_norm: bool = False) -> None:
        super().__init__()
        self.image_size = _hw(image_size)
        self.side = base_size(*self.image_size)
        self.n_out = int(n_out)
        self.embed = nn.Embedding(n_classes, self.side * self.side) if n_classes else None
        c_in = channels + (1 if n_classes else 0)
        layers: list[nn.Module] = [
            nn.Conv2d(c_in, width, 4, 2, 1, bias=False),     # (N, C', S, S) -> (N, ndf, S/2, S/2)
            nn.LeakyReLU(LEAK, inplace=True),
        ]
        c, size = width, self.side // 2
        while size > 4:
            layers += [
                nn.Conv2d(c, 2 * c, 4, 2, 1, bias=False),    # (N, c, s, s) -> (N, 2c, s/2, s/2)
                _norm(norm, 2 * c),
                nn.LeakyReLU(LEAK, inplace=True),
            ]
            c, size = 2 * c, size // 2
        self.features = nn.Sequential(*layers)               # -> (N, ndf*S/8, 4, 4)
        self.out = nn.Conv2d(c, n_out, 4, 1, 0, bias=False)  # -> (N, n_out, 1, 1)
        if spectral_norm:
            apply_spectral_norm(self)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """Logits, shape (N,) for one output, else (N, n_out)."""
        x = center_pad(x, self.side)                        # (N, C, S, S)
        if self.embed is not None:
            if labels is None:
                raise ValueError("this discriminator is conditional: pass labels")
            plane = self.embed(labels).view(-1, 1, self.side, self.side).to(x.dtype)
            x = torch.cat([x, plane], dim=1)                 # (N, C + 1, S, S)
        out = self.out(self.features(x)).flatten(1)          # (N, n_out)
        return out.squeeze(1) if self.n_out == 1 else out


def apply_spectral_norm(module: nn.Module) -> nn.Module:
    """Spectrally normalise every convolution and linear layer of ``module`` (in place).

    Uses ``torch.nn.utils.parametrizations.spectral_norm`` (one power iteration per
    forward pass in training mode); returns ``module``.
    """
    for child in list(module.modules()):
        if isinstance(child, (nn.Conv2d, nn.Linear)):
            nn.utils.parametrizations.spectral_norm(child)
    return module


def _norm(kind: str, channels: int) -> nn.Module:
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "layer":
        return nn.GroupNorm(1, channels)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be 'batch', 'layer' or 'none'; got {kind!r}")


# -------------------------------------------------------------------------- MAD-GAN
class MADGANGenerator(nn.Module):
    """k generators (Ghosh et al., 2018), optionally sharing all but their last block.

    Parameters
    ----------
    n_generators : int
        k.
    latent_dim, channels, image_size
        As for :class:`DCGANGenerator`.
    share : bool
        With ``True`` one trunk feeds k heads (only the last transposed convolution
        differs, as in the paper's image experiments); with ``False`` the k generators
        are fully independent.
    arch : {"dcgan", "mlp"}
        Network family of each generator.
    **kwargs
        ``width`` (DCGAN) or ``hidden`` (MLP).

    Notes
    -----
    ``forward(z, index)`` routes sample ``j`` through generator ``index[j]``.
    """

    def __init__(self, n_generators: int, latent_dim: int, channels: int,
                 image_size: int | tuple[int, int], *, share: bool = True,
                 arch: str = "dcgan", **kwargs: int) -> None:
        super().__init__()
        if n_generators < 1:
            raise ValueError("MAD-GAN needs at least one generator")
        make = {"dcgan": DCGANGenerator, "mlp": MLPGenerator}[arch]
        self.n_generators, self.share = int(n_generators), bool(share)
        self.latent_dim = int(latent_dim)
        if self.share:
            self.base = make(latent_dim, channels, image_size, **kwargs)
            self.heads = nn.ModuleList(
                [self.base.head] + [self.base.new_head() for _ in range(n_generators - 1)])
        else:
            self.generators = nn.ModuleList(
                [make(latent_dim, channels, image_size, **kwargs) for _ in range(n_generators)])

    def forward(self, z: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1]; sample j made by generator ``index[j]``."""
        if self.share:
            feats = self.base.features(z)                    # (N, ...) shared trunk
        order = torch.argsort(index, stable=True)
        counts = torch.bincount(index, minlength=self.n_generators).tolist()
        parts, start = [], 0
        for i, m in enumerate(counts):
            if m == 0:
                continue
            rows = order[start:start + m]
            start += m
            if self.share:
                parts.append(self.base.render(feats[rows], self.heads[i]))
            else:
                parts.append(self.generators[i](z[rows]))
        out = torch.cat(parts)                               # grouped by generator
        inverse = torch.empty_like(order)
        inverse[order] = torch.arange(len(order), device=order.device)
        return out[inverse]                                  # back in input order


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters (shared ones counted once)."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)

