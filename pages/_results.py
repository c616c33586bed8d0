"""Rendering of a :class:`gda_core.experiments.ComparisonResult` (Compare and Replays pages).

Everything here formats what ``gda_core`` computed (``summarise``, ``quality_table``,
``per_class_recall_table``, ``export_comparison``) for people; no statistics are computed.
:func:`render_result` uses no expander, so a page may call it inside one.
"""

from __future__ import annotations

import io
import math
import tempfile
import zipfile
from pathlib import Path

import pandas as pd
import streamlit as st

from gda_core.classifiers import ARCHITECTURE_LABELS
from gda_core.classifiers.losses import LOSS_LABELS
from gda_core.experiments import BASELINE, ComparisonResult, export_comparison
from gda_core.experiments.protocol import Protocol
from gda_core.metrics import METRIC_HELP, METRIC_LABELS
from gda_core.metrics.stats import CORRECTED_TEST, significance_note, summarise
from gda_core.viz import confusion_figure
from gda_core.viz.comparison import per_class_recall_figure
from pages._common import plain
from pages._compare_gallery import render_gallery
from pages._compare_labels import method_label, short_label

UP, DOWN = "▲", "▼"
HEADLINE_METRIC = "f1_macro"
VIEWS = ("Confusion matrices", "Recall per class", "Gallery")
QUALITY_COLUMNS = {
    "fid_equal": "FID ↓", "fid_real": "Real-vs-real FID", "coverage_equal": "Coverage ↑",
    "coverage_real": "Real coverage", "struct_fid_equal": "FID (generic) ↓",
    "struct_fid_real": "Real FID (generic)", "struct_coverage_equal": "Coverage (generic) ↑",
    "struct_coverage_real": "Real cov. (generic)",
    "noise_share": "Noise-like", "dup_share": "Near-identical",
    "copy_share": "Copies", "spread": "Spread", "precision": "Precision ↑",
    "recall": "Recall ↑", "density": "Density",
}
QUALITY_HELP = {
    "FID ↓": "Fréchet distance between the feature distributions of m synthesized and m real "
             "images (m = half the real images of the class); 0 = identical. FID is biased "
             "upwards for small m, so read it beside the real-vs-real FID.",
    "Real-vs-real FID": "The same FID between two disjoint sets of m real images: what real "
                        "images score. Synthesized images that look like the class come "
                        "close to it.",
    "Coverage ↑": "Share of m real images that have one of m synthesized images among their "
                  "nearest neighbours (variety); beside it the same for m other real images.",
    "Real coverage": "Coverage of m real images by m other real images, for reference.",
    "FID (generic) ↓": "The same FID on generic image features (a fixed, randomly "
                       "initialised CNN): colour, edges and textures, which a classifier of "
                       "few classes may ignore. Beside it, what real images score.",
    "Coverage (generic) ↑": "Coverage on those generic features; beside it the real images' "
                            "own.",
    "Noise-like": "Share of synthesized images with far less structure than any real image.",
    "Near-identical": "Share of synthesized images (as many as the training images) that are "
                      "near-identical to another synthesized image (collapse).",
    "Copies": "Share of synthesized images that are near-copies of a training image.",
    "Spread": "Variety of the synthesized images' features over that of the real images "
              "(1 = as varied; near 0 = all the same).",
    "Precision ↑": "Share of synthesized images that fall among real ones (fidelity).",
    "Recall ↑": "Share of real images reached by the synthesized ones (variety covered).",
    "Density": "Like precision, counting how many real neighbourhoods hold each synthesized "
               "image: about 1 when they look like real images, above 1 when packed in dense "
               "regions.",
}
SPLIT_SETS = {"train": "Training", "validation": "Validation (early stopping)",
              "test": "Test"}


def metrics_frames(result: ComparisonResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(table of means with a warnings column, difference-to-baseline table), labelled for
    people."""
    mean = result.metrics_table()
    labels = {k: METRIC_LABELS.get(k, k) for k in mean.columns}
    codes = result.warning_codes()
    shown = mean.rename(columns=labels)
    shown.insert(0, WARN_COLUMN, [warn_cell(codes.get(m)) for m in mean.index])
    shown = shown.rename(index=method_label)
    delta = result.delta_table().rename(index=method_label, columns=labels)
    return shown, delta


WARN_COLUMN = "Warnings"


def warn_cell(codes: list[str] | None) -> str:
    """``"⚠ noise, collapsed"``, or ``""`` for a method without warnings."""
    return f"⚠ {', '.join(codes)}" if codes else ""


def _fmt(value: float, signed: bool = False) -> str:
    if value is None or math.isnan(value):
        return "–"
    return f"{value:+.3f}" if signed else f"{value:.3f}"


def _interval(mean: float, low: float, high: float, signed: bool = False) -> str:
    """``"0.812 [0.790, 0.834]"``, or the mean alone when the interval is undefined."""
    if math.isnan(low) or math.isnan(high):
        return _fmt(mean, signed)
    return f"{_fmt(mean, signed)} [{_fmt(low, signed)}, {_fmt(high, signed)}]"


def interval_frames(summary: pd.DataFrame, codes: dict[str, list[str]] | None = None
                    ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Display tables from :func:`~gda_core.metrics.stats.summarise`, one row per metric.

    ``codes`` (method -> warning codes, :meth:`ComparisonResult.warning_codes`) adds a
    first row of warnings to ``means``.

    Returns
    -------
    (means, diffs, marks) : tuple of DataFrame
        ``means``: rows = metric labels, columns = methods (short labels), cells
        ``"mean [low, high]"``; ``diffs``: the same for the paired difference to the
        baseline (no baseline column), with ▲ / ▼ after significant ones; ``marks``:
        +1 / -1 / 0 per ``diffs`` cell (significantly better / worse / not
        distinguishable).
    """
    metrics = list(dict.fromkeys(summary["metric"]))
    methods = list(dict.fromkeys(summary["method"]))
    rows = [METRIC_LABELS.get(m, m) for m in metrics]
    by = summary.set_index(["method", "metric"])
    means = pd.DataFrame(
        {short_label(m): [_interval(*by.loc[(m, k), ["mean", "ci_low", "ci_high"]])
                          for k in metrics] for m in methods}, index=rows)
    if codes is not None:
        warn = pd.DataFrame([[warn_cell(codes.get(m)) for m in methods]], index=[WARN_COLUMN],
                            columns=means.columns)
        means = pd.concat([warn, means])
    diffs: dict[str, list[str]] = {}
    marks: dict[str, list[int]] = {}
    for m in (m for m in methods if m != BASELINE):
        d_col, m_col = [], []
        for k in metrics:
            r = by.loc[(m, k)]
            sign = (1 if r["diff_vs_baseline"] > 0 else -1) if r["significant"] else 0
            text = _interval(r["diff_vs_baseline"], r["diff_low"], r["diff_high"], True)
            if r["note"] == "no spread":
                text += " (no spread)"
            d_col.append(text + {1: f" {UP}", -1: f" {DOWN}", 0: ""}[sign])
            m_col.append(sign)
        diffs[short_label(m)] = d_col
        marks[short_label(m)] = m_col
    return (means, pd.DataFrame(diffs, index=rows, columns=list(diffs)),
            pd.DataFrame(marks, index=rows, columns=list(marks)))


def headline(summary: pd.DataFrame, metric: str | None = None) -> str:
    """One sentence: which methods significantly beat (or lose to) the baseline on ``metric``
    (default: the summary's primary metric)."""
    metric = metric or summary.attrs.get("primary_metric", HEADLINE_METRIC)
    rows = summary[(summary["metric"] == metric) & (summary["method"] != BASELINE)]
    if rows.empty or BASELINE not in set(summary["method"]):
        return ""
    better = [short_label(m) for m, d, s in rows[["method", "diff_vs_baseline",
                                                  "significant"]].itertuples(index=False)
              if s and d > 0]
    worse = [short_label(m) for m, d, s in rows[["method", "diff_vs_baseline",
                                                 "significant"]].itertuples(index=False)
             if s and d < 0]
    label = METRIC_LABELS.get(metric, metric)
    parts = [f"On **{label}**, significantly better than the baseline (Holm-corrected): "
             + (", ".join(f"**{b}** {UP}" for b in better) or "none")]
    if worse:
        parts.append("significantly worse: " + ", ".join(f"**{w}** {DOWN}" for w in worse))
    rest = [short_label(m) for m in rows["method"]
            if short_label(m) not in better and short_label(m) not in worse]
    if rest:
        parts.append("not distinguishable from it: " + ", ".join(rest))
    return "; ".join(parts) + "."


def significance_legend(summary: pd.DataFrame) -> str:
    """What ▲ / ▼ mean for the table built from ``summary`` (a
    :func:`~gda_core.metrics.stats.summarise` table), with the number of tests corrected
    for."""
    unit = ("a fold: the same training and test images, oversampler seed and initial "
            "weights" if summary.attrs.get("test") == CORRECTED_TEST else
            "a seed: the same split, oversampler seed and initial weights")
    return (f"{UP} / {DOWN}: significantly better / worse than the baseline — "
            f"{significance_note(summary)} (pairs share {unit}). The intervals are not "
            "adjusted, so one may exclude zero without a mark.")


def metric_definitions(metrics: list[str]) -> str:
    """One caption line per metric of ``metrics`` whose name alone could be read two ways
    (the two G-means and the two minority recalls); ``""`` when none is there."""
    return "  \n".join(f"**{METRIC_LABELS[k]}**: {METRIC_HELP[k]}" for k in metrics
                       if k in METRIC_HELP)


def _mark_style(marks: pd.DataFrame) -> pd.DataFrame:
    colors = {1: "color: #1a7f37; font-weight: 600", -1: "color: #cf222e; font-weight: 600",
              0: "color: #6e7781"}
    return marks.map(colors.get)


def classifier_text(config: dict) -> str:
    """E.g. "AM-study CNN, cross-entropy, 15 epochs max"."""
    c = config.get("classifier", {})
    arch = c.get("architecture", "am-cnn")
    text = ARCHITECTURE_LABELS.get(arch, arch)
    if arch == "ensemble":
        text = f"ensemble of {c.get('ensemble_size', 3)} AM-study CNNs"
    loss = c.get("loss", "cross-entropy")
    loss_text = LOSS_LABELS.get(loss, loss).lower()
    if loss == "focal":
        loss_text += f" (γ = {c.get('focal_gamma', 2.0):g})"
    return f"{text}, {loss_text}, {c.get('epochs', '?')} epochs max"


def protocol_line(result: ComparisonResult) -> str:
    """What the classifiers were tested on, and why (older results: the test set)."""
    protocol = Protocol.from_dict(result.protocol)
    if protocol is None:
        return f"held-out test set of {result.test_counts[0]} images per class"
    return protocol.describe(result.class_names)


def render_recommendation(result: ComparisonResult) -> None:
    """The comparison's one plain answer (first on the results)."""
    answer = result.recommendation or {}
    if not answer.get("text"):
        return
    text = plain(answer["text"])
    if answer.get("method"):
        st.success(f"**{text.split(':')[0]}**:{text.partition(':')[2]}",
                   icon=":material/recommend:")
    else:
        st.info(text, icon=":material/help:")


def render_metrics(result: ComparisonResult) -> None:
    """Metrics table; with several units, 95% intervals and paired differences to the
    baseline."""
    cv = result.protocol.get("kind") == "cv"
    units = max((sum(r.ok for r in result.runs_of(m)) for m in result.methods), default=0)
    minority = ", ".join(plain(result.class_names[c]) for c in result.minority_classes) or \
        "none"
    st.subheader("Metrics on the test images" if cv else "Metrics on the balanced test set")
    st.caption(f"{classifier_text(result.config)} · minority classes: {minority} · "
               + (f"mean and 95% interval over {units} {'folds' if cv else 'seeds'} "
                  "(Student t)" if units > 1 else "one seed"))
    st.caption(":material/fact_check: " + plain(protocol_line(result)))
    definitions = metric_definitions(result.metric_names)
    if units <= 1:
        shown, delta = metrics_frames(result)
        st.dataframe(shown.style.format(precision=3), width="stretch")
        if definitions:
            st.caption(definitions)
        if not delta.empty and len(delta) > 1:
            st.caption("Difference to the baseline (green = better)")
            styled = delta.drop(index=method_label(BASELINE)).style.format("{:+.3f}").map(
                lambda v: f"color: {'#1a7f37' if v > 0.0005 else '#cf222e' if v < -0.0005 else ''}")
            st.dataframe(styled, width="stretch")
        st.caption("One seed gives no interval: run **3 or more seeds** to get 95% intervals "
                   "and to see which differences to the baseline are significant.")
        return
    summary = summarise(result)
    means, diffs, marks = interval_frames(summary, result.warning_codes())
    text = headline(summary)
    if text:
        st.markdown(text)
    st.markdown("**Mean [95% interval]**")
    st.dataframe(means, width="stretch")
    if definitions:
        st.caption(definitions)
    if diffs.empty:
        if BASELINE not in result.methods:
            st.caption("Add the baseline to the methods to test differences against it.")
        return
    st.markdown("**Paired difference to the baseline** [95% interval]")
    st.dataframe(diffs.style.apply(lambda _: _mark_style(marks), axis=None),
                 width="stretch")
    st.caption(significance_legend(summary) + (" With 2 seeds the intervals are very wide; "
                                               "3 or more are better." if units == 2
                                               else ""))


def render_quality(result: ComparisonResult) -> None:
    """Sample-quality table per method and class, with one line per score."""
    table = result.quality_table()
    if table.empty:
        return
    st.subheader("Quality gate: the synthesized images beside real ones")
    columns = {k: v for k, v in QUALITY_COLUMNS.items() if table[k].notna().any()}
    shown = pd.DataFrame({
        "Method": [method_label(m) for m in table["method"]],
        "Class": [f"{n}*" if c in result.minority_classes else str(n)
                  for c, n in zip(table["class"], table["class_name"], strict=True)],
        **{label: table[key] for key, label in columns.items()},
        "m": table["n_compared"].round().astype("Int64"),
        "Synthesized": table["n_fake"].round().astype("Int64"),
        "Seeds": table["n_seeds"],
    })
    fmt = {label: "{:.3f}" for label in columns.values()}
    fmt.update({k: "{:.0%}" for k in ("Noise-like", "Near-identical", "Copies")})
    fmt.update({k: "{:.2f}" for k in ("FID ↓", "Real-vs-real FID", "FID (generic) ↓",
                                       "Real FID (generic)")})
    st.dataframe(shown.style.format({k: v for k, v in fmt.items() if k in shown}, na_rep="–"),
                 hide_index=True, width="stretch",
                 column_config={k: st.column_config.NumberColumn(k, help=v)
                                for k, v in QUALITY_HELP.items() if k in shown})
    st.caption("Per class, m synthesized images against m real images of the class (from the "
               "full training data), each score beside what m other real images score; "
               "features of a CNN trained on all of the data (cached per dataset); mean over "
               "seeds. * = minority class. The gate warns when the images are noise, far "
               "from real ones, near-identical or copies.")
    st.caption("  \n".join(f"**{k}**: {v}" for k, v in QUALITY_HELP.items()
                           if k in shown))


def render_warnings(result: ComparisonResult) -> None:
    """Every method's warnings, one per kind (with where they came from), then the
    few-data guidance."""
    for method in result.methods:
        for w in result.grouped_warnings(method):
            where = f" ({w['where']})" if w["where"] else ""
            st.warning(f"**{method_label(method)}**{where}: {plain(w['message'])}", icon="⚠️")
    for g in result.guidance:
        st.info(plain(g["message"]), icon=":material/lightbulb:")


def split_counts_frame(result: ComparisonResult, seed: int | None = None) -> pd.DataFrame:
    """What each method's classifier saw: rows (method, set), columns = classes, cells
    ``"real + synthetic"`` (the first seed by default; with cross-validation its first
    fold)."""
    seed = result.config.get("seeds", [0])[0] if seed is None else seed
    folds = [r.fold for r in result.runs if r.seed == seed and r.split_counts]
    fold = min((f for f in folds if f is not None), default=None)
    rows, index = [], []
    for run in result.runs:
        if run.seed != seed or run.fold != fold or not run.split_counts:
            continue
        for key, label in SPLIT_SETS.items():
            part = run.split_counts.get(key, {})
            real, fake = part.get("real", []), part.get("synthetic", [])
            rows.append([f"{r} + {f}" if f else str(r) for r, f in zip(real, fake, strict=True)])
            index.append((short_label(run.method), label))
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["Method", "Set"])
                        if index else None, columns=list(result.class_names))


def render_split_counts(result: ComparisonResult) -> None:
    """The real / synthetic images per class in each set, and whether any synthetic image
    reached validation or test (counted in every run)."""
    leaked = sum(sum(r.split_counts.get(k, {}).get("synthetic", [])) for r in result.runs
                 for k in ("validation", "test"))
    checked = sum(1 for r in result.runs if r.split_counts)
    if not checked:
        return
    with st.expander("Images each classifier saw (real + synthetic)"):
        st.dataframe(split_counts_frame(result), width="stretch")
        verdict = ("no synthetic image" if leaked == 0 else f"{leaked} synthetic image(s)")
        first = ("First fold of the first repeat" if result.protocol.get("kind") == "cv"
                 else "First seed")
        st.caption(f"{first}. Validation images are real training images held out before "
                   f"any oversampling; the oversamplers never see them. Checked image by "
                   f"image in all {checked} runs: {verdict} in validation or test.")


def render_confusions(result: ComparisonResult, key: str) -> None:
    """Confusion matrices of every method that ran, one seed or summed over seeds."""
    seeds = result.config.get("seeds", [0])
    cv = result.protocol.get("kind") == "cv"
    which = "summed"
    if len(seeds) > 1:
        which = st.radio("Confusion matrices", ["summed", *map(str, seeds)], horizontal=True,
                         key=f"{key}-cm-seed",
                         format_func=lambda s: (
                             ("all repeats" if cv else "summed over seeds") if s == "summed"
                             else (f"repeat {s}" if cv else f"seed {s}")))
    ok = [m for m in result.methods if any(r.ok for r in result.runs_of(m))]
    per_row = min(4, len(ok))
    for start in range(0, len(ok), per_row):
        cols = st.columns(per_row)
        for col, method in zip(cols, ok[start:start + per_row], strict=False):
            try:
                cm = result.confusion(method, None if which == "summed" else int(which))
            except KeyError:
                col.caption(f"{short_label(method)}: no successful run with seed {which}")
                continue
            fig = confusion_figure(cm, result.class_names, title=short_label(method),
                                   minority=result.minority_classes)
            col.plotly_chart(fig, width="stretch", key=f"{key}-cm-{method}-{which}")
    pooled = (" Each repeat tests every image once (its folds' matrices pooled)." if cv
              else "")
    st.caption("Rows: true class, columns: predicted; colour = share of the row. "
               "* = minority class." + pooled)


def render_recall(result: ComparisonResult, key: str) -> None:
    """Grouped bars of the test recall of every class, one colour per method."""
    table = result.per_class_recall_table()
    if table.empty:
        st.caption("No per-class recall was recorded.")
        return
    fig = per_class_recall_figure(table.rename(index=short_label),
                                  minority=result.minority_classes)
    st.plotly_chart(fig, width="stretch", key=f"{key}-recall")
    st.caption("Test recall of each class, mean over seeds; * = minority class.")


def comparison_zip(result: ComparisonResult) -> bytes:
    """Everything :func:`~gda_core.experiments.export_comparison` writes, as one zip."""
    buf = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="gda-export-") as tmp:
        files = export_comparison(result, tmp)
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for path in files:
                zf.write(path, arcname=f"gda-comparison/{Path(path).relative_to(tmp)}")
    return buf.getvalue()


def render_downloads(result: ComparisonResult, key: str) -> None:
    """Zip of every export file (built when clicked) and the result JSON."""
    row = st.container(horizontal=True, gap="small")
    row.download_button("Download everything (zip)", lambda: comparison_zip(result),
                       file_name="gda-comparison.zip", mime="application/zip",
                       on_click="ignore", key=f"{key}-zip", icon=":material/folder_zip:",
                       help="result.json, metrics.csv (means, intervals, differences), "
                            "per-seed and per-class CSVs, sample quality, figures.html and "
                            "PNG grids of the samples.")
    row.download_button("Download result (JSON)", lambda: result.to_json(),
                       file_name="gda-comparison.json", mime="application/json",
                       on_click="ignore", key=f"{key}-json", icon=":material/download:")


def render_result(result: ComparisonResult, *, key: str = "result",
                  answer: bool = True) -> None:
    """The answer, metrics with intervals, sample quality, confusion / recall / gallery
    views, downloads.

    ``key`` prefixes widget keys (call it with distinct keys to show two results on a page);
    ``answer=False`` leaves the answer out (a page that showed it first already).
    """
    if answer:
        render_recommendation(result)
    for method, error in result.errors().items():
        st.warning(f"**{method_label(method)}** could not run: {plain(error)}", icon="⚠️")
    render_warnings(result)
    if result.metrics_table().empty:
        return
    render_metrics(result)
    render_quality(result)
    render_split_counts(result)
    views = st.tabs(list(VIEWS), key=f"{key}-view", on_change="rerun")
    with views[0]:
        if views[0].open:
            render_confusions(result, key)
    with views[1]:
        if views[1].open:
            render_recall(result, key)
    with views[2]:
        if views[2].open:
            render_gallery(result, key)
    render_downloads(result, key)
