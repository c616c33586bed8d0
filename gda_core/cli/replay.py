"""``python -m gda_core replay NAME``: a source study's experiment beside its published numbers."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_replay_parser(sub) -> None:
    """Add the ``replay`` sub-command."""
    from gda_core.cli.choices import LazyChoices

    p = sub.add_parser("replay", help="replay a source study at a CPU-friendly scale and "
                       "print the published numbers beside ours")
    p.add_argument("name", metavar="NAME",
                   choices=LazyChoices("gda_core.replays", "REPLAYS", extra=("list",)),
                   help="which replay: %(choices)s ('list' lists them)")
    p.add_argument("--scale", default="quick", choices=("smoke", "quick", "full"),
                   help="smoke: seconds, only checks that it runs (no verdicts); quick: "
                        "minutes (default); full: the study's sizes where feasible")
    p.add_argument("--root", help="folder with MNIST / Fashion-MNIST files (GAN replays)")
    p.add_argument("--path", help="your AM image folder or zip (am-table2)")
    p.add_argument("--dataset", default="mnist", choices=("mnist", "fashion-mnist"),
                   help="data of gan-diversity")
    p.add_argument("--download", action="store_true",
                   help="let torchvision download MNIST / Fashion-MNIST into --root")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--csv", type=Path, help="write our table as CSV")
    p.add_argument("--json", type=Path, help="write the whole result as JSON: both tables, "
                   "every check with its verdict ('matched', 'not matched' or 'no verdict'), "
                   "rule and evidence")
    p.add_argument("--quiet", action="store_true", help="no progress output")


def replay(args: argparse.Namespace) -> int:
    from gda_core.replays import REPLAYS, ReplayOptions, run_replay

    if args.name == "list":
        for r in REPLAYS.values():
            print(f"{r.name:<16} {r.title}\n{'':<16} data: {r.needs}")
        return 0
    options = ReplayOptions(scale=args.scale, root=args.root, path=args.path,
                            dataset=args.dataset, seed=args.seed, download=args.download)
    last = [""]

    def progress(fraction: float, message: str) -> None:
        head = message.split(":")[0]
        if not args.quiet and (head != last[0] or fraction >= 1):
            print(f"[{fraction:5.0%}] {message}", file=sys.stderr, flush=True)
            last[0] = head

    result = run_replay(args.name, options, progress)
    print(result.report())
    if args.csv:
        result.ours.to_csv(args.csv, index=False)
        print(f"wrote {args.csv}")
    if args.json:
        import json

        args.json.write_text(json.dumps(result.to_dict(), indent=1))
        print(f"wrote {args.json}")
    return 0
