"""Comparisons as runs of the run store, and export of a result to a folder.

A saved comparison is a finished run of kind :data:`RUN_KIND` whose config is the
comparison's configuration, with two artifacts: ``result`` (the full
:class:`ComparisonResult` JSON: seeds, per-seed metrics, confusion matrices, sample
images, sample quality) and ``metrics`` (the :func:`~gda_core.metrics.stats.summarise`
table as CSV).  A ratio sweep is saved the same way as a run of kind :data:`SWEEP_KIND`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from gda_core.experiments.config import BASELINE
from gda_core.experiments.result import ComparisonResult
from gda_core.experiments.sweep import RatioSweep
from gda_core.metrics.classification import METRIC_LABELS
from gda_core.metrics.stats import summarise
from gda_core.runs import FAILED, RUNNING, RunStore
from gda_core.runs.records import RunRecord
from gda_core.runs.results import read_result
from gda_core.viz.comparison import per_class_recall_figure, ratio_sweep_figure
from gda_core.viz.figures import class_counts_figure, confusion_figure, metric_bars_figure
from gda_core.viz.grids import image_grid, png_bytes

RUN_KIND = "comparison"
SWEEP_KIND = "ratio_sweep"
FIGURE_METRICS = ("f1_macro", "recall_macro", "gmean", "minority_recall")
"""Metrics drawn as bar charts in exported figures."""


def save_comparison(store: RunStore, result: ComparisonResult, name: str = "", *,
                    stopped: bool = False) -> str:
    """Store a comparison as a run; return its id.

    Parameters
    ----------
    store : RunStore
    result : ComparisonResult
    name : str
        Label shown in lists (default: dataset and methods).
    stopped : bool
        The comparison was stopped before it finished: the run is marked ``stopped``
        (its result holds the runs that finished).

    Returns
    -------
    str
        The new run's id, for :func:`load_comparison`.
    """
    methods = ", ".join(result.methods)
    label = name or f"{result.config.get('data', {}).get('source', '?')}: {methods}"
    return _store(store, RUN_KIND, result.config, label, comparison_files(result),
                  comparison_summary(result), stopped=stopped)


def comparison_files(result: ComparisonResult) -> dict[str, tuple[bytes, str]]:
    """The artifacts of a comparison run: artifact kind -> (bytes, suffix)."""
    return {"result": (result.to_json().encode(), ".json"),
            "metrics": (summarise(result).to_csv(index=False).encode(), ".csv")}


def list_comparisons(store: RunStore, limit: int | None = 100) -> list[RunRecord]:
    """Saved comparisons, newest first (``record.summary`` holds methods, seeds, best F1)."""
    return store.list_runs(RUN_KIND, limit)


def load_comparison(store: RunStore, run_id: str) -> ComparisonResult:
    """The :class:`ComparisonResult` saved as run ``run_id``.

    Raises
    ------
    RunError
        When there is no such run, it is not a comparison, or its result file is gone.
    """
    return read_result(store, run_id, RUN_KIND, "comparison", ComparisonResult.from_dict)


def save_sweep(store: RunStore, sweep: RatioSweep, name: str = "", *,
               stopped: bool = False) -> str:
    """Store a ratio sweep as a run of kind :data:`SWEEP_KIND`; return its id (marked
    ``stopped`` when it did not finish)."""
    label = name or f"{sweep.method} ratio sweep ({sweep.metric})"
    return _store(store, SWEEP_KIND, sweep.config, label, sweep_files(sweep),
                  sweep_summary(sweep), stopped=stopped)


def sweep_files(sweep: RatioSweep) -> dict[str, tuple[bytes, str]]:
    """The artifacts of a ratio-sweep run: artifact kind -> (bytes, suffix)."""
    return {"result": (sweep.to_json().encode(), ".json"),
            "summary": (sweep.summary().to_csv(index=False).encode(), ".csv")}


def sweep_summary(sweep: RatioSweep) -> dict[str, Any]:
    """What lists of runs show about a sweep: method, metric, ratios, seeds done."""
    return {"method": sweep.method, "metric": sweep.metric, "ratios": sweep.ratios,
            "seeds_done": sorted({int(s) for s in sweep.runs["seed"]}),
            "dataset": sweep.config.get("data", {}).get("source")}


def list_sweeps(store: RunStore, limit: int | None = 100) -> list[RunRecord]:
    """Ratio sweeps of the run store (finished, running, stopped or failed), newest first."""
    return store.list_runs(SWEEP_KIND, limit)


def load_sweep(store: RunStore, run_id: str) -> RatioSweep:
    """The :class:`RatioSweep` saved by run ``run_id`` (:class:`RunError` if there is none)."""
    return read_result(store, run_id, SWEEP_KIND, "ratio sweep", RatioSweep.from_dict)


def _store(store: RunStore, kind: str, config: dict[str, Any], name: str,
           files: dict[str, tuple[bytes, str]], summary: dict[str, Any], *,
           stopped: bool = False) -> str:
    """A finished run holding ``files`` (artifact kind -> (bytes, suffix))."""
    run_id = store.create_run(kind, config, name=name)
    store.set_status(run_id, RUNNING)
    try:
        for artifact, (data, suffix) in files.items():
            store.save_artifact(run_id, artifact, data, suffix=suffix)
        store.set_progress(run_id, 1.0, summary=summary)
    except BaseException as exc:
        store.set_status(run_id, FAILED, error=f"saving failed: {exc}")
        raise
    store.finish_run(run_id, stopped=stopped)
    return run_id


def export_comparison(result: ComparisonResult, folder: str | Path) -> list[Path]:
    """Write a comparison to ``folder`` (created if needed); return the files written.

    Files: ``result.json`` (reloads with ``ComparisonResult.from_json``),
    ``metrics.csv`` (the :func:`~gda_core.metrics.stats.summarise` table: mean, interval
    and paired difference to the baseline per method and metric), ``per_seed.csv``,
    ``per_class_recall.csv``, ``quality.csv`` (when sample quality was computed),
    ``warnings.csv`` (every run's warnings and the few-data guidance, when there are any),
    ``figures.html`` (every figure in one self-contained page that works offline: class
    counts, metric bars with 95% intervals, recall per class, summed confusion matrices)
    and PNG grids of real and synthesized samples, ``samples-<method>-class<c>.png``
    (``real`` for the real ones).  Figures are exported as HTML only: PNG export of
    plotly figures would need kaleido, which is not a dependency.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "result.json", out / "metrics.csv", out / "per_seed.csv",
             out / "per_class_recall.csv"]
    result.to_json(files[0])
    summarise(result).to_csv(files[1], index=False)
    per_seed = [{"method": r.method, "seed": r.seed, "error": r.error, **r.metrics}
                for r in result.runs]
    pd.DataFrame(per_seed).to_csv(files[2], index=False)
    result.per_class_recall_table().to_csv(files[3], index_label="method")
    notes = [{"method": r.method, "seed": r.seed, **w} for r in result.runs for w in r.warnings]
    notes += [{"method": "", "seed": "", **g} for g in result.guidance]
    if notes:
        files.append(out / "warnings.csv")
        pd.DataFrame(notes, columns=["method", "seed", "code", "message"]).to_csv(
            files[-1], index=False)
    quality = result.quality_table()
    if not quality.empty:
        files.append(out / "quality.csv")
        quality.to_csv(files[-1], index=False)
    files.append(out / "figures.html")
    files[-1].write_text(figures_html(result), encoding="utf-8")
    files += _sample_pngs(result, out)
    return files


def export_sweep(sweep: RatioSweep, folder: str | Path) -> list[Path]:
    """Write ``sweep.json``, ``sweep.csv`` (per ratio and seed), ``summary.csv`` (per
    ratio) and ``sweep.html`` (the metric against the ratio, self-contained)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    files = [out / "sweep.json", out / "sweep.csv", out / "summary.csv", out / "sweep.html"]
    sweep.to_json(files[0])
    sweep.runs.to_csv(files[1], index=False)
    summary = sweep.summary()
    summary.to_csv(files[2], index=False)
    fig = ratio_sweep_figure(summary, metric=sweep.metric, method=sweep.method)
    fig.write_html(files[3], include_plotlyjs=True)
    return files


def figures_html(result: ComparisonResult) -> str:
    """One HTML page with the comparison's figures; plotly.js is embedded once."""
    parts: list[tuple[str, go.Figure]] = []
    rows = [{"class": n, "role": "minority" if i in result.minority_classes else "majority",
             "train": result.train_counts[i], "test": result.test_counts[i]}
            for i, n in enumerate(result.class_names)]
    parts.append(("Images per class", class_counts_figure(rows)))
    table = summarise(result)
    for metric in FIGURE_METRICS:
        part = table[table["metric"] == metric].set_index("method")
        if part.empty:
            continue
        half = ((part["ci_high"] - part["ci_low"]) / 2).fillna(0.0)
        base = part["mean"].get(BASELINE)
        label = METRIC_LABELS.get(metric, metric)
        parts.append((f"{label} (mean, 95% interval)", metric_bars_figure(
            part["mean"].to_dict(), half.to_dict(), metric=label,
            baseline=None if base is None or math.isnan(base) else float(base))))
    recall = result.per_class_recall_table()
    if not recall.empty:
        parts.append(("Recall per class (mean over seeds)",
                      per_class_recall_figure(recall, minority=result.minority_classes)))
    for method in result.methods:
        if any(r.ok for r in result.runs_of(method)):
            parts.append((f"Confusion matrix: {method} (summed over seeds)", confusion_figure(
                result.confusion(method), result.class_names,
                minority=result.minority_classes)))
    body = []
    for i, (title, fig) in enumerate(parts):
        body.append(f"<h2>{title}</h2>")
        body.append(fig.to_html(full_html=False, include_plotlyjs=i == 0))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'><title>Comparison</title>"
            "</head><body style='font-family:sans-serif'>" + "\n".join(body)
            + "</body></html>")


def _sample_pngs(result: ComparisonResult, out: Path) -> list[Path]:
    files = []
    sources = [("real", result.real_samples), *result.synthetic_samples.items()]
    for method, per_class in sources:
        for c, images in sorted(per_class.items()):
            if len(images) == 0:
                continue
            scale = max(1, 32 // max(images.shape[-2:]))
            path = out / f"samples-{method}-class{c}.png"
            path.write_bytes(png_bytes(image_grid(images, scale=scale)))
            files.append(path)
    return files


FAILED_CODES = frozenset({"noise", "unlike-real", "collapsed", "divergence"})
"""Warning codes that disqualify a method from being listed as a comparison's best: its
images are no result (the quality gate) or its training blew up."""


def comparison_summary(result: ComparisonResult) -> dict[str, Any]:
    """What lists of runs show about a comparison: methods, seeds, dataset, the best macro-F1
    method among those the quality gate passed, errors and warnings."""
    codes = result.warning_codes()
    failed = sorted(m for m, c in codes.items() if FAILED_CODES & set(c))
    f1 = result.metrics_table()["f1_macro"].drop(index=failed, errors="ignore").dropna()
    return {"methods": result.methods, "seeds": result.config.get("seeds", []),
            "dataset": result.config.get("data", {}).get("source"),
            "best_f1_method": None if f1.empty else str(f1.idxmax()),
            "errors": result.errors(), "warned": codes, "failed_gate": failed,
            "sample_quality": bool(result.config.get("sample_quality", False))}
