"""OpenMP settings for a machine where several torch processes share a few cores.

torch's CPU kernels run on OpenMP threads that, by default, *spin* while waiting for work.
When two torch processes share two cores (the dashboard training a classifier while a
worker trains a GAN, or two workers), the spinning threads steal each other's cores.
Measured here (2 cores, the AM-study CNN on digits, 6 epochs): alone 1.5 s; two processes
at once 6.0 s each with the default policy, 3.0 s each with ``OMP_WAIT_POLICY=PASSIVE``
(bench/concurrency.py prints the current figures).

:func:`prefer_passive_waiting` must run before torch is first imported; the entry points
call it (``app.py``, ``python -m gda_core``), and worker processes inherit the setting.
"""

from __future__ import annotations

import os


def prefer_passive_waiting(environ: dict[str, str] | None = None) -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the user chose a policy."""
    env = os.environ if environ is None else environ
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
