"""MAD-GAN (Ghosh et al., 2018): k generators against one (k+1)-way discriminator."""

from __future__ import annotations

from typing import Any

from torch import nn

from gda_core.oversampling.params import ParamSpec
from gda_core.synthesizers.base import GANSynthesizer, gan_params
from gda_core.synthesizers.dcgan import WIDTH, d_norm
from gda_core.synthesizers.nets import DCGANDiscriminator, MADGANGenerator


class MADGAN(GANSynthesizer):
    """Multi-agent diverse GAN with DCGAN networks, one model per minority class.

    The discriminator must tell real images *and which generator made each fake*, which
    pushes the generators towards different modes of the data (against mode collapse).
    Each batch of ``batch_size`` fakes is split evenly between the generators; sampling
    picks a generator uniformly at random (seeded) for every image.  The objective is
    MAD-GAN's own (softmax cross-entropy), so there is no ``loss`` parameter.
    """

    name = "madgan"
    label = "MAD-GAN"
    description = ("Several generators that a discriminator must tell apart, against mode "
                   "collapse; one model per minority class.")
    mode = "madgan"
    params = (*gan_params(epochs=100, width=WIDTH, with_loss=False),
              ParamSpec("n_generators", "int", 3, 2, 10, help="Number of generators (k)."),
              ParamSpec("share", "bool", True,
                        help="Generators share all layers but the last (as in the paper)."))

    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        k = values["n_generators"]
        return (MADGANGenerator(k, values["latent_dim"], channels, size, share=values["share"],
                                width=values["width"]),
                DCGANDiscriminator(channels, size, width=values["width"], n_out=k + 1,
                                   norm=d_norm(values),
                                   spectral_norm=values.get("spectral_norm", False)))
