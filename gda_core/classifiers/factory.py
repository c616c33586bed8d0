"""Build the classifier a comparison asks for: AM-study CNN, ResNet-18 or an ensemble."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gda_core.classifiers.ensemble import SoftVotingEnsemble
from gda_core.classifiers.resnet import ResNetClassifier
from gda_core.classifiers.trainer import CNNClassifier
from gda_core.errors import ConfigError

if TYPE_CHECKING:  # runtime import would cycle: experiments.config imports this module
    from gda_core.experiments.config import ClassifierConfig

ARCHITECTURES: tuple[str, ...] = ("am-cnn", "resnet18", "ensemble")
"""Names accepted by ``ClassifierConfig.architecture``."""

ARCHITECTURE_LABELS: dict[str, str] = {
    "am-cnn": "AM-study CNN",
    "resnet18": "ResNet-18 (from scratch)",
    "ensemble": "Soft-voting ensemble of AM-study CNNs",
}
"""Display name of every architecture in :data:`ARCHITECTURES`."""

_TRAINING = ("width", "fc_units", "epochs", "batch_size", "lr", "val_fraction", "patience",
             "device", "loss", "focal_gamma", "fast")


def make_classifier(config: ClassifierConfig,
                    random_state: int | None) -> CNNClassifier | SoftVotingEnsemble:
    """The untrained classifier described by ``config``, seeded with ``random_state``.

    Parameters
    ----------
    config : ClassifierConfig
        ``architecture`` picks ``"am-cnn"`` (:class:`CNNClassifier`), ``"resnet18"``
        (:class:`~gda_core.classifiers.resnet.ResNetClassifier`) or ``"ensemble"``
        (:class:`~gda_core.classifiers.ensemble.SoftVotingEnsemble` of
        ``ensemble_size`` CNNs seeded ``random_state``, ``random_state + 1``, ...); the
        other fields are the training settings.
    random_state : int or None

    Returns
    -------
    CNNClassifier or SoftVotingEnsemble
        Both have ``fit(X, y, n_classes=, callback=)``, ``predict_proba`` and
        ``history_``.

    Examples
    --------
    >>> from gda_core.experiments import ClassifierConfig
    >>> type(make_classifier(ClassifierConfig(architecture="resnet18"), 0)).__name__
    'ResNetClassifier'
    """
    arch = getattr(config, "architecture", "am-cnn")
    params: dict[str, Any] = {k: getattr(config, k) for k in _TRAINING}
    if arch == "am-cnn":
        return CNNClassifier(**params, random_state=random_state)
    if arch == "resnet18":
        return ResNetClassifier(**params, random_state=random_state)
    if arch == "ensemble":
        return SoftVotingEnsemble(member_params=params, n_members=config.ensemble_size,
                                  random_state=random_state)
    raise ConfigError(f"unknown architecture {arch!r}; choose from {', '.join(ARCHITECTURES)}")
