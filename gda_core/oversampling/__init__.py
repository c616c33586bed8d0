"""Oversamplers for image datasets, all honouring ``fit_resample(X, y)``.

Modules
-------
base              the contract (:class:`ImageOversampler`) every method honours, GANs too
params            declarative parameter specs (:class:`ParamSpec`) for widgets and the CLI
smote_family      SMOTE, Borderline-SMOTE, ADASYN and random oversampling on images
augment           traditional augmentation (flips, shifts, rotations, ...)
imblearn_adapter  flattening images for imbalanced-learn
registry          the one method registry (:data:`METHODS`, with the GAN synthesizers) and
                  :func:`make_oversampler`

``base`` and ``params`` import nothing from :mod:`gda_core.synthesizers`, which builds on
them; the registry imports both packages, so this package hands out its names
(``METHODS``, ``OVERSAMPLERS``, ``SYNTHESIZERS``, ``OWN_CLASSIFIER_METHODS``,
``make_oversampler``) on first use rather than when it is imported: importing
``gda_core.oversampling`` or ``gda_core.oversampling.base`` loads no GAN.
"""

from __future__ import annotations

from typing import Any

from gda_core.oversampling.augment import TraditionalAugmentation, random_transform
from gda_core.oversampling.base import ImageOversampler, target_counts
from gda_core.oversampling.imblearn_adapter import flatten_images, restore_images
from gda_core.oversampling.params import ParamSpec
from gda_core.oversampling.smote_family import (
    ADASYNOversampler,
    BorderlineSMOTEOversampler,
    RandomOversampler,
    SMOTEOversampler,
)

_FROM_REGISTRY = frozenset({"METHODS", "OVERSAMPLERS", "OWN_CLASSIFIER_METHODS",
                            "SYNTHESIZERS", "make_oversampler"})

__all__ = [
    "METHODS",
    "OVERSAMPLERS",
    "OWN_CLASSIFIER_METHODS",
    "SYNTHESIZERS",
    "ADASYNOversampler",
    "BorderlineSMOTEOversampler",
    "ImageOversampler",
    "ParamSpec",
    "RandomOversampler",
    "SMOTEOversampler",
    "TraditionalAugmentation",
    "flatten_images",
    "make_oversampler",
    "random_transform",
    "restore_images",
    "target_counts",
]


def __getattr__(name: str) -> Any:
    """The registry's names, imported from :mod:`.registry` on first use (PEP 562)."""
    if name in _FROM_REGISTRY:
        from gda_core.oversampling import registry

        value = getattr(registry, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _FROM_REGISTRY)
