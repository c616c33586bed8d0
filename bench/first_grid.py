"""Time to first feedback: from starting ``python -m gda_core train`` to the run's first
progress event, first logged step and first sample grid in the run store.

The command is started as a user would start it (a fresh interpreter, a fresh run store);
the script polls the store every 20 ms.  It prints each time for every round and the
medians; the machine's load is printed too, since it moves these numbers.

    python bench/first_grid.py [--rounds 3] [--synthesizer dcgan] [--dataset digits]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from gda_core.runs import RunStore  # noqa: E402


def one_round(synthesizer: str, dataset: str) -> dict[str, float]:
    """Seconds from the command's start to each first feedback."""
    with tempfile.TemporaryDirectory() as tmp:
        runs = Path(tmp) / "runs"
        cmd = [sys.executable, "-m", "gda_core", "train", "--dataset", dataset, "--synthesizer",
               synthesizer, "--runs-dir", str(runs), "--quiet", "--param", "min_steps=200"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL,
                                env={**os.environ, "PYTHONPATH": str(REPO)})
        seen: dict[str, float] = {}
        try:
            while len(seen) < 3 and time.perf_counter() - t0 < 300:
                if (runs / "runs.sqlite3").exists():
                    store = RunStore(runs)
                    runs_now = store.list_runs()
                    if runs_now:
                        run = runs_now[0]
                        now = time.perf_counter() - t0
                        if run.summary and "progress" not in seen:
                            seen["progress"] = now
                        if "step" not in seen and store.last_seq(run.id) > 0:
                            seen["step"] = now
                        if "grid" not in seen and store.artifacts(run.id, "grid"):
                            seen["grid"] = now
                time.sleep(0.02)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
            for record in RunStore(runs).list_runs() if runs.exists() else []:
                if record.pid:
                    try:
                        os.killpg(record.pid, 9)
                    except OSError:
                        pass
        return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--synthesizer", default="dcgan")
    parser.add_argument("--dataset", default="digits")
    args = parser.parse_args()
    print(f"{args.synthesizer} on {args.dataset}; load average "
          f"{', '.join(f'{v:.1f}' for v in os.getloadavg())}; {os.cpu_count()} CPUs")
    rounds = [one_round(args.synthesizer, args.dataset) for _ in range(args.rounds)]
    for i, r in enumerate(rounds, 1):
        print(f"  round {i}: " + ", ".join(f"first {k} {v:.2f} s" for k, v in r.items()))
    for key in ("progress", "step", "grid"):
        values = [r[key] for r in rounds if key in r]
        if values:
            print(f"median time to the first {key}: {statistics.median(values):.2f} s")


if __name__ == "__main__":
    main()
