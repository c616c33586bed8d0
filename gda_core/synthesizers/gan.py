"""Vanilla GAN (Goodfellow et al., 2014): fully connected generator and discriminator."""

from __future__ import annotations

from typing import Any

from torch import nn

from gda_core.oversampling.params import ParamSpec
from gda_core.synthesizers.base import GANSynthesizer, gan_params
from gda_core.synthesizers.nets import MLPDiscriminator, MLPGenerator


class VanillaGAN(GANSynthesizer):
    """GAN with MLP networks, one model per minority class.

    Examples
    --------
    >>> import numpy as np
    >>> X = np.random.default_rng(0).integers(0, 256, (40, 1, 8, 8), dtype=np.uint8)
    >>> y = np.array([0] * 30 + [1] * 10)
    >>> gan = VanillaGAN(epochs=2, min_steps=0, hidden=32, random_state=0).fit(X, y)
    >>> gan.classes_, gan.sample(5).shape
    ([1], (5, 1, 8, 8))
    """

    name = "gan"
    label = "GAN (MLP)"
    description = ("Goodfellow et al.'s GAN with fully connected networks, one model per "
                   "minority class; works for any image size, best on small images.")
    params = gan_params(
        epochs=100,
        width=ParamSpec("hidden", "int", 128, 4, 2048,
                        help="Units of the hidden layers (the middle one has twice as many)."),
    )

    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        return (MLPGenerator(values["latent_dim"], channels, size, hidden=values["hidden"],
                             n_classes=n_classes),
                MLPDiscriminator(channels, size, hidden=values["hidden"], n_classes=n_classes,
                                 spectral_norm=values.get("spectral_norm", False)))
