"""Constructed "synthesizers" whose right verdict is known: the quality gate's calibration.

Each case turns the real images of a class into a set of synthesized images with a known
failure (or none): copies of the training images with invisible changes, a collapsed
generator, colour blobs, another class's photos, and new real photos of the class.  Fed to
the gate through the same path as a comparison's synthesizers, every case must get its
verdict (:data:`EXPECTED`); ``bench/gate_cases.py`` prints the table and the test suite
asserts it.

Examples
--------
>>> rng = np.random.default_rng(0)
>>> train = rng.integers(0, 255, (10, 3, 16, 16), dtype=np.uint8)
>>> cases = make_cases(train, train[:5], train[5:], 20, rng)
>>> sorted(cases) == sorted(EXPECTED)
True
>>> cases["flips of training images"].shape
(20, 3, 16, 16)
"""

from __future__ import annotations

import numpy as np
import torch

from gda_core.metrics.memorisation import align_shift
from gda_core.oversampling.controls import memorised_copies

EXPECTED: dict[str, frozenset[str]] = {
    "exact copies of training images": frozenset({"copies"}),
    "copies + Gaussian noise, sd 8/255": frozenset({"copies"}),
    "flips of training images": frozenset({"copies"}),
    "1-pixel shifts of training images": frozenset({"copies"}),
    "flip 50% + shift <= 2 px + noise sd 4": frozenset({"copies"}),
    "blurred class mean, repeated": frozenset({"collapsed"}),
    "4 training images, each jittered": frozenset({"collapsed", "copies"}),
    "smooth colour blobs with the class's colours": frozenset({"unlike-real", "noise",
                                                               "wrong-class"}),
    "the other class's real images": frozenset({"unlike-real", "wrong-class"}),
    "held-out real images of the class": frozenset(),
}
"""Case -> the gate codes of which one (any) is right; an empty set: no failing code.
Colour blobs fail either as unlike real images or as not recognised as the class
(``wrong-class``: a classifier sees another class, or no real image, in them)."""

FAILING = frozenset({"noise", "unlike-real", "collapsed", "copies", "wrong-class"})
"""The gate's codes that fail a method's images."""


def is_right(case: str, codes: set[str] | list[str]) -> bool:
    """Whether the gate's ``codes`` for ``case`` are right: one of the expected failing
    codes is there, or, for a case that should pass, none is.

    Examples
    --------
    >>> is_right("flips of training images", ["copies"]), is_right(
    ...     "held-out real images of the class", ["collapsed"])
    (True, False)
    """
    failing = set(codes) & FAILING
    want = EXPECTED[case]
    return bool(failing & want) if want else not failing


def _blur(images: np.ndarray, passes: int = 3) -> np.ndarray:
    x = torch.from_numpy(images.astype(np.float32))
    for _ in range(passes):
        x = torch.nn.functional.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    return x.round().clamp(0, 255).to(torch.uint8).numpy()


def _blobs(train: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Smooth random colour fields with the class's mean colour and colour spread."""
    c, h, w = train.shape[1:]
    mean = train.reshape(len(train), c, -1).mean(axis=(0, 2))
    sd = train.reshape(len(train), c, -1).std(axis=(0, 2))
    coarse = rng.normal(size=(n, c, 4, 4)).astype(np.float32)
    field = torch.nn.functional.interpolate(torch.from_numpy(coarse), size=(h, w),
                                            mode="bicubic", align_corners=False).numpy()
    out = mean[None, :, None, None] + sd[None, :, None, None] * field
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


def _draw(images: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` of ``images`` without repeats (all of them when there are fewer)."""
    return images[np.sort(rng.choice(len(images), min(n, len(images)), replace=False))]


def make_cases(train: np.ndarray, held_out: np.ndarray, other: np.ndarray, n: int,
               rng: np.random.Generator) -> dict[str, np.ndarray]:
    """The calibration cases for one class.

    Parameters
    ----------
    train : ndarray of uint8, shape (N, C, H, W)
        The real images a synthesizer of the class would learn from.
    held_out : ndarray of uint8
        Real images of the class it never saw (at least one).
    other : ndarray of uint8
        Real images of another class (at least one).
    n : int
        Synthesized images per case (the real-image cases give at most as many as there
        are, without repeats).
    rng : numpy.random.Generator
    """
    four = train[rng.choice(len(train), min(4, len(train)), replace=False)]
    shift = align_shift(train.shape)  # "a few pixels": 2 at 64×64, 1 for small images
    mean = np.repeat(np.rint(train.astype(np.float32).mean(axis=0))[None], n, axis=0)
    return {
        "exact copies of training images": memorised_copies(train, n, rng, noise=0.0),
        "copies + Gaussian noise, sd 8/255": memorised_copies(train, n, rng, noise=8.0),
        "flips of training images": memorised_copies(train, n, rng, noise=0.0, hflip=1.0),
        "1-pixel shifts of training images": memorised_copies(train, n, rng, noise=0.0,
                                                              max_shift=1),
        "flip 50% + shift <= 2 px + noise sd 4": memorised_copies(
            train, n, rng, noise=4.0, hflip=0.5, max_shift=shift),
        "blurred class mean, repeated": _blur(mean.astype(np.uint8)),
        "4 training images, each jittered": memorised_copies(four, n, rng, noise=6.0,
                                                             hflip=0.5, max_shift=shift),
        "smooth colour blobs with the class's colours": _blobs(train, n, rng),
        "the other class's real images": _draw(other, n, rng),
        "held-out real images of the class": _draw(held_out, n, rng),
    }
