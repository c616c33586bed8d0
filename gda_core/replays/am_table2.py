"""Replay of the AM study's Table 2: baseline, SMOTE, Borderline-SMOTE, ADASYN and DCGAN on
500 normal against 25 + 25 defect images, macro precision / recall / F1."""

from __future__ import annotations

import time
from collections.abc import Iterable

import pandas as pd

from gda_core.datasets import PRESETS, load_source
from gda_core.experiments import ClassifierConfig, CompareConfig, DataConfig, run_comparison
from gda_core.metrics.stats import mean_ci
from gda_core.replays.base import (
    Check,
    Progress,
    ReplayOptions,
    ReplayResult,
    paper_gan_params,
)
from gda_core.replays.standins import am_standin

METHODS = ("baseline", "smote", "borderline-smote", "adasyn", "dcgan")
LABELS = {"baseline": "Baseline", "smote": "SMOTE", "borderline-smote": "B-SMOTE",
          "adasyn": "ADASYN", "dcgan": "DCGAN"}
PUBLISHED = pd.DataFrame(
    [("Baseline", 0.8342, 0.7467, 0.7369), ("SMOTE", 0.8561, 0.7467, 0.7206),
     ("B-SMOTE", 0.8593, 0.7567, 0.7417), ("ADASYN", 0.8619, 0.8000, 0.7797),
     ("DCGAN", 0.9048, 0.8667, 0.8611)],
    columns=["method", "precision", "recall", "F1"])
TITLE = "AM study, Table 2: oversamplers on 500 normal vs 25 + 25 defect images"
SOURCE = "AM study, Table 2"


def _check(claim: str, published: str, ours: str, matched: bool, rule: str,
           values: dict[str, float], needed: Iterable[str]) -> Check:
    """A check of Table 2; no verdict when a method it needs failed (its score is NaN).

    Examples
    --------
    >>> _check("A beats B", "2 vs 1", "nan vs 1", False, "matched: A > B",
    ...        {"A": float("nan"), "B": 1.0}, ("A", "B")).verdict
    'no verdict'
    """
    failed = [m for m in needed if not values.get(m, float("nan")) == values.get(m)]
    if failed:
        return Check(claim, published, ours, None, rule, SOURCE,
                     f"{', '.join(failed)} failed, so there is nothing to compare")
    return Check(claim, published, ours, bool(matched), rule, SOURCE)


def _config(options: ReplayOptions) -> tuple[CompareConfig, object, str]:
    quick = options.scale != "full"
    n_seeds = {"smoke": 1, "quick": 3, "full": 5}[options.scale]
    seeds = tuple(range(options.seed, options.seed + n_seeds))
    dcgan = {"smoke": {"epochs": 1, "min_steps": 10},
             "quick": {"epochs": 100, "min_steps": 300},
             "full": {"epochs": 300, "min_steps": 1500}}[options.scale]
    dcgan = {**paper_gan_params("dcgan"), **dcgan}
    classifier = ClassifierConfig(epochs={"smoke": 1, "quick": 15, "full": 40}[options.scale])
    if options.path:
        size = 32 if quick else 128
        data = DataConfig(source="folder", path=options.path, image_size=size, color="rgb")
        splits = load_source(data.source, **data.load_kwargs())  # decoded once, then cached
        if len(splits.class_names) != 3:
            from gda_core.errors import DatasetError

            raise DatasetError(f"the AM replay needs three class folders (normal first, then "
                               f"two defects); found {len(splits.class_names)}: "
                               f"{', '.join(splits.class_names)}")
        where = f"your folder {options.path} at {size}x{size} RGB"
    else:
        data = DataConfig(source="digits")
        splits = am_standin()
        where = ("the built-in stand-in (digits: 0,1,2,4,5,6,7,9 = normal; 3 and 8 = two "
                 "defects; 8x8 grayscale)")
    config = CompareConfig(data=data, imbalance=PRESETS["am-study"], methods=METHODS,
                           method_params={"dcgan": dcgan}, seeds=seeds,
                           classifier=classifier)
    return config, splits, where


def run(options: ReplayOptions, progress: Progress) -> ReplayResult:
    t0 = time.perf_counter()
    config, splits, where = _config(options)
    result = run_comparison(config, splits=splits, progress=progress)
    rows = []
    for method in METHODS:
        runs = [r for r in result.runs_of(method) if r.ok]
        if not runs:
            rows.append({"method": LABELS[method], "precision": float("nan"),
                         "recall": float("nan"), "F1": float("nan"),
                         "F1 95% CI": "failed: " + (result.errors().get(method) or "")})
            continue
        values = {k: [r.metrics[key] for r in runs] for k, key in
                  (("precision", "precision_macro"), ("recall", "recall_macro"),
                   ("F1", "f1_macro"))}
        _, lo, hi = mean_ci(values["F1"])
        rows.append({"method": LABELS[method],
                     **{k: sum(v) / len(v) for k, v in values.items()},
                     "F1 95% CI": f"{lo:.3f} to {hi:.3f}" if len(runs) > 1 else "one seed"})
    ours = pd.DataFrame(rows)
    f1 = dict(zip(ours["method"], ours["F1"], strict=True))
    rec = dict(zip(ours["method"], ours["recall"], strict=True))
    best = max((m for m in f1 if f1[m] == f1[m]), key=f1.get)
    smote_family = ("SMOTE", "B-SMOTE", "ADASYN")
    best_smote = max(smote_family, key=lambda m: f1[m] if f1[m] == f1[m] else -1)
    checks = [
        _check("DCGAN gives the best macro F1", "DCGAN (0.8611)", f"{best} ({f1[best]:.4f})",
               best == "DCGAN", "matched: DCGAN's macro F1 (mean over seeds) is the highest "
               "of the five methods", f1, LABELS.values()),
        _check("DCGAN beats SMOTE on macro F1", "0.8611 vs 0.7206",
               f"{f1['DCGAN']:.4f} vs {f1['SMOTE']:.4f}", f1["DCGAN"] > f1["SMOTE"],
               "matched: DCGAN's mean macro F1 > SMOTE's", f1, ("DCGAN", "SMOTE")),
        _check("DCGAN beats the baseline on macro recall", "0.8667 vs 0.7467",
               f"{rec['DCGAN']:.4f} vs {rec['Baseline']:.4f}",
               rec["DCGAN"] > rec["Baseline"], "matched: DCGAN's mean macro recall > the "
               "baseline's", rec, ("DCGAN", "Baseline")),
        _check("ADASYN is the best SMOTE-family method on F1", "ADASYN (0.7797)", best_smote,
               f1["ADASYN"] >= max(f1["SMOTE"], f1["B-SMOTE"]), "matched: ADASYN's mean "
               "macro F1 ≥ SMOTE's and Borderline-SMOTE's", f1, smote_family),
    ]
    notes = [f"Data: {where}; the published study used 3D-printing surface images at "
             "128x128 RGB, a CNN trained on each balanced set, and horizontal flips.",
             f"{len(config.seeds)} seeds (split, oversampler and CNN seeded together); our "
             f"numbers are means over seeds. Classifier: {config.classifier.epochs} epochs; "
             f"DCGAN: {config.method_params['dcgan']['epochs']} epochs per defect class."]
    if result.errors():
        notes += [f"{LABELS[m]} failed: {e}" for m, e in result.errors().items()]
    return ReplayResult("am-table2", TITLE, PUBLISHED, ours, checks, notes,
                        time.perf_counter() - t0, {"comparison": result})
