"""Per-class gallery: real images, then each method's synthesized images with their nearest
real neighbour and its distance underneath (to spot memorisation).

:func:`gallery_rows` pairs every synthesized image with its nearest real image
(:func:`gda_core.metrics.memorisation.nearest_real`, L2 on pixel values scaled to [0, 1]);
:func:`gallery_grid` draws the rows into one RGB image with labels and distances, ready
for ``st.image`` or :func:`gda_core.viz.grids.png_bytes`.

Examples
--------
>>> real = np.zeros((3, 1, 4, 4), np.uint8)
>>> rows = gallery_rows(real, {"SMOTE": real[:2]})
>>> [r.label for r in rows], rows[1].distances.tolist()
(['Real', 'SMOTE'], [0.0, 0.0])
>>> gallery_grid(rows).shape[2]
3
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from gda_core.metrics.memorisation import nearest_real, nearest_training

COPY_COLOR = (207, 34, 46)
"""Distance label of an exact copy (distance 0)."""
CLOSE_COLOR = (188, 76, 0)
"""Distance label of a synthesized image closer to a real one than the ``close`` threshold."""
FAR_COLOR = (90, 90, 90)
"""Other distance labels and the secondary row labels."""
TEXT_COLOR = (30, 30, 30)
BACKGROUND = (255, 255, 255)


@dataclass
class GalleryRow:
    """One row of a gallery.

    Attributes
    ----------
    label : str
        Row title (e.g. ``"Real"`` or a method's name).
    images : ndarray of uint8, shape (n, C, H, W)
        The images of the row (may be empty).
    neighbours : ndarray of uint8, shape (n, C, H, W), optional
        For synthesized rows: the nearest real image of each image.
    distances : ndarray of float, shape (n,), optional
        L2 distance to that neighbour (pixel values scaled to [0, 1]).
    note : str
        Shown instead of images when the row is empty (e.g. "none synthesized").
    mark_close : bool
        Colour distances below the grid's ``close`` threshold as near copies.  Turn it off
        for images the quality gate judged noise or far from real ones: a featureless blob
        is close in pixels to every real image without copying any.
    """

    label: str
    images: np.ndarray
    neighbours: np.ndarray | None = None
    distances: np.ndarray | None = None
    note: str = ""
    mark_close: bool = True


def gallery_rows(real: np.ndarray, synthesized: Mapping[str, np.ndarray | None],
                 reference: np.ndarray | None = None, *, per_row: int = 8) -> list[GalleryRow]:
    """A ``"Real"`` row, then one row per method with nearest real neighbours.

    Parameters
    ----------
    real : ndarray of uint8, shape (n, C, H, W)
        Real images of the class, shown in the first row.
    synthesized : mapping of str to ndarray of uint8 or None
        Row label (method) -> its synthesized images of the class (None or empty when it
        made none).
    reference : ndarray of uint8, shape (m, C, H, W), optional
        Real images the neighbours are searched among (default ``real``); pass every real
        training image of the class for a meaningful memorisation check.  With two or
        more, the neighbour is found after aligning flips and shifts and the number under
        it is the copy ratio (:func:`~gda_core.metrics.memorisation.copy_ratios`: about 1
        for a new real image, near 0 for a copy); with one, the L2 pixel distance.
    per_row : int
        At most this many images per row.

    Returns
    -------
    list of GalleryRow
    """
    real = np.asarray(real, dtype=np.uint8)[:per_row]
    ref = real if reference is None else np.asarray(reference, dtype=np.uint8)
    rows = [GalleryRow("Real", real)]
    for label, images in synthesized.items():
        if images is None or len(images) == 0:
            rows.append(GalleryRow(label, real[:0], note="none synthesized for this class"))
            continue
        shown = np.asarray(images, dtype=np.uint8)[:per_row]
        if len(ref) >= 2 and shown.shape[1:] == ref.shape[1:]:
            idx, dist = nearest_training(shown, ref)  # aligned; the copy ratio
            same = np.array([np.array_equal(a, ref[i]) for a, i in zip(shown, idx,
                                                                       strict=True)])
            dist = np.where(same, 0.0, np.maximum(dist, 1e-3))  # 0 only for a true copy
        else:
            idx, dist = nearest_real(shown / np.float32(255), ref / np.float32(255))
        rows.append(GalleryRow(label, shown, ref[idx], dist))
    return rows


def gallery_grid(rows: Sequence[GalleryRow], *, scale: int = 1, pad: int = 2,
                 close: float | None = None, font_size: int = 12,
                 neighbour_label: str = "nearest real") -> np.ndarray:
    """Draw gallery rows into one RGB image.

    Each row shows its images side by side after its label; a row with neighbours gets a
    second line of those neighbours, with the distance under each (red for an exact copy,
    orange when closer than ``close``, grey otherwise).

    Parameters
    ----------
    rows : sequence of GalleryRow
        As made by :func:`gallery_rows`; every image has the same ``(C, H, W)``.
    scale : int
        Nearest-neighbour upscaling of the images.
    pad : int
        Pixels between images.
    close : float, optional
        Distances below it are marked as close (e.g. the median of
        :func:`gda_core.metrics.memorisation.real_spacing`).
    font_size : int
    neighbour_label : str
        Label of the neighbour lines.

    Returns
    -------
    ndarray of uint8, shape (H', W', 3)
    """
    from PIL import Image, ImageDraw

    shapes = {r.images.shape[1:] for r in rows if len(r.images)}
    if not shapes:
        raise ValueError("gallery_grid needs at least one image")
    if len(shapes) > 1:
        raise ValueError(f"gallery images differ in shape: {sorted(shapes)}")
    _, h, w = next(iter(shapes))
    h, w = h * scale, w * scale
    font = _font(font_size)
    line = font_size + 4
    n_cols = max(len(r.images) for r in rows)
    labels = [r.label for r in rows] + [neighbour_label]
    label_w = int(max(font.getlength(t) for t in labels)) + 3 * pad + 8
    heights = [_row_height(r, h, pad, line) for r in rows]
    gap = 3 * pad + 4
    width = label_w + n_cols * (w + pad) + pad
    width = max(width, label_w + int(max((font.getlength(r.note) for r in rows), default=0))
                + 2 * pad)
    height = sum(heights) + gap * (len(rows) - 1) + 2 * pad
    canvas = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    y = pad
    for row, row_h in zip(rows, heights, strict=True):
        draw.text((pad, y + max(0, (h - line) // 2)), row.label, fill=TEXT_COLOR, font=font)
        if not len(row.images):
            draw.text((label_w, y), row.note, fill=FAR_COLOR, font=font)
        for i, img in enumerate(row.images):
            canvas.paste(_pil(img, scale), (label_w + i * (w + pad), y))
        if row.neighbours is not None and len(row.images):
            y2 = y + h + pad
            draw.text((pad, y2 + max(0, (h - line) // 2)), neighbour_label, fill=FAR_COLOR,
                      font=font)
            for i, (img, d) in enumerate(zip(row.neighbours, row.distances, strict=True)):
                x = label_w + i * (w + pad)
                canvas.paste(_pil(img, scale), (x, y2))
                text, color = _distance_text(float(d), close if row.mark_close else None)
                tw = font.getlength(text)
                draw.text((x + max(0, (w - tw) / 2), y2 + h + 1), text, fill=color, font=font)
        y += row_h + gap
    return np.asarray(canvas, dtype=np.uint8)


def _row_height(row: GalleryRow, h: int, pad: int, line: int) -> int:
    if not len(row.images):
        return line
    if row.neighbours is None:
        return h
    return 2 * h + pad + line


def _distance_text(d: float, close: float | None) -> tuple[str, tuple[int, int, int]]:
    if d <= 1e-6:
        return "copy", COPY_COLOR
    text = f"{d:.2f}" if d < 10 else f"{d:.1f}"
    if close is not None and d < close:
        return text, CLOSE_COLOR
    return text, FAR_COLOR


def _pil(img: np.ndarray, scale: int):
    """A ``(C, H, W)`` uint8 image as an RGB PIL image, upscaled by ``scale``."""
    from PIL import Image

    arr = np.asarray(img, dtype=np.uint8)
    if scale > 1:
        arr = arr.repeat(scale, axis=1).repeat(scale, axis=2)
    arr = np.repeat(arr, 3, axis=0) if arr.shape[0] == 1 else arr[:3]
    return Image.fromarray(np.ascontiguousarray(arr.transpose(1, 2, 0)), "RGB")


@lru_cache(maxsize=4)
def _font(size: int):
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # old Pillow or no FreeType: bitmap font
        return ImageFont.load_default()
