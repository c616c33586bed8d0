"""Image mosaics."""

from __future__ import annotations

import io
from collections.abc import Sequence

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


def enlarged_png(data: bytes, min_width: int = 512) -> bytes:
    """An encoded image enlarged by an integer factor (nearest neighbour, so pixels stay
    sharp squares) to at least ``min_width`` pixels wide, as PNG; wide enough images are
    returned as they are.

    A browser stretching a 71-pixel grid of 8x8 digits to the page's width blurs it; this
    keeps the samples' pixels visible.

    Examples
    --------
    >>> from PIL import Image
    >>> big = enlarged_png(png_bytes(np.zeros((4, 10), np.uint8)), min_width=25)
    >>> Image.open(io.BytesIO(big)).size
    (30, 12)
    """
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        scale = -(-min_width // max(1, img.width))
        if scale <= 1:
            return data
        img.load()
        big = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
    buf = io.BytesIO()
    big.save(buf, format="PNG")
    return buf.getvalue()


def grids_gif(frames: Sequence[bytes | np.ndarray], *, labels: Sequence[str] | None = None,
              frame_ms: int = 200, last_ms: int = 1500, min_width: int = 256,
              max_frames: int = 300) -> bytes:
    """An animated GIF of sample grids (e.g. every grid a training run saved), in order.

    Parameters
    ----------
    frames : sequence of bytes or ndarray
        Encoded images (PNG bytes, as the run store holds them) or uint8 arrays
        ``(H, W)`` / ``(H, W, 3)``.  Frames of different sizes are centred on a white
        canvas of the largest.
    labels : sequence of str, optional
        One caption per frame (e.g. ``"step 525"``), written in a strip above it.
    frame_ms, last_ms : int
        How long each frame shows, and the last one (so the loop pauses on the result).
    min_width : int
        Small grids (8x8 digits) are enlarged by an integer factor, without smoothing, to
        at least this width.
    max_frames : int
        More frames are thinned evenly to about this many (the first and last are kept).

    Returns
    -------
    bytes
        The GIF, looping forever.  Consecutive identical frames are merged by the GIF
        encoder (their times add up).

    Examples
    --------
    >>> from PIL import Image
    >>> frames = [np.full((4, 6), v, np.uint8) for v in (0, 100, 200)]
    >>> gif = grids_gif(frames, min_width=12)
    >>> with Image.open(io.BytesIO(gif)) as im:
    ...     im.n_frames, im.size
    (3, (12, 8))
    """
    from PIL import Image, ImageDraw, ImageFont

    if not frames:
        raise ValueError("grids_gif needs at least one frame")
    if labels is not None and len(labels) != len(frames):
        raise ValueError(f"{len(labels)} labels for {len(frames)} frames")
    keep = list(range(len(frames)))
    if len(keep) > max_frames:
        keep = sorted(set(np.linspace(0, len(frames) - 1, max_frames).round().astype(int)))
    images = []
    for i in keep:
        f = frames[i]
        img = (Image.open(io.BytesIO(f)) if isinstance(f, (bytes, bytearray))
               else Image.fromarray(np.asarray(f, dtype=np.uint8)))
        img.load()
        images.append(img)
    mode = "L" if all(im.mode in ("L", "1") for im in images) else "RGB"
    width = max(im.width for im in images)
    height = max(im.height for im in images)
    scale = max(1, -(-min_width // width))
    width, height = width * scale, height * scale
    strip = 0
    font = None
    if labels is not None:
        font_px = max(10, min(18, width // 22))
        try:
            font = ImageFont.load_default(size=font_px)
        except (TypeError, OSError, ImportError):  # Pillow without FreeType
            font = ImageFont.load_default()
        strip = font_px + 8
    white = 255 if mode == "L" else (255, 255, 255)
    out = []
    for i, img in zip(keep, images, strict=True):
        img = img.convert(mode)
        if scale > 1:
            img = img.resize((img.width * scale, img.height * scale), Image.Resampling.NEAREST)
        canvas = Image.new(mode, (width, height + strip), white)
        canvas.paste(img, ((width - img.width) // 2, strip + (height - img.height) // 2))
        if labels is not None:
            ImageDraw.Draw(canvas).text((4, 3), str(labels[i]), fill=0 if mode == "L"
                                        else (0, 0, 0), font=font)
        out.append(canvas)
    durations = [frame_ms] * (len(out) - 1) + [last_ms]
    buf = io.BytesIO()
    out[0].save(buf, format="GIF", save_all=True, append_images=out[1:], duration=durations,
                loop=0)
    return buf.getvalue()
