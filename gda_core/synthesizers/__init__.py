"""GAN synthesizers: fit on images, sample new ones; also usable as oversamplers.

Modules
-------
losses       GAN objectives on logits (non-saturating, minimax, LSGAN, WGAN-GP, MAD-GAN)
nets         MLP, DCGAN, conditional and MAD-GAN networks
trainer      the one training loop, with per-step diagnostics and the fast CPU path
diagnostics  plain-language warnings (vanishing gradient, mode collapse, divergence)
base         the ``GANSynthesizer`` facade: fit / sample / save / load / fit_resample
gan, dcgan, cgan, madgan   the four GANs; ``registry.SYNTHESIZERS`` names them
threeplayer  ADSO and AMO (Dam et al. 2022): a generator, a discriminator and a classifier Q
             started from a supervised autoencoder's class-wise latent prior; ``adso+q`` /
             ``amo+q`` oversamplers evaluate Q itself in comparisons
"""

# Import order matters: gda_core.oversampling registers these synthesizers, so it must be
# fully imported before their modules (which subclass its ImageOversampler) load.  This
# makes ``import gda_core.synthesizers`` and ``import gda_core.oversampling`` both work.
import gda_core.oversampling  # noqa: F401
from gda_core.synthesizers.base import GANSynthesizer
from gda_core.synthesizers.cgan import ConditionalGAN
from gda_core.synthesizers.dcgan import DCGAN
from gda_core.synthesizers.diagnostics import TrainingWarning, diagnose
from gda_core.synthesizers.gan import VanillaGAN
from gda_core.synthesizers.losses import LOSSES
from gda_core.synthesizers.madgan import MADGAN
from gda_core.synthesizers.registry import SYNTHESIZERS
from gda_core.synthesizers.threeplayer import ADSO, AMO

__all__ = [
    "ADSO",
    "AMO",
    "DCGAN",
    "LOSSES",
    "MADGAN",
    "SYNTHESIZERS",
    "ConditionalGAN",
    "GANSynthesizer",
    "TrainingWarning",
    "VanillaGAN",
    "diagnose",
]
