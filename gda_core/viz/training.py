"""Live training charts of a GAN run (from the per-step events of the run store)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

_PANELS = (
    ("Losses", (("d_loss", "D loss"), ("g_loss", "G loss"))),
    ("G gradient norm", (("g_grad_norm", "‖∇G‖"),)),
    ("D(x) and D(G(z))", (("d_real", "D(x)"), ("d_fake", "D(G(z))"),
                          ("q_val_acc", "Q val. accuracy"))),  # 3-player GANs only
    ("Diversity (fixed noise)", (("diversity", "diversity"),)),
)


def training_figure(events: Sequence[dict[str, Any]], *, max_points: int = 2000) -> go.Figure:
    """Four panels: D/G losses, G's gradient norm, D(x) / D(G(z)), and diversity.

    Three-player GANs (ADSO, AMO) also draw their classifier's validation accuracy
    (``q_val_acc``) in the D(x) / D(G(z)) panel, whose scale is [0, 1] too.

    ``events`` are per-step dicts with ``step`` and the diagnostic keys; events of
    per-class models carry ``class`` and are drawn as one line per class.  Long runs are
    thinned to about ``max_points`` points per line.
    """
    fig = make_subplots(rows=2, cols=2, subplot_titles=[t for t, _ in _PANELS],
                        horizontal_spacing=0.08, vertical_spacing=0.14)
    groups: dict[Any, list[dict[str, Any]]] = {}
    for e in events:
        groups.setdefault(_model(e), []).append(e)
    for gi, (cls, evs) in enumerate(sorted(groups.items(), key=lambda kv: str(kv[0]))):
        stride = max(1, len(evs) // max_points)
        evs = evs[::stride]
        suffix = "" if cls is None else (" · pretraining" if cls == PRETRAIN
                                         else f" · class {cls}")
        for pi, (_, series) in enumerate(_PANELS):
            row, col = divmod(pi, 2)
            for si, (key, name) in enumerate(series):
                pts = [(e["step"], e[key]) for e in evs if e.get(key) is not None]
                if not pts:
                    continue
                x, y = zip(*pts, strict=True)
                fig.add_trace(go.Scatter(
                    x=x, y=y, mode="lines", name=name + suffix, legendgroup=name,
                    line=dict(width=1.5, dash="solid" if gi == 0 else "dot"),
                    marker_color=("#4C78A8", "#F58518", "#54A24B")[si],
                ), row=row + 1, col=col + 1)
    fig.update_layout(height=540, margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=-0.12), uirevision="keep",
                      hovermode="x unified", xaxis3_title=None)
    fig.update_yaxes(range=[0, 1], row=2, col=1)
    return fig


PRETRAIN = "pretraining"
"""Group of the steps of a shared pretraining (events with ``"phase": "pretrain"``)."""


def _model(event: dict[str, Any]) -> Any:
    """Which model a step belongs to: its class, :data:`PRETRAIN`, or None (one model)."""
    return PRETRAIN if event.get("phase") == "pretrain" else event.get("class")


def runs_figure(runs: dict[str, Sequence[dict[str, Any]]], metric: str, *,
                max_points: int = 1000) -> go.Figure:
    """One line per run (and class, for per-class models) of ``metric`` against step.

    ``runs`` maps a label (e.g. the run's name) to its events.
    """
    fig = go.Figure()
    for label, events in runs.items():
        groups: dict[Any, list[tuple[int, float]]] = {}
        for e in events:
            if e.get(metric) is not None:
                groups.setdefault(_model(e), []).append((e["step"], e[metric]))
        for cls, pts in groups.items():
            pts = pts[:: max(1, len(pts) // max_points)]
            x, y = zip(*pts, strict=True)
            name = label if cls is None or len(groups) == 1 else f"{label} · class {cls}"
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name))
    fig.update_layout(height=360, margin=dict(l=10, r=10, t=30, b=10),
                      xaxis_title="generator step", yaxis_title=metric,
                      legend=dict(orientation="h", y=-0.25))
    return fig
