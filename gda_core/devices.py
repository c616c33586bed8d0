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

import contextlib

import torch

from gda_core.errors import ConfigError

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
"""Accepted values of every ``device`` setting, ``"auto"`` first (the default)."""

AMP_MIN_VALUES = 512
"""Images with fewer values (C x H x W) run in float32 on the CPU even on a fast path:
at 8x8 bfloat16 autocast was ~15 % slower than float32 (tiny matrices) for the GANs and
~10 % slower for the classifier (``bench/gan_speed.py``, ``bench/cnn_speed.py``)."""


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


def amp_dtype(device: str, n_values: int, fast: bool) -> torch.dtype | None:
    """Autocast dtype of a model's fast path, or ``None`` for plain float32.

    Parameters
    ----------
    device : {"cpu", "cuda"}
        A resolved device (:func:`resolve_device`).
    n_values : int
        Values per input image (C x H x W).
    fast : bool
        The model's ``fast`` setting; ``False`` is the float32 reference path.

    Returns
    -------
    torch.dtype or None
        ``torch.bfloat16`` on a CUDA GPU that supports it, or on a CPU with native
        bfloat16 (AVX512-BF16 / AMX) for images of at least :data:`AMP_MIN_VALUES` values;
        else ``None``.

    Examples
    --------
    >>> amp_dtype("cpu", 3 * 64 * 64, fast=False) is None
    True
    >>> amp_dtype("cpu", 64, fast=True) is None  # 8x8 grey: float32 is faster
    True
    """
    if not fast:
        return None
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if n_values < AMP_MIN_VALUES or not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return None
    return torch.bfloat16


def autocast(device: str, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    """``torch.autocast(device, dtype)``, or a no-op when ``dtype`` is ``None``.

    Examples
    --------
    >>> with autocast("cpu", None):
    ...     pass
    """
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device, dtype=dtype)
