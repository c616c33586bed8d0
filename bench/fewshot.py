"""Few-shot photos: DCGAN before and after the few-shot defaults, beside SMOTE and baseline.

CIFAR-10 photos from ``../shared/data/cifar10`` (JPEG class folders): ``--minority-count``
(25) images of ``--minority`` against ``--majority-count`` (250) of ``--majority``, at each
``--sizes`` (64 and 32) RGB, over ``--seeds`` (3).  One comparison per size runs the
baseline, SMOTE and DCGAN with today's defaults; others, on the same seeds (so the same
splits), run DCGAN with the settings it had before (no DiffAugment, width 64, 1000
steps) and with ``pretrain=all``.  Printed per size and method:

* the quality gate's scores (``gda_core.metrics.gate``): FID of m synthesized against m
  real images of the class *beside* the FID of m other real images (m = half the real
  images of the class in the pool), coverage beside the real images' own coverage, and
  the gate's verdicts;
* minority recall and macro F1 of the comparison's CNN on the balanced test set (mean and
  95% t interval over seeds);
* the synthesizer's time per class (fit and sampling) and the wall time of the method.

Sample grids of every synthesizer (first seed) are written as PNGs to ``--out``, and every
comparison's full result (per-seed scores, warnings, split counts) as JSON.

    python bench/fewshot.py [--sizes 64,32] [--seeds 0,1,2] [--out bench-out/fewshot]

The features are those of the project's own CNN trained on the pool (no downloaded
weights), so the FIDs are not comparable with published Inception FIDs.
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

from gda_core.datasets import ImbalanceSpec
from gda_core.experiments import ClassifierConfig, CompareConfig, DataConfig, run_comparison
from gda_core.metrics.stats import mean_ci
from gda_core.viz import image_grid, png_bytes

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / \
    "cifar10-jpeg.tar.gz"
BEFORE = {"augment": "off", "width": 64, "min_steps": 1000}
"""DCGAN's defaults before the few-shot work (the rest of its settings are unchanged)."""
PRETRAIN = {"pretrain": "all"}
"""Today's defaults plus pretraining on every training image (1000 steps) first."""


def extract(classes: list[str], per_class: int, test_per_class: int, dest: Path) -> Path:
    """``dest/{train,test}/<class>/`` with the first images (sorted names) of each class."""
    want = {("train", c): per_class for c in classes} | {("test", c): test_per_class
                                                          for c in classes}
    with tarfile.open(ARCHIVE) as tar:
        members = sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name)
        for m in members:
            parts = Path(m.name).parts
            if len(parts) < 3 or want.get((parts[-3], parts[-2]), 0) <= 0:
                continue
            want[(parts[-3], parts[-2])] -= 1
            target = dest / parts[-3] / parts[-2] / parts[-1]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(tar.extractfile(m).read())
    return dest


def interval(values: list[float]) -> str:
    mean, low, high = mean_ci(np.asarray(values, dtype=np.float64), 0.95)
    return f"{mean:.3f}" if np.isnan(low) else f"{mean:.3f} ± {(high - low) / 2:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="64,32")
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--minority", default="horse")
    parser.add_argument("--majority", default="deer")
    parser.add_argument("--minority-count", type=int, default=25)
    parser.add_argument("--majority-count", type=int, default=250)
    parser.add_argument("--pool", type=int, default=500,
                        help="training images per class loaded (the real reference)")
    parser.add_argument("--test", type=int, default=100, help="test images per class")
    parser.add_argument("--epochs", type=int, default=15, help="classifier epochs (max)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/fewshot"))
    parser.add_argument("--no-pretrain", dest="pretrain", action="store_false",
                        help="skip the DCGAN variant pretrained on every training image")
    args = parser.parse_args()
    if not ARCHIVE.is_file():
        sys.exit(f"{ARCHIVE} is absent: this benchmark needs ../shared/data/cifar10")
    seeds = tuple(int(s) for s in args.seeds.split(","))
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"machine: {platform.processor() or platform.machine()}, "
          f"{__import__('os').cpu_count()} CPUs; torch threads "
          f"{__import__('torch').get_num_threads()}")
    print(f"data: CIFAR-10 JPEGs, {args.minority_count} {args.minority} (minority) vs "
          f"{args.majority_count} {args.majority}, {args.test} test images per class, "
          f"seeds {list(seeds)}")
    with tempfile.TemporaryDirectory(prefix="gda-fewshot-") as tmp:
        folder = extract(sorted([args.minority, args.majority]), args.pool, args.test,
                         Path(tmp))
        for size in (int(s) for s in args.sizes.split(",")):
            run_size(args, folder, size, seeds)


def run_size(args: argparse.Namespace, folder: Path, size: int, seeds: tuple[int, ...]) -> None:
    names = sorted([args.minority, args.majority])
    counts = {names.index(args.majority): args.majority_count,
              names.index(args.minority): args.minority_count}
    base = CompareConfig(
        data=DataConfig(source="folder", path=str(folder), image_size=size, color="rgb"),
        imbalance=ImbalanceSpec(counts=counts, test_per_class=args.test, name="counts"),
        seeds=seeds, classifier=ClassifierConfig(epochs=args.epochs),
        samples_per_class=32, quality_cache_dir=str(args.out / "features"))
    t0 = time.perf_counter()
    after = run_comparison(CompareConfig(**{**base.__dict__,
                                            "methods": ("baseline", "smote", "dcgan")}))
    t1 = time.perf_counter()
    before = run_comparison(CompareConfig(**{**base.__dict__, "methods": ("dcgan",),
                                             "method_params": {"dcgan": BEFORE}}))
    t2 = time.perf_counter()
    rows = [("baseline", after, "baseline"), ("smote", after, "smote"),
            ("dcgan (before)", before, "dcgan"), ("dcgan (now)", after, "dcgan")]
    if args.pretrain:
        pre = run_comparison(CompareConfig(**{**base.__dict__, "methods": ("dcgan",),
                                              "method_params": {"dcgan": PRETRAIN}}))
        rows.append(("dcgan (pretrain)", pre, "dcgan"))
    t3 = time.perf_counter()
    saved = {"now": after, "before": before, **({"pretrain": pre} if args.pretrain else {})}
    for tag, result in saved.items():   # every comparison's full result, for inspection
        result.to_json(args.out / f"{size}-{tag}.json")
    minority = names.index(args.minority)
    print(f"\n=== {size}x{size} RGB · {args.minority_count} {args.minority} vs "
          f"{args.majority_count} {args.majority} · {len(seeds)} seeds · comparisons "
          f"{t1 - t0:.0f} s + {t2 - t1:.0f} s + {t3 - t2:.0f} s")
    print(f"{'method':<16} {'FID (m)':>8} {'real FID':>8} {'cover':>6} {'real cov':>8} "
          f"{'gFID':>6} {'real':>6} {'gcov':>5} {'real':>5} "
          f"{'m':>4} {'minority recall':>16} {'macro F1':>16} {'s/class':>8} "
          f"{'wall s':>7}  gate")
    for label, result, method in rows:
        runs = [r for r in result.runs_of(method) if r.ok]
        if not runs:
            print(f"{label:<16} failed: {result.errors().get(method)}")
            continue
        q = [r.quality.get(minority, {}) for r in runs]

        def mean(key: str, q: list = q) -> str:
            vals = [s[key] for s in q if key in s and np.isfinite(s[key])]
            return f"{np.mean(vals):.2f}" if vals else "–"

        recall = interval([r.per_class["recall"][minority] for r in runs])
        f1 = interval([r.metrics["f1_macro"] for r in runs])
        per_class = np.mean([r.seconds.get("resample", 0.0) for r in runs])
        wall = np.mean([sum(r.seconds.values()) for r in runs])
        codes = sorted({w["code"] for r in runs for w in r.warnings})
        m = int(np.mean([s.get("n_compared", 0) for s in q])) if q and q[0] else 0
        print(f"{label:<16} {mean('fid_equal'):>8} {mean('fid_real'):>8} "
              f"{mean('coverage_equal'):>6} {mean('coverage_real'):>8} "
              f"{mean('struct_fid_equal'):>6} {mean('struct_fid_real'):>6} "
              f"{mean('struct_coverage_equal'):>5} {mean('struct_coverage_real'):>5} "
              f"{m:>4} {recall:>16} "
              f"{f1:>16} {per_class:>8.1f} {wall:>7.1f}  {', '.join(codes) or 'passes'}")
        images = result.synthetic_samples.get(method, {}).get(minority)
        if images is not None and len(images):
            path = args.out / f"{size}-{label.replace(' ', '').replace('(', '-').strip(')')}.png"
            path.write_bytes(png_bytes(image_grid(images, ncols=8, scale=max(1, 64 // size))))
    real = after.real_samples.get(minority)
    if real is not None:
        (args.out / f"{size}-real.png").write_bytes(
            png_bytes(image_grid(real, ncols=8, scale=max(1, 64 // size))))
    print("FID (m) / cover: m synthesized images against m real ones of the class, on the "
          "features of the CNN trained on the pool; real FID / real cov: m other real images "
          "against the same m (what real images score); gFID / gcov: the same on generic "
          "features (a fixed random CNN). s/class: the synthesizer's fit and sampling time "
          "for the one minority class.")


if __name__ == "__main__":
    main()
