"""A two-class DCGAN fit with its classes' models in turn (``n_jobs=1``) and at once
(``n_jobs=2``), side by side.

The AM-like comparison's DCGAN in miniature: two classes of ``--images`` random 64x64 RGB
images (the step's cost does not depend on what the images show), the DCGAN's defaults
(width 32, DiffAugment) and ``--steps`` generator steps per class.  Each fit runs in a fresh
process (so each pays the same start-up: importing torch, and for ``n_jobs=2`` starting its
worker processes), the variants interleaved in alternating order over ``--rounds`` rounds;
prints each fit's wall time and the medians' ratio.

    python bench/gan_jobs.py [--steps 500] [--images 22] [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core._compat.threads import prefer_short_spinning

FIT = """
import sys, time
import numpy as np
from gda_core.synthesizers.dcgan import DCGAN
if __name__ == "__main__":
    steps, images, jobs = (int(a) for a in sys.argv[1:4])
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (3 * images, 3, 64, 64), dtype=np.uint8)
    y = np.repeat([0, 1, 2], images)
    t = time.perf_counter()
    DCGAN(min_steps=steps, epochs=1, random_state=0, n_jobs=jobs).fit(X, y, classes=[1, 2])
    print(time.perf_counter() - t)
"""


def fit_seconds(steps: int, images: int, jobs: int) -> float:
    """Wall time of one fit in a fresh process (the process start itself not counted)."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    prefer_short_spinning(env)  # as the app, the CLI and the workers run
    done = subprocess.run([sys.executable, "-c", FIT, str(steps), str(images), str(jobs)],
                          capture_output=True, text=True, check=True, env=env)
    return float(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500, help="generator steps per class")
    parser.add_argument("--images", type=int, default=22, help="images per class (22: the "
                        "AM-like classes after their validation images are held out)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f} at the start")
    print(f"DCGAN (width 32, DiffAugment), 2 classes x {args.images} images of 64x64x3, "
          f"{args.steps} steps each")
    times: dict[int, list[float]] = {1: [], 2: []}
    for r in range(args.rounds):
        for jobs in ((1, 2) if r % 2 == 0 else (2, 1)):
            times[jobs].append(fit_seconds(args.steps, args.images, jobs))
            print(f"round {r + 1}  n_jobs={jobs}  {times[jobs][-1]:7.2f} s", flush=True)
    one, two = statistics.median(times[1]), statistics.median(times[2])
    print(f"median: n_jobs=1 {one:.2f} s, n_jobs=2 {two:.2f} s: {one / two:.2f}x "
          f"(load average {os.getloadavg()[0]:.2f} at the end)")


if __name__ == "__main__":
    main()
