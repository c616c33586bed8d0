"""A training warning's own signals, plotted beside its message: the series it was judged
on, the thresholds it was judged against, and the stretch where it holds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from gda_core.synthesizers import diagnostics as dg
from gda_core.viz.training import SERIES_COLOURS

SIGNAL_NAMES = {"d_loss": "D loss", "g_loss": "G loss", "g_grad_norm": "‖∇G‖",
                "d_real": "D(x)", "d_fake": "D(G(z))", "diversity": "diversity (vs real)",
                "dup_share": "near-duplicate share"}
"""How each signal is named in the chart's legend."""


def thresholds(code: str) -> dict[str, float]:
    """The threshold each signal of a warning ``code`` is judged against (signal -> value).

    >>> thresholds("d-wins")
    {'d_real': 0.9, 'd_fake': 0.1}
    """
    return {
        "d-wins": {"d_real": dg.D_WINS_REAL, "d_fake": dg.D_WINS_FAKE},
        "discriminator-saturated": {"d_real": dg.SATURATED_D, "d_fake": 1 - dg.SATURATED_D},
        "vanishing-gradient": {"d_fake": dg.VANISHING_D_FAKE},
        "mode-collapse": {"diversity": dg.COLLAPSED_DIVERSITY, "dup_share": dg.DUP_SHARE},
    }.get(code, {})


def warning_figure(events: Sequence[Mapping[str, Any]], warning: Mapping[str, Any]
                   ) -> go.Figure | None:
    """The signals of one training warning over the steps of its model.

    Parameters
    ----------
    events : sequence of dict
        The run's per-step events (``step``, the signals, ``class`` for per-class models,
        ``phase`` for pretraining steps).
    warning : dict
        A stored warning: ``code``, ``step`` (onset) and ``class_label``.

    Returns
    -------
    plotly Figure, or None
        None when the warning has no logged signals (the end-of-training image checks) or
        none of them was logged.
    """
    code = str(warning.get("code"))
    signals = dg.SIGNALS.get(code, ())
    label = warning.get("class_label")
    rows = [e for e in events if e.get("phase") != "pretrain"
            and (label is None or e.get("class") == label)]
    fig = go.Figure()
    limits = thresholds(code)
    for key in signals:
        points = [(e["step"], float(e[key])) for e in rows
                  if isinstance(e.get(key), int | float) and math.isfinite(e[key])]
        if not points:
            continue
        colour = SERIES_COLOURS.get(key, "#333333")
        fig.add_trace(go.Scatter(x=[p[0] for p in points], y=[p[1] for p in points],
                                 mode="lines", name=SIGNAL_NAMES.get(key, key),
                                 line={"color": colour, "width": 1.5}))
        if key in limits:
            fig.add_hline(y=limits[key], line={"color": colour, "dash": "dot", "width": 1},
                          annotation_text=f"threshold {limits[key]:g}",
                          annotation_font_color=colour)
    if not fig.data:
        return None
    fig.add_vrect(x0=warning.get("step", 0), x1=max(e["step"] for e in rows) if rows else 0,
                  fillcolor="#E45756", opacity=0.08, line_width=0)
    fig.update_layout(height=240, margin={"l": 10, "r": 10, "t": 10, "b": 10},
                      legend={"orientation": "h", "y": -0.3}, xaxis_title="generator step",
                      yaxis_type="log" if code == "divergence" else None)
    return fig
