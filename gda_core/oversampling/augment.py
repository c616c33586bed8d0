"""Traditional augmentation as an oversampler.

Minority images are repeated with random flips, rotation, shift, brightness, contrast
and Gaussian noise until the classes balance.  The transforms run batched in torch
(one ``affine_grid`` / ``grid_sample`` for rotation and shift), seeded by a
``torch.Generator``.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from gda_core.oversampling.base import ImageOversampler
from gda_core.oversampling.params import ParamSpec

_CHUNK = 1024


def random_transform(
    batch: torch.Tensor,
    generator: torch.Generator,
    *,
    hflip: bool = True,
    vflip: bool = False,
    rotation: float = 15.0,
    shift: float = 0.1,
    brightness: float = 0.2,
    contrast: float = 0.2,
    noise_std: float = 0.02,
) -> torch.Tensor:
    """Randomly transform a float batch ``(N, C, H, W)`` with values in [0, 1].

    Parameters
    ----------
    batch : Tensor
        Images scaled to [0, 1].
    generator : torch.Generator
        Source of randomness (the result depends only on it and the inputs).
    hflip, vflip : bool
        Flip each image horizontally / vertically with probability 1/2.
    rotation : float
        Maximum absolute rotation in degrees.
    shift : float
        Maximum absolute shift as a fraction of the image side.
    brightness, contrast : float
        Maximum relative change (factor drawn from ``1 +- value``).
    noise_std : float
        Standard deviation of additive Gaussian noise.

    Returns
    -------
    Tensor
        Transformed images, clipped to [0, 1].
    """
    n = batch.shape[0]

    def uniform(scale: float) -> torch.Tensor:
        return (torch.rand(n, generator=generator) * 2 - 1) * scale

    out = batch
    if hflip:
        flip = torch.rand(n, generator=generator) < 0.5
        out = torch.where(flip[:, None, None, None], out.flip(-1), out)
    if vflip:
        flip = torch.rand(n, generator=generator) < 0.5
        out = torch.where(flip[:, None, None, None], out.flip(-2), out)
    if rotation > 0 or shift > 0:
        theta = uniform(math.radians(rotation))
        tx, ty = uniform(2 * shift), uniform(2 * shift)  # grid units span 2 per side
        cos, sin = torch.cos(theta), torch.sin(theta)
        affine = torch.stack([torch.stack([cos, -sin, tx], 1), torch.stack([sin, cos, ty], 1)], 1)
        grid = F.affine_grid(affine, list(out.shape), align_corners=False)
        out = F.grid_sample(out, grid, mode="bilinear", padding_mode="border",
                            align_corners=False)
    if contrast > 0:
        mean = out.mean(dim=(1, 2, 3), keepdim=True)
        out = (out - mean) * (1 + uniform(contrast))[:, None, None, None] + mean
    if brightness > 0:
        out = out * (1 + uniform(brightness))[:, None, None, None]
    if noise_std > 0:
        out = out + torch.randn(out.shape, generator=generator) * noise_std
    return out.clamp_(0, 1)


class TraditionalAugmentation(ImageOversampler):
    """Oversample by repeating minority images with random geometric and photometric changes.

    Examples
    --------
    >>> X = np.random.default_rng(0).integers(0, 255, (5, 1, 8, 8), dtype=np.uint8)
    >>> y = np.array([0, 0, 0, 0, 1])
    >>> X_res, y_res = TraditionalAugmentation(random_state=0).fit_resample(X, y)
    >>> X_res.shape, np.bincount(y_res).tolist()
    ((8, 1, 8, 8), [4, 4])
    """

    name = "augment"
    label = "Traditional augmentation"
    description = ("Repeats minority images with random flips, rotation, shift, brightness, "
                   "contrast and noise.")
    copies_by_design = "repeats the training images with random changes"
    params = (
        ParamSpec("hflip", "bool", True, help="Random horizontal flips."),
        ParamSpec("vflip", "bool", False, help="Random vertical flips."),
        ParamSpec("rotation", "float", 15.0, low=0, high=180, help="Max rotation (degrees)."),
        ParamSpec("shift", "float", 0.1, low=0, high=0.5, help="Max shift (fraction of side)."),
        ParamSpec("brightness", "float", 0.2, low=0, high=1, help="Max brightness change."),
        ParamSpec("contrast", "float", 0.2, low=0, high=1, help="Max contrast change."),
        ParamSpec("noise_std", "float", 0.02, low=0, high=0.5, help="Gaussian noise std (0..1)."),
    )

    def _generate(self, X, y, targets, params):
        seed = self.random_state
        if seed is None:
            seed = int(np.random.default_rng().integers(2**62))
        gen = torch.Generator().manual_seed(int(seed))
        picks, labels = [], []
        for c, n in sorted(targets.items()):
            if n <= 0:
                continue
            idx = np.flatnonzero(y == c)
            choice = torch.randint(len(idx), (n,), generator=gen).numpy()
            picks.append(idx[choice])
            labels.append(np.full(n, c, dtype=np.int64))
        pick = np.concatenate(picks)
        out = np.empty((len(pick), *X.shape[1:]), dtype=np.uint8)
        for start in range(0, len(pick), _CHUNK):
            sl = slice(start, start + _CHUNK)
            batch = torch.from_numpy(X[pick[sl]]).float().div_(255)
            moved = random_transform(batch, gen, **params)
            out[sl] = moved.mul_(255).round_().to(torch.uint8).numpy()
        return out, np.concatenate(labels)
