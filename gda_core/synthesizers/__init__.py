"""GAN synthesizers: fit on images, sample new ones; also usable as oversamplers.

Modules
-------
losses       GAN objectives on logits (non-saturating, minimax, LSGAN, WGAN-GP, MAD-GAN)
nets         MLP, DCGAN, conditional and MAD-GAN networks
trainer      the one training loop, with per-step diagnostics and the fast CPU path
diagnostics  plain-language warnings (vanishing gradient, mode collapse, divergence)
base         the ``GANSynthesizer`` facade: fit / sample / save / load / fit_resample
gan, dcgan, cgan, madgan   the four GANs
threeplayer  ADSO and AMO (Dam et al. 2022): a generator, a discriminator and a classifier Q
             started from a supervised autoencoder's class-wise latent prior; ``adso+q`` /
             ``amo+q`` oversamplers evaluate Q itself in comparisons

Which of them can be trained is :data:`SYNTHESIZERS`, a view of the one method registry
(:mod:`gda_core.oversampling.registry`); the registry imports this package, so this
package hands the name out on first use rather than when it is imported.
"""

from __future__ import annotations

from typing import Any

from gda_core.synthesizers.base import GANSynthesizer
from gda_core.synthesizers.cgan import ConditionalGAN
from gda_core.synthesizers.dcgan import DCGAN
from gda_core.synthesizers.diagnostics import TrainingWarning, diagnose
from gda_core.synthesizers.gan import VanillaGAN
from gda_core.synthesizers.losses import GAN_LOSSES, THREE_PLAYER_LOSSES
from gda_core.synthesizers.madgan import MADGAN
from gda_core.synthesizers.threeplayer import ADSO, AMO

__all__ = [
    "ADSO",
    "AMO",
    "DCGAN",
    "GAN_LOSSES",
    "MADGAN",
    "SYNTHESIZERS",
    "THREE_PLAYER_LOSSES",
    "ConditionalGAN",
    "GANSynthesizer",
    "TrainingWarning",
    "VanillaGAN",
    "diagnose",
]


def __getattr__(name: str) -> Any:
    """``SYNTHESIZERS``, from the method registry on first use (PEP 562)."""
    if name == "SYNTHESIZERS":
        from gda_core.oversampling.registry import SYNTHESIZERS

        globals()[name] = SYNTHESIZERS
        return SYNTHESIZERS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), "SYNTHESIZERS"})
