"""Helpers for the GAN tests: tiny settings that train in a fraction of a second."""

from __future__ import annotations

from typing import Any

import numpy as np

from gda_core.oversampling import OVERSAMPLERS
from gda_core.synthesizers import GANSynthesizer


def fast_params(name: str, **overrides: Any) -> dict[str, Any]:
    """Tiny GAN settings for the registered oversampler ``name`` ({} for non-GANs)."""
    cls = OVERSAMPLERS[name]
    if not issubclass(cls, GANSynthesizer):
        return dict(overrides)
    params: dict[str, Any] = {"epochs": 2, "min_steps": 0, "batch_size": 16, "latent_dim": 8,
                              "device": "cpu"}
    params["hidden" if name == "gan" else "width"] = 8
    if name == "madgan":
        params["n_generators"] = 2
    params.update(overrides)
    return params


def tiny_xy(*, size: int = 8, channels: int = 1, counts: tuple[int, ...] = (24, 10, 8),
            seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images whose classes differ in brightness."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.full(n, c) for c, n in enumerate(counts)]).astype(np.int64)
    X = rng.integers(0, 96, (len(y), channels, size, size)) + 64 * y[:, None, None, None]
    return X.astype(np.uint8), y
