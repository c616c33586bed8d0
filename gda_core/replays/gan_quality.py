"""Two GAN replays scored by sample quality (FID, diversity) on our own CNN's features:

- ``gan-contrast``: the AM study's contrast of an MLP GAN with a DCGAN at 128 x 128 (the MLP
  GAN gives noise even with every image of the class);
- ``gan-diversity``: MAD-GAN vs DCGAN vs conditional GAN on MNIST / Fashion-MNIST
  (MAD-GAN's several generators are meant to cover more modes).
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd

from gda_core.datasets.transforms import resize_images
from gda_core.metrics.features import FeatureExtractor
from gda_core.metrics.sample_quality import sample_quality
from gda_core.replays.base import (
    Check,
    Progress,
    ReplayOptions,
    ReplayResult,
    paper_gan_params,
)
from gda_core.replays.data import gan_images
from gda_core.synthesizers import SYNTHESIZERS

CONTRAST_TITLE = "AM study: MLP GAN vs DCGAN at 128 x 128"
DIVERSITY_TITLE = "MAD-GAN vs DCGAN vs conditional GAN: diversity and FID"
_SIZE = {"smoke": 16, "quick": 32, "full": 128}
_STEPS = {"smoke": 20, "quick": 400, "full": 3000}


def _score(extractor, real: np.ndarray, fake: np.ndarray, seed: int) -> dict[str, float]:
    s = sample_quality(real, fake, extractor, random_state=seed)
    return {k: s[k] for k in ("fid", "precision", "recall", "coverage", "diversity",
                              "diversity_real")}


def _train(name: str, X, y, classes, steps: int, seed: int, progress, lo: float, hi: float,
           **params):
    synth = SYNTHESIZERS[name](random_state=seed, epochs=1, min_steps=steps,
                               **{**paper_gan_params(name), **params})
    total = steps * (1 if synth.conditional else len(classes))
    count = [0]

    def on_step(event: dict) -> None:
        count[0] += 1
        progress(lo + (hi - lo) * min(1.0, count[0] / total), f"{synth.label}: step "
                 f"{count[0]} of {total}")

    return synth.fit(X, y, classes=classes, callback=on_step)


def run_contrast(options: ReplayOptions, progress: Progress) -> ReplayResult:
    t0 = time.perf_counter()
    X, y, desc, notes = gan_images(options, "mnist", classes=[1], limit=6000)
    size, steps = _SIZE[options.scale], _STEPS[options.scale]
    X = resize_images(X, size)
    y = np.zeros(len(X), dtype=np.int64)
    progress(0.0, "training the feature extractor")
    extractor = FeatureExtractor(epochs=3).fit(
        *_extractor_data(options, size), random_state=options.seed)
    rows = []
    for i, name in enumerate(("gan", "dcgan")):
        synth = _train(name, X, y, [0], steps, options.seed, progress, 0.1 + 0.45 * i,
                       0.1 + 0.45 * (i + 1))
        fake = synth.sample(min(500, len(X)), 0)
        rows.append({"model": synth.label, **_score(extractor, X[:500], fake, options.seed)})
    ours = pd.DataFrame(rows)
    fid = dict(zip(ours["model"], ours["fid"], strict=True))
    mlp, dc = ours["model"]
    published = pd.DataFrame([{"model": mlp, "published": "noise, even full-shot"},
                              {"model": dc, "published": "recognisable images"}])
    checks = [Check("the MLP GAN's samples are much worse (higher FID) than DCGAN's",
                    "MLP GAN noise, DCGAN recognisable",
                    f"FID {fid[mlp]:.1f} vs {fid[dc]:.1f}", fid[mlp] > 1.5 * fid[dc])]
    notes = [f"Data: {desc}, digit 1 only (full-shot: every image of the class), resized "
             f"to {size}x{size}; {steps} generator steps each ({options.scale} scale; 'full' "
             "uses 128x128 as in the study).",
             "FID, precision, recall and coverage use our own CNN's features (trained here on "
             "the same data); lower FID is better.", *notes]
    progress(1.0, "done")
    return ReplayResult("gan-contrast", CONTRAST_TITLE, published, ours, checks, notes,
                        time.perf_counter() - t0)


def _extractor_data(options: ReplayOptions, size: int) -> tuple[np.ndarray, np.ndarray]:
    X, y, _, _ = gan_images(options, "mnist", limit=6000)
    return resize_images(X, size), y


def run_diversity(options: ReplayOptions, progress: Progress) -> ReplayResult:
    t0 = time.perf_counter()
    source = options.dataset
    classes = [0, 1, 2]
    X, y, desc, notes = gan_images(options, source, classes=classes, limit=1500)
    steps = _STEPS[options.scale]
    progress(0.0, "training the feature extractor")
    Xa, ya, _, _ = gan_images(options, source, limit=6000)
    extractor = FeatureExtractor(epochs=3).fit(Xa, ya, random_state=options.seed)
    rows = []
    names = ("dcgan", "madgan", "cgan")
    for i, name in enumerate(names):
        synth = _train(name, X, y, classes, steps, options.seed, progress,
                       0.1 + 0.3 * i, 0.1 + 0.3 * (i + 1))
        scores = []
        for c in classes:
            real = X[y == c]
            scores.append(_score(extractor, real[:300], synth.sample(min(300, len(real)), c),
                                 options.seed))
        rows.append({"model": synth.label,
                     **{k: float(np.mean([s[k] for s in scores])) for k in scores[0]}})
    ours = pd.DataFrame(rows)
    div = dict(zip(names, ours["diversity"], strict=True))
    fid = dict(zip(names, ours["fid"], strict=True))
    label = dict(zip(names, ours["model"], strict=True))
    published = pd.DataFrame([
        {"model": label["madgan"], "published": "more diverse samples, covers more modes"},
        {"model": label["dcgan"], "published": "prone to mode collapse"},
        {"model": label["cgan"], "published": "one model for all classes"}])
    checks = [
        Check("MAD-GAN's samples are at least as diverse as DCGAN's", "MAD-GAN > DCGAN",
              f"{div['madgan']:.3f} vs {div['dcgan']:.3f}", div["madgan"] >= div["dcgan"]),
        Check("MAD-GAN's FID is no worse than DCGAN's", "MAD-GAN <= DCGAN",
              f"{fid['madgan']:.1f} vs {fid['dcgan']:.1f}", fid["madgan"] <= fid["dcgan"]),
    ]
    notes = [f"Data: {desc}, classes 0, 1, 2 ({len(X)} images); {steps} generator steps per "
             f"model ({options.scale} scale). Scores are means over the three classes.",
             "Diversity is the mean pairwise pixel distance of the samples (the real images' "
             "value is shown for reference); FID and coverage use our own CNN's features.",
             *notes]
    progress(1.0, "done")
    return ReplayResult("gan-diversity", DIVERSITY_TITLE, published, ours, checks, notes,
                        time.perf_counter() - t0)
