"""A negative control: a "synthesizer" that memorised its training images.

Generative models trained on a handful of images can memorise them: their samples are the
training images, slightly changed.  Such images add no new information; a classifier
trained on them gains only from seeing the real images more often.  The memorising control
produces exactly that, on purpose, so a user can check on their own data that the quality
gate flags it (``copies``) and that a comparison's recommendation leaves it out.

Each synthesized image is a training image of the class, optionally flipped left-right,
shifted by a few pixels (edges repeated) and given Gaussian noise: changes small enough
that the image is still the training image to a person.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gda_core.oversampling.base import ImageOversampler
from gda_core.oversampling.params import ParamSpec


def memorised_copies(images: np.ndarray, n: int, rng: np.random.Generator, *,
                     noise: float = 8.0, hflip: float = 0.0, max_shift: int = 0
                     ) -> np.ndarray:
    """``n`` near-copies of uint8 ``images`` (N, C, H, W).

    Parameters
    ----------
    images : ndarray of uint8
        The images to copy (one class).
    n : int
        How many copies.
    rng : numpy.random.Generator
    noise : float
        Standard deviation of the added Gaussian noise, in pixel levels (0..255).
    hflip : float in [0, 1]
        Share of copies flipped left-right.
    max_shift : int
        Each copy is shifted by up to this many pixels in each direction (edges repeated).

    Examples
    --------
    >>> x = np.arange(2 * 1 * 4 * 4, dtype=np.uint8).reshape(2, 1, 4, 4) * 8
    >>> out = memorised_copies(x, 5, np.random.default_rng(0), noise=0.0)
    >>> out.shape, all(any((o == i).all() for i in x) for o in out)
    ((5, 1, 4, 4), True)
    """
    pick = rng.integers(0, len(images), n)
    out = images[pick].astype(np.float32)
    flip = rng.random(n) < hflip
    out[flip] = out[flip][..., ::-1]
    if max_shift > 0:
        h, w = out.shape[2:]
        for i, (dy, dx) in enumerate(rng.integers(-max_shift, max_shift + 1, (n, 2))):
            rows = np.clip(np.arange(h) - dy, 0, h - 1)
            cols = np.clip(np.arange(w) - dx, 0, w - 1)
            out[i] = out[i][:, rows][:, :, cols]
    if noise > 0:
        out += rng.normal(0.0, noise, out.shape).astype(np.float32)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


class MemorisingControl(ImageOversampler):
    """Training images with invisible changes: what a synthesizer that memorised makes.

    Examples
    --------
    >>> X = np.random.default_rng(0).integers(0, 255, (6, 1, 8, 8), dtype=np.uint8)
    >>> y = np.array([0, 0, 0, 0, 1, 1])
    >>> X_res, y_res = MemorisingControl(random_state=0).fit_resample(X, y)
    >>> np.bincount(y_res).tolist()
    [4, 4]
    """

    name = "memorise"
    label = "Memorising control"
    description = ("A negative control, not a method: training images with invisible noise "
                   "(optionally flipped and shifted), as a synthesizer that memorised would "
                   "make. The quality gate should flag it and no recommendation name it.")
    params = (
        ParamSpec("noise", "float", 8.0, low=0, high=64,
                  help="Gaussian noise added to each copy (sd, pixel levels 0-255)."),
        ParamSpec("hflip", "float", 0.0, low=0, high=1,
                  help="Share of the copies flipped left-right."),
        ParamSpec("max_shift", "int", 0, low=0, high=8,
                  help="Each copy shifted by up to this many pixels."),
    )

    def _generate(self, X: np.ndarray, y: np.ndarray, targets: dict[int, int],
                  params: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(self.random_state)
        parts, labels = [], []
        for c, n in sorted(targets.items()):
            if n <= 0:
                continue
            parts.append(memorised_copies(X[y == c], n, rng, noise=float(params["noise"]),
                                          hflip=float(params["hflip"]),
                                          max_shift=int(params["max_shift"])))
            labels.append(np.full(n, c, dtype=np.int64))
        if not parts:
            return np.zeros((0, *X.shape[1:]), np.uint8), np.zeros(0, np.int64)
        return np.concatenate(parts), np.concatenate(labels)
