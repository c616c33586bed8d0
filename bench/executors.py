"""Wall time of one comparison on the local executor and on Ray, side by side in one run.

The comparison: digits, classes 3 and 8 at ratio 0.1 (the dashboard's default data),
baseline + SMOTE + DCGAN, seeds 0-2 (9 units of method x seed), 15 classifier epochs,
DCGAN with its defaults (2000 steps per class), no feature-based quality scores (the
gate's pixel checks still run).  Four runs of the same units, each timed:

1. local, torch with its default threads (all cores);
2. Ray with its default CPUs per task (as many as torch uses here): the same numbers as 1;
3. Ray with 1 CPU per task (more tasks at once);
4. local with 1 torch thread: the same numbers as 3.

It prints whether every run's metrics and confusion matrix are equal between 1 and 2 and
between 3 and 4 (a GAN's weights depend in the last bits on the thread count, so 1 and 3
may differ), and the wall-time ratios.

Without ``--ray-address`` it starts a Ray head on this machine (``ray start --head``, with
a temporary folder and a random token of its own; its start time printed apart) and stops
it at the end; with one it joins that cluster (``--ray-token-file`` for its token).

    python bench/executors.py [--seeds 0,1,2] [--ray-address HOST:PORT [--ray-token-file F]]
                              [--dcgan-steps 2000]

Needs ``pip install -r requirements-ray.txt``.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # as app.py, the CLI and the workers run, before torch

import torch

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
    parser.add_argument("--ray-token-file", help="file holding that cluster's token")
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

    def timed(label: str, **kwargs):
        t = time.perf_counter()
        result = run_comparison(config, splits=splits, **kwargs)
        seconds = time.perf_counter() - t
        print(f"{label:<52} {seconds:7.1f} s")
        return result, seconds

    local, t_local = timed(f"1. local, {torch.get_num_threads()} torch threads")

    address, token_file, head = args.ray_address, args.ray_token_file, None
    temp = Path(tempfile.mkdtemp(prefix="gda-ray-bench-", dir="/tmp"))
    if address is None:
        port, token = _free_port(), secrets.token_hex(32)
        token_file = str(temp / "token")
        Path(token_file).write_text(token)
        t = time.perf_counter()
        head = subprocess.Popen(
            [str(Path(sys.executable).with_name("ray")), "start", "--head", "--block",
             "--port", str(port), "--node-ip-address", "127.0.0.1", "--include-dashboard=false",
             "--disable-usage-stats", "--temp-dir", str(temp / "ray")],
            env={**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not (temp / "ray" / "ray_current_cluster").exists():
            if head.poll() is not None:
                raise SystemExit("ray start --head failed")
            time.sleep(0.2)
        address = f"127.0.0.1:{port}"
        print(f"{'   (ray start --head, not in the times)':<52} {time.perf_counter() - t:7.1f} s")
    try:
        ray_same, t_ray_same = timed(
            f"2. ray, {torch.get_num_threads()} CPUs per task (default)",
            executor=ExecutorConfig("ray", address=address, token_file=token_file))
        ray_one, t_ray_one = timed("3. ray, 1 CPU per task",
                                   executor=ExecutorConfig("ray", address=address, num_cpus=1,
                                                           token_file=token_file))
    finally:
        if head is not None:
            head.terminate()
            head.wait(timeout=120)
        shutil.rmtree(temp, ignore_errors=True)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local_one, t_local_one = timed("4. local, 1 torch thread")
    finally:
        torch.set_num_threads(threads)
    print(f"wall time over 1: ray (default) {t_ray_same / t_local:.2f}, ray (1 CPU per task) "
          f"{t_ray_one / t_local:.2f}, local with 1 thread {t_local_one / t_local:.2f}")
    print(f"every run equal, 1 vs 2: {_same(local, ray_same)}; 3 vs 4: {_same(ray_one, local_one)}"
          f"; 1 vs 3: {_same(local, ray_one)}")
    failed = [f"{r.method}/{r.seed}: {r.error}" for res in (ray_same, ray_one)
              for r in res.runs if r.error]
    if failed:
        print(f"failed on Ray: {failed}")


def _same(a, b) -> bool:
    return all(x.metrics == y.metrics and x.confusion_matrix == y.confusion_matrix
               for x, y in zip(a.runs, b.runs, strict=True))


if __name__ == "__main__":
    main()
