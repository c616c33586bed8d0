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
import functools
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import torch

from gda_core.errors import ConfigError

P = ParamSpec("P")
R = TypeVar("R")

DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")
"""Accepted values of every ``device`` setting, ``"auto"`` first (the default)."""

AMP_MIN_VALUES = 512
"""Images with fewer values (C x H x W) are timed in float32 only by :func:`amp_dtype`:
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
    """The bfloat16 autocast the ``bench/`` speed scripts time as "the bf16 variant":
    where PyTorch says bfloat16 is supported (a CUDA GPU with it; on a CPU, oneDNN's flag)
    and the images have :data:`AMP_MIN_VALUES` values or more; else ``None``.

    Not the product's choice: PyTorch's CPU flag is also true on CPUs that only emulate
    bfloat16, where it is slower than float32, so the models choose their path by timing
    it on the machine (:mod:`gda_core.fastpath`).

    Parameters
    ----------
    device : {"cpu", "cuda"}
        A resolved device (:func:`resolve_device`).
    n_values : int
        Values per input image (C x H x W).
    fast : bool
        ``False``: always ``None``.

    Returns
    -------
    torch.dtype or None

    Examples
    --------
    >>> amp_dtype("cpu", 3 * 64 * 64, fast=False) is None
    True
    >>> amp_dtype("cpu", 64, fast=True) is None  # 8x8 grey
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


MAX_INFERENCE_BATCH = 1024
"""Images per inference batch on a GPU, and the most on a CPU."""


def inference_batch(pixels: int, device: str) -> int:
    """Images per batch for a forward pass without gradients (prediction, features).

    1024 on a GPU; on a CPU about 2**17 pixels (H x W) per batch, between 32 and 1024,
    so that a batch's feature maps stay in cache.  Measured on 2 CPU cores: 8x8 images
    were fastest at 1024, 28x28 and 32x32 at 64-256, 64x64 and larger at 64 or fewer;
    bigger batches were up to 3x slower (a feature extractor at 64x64x3: 0.048 s per 500
    images in batches of 32, 0.153 s in batches of 1024).  The results do not depend on it.

    Parameters
    ----------
    pixels : int
        Pixels per image (H x W).
    device : str
        ``"cpu"``, ``"cuda"`` (a resolved device type).

    Examples
    --------
    >>> [inference_batch(side * side, "cpu") for side in (8, 32, 64)]
    [1024, 128, 32]
    >>> inference_batch(64 * 64, "cuda")
    1024
    """
    if device != "cpu":
        return MAX_INFERENCE_BATCH
    batch = 2 ** max(0, (2**17 // max(int(pixels), 1)).bit_length() - 1)
    return int(min(MAX_INFERENCE_BATCH, max(32, batch)))


def one_blas_thread() -> contextlib.AbstractContextManager:
    """Inside the block, numpy's and scipy's BLAS / LAPACK use one thread (torch keeps its own).

    In a process that has just run torch, torch's OpenMP threads are still spinning for
    work when numpy's BLAS starts its own threads, and on a few cores the two pools
    fight: measured on 2 cores right after a convolution, the distances between 250
    feature vectors took 6.5 ms with BLAS's threads against 1 ms with one, and a
    comparison's quality scores took 1.3x as long.  Metric code that mixes the two (the
    quality gate) runs its numpy work in one thread.  The previous limits come back on exit.

    Examples
    --------
    >>> import numpy as np
    >>> with one_blas_thread():
    ...     float(np.ones((2, 2)) @ np.ones(2) @ np.ones(2))
    4.0
    """
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    return threadpool_limits(limits=1, user_api="blas")


def blas_single_threaded(fn: Callable[P, R]) -> Callable[P, R]:
    """Decorator: ``fn`` runs inside :func:`one_blas_thread`.

    Examples
    --------
    >>> import numpy as np
    >>> @blas_single_threaded
    ... def total(x):
    ...     return float(x @ x)
    >>> total(np.ones(3))
    3.0
    """
    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with one_blas_thread():
            return fn(*args, **kwargs)

    return wrapper


def peak_memory_mb() -> float:
    """The largest resident memory this process, or one of its finished child processes
    (the GAN's per-class workers), has had, in MiB (``getrusage``'s high-water marks);
    NaN where the platform does not say.

    Examples
    --------
    >>> peak_memory_mb() > 0
    True
    """
    try:
        import resource
        import sys
    except ImportError:  # Windows
        return float("nan")
    unit = 1.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB elsewhere
    peaks = [resource.getrusage(who).ru_maxrss for who in (resource.RUSAGE_SELF,
                                                           resource.RUSAGE_CHILDREN)]
    return max(peaks) * unit / 2**20
