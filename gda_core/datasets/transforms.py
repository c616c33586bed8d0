"""Resize images and convert between grayscale and RGB (uint8, channels first)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from gda_core.errors import DatasetError

COLORS = ("grayscale", "rgb")
# ITU-R 601-2 luma, the weights Pillow uses for ``convert("L")``.
_LUMA = np.array([299, 587, 114], dtype=np.uint32)


def _check_images(images: np.ndarray) -> np.ndarray:
    arr = np.asarray(images)
    if arr.ndim != 4 or arr.shape[1] not in (1, 3):
        raise DatasetError(f"images must have shape (N, 1 or 3, H, W); got {arr.shape}")
    if arr.dtype != np.uint8:
        raise DatasetError(f"images must be uint8; got {arr.dtype}")
    return arr


def resize_images(images: np.ndarray, size: int) -> np.ndarray:
    """Resize every image to ``size`` x ``size`` pixels.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, C, H, W)
        Images with 1 or 3 channels.
    size : int
        Side of the output images, in pixels (at least 1).

    Returns
    -------
    ndarray of uint8, shape (N, C, size, size)
        Resized with Pillow's bilinear filter (antialiased when shrinking); the input itself
        when it already has that size.

    Examples
    --------
    >>> resize_images(np.zeros((2, 1, 8, 8), np.uint8), 16).shape
    (2, 1, 16, 16)
    """
    arr = _check_images(images)
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < 1:
        raise DatasetError(f"image size must be a whole number of pixels >= 1; got {size!r}")
    size = int(size)
    n, c, h, w = arr.shape
    if (h, w) == (size, size):
        return arr
    out = np.empty((n, c, size, size), dtype=np.uint8)
    for i in range(n):
        pixels = arr[i, 0] if c == 1 else np.ascontiguousarray(arr[i].transpose(1, 2, 0))
        small = Image.fromarray(pixels).resize((size, size), Image.Resampling.BILINEAR)
        res = np.asarray(small)
        out[i] = res[None] if c == 1 else res.transpose(2, 0, 1)
    return out


def convert_channels(images: np.ndarray, color: str) -> np.ndarray:
    """Convert images to one (``"grayscale"``) or three (``"rgb"``) channels.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, C, H, W)
        Images with 1 or 3 channels.
    color : {"grayscale", "rgb"}
        Target colour mode.  RGB to grayscale uses the ITU-R 601-2 luma weights (as
        Pillow does); grayscale to RGB repeats the channel.

    Returns
    -------
    ndarray of uint8, shape (N, 1 or 3, H, W)
        The input itself when it already has the requested channels.

    Examples
    --------
    >>> convert_channels(np.zeros((2, 1, 4, 4), np.uint8), "rgb").shape
    (2, 3, 4, 4)
    """
    arr = _check_images(images)
    if color not in COLORS:
        raise DatasetError(f"color must be one of {', '.join(COLORS)}; got {color!r}")
    channels = 1 if color == "grayscale" else 3
    if arr.shape[1] == channels:
        return arr
    if channels == 3:
        return np.repeat(arr, 3, axis=1)
    weighted = np.einsum("nchw,c->nhw", arr.astype(np.uint32), _LUMA)
    return ((weighted + 500) // 1000).astype(np.uint8)[:, None]
