"""Wall time and peak memory of a whole comparison: the dashboard's default, or an AM-like case.

``--case default`` (the dashboard's defaults): digits, ratio 0.1 for classes 3 and 8, 30
test images per class, baseline + SMOTE + Borderline-SMOTE + ADASYN, one seed, 15 epochs,
the quality gate with image features.

``--case am-like``: the additive-manufacturing study's shape on real photos: CIFAR-10
JPEGs from ``../shared/data/cifar10`` (``--classes``, the first the majority) with
``--counts`` training images per class (500 / 25 / 25), ``--test`` test images per class,
at ``--size`` (64) RGB, baseline + SMOTE + Borderline-SMOTE + ADASYN + DCGAN with their
defaults (``--gan-jobs 2``: the DCGAN's ``n_jobs=2``), over ``--seeds`` (0, 1, 2); the
DCGAN grids and a real grid per minority class are written to ``--out`` to look at.

Prints one line per (seed, method) as it finishes, with its phases, then the totals: wall
time, peak resident memory (the comparison runs in this process, on the local executor;
with ``--gan-jobs`` its worker processes are counted with it) and the metrics.
The quality gate's feature CNN is trained once per dataset and cached: by default in a
fresh folder, so the time includes that training (a first comparison on new data); pass
the same ``--quality-cache`` twice to see a later comparison.  Goals of the AM-like case
(issue 17): at most 10 minutes on 2 cores and 3 GiB of memory.

    python bench/compare_default.py [--case default|am-like] [--seeds 0,1,2]
                                    [--quality-cache DIR] [--out DIR] [--gan-jobs N]
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # as app.py, the CLI and the workers run, before torch

import torch
from fewshot import ARCHIVE, extract  # bench/fewshot.py: CIFAR-10 JPEG class folders

from gda_core.datasets import ImbalanceSpec, load_source
from gda_core.experiments import ClassifierConfig, CompareConfig, DataConfig, run_comparison
from gda_core.viz import image_grid, png_bytes

AM_METHODS = ("baseline", "smote", "borderline-smote", "adasyn", "dcgan")
GOAL_SECONDS, GOAL_GIB = 600, 3.0


def am_like_config(args: argparse.Namespace, folder: Path, seeds: tuple[int, ...],
                   cache: str) -> CompareConfig:
    names = args.classes.split(",")
    counts = [int(c) for c in args.counts.split(",")]
    if len(names) != len(counts):
        sys.exit("--classes and --counts need the same number of entries")
    order = sorted(names)  # the folder loader numbers classes by sorted folder name
    return CompareConfig(
        data=DataConfig(source="folder", path=str(folder), image_size=args.size, color="rgb"),
        imbalance=ImbalanceSpec(counts={order.index(n): c for n, c in zip(names, counts,
                                                                          strict=True)},
                                test_per_class=args.test, name="counts"),
        methods=AM_METHODS, seeds=seeds, classifier=ClassifierConfig(),
        method_params={"dcgan": {"n_jobs": args.gan_jobs}} if args.gan_jobs > 1 else {},
        quality_cache_dir=cache)


YARDSTICK = """
import numpy as np
from gda_core.synthesizers.dcgan import DCGAN
x = np.random.default_rng(0).integers(0, 256, (22, 3, 64, 64), dtype=np.uint8)
X, y = np.concatenate([x, x, x]), np.array([0] * 44 + [1] * 22)
gan = DCGAN(min_steps=150, epochs=1, random_state=0).fit(X, y)
sec = [e["seconds"] for e in gan.history_]
print((sec[-1] - sec[19]) / 130 * 1000)
"""


def yardstick_ms() -> float:
    """Milliseconds a step of the AM-like case's DCGAN takes now (its defaults: width 32,
    DiffAugment, 64x64x3, a batch of 22 random images; steps 21-150 of one class), in a
    separate process so that this one's peak memory stays the comparison's.  The DCGAN
    is most of the case's time (2 classes x 2,000 steps per seed), and this machine's
    speed at it drifts from run to run: read the wall time against it."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    done = subprocess.run([sys.executable, "-c", YARDSTICK], capture_output=True, text=True,
                          check=True, env=env)
    return float(done.stdout.strip().splitlines()[-1])


class TreeMemory:
    """Peak resident memory of this process and its descendants together (the DCGAN's
    ``n_jobs`` trains in worker processes, whose memory ``getrusage`` does not add up),
    sampled every ``period`` seconds from ``/proc`` in a background thread."""

    def __init__(self, period: float = 0.1) -> None:
        self.period, self.peak, self._done = period, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._done.wait(self.period):
            self.peak = max(self.peak, sum(rss_bytes(p) for p in tree(os.getpid())))


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (Linux ``/proc``; just ``pid`` elsewhere)."""
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:  # gone meanwhile
                pass
    return found


def rss_bytes(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=("default", "am-like"), default="default")
    parser.add_argument("--seeds", help="default: 0 (default case), 0,1,2 (am-like)")
    parser.add_argument("--quality-cache", help="folder of cached feature CNNs (default: a "
                        "new temporary folder)")
    parser.add_argument("--classes", default="deer,dog,horse",
                        help="am-like: CIFAR-10 classes, the majority first")
    parser.add_argument("--counts", default="500,25,25", help="am-like: training images "
                        "per class, in --classes order")
    parser.add_argument("--size", type=int, default=64, help="am-like: image side")
    parser.add_argument("--test", type=int, default=100, help="am-like: test images per class")
    parser.add_argument("--gan-jobs", type=int, default=1, help="am-like: the DCGAN's "
                        "n_jobs (its two classes' models at once, one torch thread each)")
    parser.add_argument("--out", type=Path, default=Path("bench-out/compare-am-like"),
                        help="am-like: where the sample grids go")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in (args.seeds or ("0" if args.case == "default"
                                                  else "0,1,2")).split(","))
    cache = args.quality_cache or tempfile.mkdtemp(prefix="gda-bench-features-")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), load average "
          f"{os.getloadavg()[0]:.2f} at the start")
    before = yardstick_ms()
    print(f"machine speed: a step of the AM-like DCGAN (width 32, batch 22, DiffAugment) "
          f"takes {before:.1f} ms now", flush=True)
    with tempfile.TemporaryDirectory(prefix="gda-bench-cifar-") as tmp:
        if args.case == "default":
            config = CompareConfig(seeds=seeds, quality_cache_dir=cache)
        else:
            if not ARCHIVE.is_file():
                sys.exit(f"{ARCHIVE} is absent: the am-like case needs ../shared/data/cifar10")
            counts = [int(c) for c in args.counts.split(",")]
            folder = extract(args.classes.split(","), max(counts), args.test, Path(tmp))
            config = am_like_config(args, folder, seeds, cache)
            print(f"data: CIFAR-10 JPEGs {args.classes} with {args.counts} training images, "
                  f"{args.test} test images per class, {args.size}x{args.size} RGB; "
                  f"methods {', '.join(config.methods)}; seeds {list(seeds)}")
        t_start = time.perf_counter()
        splits = load_source(config.data.source, **config.data.load_kwargs())
        t_load = time.perf_counter() - t_start
        print(f"data load            {t_load:8.2f} s", flush=True)
        t1 = time.perf_counter()
        with TreeMemory() as memory:
            result = run_comparison(config, splits=splits,
                                    on_run=lambda run, _: print_run(run))
        t_run = time.perf_counter() - t1
    wall = time.perf_counter() - t_start
    # the local executor runs every unit in this process; with the DCGAN's n_jobs its
    # models train in worker processes, sampled with it
    own_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # KiB -> GiB
    rss_peak = max(own_peak, memory.peak / 2**30)

    phases = sum(sum(r.seconds.values()) for r in result.runs)
    print(f"comparison total     {t_run:8.2f} s  ({len(result.runs)} runs; the first "
          f"includes torch's one-time warm-up; {t_run - phases:.2f} s outside the runs, "
          f"mostly the gate's feature CNN when it is not cached yet)")
    print(f"wall time            {wall:8.2f} s  (data load + comparison)")
    print(f"peak RSS             {rss_peak:8.2f} GiB (this process and its worker processes "
          f"together, sampled every 0.1 s; this process alone {own_peak:.2f} GiB)")
    print(f"load average         {os.getloadavg()[0]:8.2f} at the end")
    print(f"machine speed        {before:8.1f} ms a step of the AM-like DCGAN before the "
          f"comparison, {yardstick_ms():.1f} ms after it")
    cols = ["accuracy", "f1_macro", "gmean", "minority_recall"]
    print(result.metrics_table()[cols].round(4).to_string())
    if args.case == "am-like":
        print(f"goal: wall time <= {GOAL_SECONDS} s: {'met' if wall <= GOAL_SECONDS else 'MISSED'}"
              f"; peak memory <= {GOAL_GIB} GiB: "
              f"{'met' if rss_peak <= GOAL_GIB else 'MISSED'}")
        write_grids(result, args.out, config)


def print_run(run) -> None:
    """One line per finished (seed, method): its phases, epochs, train set and warnings."""
    resample = run.seconds.get("resample", 0.0)
    train = run.seconds.get("train", 0.0)
    gate = run.seconds.get("quality", 0.0)
    status = "ok" if run.ok else f"FAILED ({run.error})"
    codes = sorted({w["code"] for w in run.warnings})
    print(f"seed {run.seed} {run.method:<16} resample {resample:6.2f} s  gate "
          f"{gate:5.2f} s  train {train:6.2f} s  epochs {run.epochs_run:3d}  train set "
          f"{run.n_train:6d}  {status}{'  warnings: ' + ', '.join(codes) if codes else ''}",
          flush=True)


def write_grids(result, out: Path, config: CompareConfig) -> None:
    """The first seed's DCGAN images and real images of every minority class, as PNGs."""
    out.mkdir(parents=True, exist_ok=True)
    scale = max(1, 64 // config.data.image_size)
    for c, real in result.real_samples.items():
        (out / f"real-class{c}.png").write_bytes(png_bytes(image_grid(real, ncols=8,
                                                                      scale=scale)))
    for method, per_class in result.synthetic_samples.items():
        for c, images in per_class.items():
            if len(images):
                (out / f"{method}-class{c}.png").write_bytes(
                    png_bytes(image_grid(images, ncols=8, scale=scale)))
    print(f"sample grids in {out}/ (real-class<c>.png beside <method>-class<c>.png)")


if __name__ == "__main__":
    main()
