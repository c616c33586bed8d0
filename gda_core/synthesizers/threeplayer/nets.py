"""Networks of the three-player GAN: a supervised autoencoder and the G, D, Q built from it.

For images ``C x H x W`` the networks work on the square base size
``S = base_size(H, W)`` (8, 16, 32, 64, ...; see :mod:`gda_core.synthesizers.nets`):
inputs are zero-padded to ``S x S`` and outputs centre-cropped back to ``H x W``.  With
``w = width``, ``nz = latent_dim`` and ``K`` classes::

    encoder features  C x S x S -> w x S/2 x S/2 -> 2w x S/4 x S/4 -> ... -> F x 4 x 4
                      (stride-2 4x4 convolutions + LeakyReLU(0.2), layer norm after the
                      first; F = w * S / 8)
    encoder head      flatten (F * 16) -> Linear -> nz                  the latent code
    class head        Linear nz -> K                                   class logits
    decoder           Linear nz -> F x 4 x 4 -> ... -> w x S/2 x S/2 (BatchNorm + ReLU)
                      -> C x S x S (Tanh), cropped to C x H x W

The generator G is a copy of the decoder; the discriminator D is a copy of the encoder's
feature layers with a new linear output (one score); the classifier Q is a copy of the
encoder's feature layers, encoder head and class head with dropout before the encoder
head.  Layer norm (not batch norm) in the encoder keeps D's gradient penalty per image.
"""

from __future__ import annotations

import copy

import torch
from torch import nn

from gda_core.synthesizers.nets import LEAK, base_size, center_crop, center_pad


def _hw(image_size: int | tuple[int, int]) -> tuple[int, int]:
    if isinstance(image_size, int):
        return image_size, image_size
    return int(image_size[0]), int(image_size[1])


class Features(nn.Module):
    """The encoder's convolutional stack: (N, C, H, W) -> (N, F * 16), zero-padded to S."""

    def __init__(self, channels: int, image_size: int | tuple[int, int], width: int) -> None:
        super().__init__()
        self.side = base_size(*_hw(image_size))
        layers: list[nn.Module] = [
            nn.Conv2d(channels, width, 4, 2, 1),             # (N, C, S, S) -> (N, w, S/2, S/2)
            nn.LeakyReLU(LEAK),
        ]
        c, size = width, self.side // 2
        while size > 4:
            layers += [
                nn.Conv2d(c, 2 * c, 4, 2, 1),                # (N, c, s, s) -> (N, 2c, s/2, s/2)
                nn.GroupNorm(1, 2 * c),
                nn.LeakyReLU(LEAK),
            ]
            c, size = 2 * c, size // 2
        self.net = nn.Sequential(*layers)                    # -> (N, F, 4, 4)
        self.channels_out = c
        self.n_out = c * 16

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Flattened features, shape (N, F * 16)."""
        return self.net(center_pad(x, self.side)).flatten(1)


class Decoder(nn.Module):
    """Latent code (N, nz) -> images (N, C, H, W) in [-1, 1]; also the generator.

    ``latent_dim`` is an attribute, as for the other generators.
    """

    def __init__(self, latent_dim: int, channels: int, image_size: int | tuple[int, int],
                 width: int) -> None:
        super().__init__()
        self.latent_dim, self.channels = int(latent_dim), int(channels)
        self.image_size = _hw(image_size)
        self.side = base_size(*self.image_size)
        c = width * self.side // 8
        self.c0 = c
        self.fc = nn.Linear(latent_dim, c * 16, bias=False)  # (N, nz) -> (N, F * 16)
        layers: list[nn.Module] = [nn.BatchNorm2d(c), nn.ReLU()]
        size = 4
        while size < self.side // 2:
            layers += [  # (N, c, s, s) -> (N, c/2, 2s, 2s)
                nn.ConvTranspose2d(c, c // 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c // 2),
                nn.ReLU(),
            ]
            c, size = c // 2, size * 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]  # -> (N, C, S, S)
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Images (N, C, H, W) in [-1, 1] from codes ``z`` of shape (N, latent_dim)."""
        x = self.fc(z).view(-1, self.c0, 4, 4)               # (N, F, 4, 4)
        return center_crop(self.net(x), *self.image_size)   # (N, C, S, S) -> (N, C, H, W)


class SupervisedAutoencoder(nn.Module):
    """Encoder with a class head, and a decoder (the SLPPL autoencoder).

    Parameters
    ----------
    channels : int
    image_size : int or (int, int)
    n_classes : int
    width : int
        Channels of the first feature map.
    latent_dim : int
        Length of the latent code.
    """

    def __init__(self, channels: int, image_size: int | tuple[int, int], n_classes: int, *,
                 width: int = 32, latent_dim: int = 32) -> None:
        super().__init__()
        self.features = Features(channels, image_size, width)
        self.encode_head = nn.Linear(self.features.n_out, latent_dim)  # (N, F*16) -> (N, nz)
        self.class_head = nn.Linear(latent_dim, n_classes)             # (N, nz) -> (N, K)
        self.decoder = Decoder(latent_dim, channels, image_size, width)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """Latent codes (N, nz) of images (N, C, H, W)."""
        return self.encode_head(self.features(x))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(reconstruction (N, C, H, W), class logits (N, K))."""
        z = self.encode(x)
        return self.decoder(z), self.class_head(z)


class Discriminator(nn.Module):
    """Encoder features and one linear output: a raw score per image, shape (N,)."""

    def __init__(self, features: Features) -> None:
        super().__init__()
        self.features = features
        self.out = nn.Linear(features.n_out, 1)              # (N, F*16) -> (N, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.features(x)).squeeze(1)


class Classifier(nn.Module):
    """Q: encoder features -> dropout -> encoder head -> class head; logits (N, K)."""

    def __init__(self, features: Features, encode_head: nn.Linear, class_head: nn.Linear,
                 dropout: float) -> None:
        super().__init__()
        self.features = features
        self.dropout = nn.Dropout(dropout)
        self.encode_head = encode_head
        self.class_head = class_head

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.class_head(self.encode_head(self.dropout(self.features(x))))


def build_players(ae: SupervisedAutoencoder, *,
                  dropout: float) -> tuple[Decoder, Discriminator, Classifier]:
    """G, D and Q initialised from (deep copies of) the autoencoder's weights.

    D's output layer is new, drawn from torch's global generator (seed it, or fork it, first).
    """
    G = copy.deepcopy(ae.decoder)
    D = Discriminator(copy.deepcopy(ae.features))
    nn.init.normal_(D.out.weight, 0.0, 0.02)
    nn.init.zeros_(D.out.bias)
    Q = Classifier(copy.deepcopy(ae.features), copy.deepcopy(ae.encode_head),
                   copy.deepcopy(ae.class_head), dropout)
    return G, D, Q
