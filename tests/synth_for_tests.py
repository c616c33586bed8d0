"""Synthesizers that fail on purpose in a worker process (they ship with the tests).

``n_jobs`` trains per-class models in processes started with ``spawn``, which import a
synthesizer's class by name, so these live in a module of their own rather than in a test
file: the worker processes get the tests' ``sys.path`` and import it as ``synth_for_tests``.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from typing import Any

from torch import nn

from gda_core.synthesizers import DCGAN
from gda_core.synthesizers.trainer import GANLoopConfig

POISONED_CLASS_SIZE = 8
""":class:`DivergingDCGAN`'s model of a class with this many images diverges."""


class DivergingDCGAN(DCGAN):
    """A DCGAN whose model of the class with :data:`POISONED_CLASS_SIZE` images trains at a
    learning rate of 1e30 (no parameter allows it), so that its losses become NaN."""

    def _config(self, values: dict[str, Any], device: str, n_classes: int,
                n_images: int) -> GANLoopConfig:
        config = super()._config(values, device, n_classes, n_images)
        if n_images == POISONED_CLASS_SIZE:
            config.lr_d = config.lr_g = 1e30
        return config


DIES_AFTER_S = 4.0
""":class:`DyingDCGAN`'s worker for class 1 dies this long after building its networks."""


class DyingDCGAN(DCGAN):
    """A DCGAN whose worker process for class 1 is killed (SIGKILL, as by the kernel's
    out-of-memory killer) :data:`DIES_AFTER_S` seconds after it builds its networks, by
    which time the other workers are sending their steps."""

    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        name = multiprocessing.current_process().name
        if name.startswith("gda-") and name.endswith("class 1"):
            threading.Timer(DIES_AFTER_S, os.kill, (os.getpid(), signal.SIGKILL)).start()
        return super()._build(values, channels, size, n_classes)


class BrokenDCGAN(DCGAN):
    """A DCGAN whose worker processes fail with an unexpected error (a bug, not a
    :class:`~gda_core.errors.GDAError`) as they build their networks."""

    def _build(self, values: dict[str, Any], channels: int, size: tuple[int, int],
               n_classes: int) -> tuple[nn.Module, nn.Module]:
        if multiprocessing.current_process().name.startswith("gda-"):
            raise RuntimeError("a bug in the worker")
        return super()._build(values, channels, size, n_classes)
