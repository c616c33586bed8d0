"""Two torch processes sharing the cores: OpenMP's default (spinning) wait policy against
``OMP_WAIT_POLICY=PASSIVE`` (what the app, the CLI and the workers use), side by side.

    python bench/concurrency.py [--epochs 6]

Each process trains the AM-study CNN on digits; we time one alone, then two at once.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
JOB = """
import time
from gda_core.classifiers import CNNClassifier
from gda_core.datasets import load_source
s = load_source("digits").train
t = time.perf_counter()
CNNClassifier(epochs={epochs}, patience=100, random_state=0).fit(s.images, s.labels)
print(time.perf_counter() - t)
"""


def _run(n: int, policy: str | None, epochs: int) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OMP_WAIT_POLICY", None)
    if policy:
        env["OMP_WAIT_POLICY"] = policy
    procs = [subprocess.Popen([sys.executable, "-c", JOB.format(epochs=epochs)], env=env,
                              stdout=subprocess.PIPE, text=True) for _ in range(n)]
    return [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPUs; AM-study CNN on digits, {args.epochs} epochs per process")
    for label, policy in (("default (spinning)", None), ("PASSIVE", "PASSIVE")):
        alone = _run(1, policy, args.epochs)[0]
        both = _run(2, policy, args.epochs)
        print(f"  {label:<19} alone {alone:5.1f} s   two at once {both[0]:5.1f} s and "
              f"{both[1]:5.1f} s   slowdown x{max(both) / alone:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
