"""DCGAN (Radford et al., 2016): convolutional generator and discriminator."""

from __future__ import annotations

from typing import Any

from torch import nn

from gda_core.oversampling.params import ParamSpec
from gda_core.synthesizers.base import GANSynthesizer, gan_params
from gda_core.synthesizers.nets import DCGANDiscriminator, DCGANGenerator

WIDTH = ParamSpec("width", "int", 32, 4, 256,
                  help="Channels of the widest-resolution feature maps (ngf = ndf). 32 by "
                       "default, for CPUs; the DCGAN paper's 64 needs about 4x the "
                       "computation per step.")


def d_norm(values: dict[str, Any]) -> str:
    """Normalisation of D's hidden layers: none under spectral normalisation (as in SNGAN),
    layer norm in the critic for WGAN-GP (its penalty is per image), else batch norm."""
    if values.get("spectral_norm"):
        return "none"
    return "layer" if values.get("loss") == "wgan-gp" else "batch"


class DCGAN(GANSynthesizer):
    """DCGAN, one model per minority class.

    Sizes other than 8, 16, 32, 64, 128 are handled by building the networks for the next
    power of two and cropping / padding (see :mod:`gda_core.synthesizers.nets`).
    """

    name = "dcgan"
    label = "DCGAN"
    description = ("Deep convolutional GAN (Radford et al.), one model per minority class; "
                   "sharper images than the MLP GAN.")
    params = gan_params(epochs=100, width=WIDTH)

    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        return (DCGANGenerator(values["latent_dim"], channels, size, width=values["width"],
                               n_classes=n_classes),
                DCGANDiscriminator(channels, size, width=values["width"], n_classes=n_classes,
                                   norm=d_norm(values),
                                   spectral_norm=values.get("spectral_norm", False)))
