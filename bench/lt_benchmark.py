"""Long-tail benchmark: MNIST-LT and Fashion-MNIST-LT (imbalance factor 100), published
values (Dam et al. 2022, Table II) beside ours.

    python bench/lt_benchmark.py                     # default scale (~30 min on 2 cores)
    python bench/lt_benchmark.py --scale full        # Dam et al.'s protocol: counts
                                                     # 4000 ... 40, full test sets, latent 64
    python bench/lt_benchmark.py --scale smoke       # a minute: checks it runs

The columns beside the paper use its definitions: G-mean (sens×spec), the mean over classes
of sqrt(sensitivity × specificity), and R_min (smallest class).

``--root`` is the folder holding ``mnist/`` and ``fashion-mnist/`` (default: ../shared/data).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # as app.py, the CLI and the workers run, before torch

from gda_core.replays.long_tail import (
    GMEAN,
    SCALES,
    protocol_notes,
    published_frame,
    run_benchmark,
)

DEFAULT_ROOT = Path(__file__).resolve().parents[2] / "shared" / "data"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", choices=list(SCALES), default="quick")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT)
    parser.add_argument("--datasets", default="mnist,fashion-mnist")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(f"published (Dam et al. 2022, Table II; ACSA / F_macro / {GMEAN}):")
    print(published_frame().to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    for note in protocol_notes(args.scale):
        print(f"  note: {note}")
    last = [""]

    def progress(fraction: float, message: str) -> None:
        head = message.split(":")[0]
        if head != last[0]:
            print(f"  [{fraction:4.0%}] {message}", file=sys.stderr, flush=True)
            last[0] = head

    for dataset in args.datasets.split(","):
        t0 = time.perf_counter()

        table, notes = run_benchmark(dataset, args.scale, root=str(args.root / dataset),
                                     seed=args.seed, progress=progress)
        print(f"\nours: {dataset}-LT, scale {args.scale} ({time.perf_counter() - t0:.0f} s)")
        shown = table.drop(columns="dataset")
        print(shown.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
        for note in notes:
            print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
