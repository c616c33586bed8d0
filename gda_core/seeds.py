"""Seeds: the one check of a ``random_state`` and independent seeds derived from it.

Every model takes ``random_state`` (a non-negative integer, or None for a fresh random
seed) and turns it into one 32-bit seed with :func:`resolve_seed`; the parts of a fit that
draw random numbers (a class's model, the sampling stream, a validation split, ...) each get
their own stream from :func:`derive_seed`, so one part does not shift the others.
"""

from __future__ import annotations

import numpy as np

from gda_core.errors import ConfigError


def resolve_seed(random_state: int | None) -> int:
    """A seed in ``[0, 2**32)``: ``random_state`` itself (mod ``2**32``), or a fresh one
    drawn from the operating system's entropy when it is None.

    Raises
    ------
    ConfigError
        ``random_state`` is not None nor a non-negative integer (``True`` included).

    Examples
    --------
    >>> resolve_seed(7), resolve_seed(2**32 + 7)
    (7, 7)
    >>> 0 <= resolve_seed(None) < 2**32
    True
    >>> resolve_seed(-1)
    Traceback (most recent call last):
    ...
    gda_core.errors.ConfigError: random_state must be a non-negative integer or None; got -1
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, bool) or not isinstance(random_state, (int, np.integer)) \
            or random_state < 0:
        raise ConfigError(f"random_state must be a non-negative integer or None; "
                          f"got {random_state!r}")
    return int(random_state) % 2**32


def derive_seed(seed: int, purpose: int, key: int = 0) -> int:
    """An independent seed for one ``purpose`` (a small integer constant of the caller:
    a class's model, the sampling stream, ...) and ``key`` (e.g. the class).

    A class's model thus depends only on the seed and the class, not on the other classes.

    Examples
    --------
    >>> derive_seed(0, 1) == derive_seed(0, 1), derive_seed(0, 1) == derive_seed(0, 2)
    (True, False)
    """
    return int(np.random.SeedSequence([seed, purpose, key % 2**32]).generate_state(1)[0])
