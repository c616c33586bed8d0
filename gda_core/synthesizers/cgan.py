"""Conditional GAN (Mirza & Osindero, 2014) with DCGAN networks: one model, all classes."""

from __future__ import annotations

from gda_core.synthesizers.base import gan_params
from gda_core.synthesizers.dcgan import DCGAN, WIDTH


class ConditionalGAN(DCGAN):
    """Class-conditional DCGAN trained once on every class (DCGAN's networks, built with
    ``n_classes`` so that both see the label).

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
    params = gan_params(epochs=50, width=WIDTH, with_pretrain=False)
