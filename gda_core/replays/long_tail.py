"""The long-tail benchmark (Dam et al. 2022, Table II): MNIST-LT and Fashion-MNIST-LT with
training counts 4000 ... 40 (imbalance factor 100); ACSA, macro F1, G-mean, majority
precision and minority recall per method over seeds, with intervals.

Every number set beside the paper's uses the paper's definition (see :data:`METRICS`):
its G-mean is the mean over classes of sqrt(sensitivity × specificity) (``G-mean
(sens×spec)``, which can exceed ACSA, as the published 0.9781 > 0.9613 does) and its
minority recall is the smallest class's (``R_min (smallest class)``).  At ``full`` scale
the run follows the paper's data protocol and latent size (published counts, the full test
sets, autoencoder latent size 64); :func:`protocol_notes` says what the smaller scales
change."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gda_core.datasets import ImbalanceSpec, load_source
from gda_core.datasets import default_cache_dir as decoded_cache_dir
from gda_core.experiments import ClassifierConfig, CompareConfig, DataConfig, run_comparison
from gda_core.experiments.config import BASELINE
from gda_core.metrics.stats import summarise
from gda_core.oversampling import OVERSAMPLERS
from gda_core.replays.base import (
    Progress,
    ReplayOptions,
    ReplayResult,
    paper_gan_params,
)
from gda_core.replays.verdicts import beats, best

FULL_COUNTS = (4000, 2000, 1000, 750, 500, 350, 200, 100, 60, 40)
GMEAN = "G-mean (sens×spec)"
RMIN = "R_min (smallest class)"
METRICS = {"acsa": "ACSA", "f1_macro": "F_macro", "gmean_sens_spec": GMEAN,
           "majority_precision": "P_maj", "smallest_class_recall": RMIN}
"""Metric key -> column of the tables beside the paper, each in the paper's definition:
``gmean_sens_spec`` (not ``gmean``, the geometric mean of recalls, which can never
exceed ACSA) and ``smallest_class_recall`` (not ``minority_recall``, the mean over the
nine minority classes).  P_maj is the precision of class 0, the only majority class."""
METHODS = ("baseline", "smote", "dcgan", "cgan", "adso+q", "amo+q")
PAPER_LATENT = 64
"""Latent size of the paper's autoencoder (the prior of G); the product's default is 32."""
ALL_TEST = 100_000
"""``test_per_class`` asking for every test image; the test set stays balanced, so it is
capped at the smallest class of the source's test split (MNIST: 892 of digit 5;
Fashion-MNIST: all 1000 of every class)."""
#: Dam et al. 2022, Table II: (ACSA, F_macro, G-mean), their G-mean being the macro mean
#: of sqrt(sensitivity x specificity).
PUBLISHED = {
    "mnist": {"ADSO": (0.9613, 0.9609, 0.9781), "AMO": (0.9403, 0.9386, 0.9656),
              "DSO+Q": (0.9339, 0.9325, 0.9619), "GAMO": (0.8826, 0.8794, 0.9308),
              "BAGAN": (0.8848, 0.8785, 0.9295)},
    "fashion-mnist": {"ADSO": (0.8675, 0.8648, 0.9221), "AMO": (0.8428, 0.8378, 0.9046),
                      "DSO+Q": (0.8450, 0.8436, 0.9089)},
}
TITLE = "Long-tail benchmark (MNIST-LT, Fashion-MNIST-LT; Dam et al. 2022, Table II)"


@dataclass(frozen=True)
class LTScale:
    """How big a benchmark run is: a fraction of the published counts (the imbalance
    factor stays 100), seeds, classifier epochs and GAN settings.  ``image_features``
    turns on the quality gate's trained-CNN features (the generic-feature and pixel checks
    always run)."""

    fraction: float
    seeds: int
    epochs: int
    gan_epochs: int
    gan_min_steps: int
    test_per_class: int = 100
    image_features: bool = True
    latent_dim: int = 32


SCALES = {
    "smoke": LTScale(0.02, 1, 1, 1, 5, 10, image_features=False),
    "quick": LTScale(0.25, 3, 8, 3, 100),
    "full": LTScale(1.0, 3, 30, 50, 2000, test_per_class=ALL_TEST, latent_dim=PAPER_LATENT),
}


def lt_counts(fraction: float) -> dict[int, int]:
    """The published counts scaled by ``fraction``, each kept at >= 4 images (so the
    imbalance factor stays 100 down to ``fraction = 0.1``).

    Examples
    --------
    >>> lt_counts(0.1)[0], lt_counts(0.1)[9]
    (400, 4)
    """
    return dict(enumerate(max(4, round(c * fraction)) for c in FULL_COUNTS))


def protocol_notes(scale_name: str) -> list[str]:
    """What a run at ``scale_name`` follows of Dam et al.'s protocol and what it changes.

    Examples
    --------
    >>> protocol_notes("full")[0].startswith("Scale full follows Dam et al.'s data protocol")
    True
    >>> "latent size 32 instead of 64" in protocol_notes("quick")[0]
    True
    """
    scale = SCALES[scale_name]
    counts = list(lt_counts(scale.fraction).values())
    changes = []
    if scale.fraction != 1.0:
        factor = counts[0] / counts[-1]
        changes.append(f"training counts {counts[0]} ... {counts[-1]} (a fraction "
                       f"{scale.fraction:g} of 4000 ... 40; imbalance factor {factor:g}"
                       + ("" if factor == 100 else " instead of 100") + ")")
    if scale.test_per_class < ALL_TEST:
        changes.append(f"{scale.test_per_class} test images per class instead of the full "
                       "test sets")
    if scale.latent_dim != PAPER_LATENT:
        changes.append(f"autoencoder latent size {scale.latent_dim} instead of "
                       f"{PAPER_LATENT}")
    if changes:
        head = (f"Scale {scale_name} departs from Dam et al.'s protocol: "
                + "; ".join(changes) + ". Use scale full to follow it.")
    else:
        head = (f"Scale {scale_name} follows Dam et al.'s data protocol and latent size: "
                "training counts 4000 ... 40, the full test sets kept balanced (as many "
                "images per class as the smallest test class has: Fashion-MNIST all 10,000, "
                "MNIST 892 per class, 8,920 of its 10,000), autoencoder latent size "
                f"{PAPER_LATENT}; training lengths are ours (classifier {scale.epochs} "
                f"epochs, GANs {scale.gan_epochs} epochs).")
    smallest = [c for c, n in enumerate(counts) if n == min(counts)]
    which = (f"the recall of class {smallest[0]}, the class with the fewest training images"
             if len(smallest) == 1 else
             f"the mean recall of classes {', '.join(map(str, smallest))}, tied for the "
             "fewest training images at this scale")
    return [head,
            f"Beside the paper, {GMEAN} is the mean over classes of sqrt(sensitivity × "
            "specificity), each class one-vs-rest, as Dam et al. define it (it can exceed "
            f"ACSA); {RMIN} is {which}; P_maj is the precision of class 0, the only "
            "majority class. Our other definitions, G-mean (recalls) and R_min (mean over "
            "minority classes), are not comparable with the paper's numbers."]


def benchmark_config(dataset: str, scale: LTScale, *, root: str | None, seed: int = 0,
                     methods: tuple[str, ...] = METHODS, download: bool = False,
                     ) -> CompareConfig:
    """The comparison one benchmark cell runs (methods missing from this build are left
    out by :func:`available_methods`).

    Examples
    --------
    >>> cfg = benchmark_config("mnist", SCALES["full"], root=None)
    >>> cfg.imbalance.test_per_class == ALL_TEST, cfg.method_params["adso+q"]["latent_dim"]
    (True, 64)
    """
    spec = ImbalanceSpec(counts=lt_counts(scale.fraction), test_per_class=scale.test_per_class,
                         name="lt-100", description="long tail, imbalance factor 100")
    gan = {"epochs": scale.gan_epochs, "min_steps": scale.gan_min_steps}
    params: dict[str, dict] = {m: {**paper_gan_params(m), **gan} for m in methods
                               if m in ("dcgan", "cgan")}
    if "smote" in methods:  # SMOTE needs k < the smallest class
        params["smote"] = {"k_neighbors": min(5, min(spec.counts.values()) - 1)}
    for m in methods:
        if m.split("+")[0] in ("adso", "amo") and m in OVERSAMPLERS:
            params[m] = {"epochs": scale.gan_epochs, "min_steps": scale.gan_min_steps,
                         "latent_dim": scale.latent_dim}
    return CompareConfig(data=DataConfig(source=dataset, root=root, download=download),
                         imbalance=spec, methods=methods, method_params=params,
                         seeds=tuple(range(seed, seed + scale.seeds)),
                         classifier=ClassifierConfig(epochs=scale.epochs),
                         sample_quality=scale.image_features,
                         protocol="holdout")  # the paper's protocol: the test sets


def available_methods(methods: tuple[str, ...] = METHODS) -> tuple[tuple[str, ...], list[str]]:
    """The methods this build can run, and notes for those it cannot."""
    known = set(OVERSAMPLERS) | {BASELINE}
    keep = tuple(m for m in methods if m in known)
    return keep, [f"{m} is not available in this build" for m in methods if m not in known]


def run_benchmark(dataset: str, scale_name: str, *, root: str | None, seed: int = 0,
                  download: bool = False, progress: Progress | None = None,
                  with_result: bool = False) -> tuple[Any, ...]:
    """One dataset: a table of mean [CI] per method and metric, and notes (and, with
    ``with_result``, the comparison itself, for the replay's verdicts)."""
    scale = SCALES[scale_name]
    methods, notes = available_methods()
    config = benchmark_config(dataset, scale, root=root, seed=seed, methods=methods,
                              download=download)
    splits = load_source(dataset, root=root, download=download, cache_dir=decoded_cache_dir())
    result = run_comparison(config, splits=splits, progress=progress)
    for method, error in result.errors().items():
        notes.append(f"{method} failed: {error}")
    for method, codes in result.warning_codes().items():
        notes.append(f"{dataset}: {method} was warned about ({', '.join(codes)}); see the "
                     "quality gate and training diagnostics before reading its scores.")
    table = summarise(result, metrics=list(METRICS))
    rows = []
    for method in result.methods:
        sub = table[table["method"] == method].set_index("metric")
        if sub.empty:
            continue
        row = {"dataset": dataset, "method": method}
        for key, label in METRICS.items():
            if key in sub.index:
                r = sub.loc[key]
                row[label] = float(r["mean"])
                row[f"{label} CI"] = (f"[{r['ci_low']:.3f}, {r['ci_high']:.3f}]"
                                      if r["n"] > 1 else "one seed")
        rows.append(row)
    counts = list(config.imbalance.counts.values())
    notes.append(f"{dataset}: training counts {counts}, {result.test_counts[0]} test images "
                 f"per class, {scale.seeds} seed(s), classifier {scale.epochs} epochs, GANs "
                 f"{scale.gan_epochs} epochs / at least {scale.gan_min_steps} steps per "
                 f"model, ADSO / AMO latent size {scale.latent_dim}.")
    if with_result:
        return pd.DataFrame(rows), notes, result
    return pd.DataFrame(rows), notes


def published_frame() -> pd.DataFrame:
    """Dam et al.'s Table II, its G-mean column named by its definition.

    Examples
    --------
    >>> list(published_frame().columns)
    ['dataset', 'method', 'ACSA', 'F_macro', 'G-mean (sens×spec)']
    """
    rows = [{"dataset": d, "method": m, "ACSA": v[0], "F_macro": v[1], GMEAN: v[2]}
            for d, table in PUBLISHED.items() for m, v in table.items()]
    return pd.DataFrame(rows)


def run(options: ReplayOptions, progress: Progress) -> ReplayResult:
    t0 = time.perf_counter()
    if not options.root and not options.download:
        from gda_core.errors import DatasetError

        raise DatasetError("the long-tail benchmark needs MNIST and Fashion-MNIST: give the "
                           "folder that holds mnist/ and fashion-mnist/ (root), or allow "
                           "the download")
    frames, notes = [], protocol_notes(options.scale)
    results: dict[str, Any] = {}
    datasets = ("mnist", "fashion-mnist")
    for i, dataset in enumerate(datasets):
        root = _dataset_root(options.root, dataset)
        frame, n, result = run_benchmark(
            dataset, options.scale, root=root, seed=options.seed, download=options.download,
            progress=lambda f, m, i=i, d=dataset: progress((i + f) / len(datasets),
                                                           f"{d}: {m}"),
            with_result=True)
        frames.append(frame)
        notes += n
        results[dataset] = result
    ours = pd.concat(frames, ignore_index=True)
    checks = []
    source = "Dam et al. 2022, Table II"
    for dataset in datasets:
        result = results[dataset]
        present = set(result.methods)
        if {"adso+q", "baseline"} <= present:
            checks.append(beats(result, "adso+q", "baseline", "acsa",
                                claim=f"{dataset}: ADSO beats the baseline CNN on ACSA",
                                published=f"ADSO {PUBLISHED[dataset]['ADSO'][0]:.4f}",
                                source=source))
        if {"adso+q", "amo+q"} <= present:
            checks.append(beats(result, "adso+q", "amo+q", "acsa",
                                claim=f"{dataset}: ADSO beats AMO on ACSA",
                                published=f"{PUBLISHED[dataset]['ADSO'][0]:.4f} vs "
                                          f"{PUBLISHED[dataset]['AMO'][0]:.4f}",
                                source=source))
        three = [m for m in ("adso+q", "amo+q") if m in present]
        if three:
            checks.append(best(result, three[0], list(result.methods), "acsa",
                               claim=f"{dataset}: a three-player method has the best ACSA",
                               published="ADSO", source=source))
    progress(1.0, "done")
    return ReplayResult("lt-benchmark", TITLE, published_frame(), ours, checks, notes,
                        time.perf_counter() - t0)


def _dataset_root(root: str | None, dataset: str) -> str | None:
    """``root`` may be the dataset's own folder or a parent holding ``mnist/`` and
    ``fashion-mnist/``."""
    if root is None:
        return None
    from pathlib import Path

    sub = Path(root) / dataset
    return str(sub) if sub.is_dir() else root
