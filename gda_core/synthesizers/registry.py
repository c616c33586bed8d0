"""Name -> GAN synthesizer class (also registered as oversamplers)."""

from __future__ import annotations

from gda_core.synthesizers.base import GANSynthesizer
from gda_core.synthesizers.cgan import ConditionalGAN
from gda_core.synthesizers.dcgan import DCGAN
from gda_core.synthesizers.gan import VanillaGAN
from gda_core.synthesizers.madgan import MADGAN
from gda_core.synthesizers.threeplayer import ADSO, AMO, ADSOClassifier, AMOClassifier

SYNTHESIZERS: dict[str, type[GANSynthesizer]] = {
    cls.name: cls for cls in (VanillaGAN, DCGAN, ConditionalGAN, MADGAN, ADSO, AMO)
}

OWN_CLASSIFIER_METHODS: dict[str, type[GANSynthesizer]] = {
    cls.name: cls for cls in (ADSOClassifier, AMOClassifier)
}
"""Comparison methods evaluated with the model's own classifier (the three-player Q)
instead of the comparison's CNN; registered as oversamplers but not listed for training
(they are ADSO and AMO under another name)."""
