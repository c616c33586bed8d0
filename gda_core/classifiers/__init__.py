"""The CNN retrained on every (balanced) training set, and its sklearn-style trainer."""

from gda_core.classifiers.cnn import AMStudyCNN
from gda_core.classifiers.trainer import CNNClassifier

__all__ = ["AMStudyCNN", "CNNClassifier"]
