"""FID, precision / recall / density / coverage, diversity, and the CNN feature extractor."""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import threadpoolctl
import torch

from gda_core.errors import ConfigError, GDAError
from gda_core.metrics.features import FeatureExtractor, dataset_fingerprint
from gda_core.metrics.sample_quality import (
    euclidean_distances,
    fid,
    frechet_distance,
    kth_neighbour_distance,
    mean_pairwise_distance,
    prdc,
    sample_quality,
    sample_quality_per_class,
)

# Small and fast: about a second of training on the 1,797 digits.
FAST = {"epochs": 3, "width": 8, "fc_units": 32, "lr": 5e-3, "device": "cpu"}


def gaussian(n: int = 400, d: int = 8, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, d))


def clusters(centres: np.ndarray, per: int, seed: int, spread: float = 1.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.concatenate([c + spread * rng.normal(size=(per, centres.shape[1]))
                           for c in centres])


# --------------------------------------------------------------------------- FID
def test_fid_of_a_set_with_itself_is_zero():
    x = gaussian()
    assert fid(x, x) == pytest.approx(0.0, abs=1e-6)


def test_fid_grows_with_added_noise():
    x = gaussian()
    rng = np.random.default_rng(1)
    noise = rng.normal(size=x.shape)
    scores = [fid(x, x + level * noise) for level in (0.0, 0.3, 1.0, 3.0)]
    assert scores[0] == pytest.approx(0.0, abs=1e-6)
    assert scores[1] < scores[2] < scores[3]
    assert scores[1] > 1e-3


def test_fid_by_hand_for_gaussians():
    # Means 0 and (3, 4): |mu1 - mu2|^2 = 25; covariances I and 4I: d (1 - 2)^2 = 2.
    assert frechet_distance(np.zeros(2), np.eye(2), np.array([3.0, 4.0]),
                            4 * np.eye(2)) == pytest.approx(27.0)


def test_fid_handles_singular_covariances():
    # Fewer samples than dimensions, and a constant (dead) feature: singular covariances.
    rng = np.random.default_rng(0)
    real = rng.normal(size=(10, 32))
    fake = rng.normal(size=(12, 32)) + 0.5
    real[:, 0] = fake[:, 0] = 0.0
    value = fid(real, fake)
    assert math.isfinite(value) and value > 0
    assert fid(real, real) == pytest.approx(0.0, abs=1e-3)
    assert math.isnan(fid(real[:1], fake))


def test_fid_rejects_mismatched_features():
    with pytest.raises(GDAError, match="dimension"):
        fid(gaussian(d=4), gaussian(d=5))
    with pytest.raises(GDAError, match="2-D"):
        fid(np.zeros(5), np.zeros(5))


# -------------------------------------------------------------------------- PRDC
def prdc_by_differences(real: np.ndarray, fake: np.ndarray, k: int) -> dict[str, float]:
    """PRDC with every distance from the differences (no matrix product): the reference."""
    def sq(a, b):
        diff = a[:, None, :] - b[None, :, :]
        return np.sum(diff * diff, axis=2)

    r_real = np.sort(sq(real, real), axis=1)[:, k]
    r_fake = np.sort(sq(fake, fake), axis=1)[:, k]
    d = sq(real, fake)
    in_real = d < r_real[:, None]
    return {"precision": float(np.mean(in_real.any(axis=0))),
            "recall": float(np.mean((d < r_fake[None, :]).any(axis=1))),
            "density": float(np.mean(in_real.sum(axis=0)) / k),
            "coverage": float(np.mean(in_real.any(axis=1)))}


def test_prdc_identical_sets():
    x = gaussian(300, 4)
    scores = prdc(x, x.copy(), k=5)
    assert scores["precision"] == 1.0 and scores["recall"] == 1.0
    assert scores["coverage"] == 1.0
    # Each real ball holds its centre and k - 1 neighbours strictly inside, its k-th
    # neighbour on its boundary: density = k / k, exactly, on any CPU.
    assert scores["density"] == 1.0


@pytest.mark.parametrize("offset", [0.0, 1e3, 1e5])
def test_prdc_decides_the_boundary_from_exact_distances(offset):
    """Features far from the origin make the matrix product's rounding larger than the
    gaps between neighbours; the scores still equal those from exact differences, also
    with duplicates, ties and identical sets (where the k-th neighbour sits exactly on
    the boundary)."""
    rng = np.random.default_rng(3)
    real = offset + np.round(rng.normal(size=(120, 16)), 2)
    real[10:20] = real[:10]  # duplicates
    fake = np.concatenate([real[:60], offset + np.round(rng.normal(size=(60, 16)), 2)])
    for a, b in ((real, fake), (real, real.copy()), (fake, real)):
        for k in (1, 3, 5):
            assert prdc(a, b, k=k) == prdc_by_differences(a, b, k), (offset, k)
    assert prdc(real, real.copy(), k=5)["density"] == prdc_by_differences(
        real, real, 5)["density"]


def test_kth_neighbour_distance_is_the_exact_distance_to_one_row():
    rng = np.random.default_rng(4)
    x = 1e4 + rng.normal(size=(200, 32))
    x[50:60] = x[:10]
    for k in (1, 2, 5):
        diff = x[:, None, :] - x[None, :, :]
        exact = np.sqrt(np.sort(np.sum(diff * diff, axis=2), axis=1)[:, k])
        assert np.array_equal(kth_neighbour_distance(x, k), exact)


def test_prdc_fake_far_away_is_all_zero():
    x = gaussian(100, 4)
    assert prdc(x, x + 100.0, k=5) == {"precision": 0.0, "recall": 0.0, "density": 0.0,
                                      "coverage": 0.0}


def test_prdc_fake_covering_half_of_the_real_clusters():
    centres = 50.0 * np.eye(4)                  # four well separated clusters
    real = clusters(centres, 60, seed=0)
    fake = clusters(centres[:2], 60, seed=1)    # same spread, two clusters only
    scores = prdc(real, fake, k=5)
    assert scores["precision"] > 0.9            # every fake looks real ...
    assert scores["recall"] == pytest.approx(0.5, abs=0.06)    # ... but half is missed
    assert scores["coverage"] == pytest.approx(0.5, abs=0.06)
    assert 0.7 < scores["density"] < 1.3


def test_prdc_by_hand_on_a_line():
    # Real 0, 1, 2, 3: k=1 radii 1, 1, 1, 1.  Fake 0.5, 0.7, 10, 10.5: radii .2, .2, .5, .5.
    real = np.array([[0.0], [1.0], [2.0], [3.0]])
    fake = np.array([[0.5], [0.7], [10.0], [10.5]])
    scores = prdc(real, fake, k=1)
    assert scores["precision"] == pytest.approx(0.5)    # 0.5 and 0.7 lie in real balls
    assert scores["density"] == pytest.approx(1.0)      # each in 2 (of reals 0 and 1): 4/4
    assert scores["recall"] == pytest.approx(0.0)       # no real within 0.2 of 0.5 or 0.7
    assert scores["coverage"] == pytest.approx(0.5)     # reals 0 and 1 have a fake within 1


def test_prdc_needs_more_samples_than_k():
    with pytest.raises(GDAError, match="more than 5"):
        prdc(gaussian(5, 2), gaussian(20, 2), k=5)
    with pytest.raises(GDAError, match="k must"):
        prdc(gaussian(20, 2), gaussian(20, 2), k=0)


def test_prdc_chunking_gives_the_same_answer(monkeypatch):
    from gda_core.metrics import sample_quality as sq

    real, fake = gaussian(120, 3, seed=0), gaussian(90, 3, seed=1) + 0.3
    whole = prdc(real, fake, k=4)
    monkeypatch.setattr(sq, "_CHUNK", 7 * 120)   # 7 fakes per block
    assert prdc(real, fake, k=4) == whole


# --------------------------------------------------------------------- diversity
def test_diversity_zero_for_identical_images_larger_for_noise():
    rng = np.random.default_rng(0)
    same = np.repeat(rng.integers(0, 256, (1, 1, 8, 8), dtype=np.uint8), 10, axis=0)
    noise = rng.integers(0, 256, (10, 1, 8, 8), dtype=np.uint8)
    assert mean_pairwise_distance(same) == 0.0
    d = mean_pairwise_distance(noise)
    # Uniform pixels in [0, 1]: RMS difference about sqrt(1/6) = 0.41.
    assert d == pytest.approx(math.sqrt(1 / 6), abs=0.05)
    assert 0.0 < mean_pairwise_distance(same // 2 + noise // 8) < d


def test_diversity_of_features_and_subsampling():
    x = np.array([[0.0, 0.0], [3.0, 4.0], [6.0, 8.0]])   # distances 5, 10, 5
    assert mean_pairwise_distance(x) == pytest.approx(20 / 3)
    big = gaussian(300, 2)
    a = mean_pairwise_distance(big, max_samples=50, random_state=1)
    assert a == mean_pairwise_distance(big, max_samples=50, random_state=1)
    assert a == pytest.approx(mean_pairwise_distance(big), rel=0.2)
    assert math.isnan(mean_pairwise_distance(x[:1]))
    with pytest.raises(GDAError, match="uint8 images"):
        mean_pairwise_distance(np.zeros((2, 1, 8, 8), np.float32))



def test_distances_by_matrix_product_match_scipy_and_keep_copies_at_zero():
    # wide rows (64x64 RGB images) go through |a|^2 + |b|^2 - 2 a.b: within 1e-9 of scipy,
    # a copy exactly 0 apart, and images one grey level apart in one value not 0
    from scipy.spatial.distance import cdist, pdist

    rng = np.random.default_rng(3)
    images = rng.integers(0, 256, (40, 3, 64, 64), dtype=np.uint8)
    images[1] = images[0]
    images[2] = images[0]
    images[2, 0, 5, 7] ^= 1
    flat = images.reshape(40, -1) / 255.0
    d = euclidean_distances(flat, flat)
    assert np.abs(d - cdist(flat, flat)).max() < 1e-9
    assert d[0, 1] == 0.0 and d[1, 0] == 0.0 and np.all(np.diagonal(d) == 0.0)
    assert d[0, 2] == pytest.approx(1 / 255)
    expected = pdist(flat).mean() / math.sqrt(flat.shape[1])
    assert mean_pairwise_distance(images) == pytest.approx(expected, rel=1e-12)
    same = np.repeat(images[:1], 5, axis=0)
    assert mean_pairwise_distance(same) == 0.0


def test_kth_neighbour_distance_in_blocks(monkeypatch):
    from scipy.spatial.distance import cdist

    import gda_core.metrics.sample_quality as sq

    x = gaussian(150, 20, seed=4)
    x[1] = x[0]  # a duplicate is a neighbour at distance 0
    expected = np.sort(cdist(x, x), axis=1)[:, 3]
    assert np.allclose(kth_neighbour_distance(x, 3), expected, rtol=0, atol=1e-9)
    assert kth_neighbour_distance(x, 1)[0] == 0.0
    monkeypatch.setattr(sq, "_CHUNK", 7 * 150)  # 7 rows per block
    assert np.allclose(kth_neighbour_distance(x, 3), expected, rtol=0, atol=1e-9)


def test_quality_scores_run_numpy_in_one_blas_thread():
    # after torch's threads, numpy's BLAS threads fight them for 2 cores (6x slower
    # distances); the gate and the per-class scores run their numpy work in one thread
    from threadpoolctl import threadpool_info

    from gda_core.metrics.gate import gate_scores

    seen: list[int] = []

    class Recording:
        def transform(self, images):
            seen.extend(lib["num_threads"] for lib in threadpool_info()
                        if lib["user_api"] == "blas")
            return images.reshape(len(images), -1)[:, :16].astype(np.float64)

    rng = np.random.default_rng(0)
    real = rng.integers(0, 256, (30, 1, 8, 8), dtype=np.uint8)
    fake = rng.integers(0, 256, (20, 1, 8, 8), dtype=np.uint8)
    gate_scores(real, real[:10], fake, extractor=Recording(), structure=False)
    sample_quality_per_class(real, np.zeros(30), fake, np.zeros(20), Recording())
    assert seen and set(seen) == {1}
    outside = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    if torch.get_num_threads() > 1:  # the limit is gone after the call
        assert max(outside) > 1

# -------------------------------------------------------------- feature extractor
@pytest.fixture(scope="module")
def digits_extractor(digits_splits, tmp_path_factory):
    train = digits_splits.train
    cache = tmp_path_factory.mktemp("feature-cache")
    ext = FeatureExtractor.cached(train.images, train.labels, cache, random_state=0, **FAST)
    return ext, cache


def test_extractor_features_separate_the_digits(digits_splits, digits_extractor):
    ext, _ = digits_extractor
    train = digits_splits.train
    assert not ext.from_cache_
    feats = ext.transform(train.images)
    assert feats.shape == (len(train), 32) and feats.dtype == np.float64
    # Nearest-centroid accuracy on held-out images (first 1,500 for the centroids).
    centroids = np.stack([feats[:1500][train.labels[:1500] == c].mean(0) for c in range(10)])
    dists = ((feats[1500:, None, :] - centroids[None]) ** 2).sum(-1)
    accuracy = float(np.mean(dists.argmin(1) == train.labels[1500:]))
    assert accuracy > 0.5                                           # chance: 0.1


def test_extractor_cache_returns_identical_features_without_training(
        digits_splits, digits_extractor, monkeypatch):
    ext, cache = digits_extractor
    train = digits_splits.train
    assert len(list(cache.glob("extractor-*.pt"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("the cached extractor was retrained")

    monkeypatch.setattr(FeatureExtractor, "fit", no_training)
    again = FeatureExtractor.cached(train.images, train.labels, cache, random_state=0, **FAST)
    assert again.from_cache_
    assert np.array_equal(again.transform(train.images[:200]),
                          ext.transform(train.images[:200]))
    # Other data or other settings miss the cache (and would train).
    with pytest.raises(AssertionError, match="retrained"):
        FeatureExtractor.cached(train.images, train.labels, cache, random_state=1, **FAST)
    with pytest.raises(AssertionError, match="retrained"):
        FeatureExtractor.cached(train.images[:-1], train.labels[:-1], cache, random_state=0,
                                **FAST)


def test_extractor_save_load_round_trip(digits_splits, digits_extractor, tmp_path):
    ext, _ = digits_extractor
    x = digits_splits.train.images[:50]
    rng_state = torch.get_rng_state()
    loaded = FeatureExtractor.load(ext.save(tmp_path / "ext.pt"), device="cpu")
    assert torch.equal(torch.get_rng_state(), rng_state)           # no global RNG draws
    assert np.array_equal(loaded.transform(x), ext.transform(x))
    assert loaded.settings() == ext.settings() and loaded.report_ == ext.report_
    (tmp_path / "bad.pt").write_bytes(b"not a model")
    with pytest.raises(GDAError, match="not a readable"):
        FeatureExtractor.load(tmp_path / "bad.pt")
    with pytest.raises(GDAError, match="no saved"):
        FeatureExtractor.load(tmp_path / "missing.pt")


def test_extractor_input_checks(digits_extractor):
    ext, _ = digits_extractor
    with pytest.raises(ConfigError, match="trained on"):
        ext.transform(np.zeros((2, 1, 16, 16), np.uint8))
    with pytest.raises(ConfigError, match="uint8"):
        ext.transform(np.zeros((2, 1, 8, 8), np.float32))
    with pytest.raises(GDAError, match="not trained"):
        FeatureExtractor().transform(np.zeros((2, 1, 8, 8), np.uint8))


def test_fingerprint_depends_on_images_labels_and_settings():
    x = np.zeros((3, 1, 4, 4), np.uint8)
    base = dataset_fingerprint(x, [0, 1, 2], {"epochs": 3})
    y = x.copy()
    y[0, 0, 0, 0] = 1
    assert base == dataset_fingerprint(x.copy(), np.array([0, 1, 2]), {"epochs": 3})
    assert base != dataset_fingerprint(y, [0, 1, 2], {"epochs": 3})
    assert base != dataset_fingerprint(x, [0, 1, 1], {"epochs": 3})
    assert base != dataset_fingerprint(x, [0, 1, 2], {"epochs": 4})
    assert base != dataset_fingerprint(x.reshape(3, 1, 2, 8), [0, 1, 2], {"epochs": 3})


# ---------------------------------------------------------------- sample quality
def test_sample_quality_real_versus_noise(digits_splits, digits_extractor):
    ext, _ = digits_extractor
    train = digits_splits.train
    threes = train.images[train.labels == 3]
    real, held_out = threes[:90], threes[90:]
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 256, held_out.shape, dtype=np.uint8)
    good = sample_quality(real, held_out, ext, k=5)
    bad = sample_quality(real, noise, ext, k=5)
    assert set(good) >= {"fid", "precision", "recall", "density", "coverage", "diversity",
                         "diversity_real", "n_real", "n_fake", "k"}
    assert good["n_real"] == 90 and good["n_fake"] == len(held_out) and good["k"] == 5
    assert good["fid"] < bad["fid"]
    assert good["precision"] > bad["precision"] and good["coverage"] > bad["coverage"]
    assert bad["diversity"] > good["diversity"]        # noise is more diverse than digits


def test_sample_quality_small_sets_and_per_class(digits_splits, digits_extractor):
    ext, _ = digits_extractor
    train = digits_splits.train
    x, y = train.images[:300], train.labels[:300]
    few = sample_quality(x[y == 1], x[y == 1][:3], ext, k=5)     # 3 fakes: k lowered to 2
    assert few["k"] == 2 and math.isfinite(few["precision"])
    one = sample_quality(x[y == 1], x[y == 1][:1], ext)
    assert one["k"] == 0 and math.isnan(one["fid"]) and math.isnan(one["coverage"])
    fake_y = np.array([3] * 10 + [8] * 10)
    fake = np.concatenate([x[y == 3][:10], x[y == 8][:10]])
    per = sample_quality_per_class(x, y, fake, fake_y, ext, k=3)
    assert list(per) == [3, 8]
    assert per[3]["n_fake"] == 10 and per[3]["n_real"] == int(np.sum(y == 3))
    alone = sample_quality(x[y == 3], x[y == 3][:10], ext, k=3)
    # features computed in other batches differ by rounding: continuous scores agree to
    # 1e-5, counting scores to one neighbourhood flip (1 / (k * n_fake))
    counted = {"precision", "recall", "density", "coverage"}
    assert {k: v for k, v in per[3].items() if k not in counted} == pytest.approx(
        {k: v for k, v in alone.items() if k not in counted}, rel=1e-5)
    assert {k: per[3][k] for k in counted} == pytest.approx(
        {k: alone[k] for k in counted}, abs=1 / (3 * 10) + 1e-9)


def test_forced_lower_kernels_take_effect():
    """``make test-kernels`` forces lower CPU kernels through the environment; if a new
    numpy or OpenBLAS ignored those variables, the numerical tests would run on this
    CPU's best kernels again without a word."""
    blas = os.environ.get("OPENBLAS_CORETYPE")
    disabled = os.environ.get("NPY_DISABLE_CPU_FEATURES", "").split()
    if not blas and not disabled:
        pytest.skip("kernels not forced (make test-kernels forces them)")
    if blas:
        archs = [i.get("architecture", "") for i in threadpoolctl.threadpool_info()
                 if i.get("internal_api") == "openblas"]
        assert archs and all(a.lower() == blas.lower() for a in archs), archs
    from numpy._core._multiarray_umath import __cpu_features__

    for feature in disabled:
        assert not __cpu_features__.get(feature, False), feature
