"""Plotly figures for class counts, confusion matrices and metric comparisons."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

_ROLE_COLORS = {"majority": "#4C78A8", "minority": "#F58518"}


def class_counts_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Grouped bars of train and test images per class, minorities highlighted.

    ``rows`` are dicts with ``class``, ``role``, ``train`` and ``test`` (as produced by
    :meth:`gda_core.datasets.ImbalancedData.summary`).
    """
    names = [str(r["class"]) for r in rows]
    colors = [_ROLE_COLORS.get(r["role"], "#888") for r in rows]
    fig = go.Figure([
        go.Bar(name="train", x=names, y=[r["train"] for r in rows], marker_color=colors,
               text=[r["train"] for r in rows], textposition="outside",
               hovertemplate="%{x}: %{y} training images<extra></extra>"),
        go.Bar(name="test", x=names, y=[r["test"] for r in rows], marker_color="#BBBBBB",
               hovertemplate="%{x}: %{y} test images<extra></extra>"),
    ])
    fig.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="images", xaxis_title="class (orange = minority)",
                      legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(type="category")
    return fig


def confusion_figure(cm: np.ndarray, class_names: Sequence[str], *, title: str = "",
                     minority: Sequence[int] = ()) -> go.Figure:
    """Heatmap of a confusion matrix, coloured by row percentage, annotated with counts.

    Rows are true classes, columns predicted; minority class labels are marked with '*'.
    Cells show "count" and "row %" (up to 6 classes; beyond, the count only, with the
    percentage on hover).
    """
    cm = np.asarray(cm, dtype=float)
    row = cm.sum(axis=1, keepdims=True)
    pct = np.divide(cm, row, out=np.zeros_like(cm), where=row > 0) * 100
    labels = [f"{n}*" if i in minority else str(n) for i, n in enumerate(class_names)]
    text = [[f"{int(cm[i, j])}<br>{pct[i, j]:.0f}%" for j in range(cm.shape[1])]
            for i in range(cm.shape[0])]
    shown = text if len(labels) <= 6 else [[f"{int(v)}" for v in r] for r in cm]
    # Heatmaps fill texttemplate from ``text`` only (not ``customdata``): the cell shows
    # ``shown``; the hover shows count and row % from ``customdata``.
    fig = go.Figure(go.Heatmap(
        z=pct, x=labels, y=labels, text=shown, texttemplate="%{text}", customdata=text,
        zmin=0, zmax=100, colorscale="Blues", showscale=False,
        hovertemplate="true %{y}, predicted %{x}<br>%{customdata}<extra></extra>",
    ))
    n = len(labels)
    fig.update_layout(title=dict(text=title, x=0.5), height=max(260, 40 * n + 90),
                      margin=dict(l=10, r=10, t=40 if title else 10, b=10),
                      xaxis_title="predicted", yaxis_title="true")
    fig.update_xaxes(type="category", side="bottom")
    fig.update_yaxes(type="category", autorange="reversed")
    return fig


def metric_bars_figure(values: Mapping[str, float], errors: Mapping[str, float] | None = None,
                       *, metric: str = "", baseline: float | None = None) -> go.Figure:
    """Bars of one metric per method, with optional error bars and a baseline line."""
    methods = list(values)
    err = None if errors is None else [errors.get(m, 0.0) for m in methods]
    fig = go.Figure(go.Bar(
        x=methods, y=[values[m] for m in methods],
        error_y=None if err is None else dict(type="data", array=err),
        text=[f"{values[m]:.3f}" for m in methods], textposition="outside",
    ))
    if baseline is not None:
        fig.add_hline(y=baseline, line_dash="dot", annotation_text="baseline")
    fig.update_layout(height=300, yaxis_title=metric, margin=dict(l=10, r=10, t=20, b=10),
                      yaxis_range=[0, 1.05])
    return fig
