"""Three-player adversarial oversampling: ADSO and AMO (Dam et al., 2022).

Modules
-------
nets         supervised autoencoder; generator, discriminator and classifier built from it
autoencoder  SLPPL: the autoencoder's training and the class-wise latent Gaussian prior
losses       vanilla / Wasserstein objectives, R1 penalty, complementary cross-entropy
game         the training loop of G, D and Q (ADSO and AMO modes) with its diagnostics
model        the facade: ``ADSO``, ``AMO`` and their ``+q`` variants for comparisons
"""

from gda_core.synthesizers.threeplayer.model import (
    ADSO,
    AMO,
    ADSOClassifier,
    AMOClassifier,
    ThreePlayerGAN,
)

__all__ = ["ADSO", "AMO", "ADSOClassifier", "AMOClassifier", "ThreePlayerGAN"]
