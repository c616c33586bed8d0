"""OpenMP waiting for a machine where several torch processes share a few cores.

torch's CPU kernels run on OpenMP threads that, between two parallel regions, *spin*
waiting for the next one: by default (GNU OpenMP, which the Linux torch wheels use) for
about 3 ms.  When two torch processes share two cores (the dashboard training a
classifier while a worker trains a GAN, or two workers) the spinning threads steal each
other's cores.  Not spinning at all (``OMP_WAIT_POLICY=PASSIVE``) fixes that but makes a
process that has the cores to itself pay a thread wake-up for every operation, and a
training step is hundreds of small operations.  A short spin (``GOMP_SPINCOUNT=1000``,
about 10 us) keeps both: measured here (2 cores, ``bench/concurrency.py``), a DCGAN step
at 64x64x3 (width 32, batch 22) alone took 39 ms with the default spin, 55 ms passive and
40 ms with the short spin; the AM-study CNN on digits (6 epochs) alone 1.1 s, 1.4 s and
1.1 s; two such CNNs at once 57 s each with the default spin, 2.3 s passive and 2.8 s
with the short spin.

:func:`prefer_short_spinning` must run before torch is first imported; the entry points
call it (``app.py``, ``python -m gda_core``), worker processes inherit the setting, and
the ``bench/`` scripts call it so that they measure what the product runs.
"""

from __future__ import annotations

import os

SPIN_COUNT = "1000"
"""``GOMP_SPINCOUNT``: spins (about 100 per microsecond) before a waiting thread sleeps."""


def prefer_short_spinning(environ: dict[str, str] | None = None) -> None:
    """Let OpenMP threads spin briefly, then sleep, unless the user chose a policy.

    Sets ``GOMP_SPINCOUNT`` (:data:`SPIN_COUNT`; GNU OpenMP, which then ignores the
    policy) and ``OMP_WAIT_POLICY=PASSIVE`` (for OpenMP runtimes without a spin count),
    only when neither is set.

    Examples
    --------
    >>> env = {}
    >>> prefer_short_spinning(env)
    >>> env == {"GOMP_SPINCOUNT": "1000", "OMP_WAIT_POLICY": "PASSIVE"}
    True
    >>> env = {"OMP_WAIT_POLICY": "ACTIVE"}
    >>> prefer_short_spinning(env)
    >>> env
    {'OMP_WAIT_POLICY': 'ACTIVE'}
    """
    env = os.environ if environ is None else environ
    if "OMP_WAIT_POLICY" in env or "GOMP_SPINCOUNT" in env:
        return
    env["GOMP_SPINCOUNT"] = SPIN_COUNT
    env["OMP_WAIT_POLICY"] = "PASSIVE"
