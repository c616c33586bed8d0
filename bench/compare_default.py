"""Wall time and peak memory of the default comparison.

Default comparison = digits, ratio 0.1 for classes 3 and 8, 30 test images per class,
baseline + SMOTE + Borderline-SMOTE + ADASYN, one seed, 15 epochs, the quality gate with
image features (the dashboard's defaults).  Prints one line per phase and the totals.  The
quality gate's feature CNN is trained once per dataset and cached: by default in a fresh
folder, so the time includes that training (a first comparison on new data); pass the
same ``--quality-cache`` twice to see a later comparison.

    python bench/compare_default.py [--seeds 0,1,2] [--quality-cache DIR]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core.datasets import load_source
from gda_core.experiments import CompareConfig, run_comparison


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0")
    parser.add_argument("--quality-cache", help="folder of cached feature CNNs (default: a "
                        "new temporary folder)")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    cache = args.quality_cache or tempfile.mkdtemp(prefix="gda-bench-features-")
    config = CompareConfig(seeds=seeds, quality_cache_dir=cache)

    t0 = time.perf_counter()
    splits = load_source(config.data.source)
    t_load = time.perf_counter() - t0

    tracemalloc.start()
    t1 = time.perf_counter()
    result = run_comparison(config, splits=splits)
    t_run = time.perf_counter() - t1
    _, py_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    print(f"data load            {t_load:8.2f} s")
    for run in result.runs:
        resample = run.seconds.get("resample", 0.0)
        train = run.seconds.get("train", 0.0)
        gate = run.seconds.get("quality", 0.0)
        status = "ok" if run.ok else f"FAILED ({run.error})"
        print(f"seed {run.seed} {run.method:<16} resample {resample:6.2f} s  gate "
              f"{gate:5.2f} s  train {train:6.2f} s  epochs {run.epochs_run:3d}  train set "
              f"{run.n_train:6d}  {status}")
    phases = sum(sum(r.seconds.values()) for r in result.runs)
    print(f"comparison total     {t_run:8.2f} s  ({len(result.runs)} runs; the first "
          f"includes torch's one-time warm-up; {t_run - phases:.2f} s outside the runs, "
          f"mostly the gate's feature CNN when it is not cached yet)")
    print(f"peak RSS             {rss_peak_mb:8.1f} MiB")
    print(f"peak Python allocs   {py_peak / 2**20:8.1f} MiB (tracemalloc)")
    print(result.metrics_table()[["accuracy", "f1_macro", "gmean", "minority_recall"]]
          .round(4).to_string())


if __name__ == "__main__":
    main()
