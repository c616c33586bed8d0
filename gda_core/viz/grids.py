"""Image mosaics."""

from __future__ import annotations

import io

import numpy as np


def image_grid(images: np.ndarray, *, ncols: int = 8, pad: int = 1, scale: int = 1,
               pad_value: int = 255) -> np.ndarray:
    """Tile uint8 images ``(N, C, H, W)`` into one ``(H', W')`` or ``(H', W', 3)`` array.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, C, H, W)
    ncols : int
        Images per row.
    pad : int
        Pixels between images.
    scale : int
        Nearest-neighbour upscaling factor (tiny 8x8 digits stay readable).
    pad_value : int
        Grey level of the padding.

    Examples
    --------
    >>> image_grid(np.zeros((3, 1, 2, 2), np.uint8), ncols=2, pad=1).shape
    (5, 5)
    """
    images = np.asarray(images)
    if images.ndim != 4 or len(images) == 0:
        raise ValueError("image_grid needs a non-empty (N, C, H, W) array")
    if scale > 1:
        images = images.repeat(scale, axis=2).repeat(scale, axis=3)
    n, c, h, w = images.shape
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    grid = np.full((c, nrows * (h + pad) - pad, ncols * (w + pad) - pad), pad_value, np.uint8)
    for i, img in enumerate(images):
        r, col = divmod(i, ncols)
        grid[:, r * (h + pad): r * (h + pad) + h, col * (w + pad): col * (w + pad) + w] = img
    return grid[0] if c == 1 else grid.transpose(1, 2, 0)


def png_bytes(image: np.ndarray) -> bytes:
    """Encode a uint8 ``(H, W)`` or ``(H, W, 3)`` array (e.g. an :func:`image_grid`) as PNG."""
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.asarray(image, dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()
