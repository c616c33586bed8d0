"""The CNN retrained on every (balanced) training set, and its sklearn-style trainer.

:func:`make_classifier` builds the architecture a comparison asks for: the AM-study CNN,
a ResNet-18 trained from scratch, or a soft-voting ensemble of AM-study CNNs.
"""

from gda_core.classifiers.cnn import AMStudyCNN
from gda_core.classifiers.ensemble import SoftVotingEnsemble
from gda_core.classifiers.factory import ARCHITECTURE_LABELS, ARCHITECTURES, make_classifier
from gda_core.classifiers.resnet import ResNetClassifier
from gda_core.classifiers.trainer import CNNClassifier

__all__ = [
    "ARCHITECTURES",
    "ARCHITECTURE_LABELS",
    "AMStudyCNN",
    "CNNClassifier",
    "ResNetClassifier",
    "SoftVotingEnsemble",
    "make_classifier",
]
