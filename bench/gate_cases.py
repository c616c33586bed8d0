"""The quality gate's calibration: constructed synthesizers whose right verdict is known.

Ten cases (``gda_core.metrics.gate_cases``: copies with invisible changes, flips, shifts,
a collapsed generator, colour blobs, another class's photos, new photos of the class) in
settings a user meets, fed to the gate through the Compare path (the unit's quality
reference, then ``QualityReference.score`` and ``gate_findings``):

* ``cifar-25``: a folder of 25 CIFAR-10 horses and 250 deer at 64×64 (no test split, so
  cross-validated): fold 1 of repeat 0, the gate's reference made from that fold's
  training images only;
* ``cifar-pool``: a folder with ``train/`` (500 horses, 500 deer) and ``test/`` splits,
  25 horses against 250 deer drawn for training, the 500-image pool as the reference;
* ``digits-25``: 25 built-in digits "3" against 170 "8" (cross-validated);
* ``digits-pool``: every built-in digit, 25 "3" against 170 "8" drawn for training.

Held-out photos of the class are images the folder does not hold; the other class's are
deer (digits: "5").  Prints case × setting → verdict with the scores behind it, and ends
with ``right: K of N`` (exit 1 when K < N).

    python bench/gate_cases.py [--settings cifar-25,cifar-pool,digits-25,digits-pool]
"""

from __future__ import annotations

import argparse
import platform
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # as app.py, the CLI and the workers run, before torch

from gda_core.datasets import DatasetSplits, ImageDataset, ImbalanceSpec, load_source
from gda_core.datasets.digits import load_digits_splits
from gda_core.experiments import ClassifierConfig, CompareConfig
from gda_core.experiments.compare import split_for_unit
from gda_core.experiments.quality import quality_reference
from gda_core.metrics.gate import gate_coverage, gate_findings
from gda_core.metrics.gate_cases import EXPECTED, is_right, make_cases

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / \
    "cifar10-jpeg.tar.gz"


def extract(want: dict[tuple[str, str], tuple[int, int]], dest: Path) -> None:
    """Copy CIFAR-10 JPEGs ``(split, class) -> (first, count)`` (sorted names) to ``dest``,
    as ``dest/<split>/<class>/``."""
    with tarfile.open(ARCHIVE) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        seen: dict[tuple[str, str], int] = {}
        for m in members:
            parts = Path(m.name).parts
            key = (parts[-3], parts[-2]) if len(parts) >= 3 else None
            if key not in want:
                continue
            i = seen.get(key, 0)
            seen[key] = i + 1
            first, count = want[key]
            if first <= i < first + count:
                target = dest / key[0] / key[1] / parts[-1]
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(tar.extractfile(m).read())


def load_folder(path: Path, size: int) -> DatasetSplits:
    return load_source("folder", path=str(path), image_size=size, color="rgb", cache_dir=None)


def cifar_settings(size: int, tmp: Path, names: list[str]) -> dict[str, dict]:
    """The CIFAR settings: the unit's split and reference, and outside images."""
    out = {}
    extract({("train", "horse"): (0, 525), ("train", "deer"): (0, 500),
             ("test", "horse"): (0, 100), ("test", "deer"): (0, 100)}, tmp / "all")
    outside = load_folder(tmp / "all", size)           # train/ and test/ as loaded
    pool_h = outside.train.images[outside.train.labels == outside.train.class_names.index(
        "horse")]
    pool_d = outside.train.images[outside.train.labels == outside.train.class_names.index(
        "deer")]
    if "cifar-25" in names:
        extract({("train", "horse"): (0, 25), ("train", "deer"): (0, 250)}, tmp / "folder")
        splits = load_folder(tmp / "folder" / "train", size)
        config = CompareConfig(imbalance=ImbalanceSpec(counts={0: None, 1: None}),
                               methods=("baseline",), protocol="cv", folds=5, seeds=(0,),
                               classifier=ClassifierConfig())
        out["cifar-25"] = dict(config=config, splits=splits, fold=0, cls="horse",
                               held=pool_h[25:], other=pool_d[250:])
    if "cifar-pool" in names:
        splits = DatasetSplits(
            ImageDataset(np.concatenate([pool_d[:500], pool_h[:500]]),
                         np.repeat([0, 1], 500), ("deer", "horse")),
            outside.test, ())
        config = CompareConfig(imbalance=ImbalanceSpec(counts={0: 250, 1: 25},
                                                       test_per_class=100),
                               methods=("baseline",), protocol="holdout", seeds=(0,))
        out["cifar-pool"] = dict(config=config, splits=splits, fold=None, cls="horse",
                                 held=pool_h[500:], other=pool_d[250:])
    return out


def digits_settings(names: list[str]) -> dict[str, dict]:
    train = load_digits_splits().train
    threes = train.images[train.labels == 3]
    eights = train.images[train.labels == 8]
    fives = train.images[train.labels == 5]
    out = {}
    if "digits-25" in names:
        splits = DatasetSplits(ImageDataset(np.concatenate([threes[:25], eights[:170]]),
                                            np.repeat([0, 1], [25, 170]), ("3", "8")), None)
        config = CompareConfig(imbalance=ImbalanceSpec(counts={0: None, 1: None}),
                               methods=("baseline",), protocol="cv", folds=5, seeds=(0,))
        out["digits-25"] = dict(config=config, splits=splits, fold=0, cls="3",
                                held=threes[25:], other=fives)
    if "digits-pool" in names:
        config = CompareConfig(imbalance=ImbalanceSpec(counts={3: 25, 8: 160},
                                                       test_per_class=5),
                               methods=("baseline",), protocol="holdout", seeds=(0,))
        out["digits-pool"] = dict(config=config, splits=load_digits_splits(), fold=None,
                                  cls="3", held=threes[25 + 5:], other=fives)
    return out


def judge_setting(name: str, s: dict, cache: Path) -> list[tuple[str, list[str], dict]]:
    """Every case of one setting through the Compare path: ``(case, codes, scores)``."""
    config, splits = s["config"], s["splits"]
    split = split_for_unit(config, splits, 0, s["fold"])
    names = list(split.data.class_names)
    c = names.index(s["cls"])
    if s["fold"] is None:
        reference = quality_reference(splits, cache_dir=cache)
    else:
        reference = quality_reference(DatasetSplits(split.data.train, None), cache_dir=cache,
                                      labels_are_source=False)
    fit, held = split.fit, split.validation
    train = fit.images[fit.labels == c]
    n = int(np.bincount(fit.labels).max() - len(train))
    rng = np.random.default_rng(0)
    rows = []
    for case, fakes in make_cases(train, s["held"], s["other"], n, rng).items():
        scores = reference.score(split.data, fakes, np.full(len(fakes), c),
                                 train_images=fit.images, train_labels=fit.labels,
                                 held_images=held.images, held_labels=held.labels,
                                 random_state=0)[c]
        codes = [f.code for f in gate_findings(scores)]
        rows.append((case, codes, scores | {"not_judged": gate_coverage(scores)}))
    ref_label = c if s["fold"] is not None else split.data.source_classes[c]
    print(f"  {name}: {len(train)} training images of {s['cls']!r}, "
          f"{int((held.labels == c).sum())} held out, reference "
          f"{int((reference.labels == ref_label).sum())} real images, {n} synthesized per "
          "case", flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--settings", default="cifar-25,cifar-pool,digits-25,digits-pool")
    parser.add_argument("--size", type=int, default=64, help="CIFAR side in pixels")
    args = parser.parse_args()
    names = args.settings.split(",")
    print(f"machine: {platform.processor() or platform.machine()}; settings: {names}")
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="gda-gate-cases-") as tmp:
        settings: dict[str, dict] = {}
        if any(n.startswith("cifar") for n in names):
            if not ARCHIVE.is_file():
                sys.exit(f"{ARCHIVE} is absent: the CIFAR settings need ../shared/data/cifar10")
            settings |= cifar_settings(args.size, Path(tmp), names)
        settings |= digits_settings(names)
        results = {name: judge_setting(name, settings[name], Path(tmp) / "features")
                   for name in names}
    right = total = 0
    print()
    print(f"{'case':<46} " + " ".join(f"{n:<22}" for n in names))
    for i, case in enumerate(EXPECTED):
        cells = []
        for name in names:
            _, codes, _ = results[name][i]
            ok = is_right(case, codes)
            right, total = right + ok, total + 1
            cells.append(f"{'ok ' if ok else 'NO '}{', '.join(codes) or 'pass':<19}")
        print(f"{case:<46} " + " ".join(cells))
    print("\nscores behind the verdicts (copy share fake/real and p; class share fake/real; "
          "FID ratio task/generic; dup share; spread):")
    for name in names:
        for case, _, sc in results[name]:
            fid = sc.get("fid_equal", np.nan) / sc.get("fid_real", np.nan)
            gfid = sc.get("struct_fid_equal", np.nan) / sc.get("struct_fid_real", np.nan)
            print(f"  {name:<12} {case:<46} copies {sc['copy_share']:.2f}/"
                  f"{sc['copy_share_real']:.2f} p={sc['copy_p']:.1g}  class "
                  f"{sc.get('class_share', np.nan):.2f}/{sc.get('class_share_real', np.nan):.2f}"
                  f"  FID x{fid:.1f}/x{gfid:.1f}  dup {sc['dup_share']:.2f}  spread "
                  f"{sc.get('spread', np.nan):.2f}" + (f"  ({'; '.join(sc['not_judged'])})"
                                                       if sc["not_judged"] else ""))
    print(f"\n{time.perf_counter() - t0:.0f} s")
    print(f"right: {right} of {total}")
    return 0 if right == total else 1


if __name__ == "__main__":
    sys.exit(main())
