"""Name -> oversampler class.  Feeds the dashboard's choices, the CLI and contract tests.

The GAN synthesizers (:mod:`gda_core.synthesizers`) are registered too, and so are the
methods that a comparison evaluates with the model's own classifier (``adso+q``,
``amo+q``; ``uses_own_classifier`` is set on their class).  They subclass
``gda_core.oversampling.base.ImageOversampler`` while this module imports them; the cycle
is safe because ``gda_core.synthesizers`` imports ``gda_core.oversampling`` before its own
modules, so either package can be imported first.
"""

from __future__ import annotations

from typing import Any

from gda_core.errors import ConfigError
from gda_core.oversampling.augment import TraditionalAugmentation
from gda_core.oversampling.base import ImageOversampler
from gda_core.oversampling.smote_family import (
    ADASYNOversampler,
    BorderlineSMOTEOversampler,
    RandomOversampler,
    SMOTEOversampler,
)
from gda_core.synthesizers.registry import OWN_CLASSIFIER_METHODS, SYNTHESIZERS

OVERSAMPLERS: dict[str, type[ImageOversampler]] = {
    cls.name: cls
    for cls in (
        SMOTEOversampler,
        BorderlineSMOTEOversampler,
        ADASYNOversampler,
        RandomOversampler,
        TraditionalAugmentation,
    )
} | SYNTHESIZERS | OWN_CLASSIFIER_METHODS


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
