"""Wall time of one comparison on the local executor and on Ray, side by side in one run.

The comparison: digits, classes 3 and 8 at ratio 0.1 (the dashboard's default data),
baseline + SMOTE + DCGAN, seeds 0-2 (9 units of method x seed), 15 classifier epochs,
DCGAN with its defaults (2000 steps per class), no feature-based quality scores (the
gate's pixel checks still run).  Both executors run the same units; the script checks
that every run's metrics and confusion matrix are equal and prints the wall times and
their ratio.

Without ``--ray-address`` it starts a Ray head on this machine (``ray start --head``,
its start time printed apart) and stops it at the end; with one it joins that cluster.

    python bench/executors.py [--seeds 0,1,2] [--ray-address HOST:PORT] [--dcgan-steps 2000]

Needs ``pip install -r requirements-ray.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core.datasets import load_source
from gda_core.experiments import CompareConfig, run_comparison
from gda_core.runs.executors import ExecutorConfig


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--ray-address", help="join this Ray cluster instead of starting one")
    parser.add_argument("--dcgan-steps", type=int, default=2000, help="DCGAN min_steps")
    args = parser.parse_args()
    seeds = tuple(int(s) for s in args.seeds.split(","))
    config = CompareConfig(methods=("baseline", "smote", "dcgan"), seeds=seeds,
                           method_params={"dcgan": {"min_steps": args.dcgan_steps}},
                           sample_quality=False)
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs; python "
          f"{platform.python_version()}")
    print(f"comparison: digits 3,8 at ratio 0.1; baseline, smote, dcgan (min_steps "
          f"{args.dcgan_steps}); seeds {list(seeds)}: {len(seeds) * 3} units")
    splits = load_source(config.data.source)

    t = time.perf_counter()
    local = run_comparison(config, splits=splits)
    t_local = time.perf_counter() - t
    print(f"local executor (one unit after another):  {t_local:7.1f} s")

    address, started = args.ray_address, False
    if address is None:
        port = _free_port()
        ray_bin = str(Path(sys.executable).with_name("ray"))
        t = time.perf_counter()
        subprocess.run([ray_bin, "start", "--head", "--port", str(port),
                        "--node-ip-address", "127.0.0.1", "--include-dashboard=false",
                        "--disable-usage-stats"], check=True, capture_output=True)
        address, started = f"127.0.0.1:{port}", True
        print(f"ray start --head (not in the times):       {time.perf_counter() - t:7.1f} s")
    try:
        t = time.perf_counter()
        on_ray = run_comparison(config, splits=splits,
                                executor=ExecutorConfig("ray", address=address))
        t_ray = time.perf_counter() - t
    finally:
        if started:
            subprocess.run([str(Path(sys.executable).with_name("ray")), "stop", "--force"],
                           capture_output=True)
    print(f"ray executor (units as parallel tasks):    {t_ray:7.1f} s")
    print(f"ray / local wall time:                     {t_ray / t_local:7.2f}")
    same = all(a.metrics == b.metrics and a.confusion_matrix == b.confusion_matrix
               for a, b in zip(local.runs, on_ray.runs, strict=True))
    failed = [f"{r.method}/{r.seed}: {r.error}" for r in on_ray.runs if r.error]
    print(f"every run's metrics and confusion matrix equal: {same}"
          + (f"; failed on Ray: {failed}" if failed else ""))


if __name__ == "__main__":
    main()
