"""Live training charts of a GAN run (from the per-step events of the run store)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go
from plotly.subplots import make_subplots

SERIES_COLOURS: dict[str, str] = {
    "d_loss": "#4C78A8",       # blue
    "g_loss": "#F58518",       # orange
    "q_loss": "#54A24B",       # green
    "g_grad_norm": "#B279A2",  # purple
    "d_real": "#1B9E77",       # teal: D on real images
    "d_fake": "#E45756",       # red: D on generated images
    "q_val_acc": "#7F7F7F",    # grey
    "diversity": "#9D755D",    # brown
}
"""One colour per series, the same in every chart and every run."""

CLASS_DASHES: tuple[str, ...] = ("solid", "dot", "dash", "longdash", "dashdot", "longdashdot")
"""Line styles of the models of a per-class run, in training order (then again)."""

PANELS: tuple[tuple[str, str, tuple[tuple[str, str], ...]], ...] = (
    ("Losses", "loss", (("d_loss", "D loss"), ("g_loss", "G loss"), ("q_loss", "Q loss"))),
    ("G gradient norm", "‖∇G‖ (L2 norm)", (("g_grad_norm", "‖∇G‖"),)),
    ("D(x) and D(G(z))", "mean P(real)", (("d_real", "D(x)"), ("d_fake", "D(G(z))"),
                                          ("q_val_acc", "Q val. accuracy"))),  # ADSO / AMO
    ("Diversity (fixed noise)", "relative to real", (("diversity", "diversity"),)),
)
"""The charts: title, y-axis title and the series ``(event key, name)`` drawn in each."""

LOG_PANELS = (0, 1)
"""The charts a log scale applies to (losses and gradient norm)."""

PRETRAIN = "pretraining"
"""Group of the steps of a shared pretraining (events with ``"phase": "pretrain"``)."""


def smooth_ema(values: Sequence[float], weight: float) -> list[float]:
    """Exponential moving average with TensorBoard's debiasing.

    ``s_i = a_i / (1 - weight ** n_i)`` with ``a_i = weight * a_(i-1) + (1 - weight) * v_i``
    (``a_0 = 0``; ``n_i`` counts the finite values so far): the first points are not
    pulled towards zero.  Values that are not finite (NaN, inf) are kept as they are
    and leave the average unchanged.

    Parameters
    ----------
    values : sequence of float
        The raw series, in step order.
    weight : float
        Smoothing weight in ``[0, 1)``; 0 returns the values unchanged.

    Returns
    -------
    list of float
        The smoothed series, as long as ``values``.

    Examples
    --------
    >>> [round(v, 4) for v in smooth_ema([1.0, 2.0, 3.0], 0.5)]
    [1.0, 1.6667, 2.4286]
    >>> smooth_ema([1.0, float("nan"), 3.0], 0.0)
    [1.0, nan, 3.0]
    """
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight must be in [0, 1), got {weight}")
    out: list[float] = []
    acc, n = 0.0, 0
    for v in values:
        v = float(v)
        if weight == 0.0 or not math.isfinite(v):
            out.append(v)
            continue
        acc = weight * acc + (1.0 - weight) * v
        n += 1
        out.append(acc / (1.0 - weight**n))
    return out


def _model(event: dict[str, Any]) -> Any:
    """Which model a step belongs to: its class, :data:`PRETRAIN`, or None (one model)."""
    return PRETRAIN if event.get("phase") == "pretrain" else event.get("class")


def _model_order(model: Any) -> tuple[int, int]:
    """Sort key of :func:`_model`'s values: pretraining, one model, then the classes."""
    if model == PRETRAIN:
        return (0, 0)
    return (1, 0) if model is None else (2, int(model))


def _suffix(model: Any) -> str:
    if model is None:
        return ""
    return " · pretraining" if model == PRETRAIN else f" · class {model}"


def training_figure(events: Sequence[dict[str, Any]], *, max_points: int = 2000,
                    smoothing: float = 0.0, log_y: bool = False) -> go.Figure:
    """Four stacked charts sharing the step axis: D/G losses, G's gradient norm,
    D(x) / D(G(z)), and diversity.

    Every series has its own colour (:data:`SERIES_COLOURS`) and every chart its own
    legend; the models of a per-class run (trained one after another, each counting its
    own steps) are told apart by line style (:data:`CLASS_DASHES`).  Three-player GANs
    (ADSO, AMO) also draw their classifier's loss with the losses and its validation
    accuracy (``q_val_acc``) with D(x) / D(G(z)), whose scale is [0, 1] too.

    Parameters
    ----------
    events : sequence of dict
        Per-step dicts with ``step`` and the diagnostic keys; events of per-class models
        carry ``class`` (pretraining steps ``"phase": "pretrain"``) and are drawn as one
        line per model.
    max_points : int
        Long runs are thinned to about this many points per line (after smoothing).
    smoothing : float
        Weight in ``[0, 1)`` of an exponential moving average (:func:`smooth_ema`, as
        TensorBoard's slider); above 0 the raw series stays behind it, faint.
    log_y : bool
        Log scale for the losses and the gradient norm (values <= 0 cannot be drawn on
        it; the axis title then says so).

    Returns
    -------
    plotly.graph_objects.Figure

    Examples
    --------
    >>> events = [{"step": s, "d_loss": 1.0, "g_loss": 2.0 / s} for s in (1, 2, 3)]
    >>> fig = training_figure(events, smoothing=0.6, log_y=True)
    >>> [t.name for t in fig.data if t.showlegend is not False]
    ['D loss', 'G loss']
    >>> fig.layout.yaxis.type, fig.layout.yaxis.title.text
    ('log', 'loss')
    """
    if not 0.0 <= smoothing < 1.0:
        raise ValueError(f"smoothing must be in [0, 1), got {smoothing}")
    n = len(PANELS)
    fig = make_subplots(rows=n, cols=1, shared_xaxes=True, vertical_spacing=0.06,
                        subplot_titles=[t for t, _, _ in PANELS])
    groups: dict[Any, list[dict[str, Any]]] = {}
    for e in events:
        groups.setdefault(_model(e), []).append(e)
    # in training order, pretraining then the classes, also when they trained at once
    groups = dict(sorted(groups.items(), key=lambda item: _model_order(item[0])))
    non_positive = [False] * n
    for gi, (model, evs) in enumerate(groups.items()):
        dash = CLASS_DASHES[gi % len(CLASS_DASHES)] if len(groups) > 1 else "solid"
        for pi, (_, _, series) in enumerate(PANELS):
            legend = "legend" if pi == 0 else f"legend{pi + 1}"
            for key, name in series:
                pts = [(e["step"], float(e[key])) for e in evs if e.get(key) is not None]
                if not pts:
                    continue
                x, y = (list(v) for v in zip(*pts, strict=True))
                non_positive[pi] |= any(v <= 0 for v in y)
                smooth = smooth_ema(y, smoothing) if smoothing > 0 else y
                stride = max(1, len(x) // max_points)
                colour = SERIES_COLOURS[key]
                group = f"{key}{_suffix(model)}"
                if smoothing > 0:
                    fig.add_trace(go.Scatter(
                        x=x[::stride], y=y[::stride], mode="lines", name=name + " (raw)",
                        legend=legend, legendgroup=group, showlegend=False, opacity=0.25,
                        hoverinfo="skip", line=dict(width=1, color=colour, dash=dash),
                    ), row=pi + 1, col=1)
                fig.add_trace(go.Scatter(
                    x=x[::stride], y=smooth[::stride], mode="lines", name=name + _suffix(model),
                    legend=legend, legendgroup=group,
                    line=dict(width=1.6, color=colour, dash=dash),
                ), row=pi + 1, col=1)
    per_class = any(m is not None for m in groups)
    _layout(fig, n, per_class=per_class, log_y=log_y, non_positive=non_positive)
    return fig


def _layout(fig: go.Figure, n: int, *, per_class: bool, log_y: bool,
            non_positive: list[bool]) -> None:
    """Axis titles, one legend beside each chart, log axes and the reference lines."""
    row_px, top, bottom = 170, 30, 50
    fig.update_layout(height=n * row_px + top + bottom,
                      margin=dict(l=10, r=10, t=top, b=bottom),
                      uirevision="keep", hovermode="x unified")
    for pi, (_, y_title, _) in enumerate(PANELS):
        axis = "yaxis" if pi == 0 else f"yaxis{pi + 1}"
        legend = "legend" if pi == 0 else f"legend{pi + 1}"
        domain = fig.layout[axis].domain
        fig.layout[legend] = dict(x=1.02, xanchor="left", y=domain[1], yanchor="top",
                                  font=dict(size=11), bgcolor="rgba(0,0,0,0)",
                                  tracegroupgap=2, maxheight=row_px)
        title = y_title
        if log_y and pi in LOG_PANELS:
            fig.layout[axis].type = "log"
            if non_positive[pi]:
                title += " (log: ≤ 0 not drawn)"
        # switching linear <-> log resets the zoom of that axis (it means other numbers)
        fig.layout[axis].uirevision = f"{'log' if log_y and pi in LOG_PANELS else 'lin'}"
        fig.layout[axis].title = dict(text=title, font=dict(size=11))
    fig.update_yaxes(automargin=True)  # room for the titles under any theme (Streamlit's)
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(range=[0, 1.02], row=3, col=1)
    fig.update_xaxes(title=dict(text="generator step" + (" (each class's model counts its own)"
                                                          if per_class else ""),
                                font=dict(size=11)), row=n, col=1)
    if any(t.yaxis == "y4" for t in fig.data):
        fig.add_hline(y=1.0, line=dict(color="#999999", width=1, dash="dot"), row=4, col=1,
                      annotation_text="as varied as the real images",
                      annotation_position="bottom right",
                      annotation_font=dict(size=10, color="#777777"))


def grid_label(step: int, events: Sequence[dict[str, Any]]) -> str:
    """What a sample grid saved at overall step ``step`` shows, for a caption.

    The Train job numbers grids by the run's overall step count, which is the ``seq`` of
    that step's event (one event per generator step), while the charts count each
    model's own steps.  For a per-class run the label names the model and its step.  A
    grid is saved just before its step's event: a grid one step past the events is of
    the model of the last one.

    Examples
    --------
    >>> evs = [{"seq": i + 1, "step": s, "class": c}
    ...        for i, (c, s) in enumerate([(3, 1), (3, 2), (8, 1), (8, 2)])]
    >>> grid_label(3, evs), grid_label(5, evs), grid_label(9, evs)
    ('step 3 · class 8, its step 1', 'step 5 · class 8, its step 3', 'step 9')
    >>> grid_label(2, [{"seq": 1, "step": 1}])
    'step 2'
    """
    label = f"step {step}"
    event, own = None, None
    if 1 <= step <= len(events) and events[step - 1].get("seq", step) == step:
        event, own = events[step - 1], events[step - 1]["step"]
    elif events and step == events[-1].get("seq", len(events)) + 1:
        event, own = events[-1], events[-1]["step"] + 1
    model = None if event is None else _model(event)
    if model == PRETRAIN:
        label += f" · pretraining, its step {own}"
    elif model is not None:
        label += f" · class {model}, its step {own}"
    return label


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
