"""The answer on few photos, as a user gets it: a cross-validated comparison of a folder.

CIFAR-10 photos from ``../shared/data/cifar10`` used as a user would: a folder of
``--minority-count`` (25) images of ``--minority`` (horse) and ``--majority-count`` (250) of
``--majority`` (deer), nothing else (no outside pool, no test set), loaded at ``--size``
(64) RGB.  ``--diverse`` makes the small class 5 photos of each of 5 classes instead (a
defect class is often many different-looking things).  One comparison, with the protocol
the product picks for it (5-fold cross-validation × 2 repeats), of ``--methods``
(baseline, SMOTE, DCGAN at its defaults, and the memorising control: training images
plus invisible noise).  Printed per method: the primary metric's mean difference to the
baseline with its interval (corrected resampled t-test), the quality gate's verdicts,
the fit time per unit; then the recommendation, the wall time, and last the line
``recommendation: <method or none>``.

    python bench/fewshot_cv.py [--size 64] [--diverse] [--methods ...] [--out DIR]

Sample grids and the full result JSON go to ``--out``.
"""

from __future__ import annotations

import argparse
import os
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

import torch

from gda_core.datasets import ImbalanceSpec
from gda_core.experiments import CompareConfig, DataConfig, run_comparison
from gda_core.metrics.stats import summarise
from gda_core.viz import image_grid, png_bytes

ARCHIVE = Path(__file__).resolve().parents[2] / "shared" / "data" / "cifar10" / \
    "cifar10-jpeg.tar.gz"
DIVERSE = ("airplane", "automobile", "bird", "ship", "truck")


def extract(plan: dict[str, list[tuple[str, int]]], dest: Path) -> None:
    """``dest/<folder>/`` with, per folder, the first ``n`` training JPEGs (sorted names)
    of each listed CIFAR-10 class."""
    want = {(cls, folder): n for folder, parts in plan.items() for cls, n in parts}
    with tarfile.open(ARCHIVE) as tar:
        for m in sorted((m for m in tar.getmembers() if m.isfile()), key=lambda m: m.name):
            parts = Path(m.name).parts
            if len(parts) < 3 or parts[-3] != "train":
                continue
            for (cls, folder), n in list(want.items()):
                if cls == parts[-2] and n > 0:
                    want[(cls, folder)] = n - 1
                    target = dest / folder / f"{cls}-{parts[-1]}"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(tar.extractfile(m).read())
                    break


def cpu_text() -> str:
    flags = ""
    try:
        info = Path("/proc/cpuinfo").read_text()
        model = next(line.split(":", 1)[1].strip() for line in info.splitlines()
                     if line.startswith("model name"))
        flags = next(line for line in info.splitlines() if line.startswith("flags"))
    except (OSError, StopIteration):
        model = platform.processor() or platform.machine()
    bf16 = "native bf16 (avx512_bf16)" if "avx512_bf16" in flags.split() or \
        "amx_bf16" in flags.split() else "no native bf16"
    return f"{model}, {os.cpu_count()} CPUs, {bf16}, torch {torch.__version__} " \
           f"({torch.get_num_threads()} threads)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--minority", default="horse")
    parser.add_argument("--majority", default="deer")
    parser.add_argument("--minority-count", type=int, default=25)
    parser.add_argument("--majority-count", type=int, default=250)
    parser.add_argument("--diverse", action="store_true",
                        help="the small class: 5 photos of each of " + ", ".join(DIVERSE))
    parser.add_argument("--methods", default="baseline,smote,dcgan,memorise")
    parser.add_argument("--seeds", default="0,1", help="repeats of the 5 folds")
    parser.add_argument("--out", type=Path, default=Path("bench-out/fewshot_cv"))
    args = parser.parse_args()
    if not ARCHIVE.is_file():
        sys.exit(f"{ARCHIVE} is absent: this benchmark needs ../shared/data/cifar10")
    args.out.mkdir(parents=True, exist_ok=True)
    small = "defect" if args.diverse else args.minority
    print(f"machine: {cpu_text()}")
    with tempfile.TemporaryDirectory(prefix="gda-fewshot-cv-") as tmp:
        per = max(1, args.minority_count // len(DIVERSE))
        extract({small: ([(c, per) for c in DIVERSE] if args.diverse else
                         [(args.minority, args.minority_count)]),
                 args.majority: [(args.majority, args.majority_count)]}, Path(tmp))
        config = CompareConfig(
            data=DataConfig(source="folder", path=tmp, image_size=args.size, color="rgb"),
            imbalance=ImbalanceSpec(counts={0: None, 1: None}, name="all"),
            methods=tuple(args.methods.split(",")),
            seeds=tuple(int(s) for s in args.seeds.split(",")),
            quality_cache_dir=str(args.out / "features"))
        print(f"data: a folder of {small!r} ({args.minority_count}"
              f"{', 5 of each of ' + ', '.join(DIVERSE) if args.diverse else ''}) and "
              f"{args.majority!r} ({args.majority_count}) at {args.size}x{args.size} RGB; "
              f"methods {', '.join(config.methods)}")
        t0 = time.perf_counter()
        result = run_comparison(config, progress=lambda f, m: None)
        wall = time.perf_counter() - t0
    result.to_json(args.out / "result.json")
    print(f"protocol: {result.protocol.get('kind')} — {result.protocol.get('reason')}; "
          f"test images per fold {result.protocol.get('test_per_class')}")
    table = summarise(result)
    primary = table.attrs["primary_metric"]
    rows = table[table["metric"] == primary].set_index("method")
    print(f"\n{'method':<10} {primary + ' (mean)':>16} {'difference [95% interval]':>30} "
          f"{'p':>7}  fit s/unit  gate (runs flagged)")
    for method in result.methods:
        r = rows.loc[method]
        diff = ("" if method == "baseline" else
                f"{r['diff_vs_baseline']:+.3f} [{r['diff_low']:+.3f}, {r['diff_high']:+.3f}]")
        p = "" if np.isnan(r["p_value"]) else f"{r['p_value']:.3g}"
        runs = [x for x in result.runs_of(method) if x.ok]
        fit = np.mean([x.seconds.get("resample", 0.0) for x in runs]) if runs else np.nan
        codes = {w["code"]: w["where"] for w in result.grouped_warnings(method)}
        gate = "; ".join(f"{c} ({w})" for c, w in codes.items()) or "pass"
        print(f"{method:<10} {r['mean']:>16.3f} {diff:>30} {p:>7}  {fit:10.1f}  {gate}")
    small_class = result.minority_classes[0]
    rows = [result.real_samples[small_class][:8]] + [
        result.synthetic_samples[m][small_class][:8] for m in result.methods
        if len(result.synthetic_samples.get(m, {}).get(small_class, ()))]
    (args.out / "samples.png").write_bytes(png_bytes(image_grid(
        np.concatenate(rows), ncols=8, scale=2)))
    shown = [m for m in result.methods if len(result.synthetic_samples.get(m, {}).get(
        small_class, ()))]
    print(f"\nsamples of {result.class_names[small_class]!r}: {args.out / 'samples.png'} "
          f"(rows: real, {', '.join(shown)})")
    answer = result.recommendation
    print(f"\n{answer['text']}")
    print(f"\nwall time: {wall:.0f} s ({wall / 60:.1f} min) for "
          f"{len(result.runs)} units; result and grids in {args.out}")
    print(f"recommendation: {answer['method'] or 'none'}")


if __name__ == "__main__":
    main()
