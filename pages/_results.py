"""Rendering of a :class:`gda_core.experiments.ComparisonResult` (used by the Compare page)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gda_core.experiments import BASELINE, ComparisonResult
from gda_core.metrics import METRIC_LABELS
from gda_core.oversampling import OVERSAMPLERS
from gda_core.viz import confusion_figure, image_grid
from pages._common import display_scale


def method_label(name: str) -> str:
    return "Baseline (no oversampling)" if name == BASELINE else OVERSAMPLERS[name].label


def short_label(name: str) -> str:
    return "Baseline" if name == BASELINE else OVERSAMPLERS[name].label


def metrics_frames(result: ComparisonResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(display table of mean [± sd], delta-vs-baseline table), labelled for people."""
    mean = result.metrics_table()
    labels = {k: METRIC_LABELS.get(k, k) for k in mean.columns}
    shown = mean.copy()
    if len(result.config["seeds"]) > 1:
        sd = result.metrics_table("std")
        shown = mean.combine(sd, lambda m, s: m.map("{:.3f}".format) + " ± " + s.map(
            "{:.3f}".format))
    shown = shown.rename(index=method_label, columns=labels)
    delta = result.delta_table().rename(index=method_label, columns=labels)
    return shown, delta


def render_result(result: ComparisonResult) -> None:
    """Metrics table, errors, confusion matrices, samples and download."""
    for method, error in result.errors().items():
        st.warning(f"**{method_label(method)}** could not run: {error}", icon="⚠️")
    notes = sorted({w for r in result.runs for w in r.warnings})
    for w in notes:
        st.info(w, icon="ℹ️")
    if result.metrics_table().empty:
        return

    st.subheader("Metrics on the balanced test set")
    shown, delta = metrics_frames(result)
    n_seeds = len(result.config["seeds"])
    st.caption(f"Mean over {n_seeds} seed(s) · test set {result.test_counts} images per "
               f"class · minority classes: "
               + ", ".join(result.class_names[c] for c in result.minority_classes))
    st.dataframe(shown.style.format(precision=3) if n_seeds == 1 else shown, width="stretch")
    if not delta.empty and len(delta) > 1:
        st.caption("Difference to the baseline (green = better)")
        styled = delta.drop(index=method_label(BASELINE)).style.format("{:+.3f}").map(
            lambda v: f"color: {'#1a7f37' if v > 0.0005 else '#cf222e' if v < -0.0005 else ''}")
        st.dataframe(styled, width="stretch")

    st.subheader("Confusion matrices")
    seeds = result.config["seeds"]
    which = "summed"
    if len(seeds) > 1:
        which = st.radio("Show", ["summed", *map(str, seeds)], horizontal=True,
                         format_func=lambda s: "summed over seeds" if s == "summed" else
                         f"seed {s}")
    ok = [m for m in result.methods if any(r.ok for r in result.runs_of(m))]
    per_row = min(4, len(ok))
    for start in range(0, len(ok), per_row):
        cols = st.columns(per_row)
        for col, method in zip(cols, ok[start:start + per_row], strict=False):
            cm = result.confusion(method, None if which == "summed" else int(which))
            fig = confusion_figure(cm, result.class_names, title=short_label(method),
                                   minority=result.minority_classes)
            col.plotly_chart(fig, width="stretch", key=f"cm-{method}-{which}")

    st.subheader("Real vs synthesized minority images")
    if not result.synthetic_samples:
        st.caption("No oversampler ran, so there is nothing synthesized to show.")
    side = next(iter(result.real_samples.values())).shape[-1]
    scale = display_scale(side)
    for c in result.minority_classes:
        st.markdown(f"**Class {result.class_names[c]}**")
        sources = [("Real", result.real_samples.get(c))] + [
            (method_label(m), per.get(c)) for m, per in result.synthetic_samples.items()]
        cols = st.columns(len(sources))
        for col, (name, imgs) in zip(cols, sources, strict=True):
            col.caption(name)
            if imgs is None or len(imgs) == 0:
                col.caption("0 generated")
            else:
                col.image(image_grid(imgs, ncols=4, scale=scale))

    st.download_button("Download result (JSON)", result.to_json(),
                       file_name="gda-comparison.json", mime="application/json")
