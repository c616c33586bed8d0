"""Nearest real neighbours (memorisation check) and the per-class gallery image."""

from __future__ import annotations

import numpy as np
import pytest

from gda_core.errors import GDAError
from gda_core.metrics.memorisation import nearest_real, real_spacing
from gda_core.viz.gallery import GalleryRow, gallery_grid, gallery_rows


def _images(n: int, *, channels: int = 1, side: int = 4, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, channels, side, side), dtype=np.uint8)


def test_exact_copy_has_distance_zero_and_its_index():
    real = _images(20)
    fake = real[[13, 2, 19]].copy()
    idx, dist = nearest_real(fake, real)
    assert idx.tolist() == [13, 2, 19]
    assert dist.tolist() == [0.0, 0.0, 0.0]
    assert idx.dtype == np.int64 and dist.dtype == np.float32


def test_hand_computed_distances():
    real = np.array([[0, 0], [3, 4], [10, 10]], dtype=np.float32)
    fake = np.array([[3, 4.5], [9, 10], [0, 1]], dtype=np.float32)
    idx, dist = nearest_real(fake, real)
    assert idx.tolist() == [1, 2, 0]
    np.testing.assert_allclose(dist, [0.5, 1.0, 1.0])


def test_matches_brute_force_in_small_chunks():
    real = _images(40, side=6, seed=1).astype(np.float32) / 255
    fake = _images(25, side=6, seed=2).astype(np.float32) / 255
    brute = np.sqrt(((fake[:, None] - real[None]) ** 2).reshape(25, 40, -1).sum(-1))
    for chunk in (1, 50, 10**7):
        idx, dist = nearest_real(fake, real, chunk_elements=chunk)
        assert idx.tolist() == brute.argmin(1).tolist()
        np.testing.assert_allclose(dist, brute.min(1), rtol=1e-5)


def test_duplicated_real_images_pick_the_first():
    real = np.array([[1.0, 1.0], [5.0, 5.0], [5.0, 5.0]])
    idx, dist = nearest_real(np.array([[5.0, 5.0]]), real)
    assert idx.tolist() == [1] and dist.tolist() == [0.0]


def test_edge_cases():
    idx, dist = nearest_real(np.zeros((0, 1, 4, 4)), _images(3))
    assert idx.shape == (0,) and dist.shape == (0,)
    with pytest.raises(GDAError, match="at least one real"):
        nearest_real(_images(2), np.zeros((0, 1, 4, 4)))
    with pytest.raises(GDAError, match="differ in size"):
        nearest_real(_images(2, side=4), _images(2, side=5))
    with pytest.raises(GDAError, match="NaN"):
        nearest_real(np.full((1, 2), np.nan), np.zeros((1, 2)))


def test_real_spacing_leaves_each_image_out():
    assert real_spacing(np.array([[0.0], [1.0], [3.0], [3.0]])).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert np.isnan(real_spacing(np.zeros((1, 3)))).all()


def test_gallery_rows_pair_synthesized_with_nearest_reference():
    reference = _images(12, seed=3)
    real = reference[:5]
    copies = reference[[7, 9]]
    rows = gallery_rows(real, {"Random": copies, "GAN": None}, reference, per_row=4)
    assert [r.label for r in rows] == ["Real", "Random", "GAN"]
    assert len(rows[0].images) == 4 and rows[0].neighbours is None
    np.testing.assert_array_equal(rows[1].neighbours, copies)
    assert rows[1].distances.tolist() == [0.0, 0.0]
    assert len(rows[2].images) == 0 and "none" in rows[2].note


def test_gallery_grid_shapes():
    real = _images(8, side=8)
    one = gallery_rows(real, {"SMOTE": _images(8, side=8, seed=4)})
    two = gallery_rows(real, {"SMOTE": _images(8, side=8, seed=4),
                              "ADASYN": _images(3, side=8, seed=5)})
    g1, g2 = gallery_grid(one), gallery_grid(two)
    assert g1.dtype == np.uint8 and g1.ndim == 3 and g1.shape[2] == 3
    # real row + synthesized row + neighbour row, each at least one image high
    assert g1.shape[0] >= 3 * 8 and g1.shape[1] >= 8 * 8
    assert g2.shape[0] > g1.shape[0] + 2 * 8 and g2.shape[1] == g1.shape[1]
    big = gallery_grid(one, scale=3)
    assert big.shape[0] >= 3 * 24 and big.shape[1] >= 8 * 24 and big.shape[1] > g1.shape[1]
    # the first real image is drawn, upscaled, somewhere in the grid
    img = np.repeat(np.repeat(real[0, 0], 3, 0), 3, 1)
    found = any(np.array_equal(big[y:y + 24, x:x + 24, 0], img)
                for y in range(0, 12) for x in range(0, big.shape[1] - 24))
    assert found


def test_gallery_grid_colour_images_and_errors():
    real = _images(4, channels=3, side=5)
    grid = gallery_grid(gallery_rows(real, {"M": real[:2]}), scale=2)
    assert grid.shape[2] == 3
    with pytest.raises(ValueError, match="differ in shape"):
        gallery_grid([GalleryRow("a", _images(1, side=4)), GalleryRow("b", _images(1, side=5))])
    with pytest.raises(ValueError, match="at least one image"):
        gallery_grid([GalleryRow("a", _images(0))])


def _has_colour(grid: np.ndarray, colour: tuple[int, int, int]) -> bool:
    return bool(np.all(grid == np.asarray(colour, np.uint8), axis=2).any())


def test_near_copy_marking_is_off_for_rows_that_failed_the_gate():
    """A featureless blob is close in pixels to every real image without copying any."""
    from gda_core.viz.gallery import CLOSE_COLOR

    real = _images(8, side=8, seed=6)
    near = np.clip(real[:4].astype(int) + 1, 0, 255).astype(np.uint8)   # near copies
    rows = gallery_rows(real, {"GAN": near}, per_row=4)
    assert (rows[1].distances > 0).all()
    marked = gallery_grid(rows, close=10.0, font_size=14)
    assert _has_colour(marked, CLOSE_COLOR)
    rows[1].mark_close = False                  # what the page does for noise / unlike-real
    assert not _has_colour(gallery_grid(rows, close=10.0, font_size=14), CLOSE_COLOR)
