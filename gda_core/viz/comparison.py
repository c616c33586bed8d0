"""Plotly figures of comparison results: per-class recall bars and the ratio-sweep line."""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go


def per_class_recall_figure(table: pd.DataFrame, *, minority: tuple[int, ...] | list[int] = (),
                            ) -> go.Figure:
    """Grouped bars of test recall per class, one colour per method.

    Parameters
    ----------
    table : DataFrame
        Rows = methods, columns = class names, as returned by
        ``ComparisonResult.per_class_recall_table()``.
    minority : sequence of int
        Positions of minority classes; their labels get a ``*``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    labels = [f"{c}*" if i in minority else str(c) for i, c in enumerate(table.columns)]
    fig = go.Figure([
        go.Bar(name=str(method), x=labels, y=row.tolist(),
               hovertemplate=f"{method}<br>class %{{x}}: recall %{{y:.3f}}<extra></extra>")
        for method, row in table.iterrows()
    ])
    fig.update_layout(barmode="group", height=320, margin=dict(l=10, r=10, t=30, b=10),
                      yaxis_title="recall (mean over seeds)", yaxis_range=[0, 1.05],
                      xaxis_title="class (* = minority)", legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(type="category")
    return fig


def ratio_sweep_figure(summary: pd.DataFrame, *, metric: str = "", method: str = "") -> go.Figure:
    """Line of a metric's mean against the real:synthetic ratio, with its interval as a band.

    Parameters
    ----------
    summary : DataFrame
        ``RatioSweep.summary()``: columns ``ratio``, ``mean``, ``ci_low``, ``ci_high``.
    metric, method : str
        Axis title and legend name.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    data = summary.sort_values("ratio")
    x = data["ratio"].tolist()
    fig = go.Figure()
    band = data[["ci_low", "ci_high"]].notna().all(axis=1)
    if band.any():
        fig.add_trace(go.Scatter(
            x=x + x[::-1], y=data["ci_high"].tolist() + data["ci_low"].tolist()[::-1],
            fill="toself", fillcolor="rgba(76,120,168,0.2)", line=dict(width=0),
            hoverinfo="skip", name="95% interval"))
    fig.add_trace(go.Scatter(
        x=x, y=data["mean"].tolist(), mode="lines+markers", name=method or "mean",
        hovertemplate="ratio %{x:g}: %{y:.4f}<extra></extra>"))
    values = [v for v in data[["mean", "ci_low", "ci_high"]].to_numpy().ravel().tolist()
              if not math.isnan(v)]
    fig.update_layout(height=320, margin=dict(l=10, r=10, t=20, b=10),
                      xaxis_title="synthesized : real minority images", yaxis_title=metric,
                      yaxis_range=[min([0.0, *values]), max([1.05, *values])])
    return fig
