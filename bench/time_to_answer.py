"""The time to an answer on this machine: fast paths, a DCGAN's fit, a cross-validated
comparison, each predicted before it runs and then measured.

CIFAR-10 photos from ``../shared/data/cifar10`` used as a user would (a folder of
``--minority-count`` (25) horses and ``--majority-count`` (250) deer at ``--size`` (64)
RGB, no test set).  Printed, in this order:

1. the machine (CPU model, native bfloat16 or not, torch threads);
2. the fast path each model picked (:mod:`gda_core.fastpath`) and every candidate's time
   per step: the DCGAN on 25 photos (batch 25) and the comparison's CNN, measured now
   (the machine's cache of timed paths is set aside for this run);
3. the DCGAN's fit on the 25 photos at its defaults: the time predicted before it
   (``fit_cost``) and the time it took;
4. the cross-validated comparison of ``--methods`` (baseline, SMOTE, DCGAN; the protocol
   the product picks: 5 folds × 2 repeats): predicted and actual wall time, and how well
   the time left shown during the run held: each progress report's estimate (the CLI's
   and the dashboard's rule) against the time that was in fact left, over the reports
   after the first 10 % of the run and before the last 5 %.

    python bench/time_to_answer.py [--size 64] [--skip-compare] [--out DIR]

``GDA_FAST_PATH=float32`` runs it with float32 NCHW forced (what a CPU without native
bfloat16 ends up choosing, when channels_last does not win there either).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # as app.py, the CLI and the workers run, before torch

from fewshot_cv import ARCHIVE, cpu_text, extract

from gda_core.classifiers import CNNClassifier
from gda_core.datasets import ImbalanceSpec
from gda_core.datasets.folder import load_image_folder
from gda_core.experiments import CompareConfig, DataConfig, run_comparison
from gda_core.experiments.estimate import estimate_comparison
from gda_core.fastpath import PathChoice
from gda_core.runs.eta import TimeLeft, format_duration
from gda_core.synthesizers import SYNTHESIZERS
from gda_core.viz import image_grid, png_bytes

GOAL_FIT_S = 180.0
GOAL_COMPARE_S = 900.0
TOLERANCE = 0.30


def paths_line(name: str, record: dict | PathChoice) -> str:
    rec = record.record() if isinstance(record, PathChoice) else record
    times = ", ".join(f"{k} {v:.0f} ms" for k, v in rec["times_ms"].items())
    return f"  {name:<28} picked {rec['path']:<22} ({rec['source']}; {times or 'not timed'})"


def time_left_quality(log: list[tuple[float, float | None]], end: float) -> str:
    """How the estimates held: share within ±30 % of the time in fact left, and the
    worst, over the reports between 10 % and 95 % of the run's time."""
    errors = []
    for t, left in log:
        if left is None or not 0.10 * end <= t <= 0.95 * end:
            continue
        actual = end - t
        errors.append((left - actual) / actual)
    if not errors:
        return "no estimate was shown between 10 % and 95 % of the run"
    errors_a = np.array(errors)
    within = float(np.mean(np.abs(errors_a) <= TOLERANCE))
    worst = float(errors_a[np.argmax(np.abs(errors_a))])
    return (f"{within:.0%} of {len(errors)} estimates within ±30 % of the time left "
            f"(worst {worst:+.0%}; median {float(np.median(errors_a)):+.0%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--minority-count", type=int, default=25)
    parser.add_argument("--majority-count", type=int, default=250)
    parser.add_argument("--methods", default="baseline,smote,dcgan")
    parser.add_argument("--seeds", default="0,1", help="repeats of the 5 folds")
    parser.add_argument("--skip-compare", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench-out/time_to_answer"))
    args = parser.parse_args()
    if not ARCHIVE.is_file():
        sys.exit(f"{ARCHIVE} is absent: this benchmark needs ../shared/data/cifar10")
    args.out.mkdir(parents=True, exist_ok=True)
    # every path is timed afresh: the machine's kept choices are not used or changed
    os.environ["GDA_FAST_PATH_FILE"] = str(args.out / "fastpath.json")
    (args.out / "fastpath.json").unlink(missing_ok=True)
    print(f"machine: {cpu_text()}")
    forced = os.environ.get("GDA_FAST_PATH")
    if forced:
        print(f"GDA_FAST_PATH={forced}: every model runs on that path")

    with tempfile.TemporaryDirectory(prefix="gda-time-to-answer-") as tmp:
        extract({"horse": [("horse", args.minority_count)],
                 "deer": [("deer", args.majority_count)]}, Path(tmp))
        splits = load_image_folder(tmp, image_size=args.size, color="rgb")
        X, y = splits.train.images, splits.train.labels
        small = list(splits.train.class_names).index("horse")
        print(f"data: a folder of {args.minority_count} horses and {args.majority_count} "
              f"deer at {args.size}x{args.size} RGB")

        # ---- the DCGAN at its defaults on the small class
        synth = SYNTHESIZERS["dcgan"](random_state=0)
        counts = np.bincount(y).tolist()
        t0 = time.perf_counter()
        cost = synth.fit_cost(tuple(X.shape[1:]), counts, classes=[small])
        probe_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        synth.fit(X, y, classes=[small])
        fit_s = time.perf_counter() - t0
        clf = CNNClassifier(epochs=1, random_state=0).fit(X, y)

        print("\nfast paths (time per training step of each candidate, measured now):")
        print(paths_line("DCGAN, 25 photos (batch 25)", synth.fast_paths_[small]))
        print(paths_line("comparison's CNN (batch 64)", clf.fast_path_))
        print(f"\nDCGAN fit on {args.minority_count} photos at its defaults "
              f"({cost.steps[0]} steps): predicted {cost.seconds:.0f} s "
              f"(timing its step took {probe_s:.1f} s), took {fit_s:.0f} s "
              f"(ratio actual/predicted {fit_s / cost.seconds:.2f}); goal "
              f"{format_duration(GOAL_FIT_S)}: {'met' if fit_s <= GOAL_FIT_S else 'missed'}")
        grid = np.concatenate([X[y == small][:8], synth.sample(8)])
        (args.out / "dcgan-samples.png").write_bytes(png_bytes(image_grid(grid, ncols=8,
                                                                          scale=2)))
        if args.skip_compare:
            return

        # ---- the cross-validated comparison
        config = CompareConfig(
            data=DataConfig(source="folder", path=tmp, image_size=args.size, color="rgb"),
            imbalance=ImbalanceSpec(counts={0: None, 1: None}, name="all"),
            methods=tuple(args.methods.split(",")),
            seeds=tuple(int(s) for s in args.seeds.split(",")),
            quality_cache_dir=str(args.out / "features"))
        estimate, units = estimate_comparison(config, splits)
        print(f"\ncomparison of {', '.join(config.methods)}, {units} units per method: "
              f"predicted before the run {estimate.text(units)} ({estimate.seconds:.0f} s)")
        eta = TimeLeft(window=math.inf, min_span=3.0)
        log: list[tuple[float, float | None]] = []
        start = time.perf_counter()

        def progress(fraction: float, message: str) -> None:
            log.append((time.perf_counter() - start, eta.update(fraction)))

        result = run_comparison(config, splits=splits, progress=progress)
        wall = time.perf_counter() - start
    print(f"comparison took {format_duration(wall)} ({wall:.0f} s; the run's own prediction "
          f"{format_duration(result.predicted_seconds)}, ratio actual/predicted "
          f"{wall / result.predicted_seconds:.2f}); goal {format_duration(GOAL_COMPARE_S)}: "
          f"{'met' if wall <= GOAL_COMPARE_S else 'missed'}")
    for method in result.methods:
        runs = [r for r in result.runs_of(method) if r.ok]
        parts = {k: np.mean([r.seconds.get(k, 0.0) for r in runs])
                 for k in ("resample", "train", "quality", "reference")}
        print(f"  {method:<10} per unit: " + ", ".join(f"{k} {v:.1f} s" for k, v in
                                                      parts.items() if v)
              + f"  (paths: {runs[0].fast_paths if runs else {}})")
    print(f"time left during the run: {time_left_quality(log, wall)}")
    print(f"recommendation: {result.recommendation.get('method') or 'none'}")


if __name__ == "__main__":
    main()
