"""Conditional GAN (Mirza & Osindero, 2014) with DCGAN networks: one model, all classes."""

from __future__ import annotations

from typing import Any

from torch import nn

from gda_core.synthesizers.base import GANSynthesizer, gan_params
from gda_core.synthesizers.dcgan import WIDTH, d_norm
from gda_core.synthesizers.nets import DCGANDiscriminator, DCGANGenerator


class ConditionalGAN(GANSynthesizer):
    """Class-conditional DCGAN trained once on every class.

    The generator sees a label embedding next to ``z``; the discriminator sees the label
    as an extra image channel.  Minority classes borrow what the network learns from the
    others (strokes, textures), which helps when they have very few images.
    """

    name = "cgan"
    label = "Conditional GAN"
    description = ("One class-conditional DCGAN for all classes; minority classes share "
                   "what it learns from the majority.")
    conditional = True
    mode = "conditional"
    params = gan_params(epochs=50, width=WIDTH)

    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        return (DCGANGenerator(values["latent_dim"], channels, size, width=values["width"],
                               n_classes=n_classes),
                DCGANDiscriminator(channels, size, width=values["width"], n_classes=n_classes,
                                   norm=d_norm(values)))
