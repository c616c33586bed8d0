"""Name -> GAN synthesizer class (also registered as oversamplers)."""

from __future__ import annotations

from gda_core.synthesizers.base import GANSynthesizer
from gda_core.synthesizers.cgan import ConditionalGAN
from gda_core.synthesizers.dcgan import DCGAN
from gda_core.synthesizers.gan import VanillaGAN
from gda_core.synthesizers.madgan import MADGAN

SYNTHESIZERS: dict[str, type[GANSynthesizer]] = {
    cls.name: cls for cls in (VanillaGAN, DCGAN, ConditionalGAN, MADGAN)
}
