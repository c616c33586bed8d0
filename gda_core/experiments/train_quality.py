"""FID of a GAN's fixed-noise samples during training (the Train job's optional probe).

Features come from our own CNN trained on the full training data of the dataset (cached,
no downloaded weights; see :mod:`gda_core.metrics.features`). The reference is up to
``max_real`` real images of the class being learned (conditional models: of every learned
class). With only the fixed-noise batch as fakes (64 images) the FID is a noisy but
comparable trend, not a publishable score.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from gda_core.datasets import DatasetSplits, ImbalancedData
from gda_core.metrics.features import FeatureExtractor
from gda_core.metrics.sample_quality import fid


class QualityProbe:
    """Call with ``(step, images, key)`` after each sample grid; returns ``{"fid": value}``
    every ``every`` steps of a model (``key`` = its class, or ``None`` for one model),
    else ``None``."""

    def __init__(self, splits: DatasetSplits, data: ImbalancedData, classes: Sequence[int], *,
                 conditional: bool, every: int, cache_dir: str | Path,
                 max_real: int = 1000, seed: int = 0) -> None:
        full = splits.train
        self.extractor = FeatureExtractor.cached(full.images, full.labels, cache_dir,
                                                 random_state=seed, epochs=3)
        rng = np.random.default_rng(seed)
        self.real: dict[int | None, np.ndarray] = {}
        pooled = []
        for c in classes:
            idx = np.flatnonzero(full.labels == data.source_classes[c])
            idx = np.sort(rng.permutation(idx)[:max_real])
            feats = self.extractor.transform(full.images[idx])
            self.real[int(c)] = feats
            pooled.append(feats)
        if conditional:
            self.real = {None: np.concatenate(pooled)}
        self.every = int(every)
        self._next: dict[int | None, int] = {}

    def __call__(self, step: int, images: np.ndarray, key: int | None) -> dict | None:
        if key not in self.real or step < self._next.get(key, self.every):
            return None
        self._next[key] = step + self.every
        return {"fid": float(fid(self.real[key], self.extractor.transform(images)))}
