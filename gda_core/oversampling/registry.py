"""The one method registry: every oversampling method by name.

:data:`METHODS` lists each method once, in the order the dashboard, ``python -m gda_core
list`` and the contract tests show them.  Everything else that names methods is a view of
it, read-only and computed from the classes' own attributes:

:data:`OVERSAMPLERS`
    Every method a comparison can run (the dashboard's choices, ``--methods``,
    :class:`~gda_core.experiments.CompareConfig`): :data:`METHODS` itself.
:data:`SYNTHESIZERS`
    The GANs the Train page, ``python -m gda_core train`` and the training job fit on
    their own (subclasses of :class:`~gda_core.synthesizers.base.GANSynthesizer` that a
    comparison evaluates with its CNN); also how :meth:`GANSynthesizer.load
    <gda_core.synthesizers.base.GANSynthesizer.load>` finds a saved model's class.
:data:`OWN_CLASSIFIER_METHODS`
    The methods a comparison evaluates with the model's own classifier (their class sets
    ``uses_own_classifier``: ``adso+q``, ``amo+q``, which are ADSO and AMO under another
    name and so not listed for training).

This module sits above both the oversamplers (:mod:`gda_core.oversampling`) and the GAN
synthesizers (:mod:`gda_core.synthesizers`, which subclass
:class:`~gda_core.oversampling.base.ImageOversampler`); neither imports it when it loads
(:mod:`gda_core.oversampling` and :mod:`gda_core.synthesizers` hand out these names on
first use), so any of the three can be imported first.

To add a method, write its class (a ``name``, ``label``, ``description``, ``params`` and
``_generate`` or, for a GAN, ``_build``) and add it to :data:`METHODS`.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from gda_core.errors import ConfigError
from gda_core.oversampling.augment import TraditionalAugmentation
from gda_core.oversampling.base import ImageOversampler
from gda_core.oversampling.controls import MemorisingControl
from gda_core.oversampling.smote_family import (
    ADASYNOversampler,
    BorderlineSMOTEOversampler,
    RandomOversampler,
    SMOTEOversampler,
)
from gda_core.synthesizers.base import GANSynthesizer
from gda_core.synthesizers.cgan import ConditionalGAN
from gda_core.synthesizers.dcgan import DCGAN
from gda_core.synthesizers.gan import VanillaGAN
from gda_core.synthesizers.madgan import MADGAN
from gda_core.synthesizers.threeplayer import ADSO, AMO, ADSOClassifier, AMOClassifier


def _by_name(*classes: type[ImageOversampler]) -> Mapping[str, type[ImageOversampler]]:
    table: dict[str, type[ImageOversampler]] = {}
    for cls in classes:
        if not cls.name or cls.name in table:
            raise ValueError(f"{cls.__name__} needs a name of its own; got {cls.name!r}")
        table[cls.name] = cls
    return MappingProxyType(table)


METHODS: Mapping[str, type[ImageOversampler]] = _by_name(
    SMOTEOversampler, BorderlineSMOTEOversampler, ADASYNOversampler, RandomOversampler,
    TraditionalAugmentation,
    VanillaGAN, DCGAN, ConditionalGAN, MADGAN, ADSO, AMO,
    ADSOClassifier, AMOClassifier, MemorisingControl,
)
"""Name -> class of every method (read-only)."""

OVERSAMPLERS: Mapping[str, type[ImageOversampler]] = METHODS
"""Every method a comparison can run (all of :data:`METHODS`)."""

SYNTHESIZERS: Mapping[str, type[GANSynthesizer]] = MappingProxyType({
    name: cls for name, cls in METHODS.items()
    if issubclass(cls, GANSynthesizer) and not cls.uses_own_classifier
})
"""The GANs that can be trained (and saved, loaded, sampled) on their own."""

OWN_CLASSIFIER_METHODS: Mapping[str, type[GANSynthesizer]] = MappingProxyType({
    name: cls for name, cls in METHODS.items() if cls.uses_own_classifier
})
"""Comparison methods evaluated with the model's own classifier (the three-player Q)
instead of the comparison's CNN."""


def make_oversampler(name: str, *, random_state: int | None = None,
                     **params: Any) -> ImageOversampler:
    """Build the oversampler registered as ``name``.

    Examples
    --------
    >>> make_oversampler("smote", k_neighbors=3, random_state=0)
    SMOTEOversampler(sampling_strategy='auto', random_state=0, k_neighbors=3)
    """
    try:
        cls = OVERSAMPLERS[name]
    except KeyError:
        raise ConfigError(
            f"unknown method {name!r}; choose from baseline, {', '.join(OVERSAMPLERS)}"
        ) from None
    known = {p.name for p in cls.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise ConfigError(
            f"{cls.label} has no parameter {unknown[0]!r}; valid: {', '.join(known) or 'none'}"
        )
    return cls(random_state=random_state, **params)
