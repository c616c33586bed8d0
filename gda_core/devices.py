"""The one rule for naming the device a model trains on.

Every model of the library (the comparison's classifiers, the GAN synthesizers, the
three-player models, the feature extractor of the quality gate) takes ``device`` as one of
:data:`DEVICES`:

``"auto"``
    The current CUDA GPU when there is one, else the CPU.
``"cpu"``
    The CPU.
``"cuda"``
    The current CUDA GPU (device 0 unless ``torch.cuda.set_device`` says otherwise); an
    error when there is none.

Indexed names such as ``"cuda:1"`` are refused, by every model alike: a machine with
several GPUs picks one for a process with ``CUDA_VISIBLE_DEVICES=1``, which every part of a
run (workers included) then uses, so the parameter widgets, the command line and saved
settings only ever hold the three names above.
"""

from __future__ import annotations

import torch

from gda_core.errors import ConfigError

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
"""Accepted values of every ``device`` setting, ``"auto"`` first (the default)."""


def resolve_device(device: str) -> str:
    """The device to use, ``"cpu"`` or ``"cuda"``, for a setting of :data:`DEVICES`.

    Raises
    ------
    ConfigError
        ``device`` is not one of :data:`DEVICES`, or is ``"cuda"`` on a machine without a
        CUDA GPU.

    Examples
    --------
    >>> resolve_device("cpu")
    'cpu'
    >>> resolve_device("auto") in ("cpu", "cuda")
    True
    >>> resolve_device("cuda:1")
    Traceback (most recent call last):
    ...
    gda_core.errors.ConfigError: device must be 'auto', 'cpu' or 'cuda'; got 'cuda:1'
    """
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if not isinstance(device, str) or device not in DEVICES:
        raise ConfigError(f"device must be 'auto', 'cpu' or 'cuda'; got {device!r}")
    if device == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for but no CUDA GPU is available")
    return device
