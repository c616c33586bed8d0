"""OpenMP waiting policies side by side: one torch process alone, and two sharing the cores.

Three settings of how torch's OpenMP threads wait between parallel regions:

* ``default``  GNU OpenMP's default (spin about 3 ms, then sleep);
* ``PASSIVE``  ``OMP_WAIT_POLICY=PASSIVE`` (sleep at once), which the app, the CLI and
               the workers used before;
* ``ours``     ``GOMP_SPINCOUNT=1000`` (spin about 10 us; what
               :func:`gda_core._compat.threads.prefer_short_spinning` sets now).

For each: a DCGAN (64x64x3, width 32, batch 22: the AM-like comparison's) timed alone in
ms per step, and the AM-study CNN on digits (``--epochs``) alone and two at once.

    python bench/concurrency.py [--epochs 6] [--gan-steps 120]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CNN_JOB = """
import time
from gda_core.classifiers import CNNClassifier
from gda_core.datasets import load_source
s = load_source("digits").train
t = time.perf_counter()
CNNClassifier(epochs={epochs}, patience=100, random_state=0).fit(s.images, s.labels)
print(time.perf_counter() - t)
"""
GAN_JOB = """
import numpy as np
from gda_core.synthesizers.dcgan import DCGAN
x = np.random.default_rng(0).integers(0, 256, (22, 3, 64, 64), dtype=np.uint8)
X, y = np.concatenate([x, x, x]), np.array([0] * 44 + [1] * 22)
gan = DCGAN(min_steps={steps}, epochs=1, random_state=0).fit(X, y)
sec = [e["seconds"] for e in gan.history_]
print((sec[-1] - sec[19]) / ({steps} - 20) * 1000)
"""
POLICIES: dict[str, dict[str, str]] = {
    "default": {},
    "PASSIVE": {"OMP_WAIT_POLICY": "PASSIVE"},
    "ours": {"GOMP_SPINCOUNT": "1000", "OMP_WAIT_POLICY": "PASSIVE"},
}


def _run(n: int, policy: dict[str, str], job: str) -> list[float]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OMP_WAIT_POLICY", None)
    env.pop("GOMP_SPINCOUNT", None)
    env.update(policy)
    procs = [subprocess.Popen([sys.executable, "-c", job], env=env, stdout=subprocess.PIPE,
                              text=True) for _ in range(n)]
    return [float(p.communicate()[0].strip().splitlines()[-1]) for p in procs]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--gan-steps", type=int, default=120)
    args = parser.parse_args()
    if args.gan_steps <= 20:
        parser.error("--gan-steps must be above 20 (the first 20 are not timed)")
    print(f"{os.cpu_count()} CPUs; DCGAN 64x64x3 alone ({args.gan_steps} steps, the first 20 "
          f"untimed); AM-study CNN on digits, {args.epochs} epochs per process")
    cnn = CNN_JOB.format(epochs=args.epochs)
    gan = GAN_JOB.format(steps=args.gan_steps)
    for label, policy in POLICIES.items():
        step = _run(1, policy, gan)[0]
        alone = _run(1, policy, cnn)[0]
        both = _run(2, policy, cnn)
        print(f"  {label:<8} DCGAN {step:5.1f} ms/step   CNN alone {alone:5.1f} s   two at "
              f"once {both[0]:5.1f} s and {both[1]:5.1f} s   slowdown x{max(both) / alone:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
