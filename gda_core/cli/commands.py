"""The CLI's sub-commands."""

from __future__ import annotations

import sys
from pathlib import Path

from gda_core.datasets import PRESETS, SOURCES
from gda_core.experiments import CompareConfig, ComparisonResult, MethodRun, run_comparison
from gda_core.oversampling import OVERSAMPLERS


def list_everything() -> str:
    lines = ["datasets:"]
    lines += [f"  {name:<14} {info.description}" for name, info in SOURCES.items()]
    lines.append("imbalance presets:")
    lines += [f"  {name:<14} {spec.description}" for name, spec in PRESETS.items()]
    lines.append("methods:")
    lines.append(f"  {'baseline':<18} no oversampling")
    for name, cls in OVERSAMPLERS.items():
        params = ", ".join(f"{p.name}={p.default}" for p in cls.params) or "no parameters"
        lines.append(f"  {name:<18} {cls.description} [{params}]")
    return "\n".join(lines)


class _ProgressLine:
    """One updating progress line on a terminal, plain lines otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = ""

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        bar = "#" * int(fraction * 30)
        line = f"[{bar:<30}] {fraction:5.0%} {message}"
        if self.tty:
            print("\r" + line.ljust(100)[:100], end="", file=sys.stderr, flush=True)
        elif message.split(":")[0] != self.last.split(":")[0] or fraction >= 1:
            print(line, file=sys.stderr, flush=True)
        self.last = message

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def format_table(result: ComparisonResult) -> str:
    """Rows = methods, columns = metrics (mean over seeds, with sd when several seeds)."""
    mean = result.metrics_table()
    if mean.empty:
        return "(no method ran successfully)"
    shown = mean.rename(columns={k: _short(k) for k in mean.columns})
    text = shown.to_string(float_format=lambda v: f"{v:.4f}")
    if len(result.config["seeds"]) > 1:
        sd = result.metrics_table("std").rename(columns={k: _short(k) for k in mean.columns})
        text += "\n\nstandard deviation over seeds:\n" + sd.to_string(
            float_format=lambda v: f"{v:.4f}")
    return text


def _short(key: str) -> str:
    return {"precision_macro": "precision", "recall_macro": "recall", "f1_macro": "f1",
            "minority_recall": "R_min", "majority_precision": "P_maj",
            "top2_accuracy": "top2", "roc_auc_ovr": "auc"}.get(key, key)


def compare(config: CompareConfig, *, json_path: Path | None, quiet: bool) -> int:
    progress = _ProgressLine(quiet)

    def save_partial(run: MethodRun, partial: ComparisonResult) -> None:
        if json_path is not None:
            partial.to_json(json_path)

    try:
        result = run_comparison(config, progress=progress, on_run=save_partial)
    finally:
        progress.close()
    print(f"classes: {', '.join(result.class_names)}  "
          f"(train {result.train_counts}, test {result.test_counts})")
    print(format_table(result))
    for method, error in result.errors().items():
        print(f"{method}: FAILED – {error}")
    for run in result.runs:
        for w in run.warnings:
            print(f"note (seed {run.seed}): {w}")
    if json_path is not None:
        result.to_json(json_path)
        print(f"wrote {json_path}")
    all_failed = len(result.errors()) == len(result.methods)
    return 2 if all_failed else 0
