"""The CUDA paths: ``device="auto"`` trains every model on the GPU when there is one.

Everything but the first test needs a CUDA GPU and is skipped, with that reason, on
machines without one (the CPU paths are covered by every other test file).
"""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from conftest_synth import fast_params, tiny_xy
from sklearn.datasets import load_digits

from gda_core.classifiers import CNNClassifier
from gda_core.datasets import ImbalanceSpec
from gda_core.devices import resolve_device
from gda_core.experiments import ClassifierConfig, CompareConfig, run_comparison
from gda_core.fastpath import PATHS, REFERENCE, candidates
from gda_core.metrics.features import FeatureExtractor
from gda_core.synthesizers import SYNTHESIZERS, GANSynthesizer

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(),
                                reason="needs a CUDA GPU (none on this machine)")


def test_auto_means_cuda_when_torch_sees_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == "cuda"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == "cpu"


def _digits() -> tuple[np.ndarray, np.ndarray]:
    d = load_digits()
    return (d.images * 255 / 16).astype(np.uint8)[:, None], d.target.astype(np.int64)


def _on(module: torch.nn.Module, kind: str) -> bool:
    return all(p.device.type == kind for p in module.parameters())


@needs_cuda
@pytest.mark.parametrize("fast", [True, False])
def test_classifier_trains_and_predicts_on_the_gpu(fast):
    X, y = _digits()
    clf = CNNClassifier(epochs=3, random_state=0, fast=fast).fit(X[:1500], y[:1500])
    assert clf.device_ == "cuda" and _on(clf.model_, "cuda")
    proba = clf.predict_proba(X[1500:])
    assert isinstance(proba, np.ndarray) and proba.shape == (297, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    assert (proba.argmax(1) == y[1500:]).mean() > 0.7  # it learned, on the GPU
    # the path was timed on the GPU among the candidates it can run (float32 only in
    # both layouts without bfloat16), or is the reference with fast=False
    if fast:
        assert set(clf.fast_path_.times_ms) == {p.name for p in candidates("cuda")}
        assert clf.fast_path_.path.name in PATHS
    else:
        assert clf.fast_path_.path is REFERENCE


@needs_cuda
def test_classifier_is_reproducible_on_the_gpu():
    X, y = _digits()
    a = CNNClassifier(epochs=2, random_state=3, fast=False).fit(X[:600], y[:600])
    b = CNNClassifier(epochs=2, random_state=3, fast=False).fit(X[:600], y[:600])
    np.testing.assert_allclose(a.predict_proba(X[600:700]), b.predict_proba(X[600:700]),
                               atol=1e-4)


@needs_cuda
@pytest.mark.parametrize("name", list(SYNTHESIZERS))
@pytest.mark.parametrize("size,channels", [(8, 1), (32, 3)])
def test_every_synthesizer_trains_samples_and_reloads_on_the_gpu(name, size, channels):
    X, y = tiny_xy(size=size, channels=channels)
    s = SYNTHESIZERS[name](random_state=0, **fast_params(name, device="auto"))
    s.fit(X, y)
    assert s.device_ == "cuda"
    history = s.history_
    assert history and all(np.isfinite(h["d_loss"]) for h in history)
    images = s.sample(6, 1)
    assert images.shape == (6, channels, size, size) and images.dtype == np.uint8
    X_res, y_res = s.fit_resample(X, y)
    assert len(X_res) == len(y_res)
    assert np.bincount(y_res).min() == np.bincount(y_res).max()
    buf = io.BytesIO()
    s.save(buf)
    buf.seek(0)
    on_cpu = GANSynthesizer.load(buf, device="cpu")  # a GPU model opened without one
    assert on_cpu.sample(3, 1).shape == (3, channels, size, size)


@needs_cuda
def test_feature_extractor_on_the_gpu():
    X, y = _digits()
    ext = FeatureExtractor(epochs=1).fit(X[:500], y[:500], random_state=0)
    assert _on(ext.model_, "cuda")
    feats = ext.transform(X[500:600])
    assert feats.shape == (100, ext.n_features) and np.isfinite(feats).all()


@needs_cuda
def test_a_comparison_runs_on_the_gpu_by_default(tmp_path):
    config = CompareConfig(
        imbalance=ImbalanceSpec(ratio=0.2, minority_classes=(3,), classes=(1, 3),
                                test_per_class=20, name="ratio"),
        methods=("baseline", "smote", "dcgan"),
        method_params={"dcgan": fast_params("dcgan", device="auto")},
        seeds=(0,), classifier=ClassifierConfig(epochs=2), quality_cache_dir=str(tmp_path))
    assert config.classifier.device == "auto"
    result = run_comparison(config)
    assert all(run.ok for run in result.runs), result.errors()
    assert len(result.synthetic_samples["dcgan"][1]) > 0
