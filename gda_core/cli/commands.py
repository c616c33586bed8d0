"""The CLI's sub-commands."""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from gda_core.cli.args import SweepArgs
from gda_core.datasets import PRESETS, SOURCES
from gda_core.errors import GDAError
from gda_core.experiments import (
    BASELINE,
    CompareConfig,
    ComparisonResult,
    MethodRun,
    RatioSweep,
    export_comparison,
    export_sweep,
    run_comparison,
    run_ratio_sweep,
    save_comparison,
    save_sweep,
)
from gda_core.experiments.protocol import Protocol
from gda_core.metrics import METRIC_HELP, METRIC_LABELS
from gda_core.metrics.stats import significance_note, summarise
from gda_core.oversampling import OVERSAMPLERS
from gda_core.runs import RunStore
from gda_core.runs.eta import TimeLeft, format_duration, unit_of
from gda_core.runs.executors import ExecutorConfig
from gda_core.runs.store import rescue_dir


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
    """One updating progress line on a terminal (with the time left), plain lines otherwise
    (when the step changes, and every ``every`` seconds inside a long one, e.g. GAN steps)."""

    def __init__(self, quiet: bool, every: float = 10.0, *, whole: bool = False) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.last = ""
        self.every = every
        self.whole = whole  # pace over the whole job (see gda_core.runs.eta.JobProgress)
        self.reached = 0.0
        self.eta = TimeLeft(window=math.inf if whole else 60.0, min_span=3.0)
        self.printed = -math.inf

    def __call__(self, fraction: float, message: str) -> None:
        if self.quiet:
            return
        now = time.monotonic()
        if self.whole:  # a report that lags (a unit's first line) must not restart the pace
            fraction = self.reached = max(self.reached, fraction)
        left = self.eta.update(fraction, unit=None if self.whole else unit_of(message))
        eta = "" if left is None or fraction >= 1 else f" · about {format_duration(left)} left"
        bar = "#" * int(fraction * 30)
        line = f"[{bar:<30}] {fraction:5.0%} {message}{eta}"
        if self.tty:
            print("\r" + line.ljust(110)[:110], end="", file=sys.stderr, flush=True)
        elif (message.split(":")[0] != self.last.split(":")[0] or fraction >= 1
              or now - self.printed >= self.every):
            print(line, file=sys.stderr, flush=True)
            self.printed = now
        self.last = message

    def close(self) -> None:
        if self.tty and not self.quiet:
            print(file=sys.stderr)


def format_table(result: ComparisonResult) -> str:
    """Rows = methods, columns = metrics.

    With one unit per method (one seed on a held-out test set) the cells are the values;
    with several, ``mean [low, high]``, the 95% interval, a ``*`` marking a difference to
    the baseline on the primary metric that is significant after Holm's correction over
    the methods (see :func:`~gda_core.metrics.stats.summarise`), followed by the table of
    those differences.  Headers whose short name could be read two ways are explained
    below.
    """
    mean = result.metrics_table()
    if mean.empty:
        return "(no method ran successfully)"
    codes = result.warning_codes()
    flags = [("! " + ", ".join(codes[m])) if m in codes else "" for m in mean.index]
    legend = ("\n\n! = warnings (listed below the table): the quality gate or the GAN's "
              "training found a problem; such a method's scores are not a result")
    metrics = metric_legend(list(mean.columns))
    if max(sum(r.ok for r in result.runs_of(m)) for m in mean.index) <= 1:
        shown = mean.rename(columns={k: _short(k) for k in mean.columns})
        shown["warnings"] = flags
        text = shown.to_string(float_format=lambda v: f"{v:.4f}")
        return text + (legend if codes else "") + metrics
    table = summarise(result)
    units = "folds" if result.protocol.get("kind") == "cv" else "seeds"
    pivot = _pivot(table, "mean", "ci_low", "ci_high")
    pivot["warnings"] = [("! " + ", ".join(codes[m])) if m in codes else ""
                         for m in pivot.index]
    text = pivot.to_string() + (legend if codes else "") + metrics
    text += (f"\n\n[low, high]: 95% interval over {units} (not adjusted for multiple "
             f"tests); * = differs from the baseline: {significance_note(table)}")
    diffs = table[table["method"] != BASELINE]
    if not diffs.empty and BASELINE in result.methods:
        text += f"\n\ndifference to the baseline (paired over {units}):\n"
        text += _pivot(diffs, "diff_vs_baseline", "diff_low", "diff_high", signed=True).to_string()
    return text


def _pivot(table: pd.DataFrame, value: str, low: str, high: str, *,
           signed: bool = False) -> pd.DataFrame:
    """Methods x metrics of ``value [low, high]`` strings, ``*`` where significant."""
    def cell(row: pd.Series) -> str:
        v, lo, hi = row[value], row[low], row[high]
        if math.isnan(v):
            return "nan"
        fmt = "{:+.3f}" if signed else "{:.3f}"
        text = fmt.format(v)
        if not math.isnan(lo):
            text += f" [{fmt.format(lo)}, {fmt.format(hi)}]"
        return text + ("*" if row["significant"] else "")

    cells = table.assign(cell=table.apply(cell, axis=1))
    out = cells.pivot(index="method", columns="metric", values="cell")
    out = out.loc[list(dict.fromkeys(table["method"])), list(dict.fromkeys(table["metric"]))]
    out.index.name, out.columns.name = None, None
    return out.rename(columns=_short)


def format_protocol(result: ComparisonResult) -> str:
    """The protocol line: what ran, on how many test images per class, and why."""
    protocol = Protocol.from_dict(result.protocol)
    if protocol is None:
        return f"protocol: held-out test set {result.test_counts} images per class"
    return "protocol: " + protocol.describe(result.class_names)


QUALITY_SHORT = {"fid_equal": "FID", "fid_real": "realFID", "coverage_equal": "cov",
                 "coverage_real": "realcov", "struct_fid_equal": "gFID",
                 "struct_fid_real": "realgFID", "struct_coverage_equal": "gcov",
                 "struct_coverage_real": "realgcov", "noise_share": "noise",
                 "copy_share": "copies", "dup_share": "dups", "spread": "spread",
                 "n_compared": "m", "n_fake": "n_fake"}
"""The quality gate's scores the CLI table shows, with short headers (the JSON and the
export hold every score)."""


def format_quality(result: ComparisonResult) -> str:
    """The quality gate's scores per method and class (mean over seeds), or ``""``."""
    table = result.quality_table()
    if table.empty:
        return ""
    shown = table[["method", "class_name", *QUALITY_SHORT]].rename(
        columns={"class_name": "class", **QUALITY_SHORT})
    shown = shown.dropna(axis=1, how="all")  # scores that need features, when off
    legend = ("FID / cov: m synthesized vs m real images of the class (trained CNN "
              "features); gFID / gcov: the same on generic random-CNN features; real*: m "
              "other real images vs the same m; noise / copies / dups: shares of noise-like "
              "images, near-copies of training images, near-identical images")
    return shown.to_string(index=False, float_format=lambda v: f"{v:.3f}") + "\n" + legend


def format_warnings(result: ComparisonResult) -> list[str]:
    """One line per kind of warning of each method (with where it came from), then the
    few-data guidance."""
    lines = []
    for method in result.methods:
        for w in result.grouped_warnings(method):
            where = f" ({w['where']})" if w["where"] else ""
            lines.append(f"warning: {method} [{w['code']}]{where}: {w['message']}")
    lines += [f"advice [{g['code']}]: {g['message']}" for g in result.guidance]
    return lines


def format_sweep(sweep: RatioSweep) -> str:
    """One row per ratio: mean of the metric with its 95% interval over seeds."""
    table = sweep.summary()
    return table.to_string(index=False, float_format=lambda v: f"{v:.4f}")


SHORT_METRICS: dict[str, str] = {
    "precision_macro": "precision", "recall_macro": "recall", "f1_macro": "f1",
    "gmean": "gmean_rec", "gmean_sens_spec": "gmean_ss", "minority_recall": "R_min_mean",
    "smallest_class_recall": "R_min_small", "majority_precision": "P_maj",
    "top2_accuracy": "top2", "roc_auc_ovr": "auc"}
"""Short table headers of the metrics (the JSON and CSV keep the metric keys)."""


def _short(key: str) -> str:
    return SHORT_METRICS.get(key, key)


def metric_legend(metrics: list[str]) -> str:
    """Lines explaining the headers of the G-means and minority recalls in ``metrics``
    (``""`` when none is there).

    Examples
    --------
    >>> print(metric_legend(["f1_macro", "gmean", "minority_recall"]).strip())
    gmean_rec = G-mean (recalls): Geometric mean of the per-class recalls; never above ACSA.
    R_min_mean = R_min (mean over minority classes): Mean recall over all minority classes.
    >>> metric_legend(["f1_macro"])
    ''
    """
    lines = [f"{_short(k)} = {METRIC_LABELS[k]}: {METRIC_HELP[k]}" for k in metrics
             if k in METRIC_HELP]
    return ("\n\n" + "\n".join(lines)) if lines else ""


def compare(config: CompareConfig, *, json_path: Path | None, quiet: bool,
            save: bool = False, runs_dir: Path | None = None, name: str = "",
            export: Path | None = None, executor: ExecutorConfig | None = None) -> int:
    """Run a comparison, print its tables; optionally save it, export it, write JSON.

    Ctrl-C stops it: what finished is printed, written, saved and exported as asked (a
    saved run is marked stopped) and the exit status is 130.
    """
    progress = _ProgressLine(quiet, whole=True)
    latest: list[ComparisonResult] = []

    def save_partial(run: MethodRun, partial: ComparisonResult) -> None:
        latest[:] = [partial]
        if json_path is not None:
            try:
                partial.to_json(json_path)
            except OSError as exc:  # reported again, and rescued, at the end
                print(f"warning: could not update {json_path}: {exc.strerror or exc}",
                      file=sys.stderr)

    interrupted = False
    try:
        result = run_comparison(config, progress=progress, on_run=save_partial,
                                executor=executor)
    except KeyboardInterrupt:
        interrupted = True
        if not latest:
            raise
        result = latest[0]
    finally:
        progress.close()
    if interrupted:
        done, missing = len(result.runs), result.missing_runs()
        print(f"interrupted: {done} of {done + len(missing)} method x seed runs finished; "
              "here is what they give", file=sys.stderr)
    print(f"classes: {', '.join(result.class_names)}  "
          f"(train {result.train_counts}, test {result.test_counts})")
    print(format_protocol(result))
    print(format_table(result))
    quality = format_quality(result)
    if quality:
        print("\nquality gate: the synthesized images beside real ones (mean over seeds):")
        print(quality)
    for note in result.notes:
        print(f"note: {note}")
    for method, error in result.errors().items():
        print(f"{method}: FAILED – {error}")
    for line in format_warnings(result):
        print(line)
    failed = write_outputs(
        result.to_json, json_path=json_path,
        save=(lambda: save_comparison(RunStore(runs_dir), result, name=name,
                                      stopped=interrupted)) if save else None,
        export=(lambda: export_comparison(result, export)) if export is not None else None,
        export_to=export, stopped=interrupted)
    if result.seconds:
        predicted = (f" (predicted before the run: {format_duration(result.predicted_seconds)})"
                     if math.isfinite(result.predicted_seconds) else "")
        memory = (f"; peak memory {result.peak_memory_mb / 1024:.2f} GiB"
                  if math.isfinite(result.peak_memory_mb) else "")
        print(f"took {format_duration(result.seconds)}{predicted}{memory}")
    if result.recommendation.get("text"):
        partial = " (from the runs that finished)" if interrupted else ""
        print(f"\nanswer{partial}: {result.recommendation['text']}")
    if interrupted:
        return 130
    all_failed = len(result.errors()) == len(result.methods)
    return 2 if all_failed or failed else 0


def compare_dry_run(config: CompareConfig, *, runs_dir: Path | None) -> int:
    """Print what a comparison would run and how long it would take here; run nothing."""
    from gda_core.datasets import load_source
    from gda_core.experiments.compare import plan_units
    from gda_core.experiments.estimate import estimate_comparison, store_costs
    from gda_core.runs.store import DB_NAME, default_runs_dir

    splits = load_source(config.data.source, **config.data.load_kwargs())
    plan, pool, units = plan_units(config, splits)
    root = Path(runs_dir) if runs_dir is not None else default_runs_dir()
    costs = store_costs(RunStore(root)) if (root / DB_NAME).exists() else []
    estimate, per_method = estimate_comparison(config, splits, costs)
    print(f"protocol: {plan.describe(list(pool.class_names))}")
    print(f"units: {len(config.methods)} method(s) × {per_method} = {len(units)} trainings")
    for method in config.methods:
        seconds = estimate.per_method.get(method)
        each = "unknown" if seconds is None else f"{seconds:.0f} s per unit"
        print(f"  {method}: {each}")
    print(f"estimate: {estimate.text(per_method)}")
    return 0


def write_outputs(to_json: Callable[[Path], object], *, json_path: Path | None,
                  save: Callable[[], str] | None, export: Callable[[], list[Path]] | None,
                  export_to: Path | None, stopped: bool) -> bool:
    """Write the JSON, save to the run store and export, each on its own: one that fails
    (a read-only folder, a damaged store) is an ``error:`` line and the others still run.
    When the JSON or the save was asked for and neither worked, the result is written to
    the rescue folder so it is not lost.  Returns whether anything failed."""
    failed = wrote_json = saved = False

    def problem(what: str, exc: BaseException) -> None:
        nonlocal failed
        failed = True
        detail = f"{exc.strerror}: {exc.filename}" if isinstance(exc, OSError) else exc
        print(f"error: could not {what}: {detail}", file=sys.stderr)

    if json_path is not None:
        try:
            to_json(json_path)
            wrote_json = True
            print(f"wrote {json_path}")
        except OSError as exc:
            problem(f"write {json_path}", exc)
    if save is not None:
        try:
            run_id = save()
            saved = True
            print(f"saved as run {run_id}" + (" (stopped)" if stopped else ""))
        except (GDAError, OSError) as exc:
            problem("save to the run store", exc)
    if failed and not (wrote_json or saved):
        path = rescue_dir() / f"result-{time.strftime('%Y%m%d-%H%M%S')}.json"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            to_json(path)
            print(f"the result was written to {path} instead", file=sys.stderr)
        except OSError as exc:
            problem(f"write {path}", exc)
    if export is not None:
        try:
            files = export()
            print(f"exported {len(files)} files to {export_to}")
        except (GDAError, OSError) as exc:
            problem(f"export to {export_to}", exc)
    return failed


def sweep(config: CompareConfig, what: SweepArgs, args: argparse.Namespace, *,
          executor: ExecutorConfig | None = None) -> int:
    """Run a real:synthetic ratio sweep and print one row per ratio.

    Ctrl-C stops it: the seeds that finished are printed, written, saved (marked stopped)
    and exported as asked, and the exit status is 130.
    """
    progress = _ProgressLine(args.quiet)
    latest: list[RatioSweep] = []
    interrupted = False
    try:
        result = run_ratio_sweep(config, what.method, what.ratios, what.metric,
                                 progress=progress, executor=executor,
                                 on_seed=lambda partial: latest.__setitem__(slice(None),
                                                                            [partial]))
    except KeyboardInterrupt:
        if not latest:
            raise
        interrupted, result = True, latest[0]
        result.warnings.append(f"interrupted: {len(set(result.runs['seed']))} of "
                               f"{len(config.seeds)} seeds finished")
    finally:
        progress.close()
    if interrupted:
        print(result.warnings[-1], file=sys.stderr)
    print(f"{what.method}: {what.metric} against synthesized:real minority images "
          f"({len(config.seeds)} seed(s); 95% interval)")
    print(format_sweep(result))
    for err in sorted(set(result.runs["error"].dropna())):
        print(f"FAILED – {err}")
    for w in result.warnings:
        print(f"note: {w}")
    failed = write_outputs(
        result.to_json, json_path=args.json,
        save=(lambda: save_sweep(RunStore(args.runs_dir), result, name=args.name,
                                 stopped=interrupted)) if args.save else None,
        export=(lambda: export_sweep(result, args.export)) if args.export is not None
        else None, export_to=args.export, stopped=interrupted)
    if interrupted:
        return 130
    return 2 if result.runs["error"].notna().all() or failed else 0
