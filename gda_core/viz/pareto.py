"""Plotly figures of the Pareto explorer: fronts, parallel coordinates and experiment fits.

Pure functions (no Streamlit). Every point of :func:`fronts_figure` carries
``customdata = [run, row, x1, ..., xk]``: ``run`` is the index of the run's front in the
list given (``BEST`` for the best-known front, ``SHORTLIST`` for a shortlisted solution,
``PICKED`` for the picked one) and ``row`` the row in that front, so a selection event maps
back to a solution (see :func:`selected_refs`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from gda_core.optimization.archive import pieces
from gda_core.optimization.cases import DRSOCase
from gda_core.optimization.explorer import (
    BEST,
    PICKED,
    SHORTLIST,
    front_name,
    selected_refs,
)
from gda_core.optimization.front import Front
from gda_core.optimization.multi import MultiFront

View = Literal["mean", "objectives"]
__all__ = ["BEST", "PICKED", "SHORTLIST", "algorithm_colors", "algorithm_symbols",
           "design_space_figure", "fit_figure", "fronts_figure", "multi_front_figure",
           "parallel_figure", "selected_refs"]
PALETTE = ("#4C78A8", "#F58518", "#54A24B", "#E45756", "#B279A2", "#72B7B2", "#9D755D",
           "#EECA3B")
BEST_COLOR = "#555555"
PICKED_COLOR = "#d62728"
SHORTLIST_COLOR = "#8c564b"


def algorithm_colors(algorithms: Sequence[str]) -> dict[str, str]:
    """A distinct colour per algorithm name, in the order given (cycling the palette)."""
    return {a: PALETTE[i % len(PALETTE)] for i, a in enumerate(dict.fromkeys(algorithms))}


SYMBOLS = ("circle", "square", "diamond", "triangle-up", "x", "triangle-down", "cross",
           "pentagon", "hexagon", "star-triangle-up")


def algorithm_symbols(names: Sequence[str]) -> dict[str, str]:
    """A distinct marker symbol per name, in the order given (cycling the symbols).

    Examples
    --------
    >>> algorithm_symbols(["NSGA-II", "SPEA2", "NSGA-II"])
    {'NSGA-II': 'circle', 'SPEA2': 'square'}
    """
    return {a: SYMBOLS[i % len(SYMBOLS)] for i, a in enumerate(dict.fromkeys(names))}


def _labels() -> dict[str, str]:
    from gda_core.optimization.algorithms.registry import ALGORITHMS

    return {name: info.label for name, info in ALGORITHMS.items()}


def _xy(F: np.ndarray, mean: np.ndarray, sd: np.ndarray, view: View):
    if view == "mean":
        return np.asarray(mean, float), np.asarray(sd, float)
    return np.asarray(F, float)[:, 0], np.asarray(F, float)[:, 1]


def _customdata(run: int, X: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
    X = np.atleast_2d(np.asarray(X, float))
    rows = np.arange(len(X)) if rows is None else np.asarray(rows)
    return np.column_stack([np.full(len(X), run), rows, X]) if len(X) else np.zeros((0, 2))


def _hover(variables: Sequence[str], head: str) -> str:
    xs = "<br>".join(f"{v} = %{{customdata[{j + 2}]:.4g}}" for j, v in enumerate(variables))
    return f"{head}<br>(%{{x:.4g}}, %{{y:.4g}})<br>{xs}<extra></extra>"


def _solution_arrays(items: Sequence[Mapping[str, Any]]):
    F = np.array([[s["F1"], s["F2"]] for s in items], float).reshape(-1, 2)
    mean = np.array([s["mean"] for s in items], float)
    sd = np.array([s["sd"] for s in items], float)
    X = np.array([list(s["x"]) for s in items], float)
    return F, mean, sd, X


def fronts_figure(fronts: Sequence[Front], best: Front | None = None, *,
                  view: View = "mean", objective: str = "nominal",
                  target: float | None = None, variables: Sequence[str] = (),
                  picked: Mapping[str, Any] | None = None,
                  shortlist: Sequence[Mapping[str, Any]] = (),
                  colors: Mapping[str, str] | None = None,
                  labels: Mapping[str, str] | None = None, height: int = 500) -> go.Figure:
    """Every run's front, the best-known front and the picked / shortlisted solutions.

    ``view="mean"`` plots sd against the mean (with the target as a vertical line for
    nominal-the-best); ``view="objectives"`` plots F2 against F1. Runs of one algorithm
    share a colour, a marker symbol and a legend group (an algorithm run with the elitist
    archive is a group of its own, ``"nsga2+archive"``, named "NSGA-II + archive";
    ``colors`` maps these group keys to colours); the best-known front is a neutral line,
    one segment per connected piece. ``picked`` and ``shortlist`` items are dicts with
    ``F1, F2, mean, sd`` and ``x`` (drawn as stars).
    """
    k = fronts[0].X.shape[1] if fronts else best.X.shape[1] if best is not None else 0
    variables = tuple(variables) or tuple(f"x{i + 1}" for i in range(k))
    labels = {**_labels(), **(labels or {})}
    groups = [f.algorithm + ("+archive" if f.settings.get("archive") else "")
              for f in fronts]
    names = {g: (front_name(f) if f.settings.get("archive")
                 else labels.get(f.algorithm, f.algorithm))
             for g, f in zip(groups, fronts, strict=True)}
    order = list(dict.fromkeys(groups))  # in the order they were run
    colors = {**algorithm_colors(order), **(colors or {})}
    symbols = algorithm_symbols(order)
    fig = go.Figure()
    shown: set[str] = set()
    for r, (front, alg) in enumerate(zip(fronts, groups, strict=True)):
        if not len(front):
            continue
        x, y = _xy(front.F, front.mean, front.sd, view)
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers", name=names[alg], legendgroup=alg,
            showlegend=alg not in shown, customdata=_customdata(r, front.X),
            marker=dict(color=colors.get(alg, "#888"), symbol=symbols[alg], size=8,
                        opacity=0.8, line=dict(width=0.5, color="white")),
            hovertemplate=_hover(variables, f"run {r + 1}: {front.label or alg}"),
            meta=dict(run=r),
        ))
        shown.add(alg)
    if best is not None and len(best):
        for i, rows in enumerate(pieces(best)):
            rows = rows[np.argsort(best.F[rows, 0], kind="stable")]
            x, y = _xy(best.F[rows], best.mean[rows], best.sd[rows], view)
            fig.add_trace(go.Scatter(
                x=x, y=y, mode="lines+markers", name="best-known front",
                legendgroup="best", showlegend=i == 0,
                customdata=_customdata(BEST, best.X[rows], rows),
                line=dict(color=BEST_COLOR, width=1.2),
                marker=dict(color=BEST_COLOR, size=3),
                hovertemplate=_hover(variables, f"best-known front, piece {i + 1}"),
                meta=dict(run=BEST, piece=i),
            ))
    for items, run, name, color, size in ((list(shortlist), SHORTLIST, "shortlist",
                                           SHORTLIST_COLOR, 13),
                                          ([picked] if picked else [], PICKED, "picked",
                                           PICKED_COLOR, 18)):
        if not items:
            continue
        F, mean, sd, X = _solution_arrays(items)
        x, y = _xy(F, mean, sd, view)
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="markers", name=name, customdata=_customdata(run, X),
            marker=dict(symbol="star", size=size, color=color,
                        line=dict(color="white", width=1)),
            hovertemplate=_hover(variables, name), meta=dict(run=run),
        ))
    if view == "mean":
        xtitle, ytitle = "mean", "standard deviation (sd)"
        if objective == "nominal" and target is not None:
            fig.add_vline(x=float(target), line_dash="dash", line_color="#999",
                          annotation_text=f"target {target:g}",
                          annotation_position="bottom left")
    else:
        xtitle = {"nominal": f"F1 = |mean − {target:g}|" if target is not None else "F1",
                  "smaller": "F1 = mean", "larger": "F1 = −mean"}.get(objective, "F1")
        ytitle = "F2 = sd"
    fig.update_layout(
        height=height, margin=dict(l=10, r=10, t=30, b=10), clickmode="event+select",
        dragmode="zoom", hovermode="closest", xaxis_title=xtitle, yaxis_title=ytitle,
        legend=dict(orientation="h", y=-0.15, x=0), uirevision="pareto",
    )
    fig.update_traces(selected=dict(marker=dict(opacity=1.0)),
                      unselected=dict(marker=dict(opacity=0.5)))
    return fig


def parallel_figure(front: Front, variables: Sequence[str] = (), *,
                    bounds: tuple[Sequence[float], Sequence[float]] | None = None,
                    color_by: Literal["F1", "sd"] = "F1",
                    picked: Mapping[str, Any] | None = None, bins: int = 8,
                    height: int = 380) -> go.Figure:
    """Parallel coordinates of the variables, mean and sd across a front.

    One vertical axis per variable (scaled to ``bounds`` when given), then the mean and the
    sd (scaled to the front); each solution is a line, coloured by F1 (or sd) in ``bins``
    shades of viridis. The picked solution, when given, is a thick red line labelled with
    its values. Traces: one per shade (``meta["role"] == "front"``), a colour-bar carrier,
    and ``"picked"``.
    """
    k = front.X.shape[1]
    variables = tuple(variables) or tuple(f"x{i + 1}" for i in range(k))
    labels = [*variables, "mean", "sd"]
    V = np.column_stack([np.asarray(front.X, float), front.mean, front.sd])
    P = None if not picked else np.r_[np.asarray(picked["x"], float), picked["mean"],
                                      picked["sd"]]
    both = V if P is None else np.vstack([V, P])
    lo, hi = both.min(axis=0), both.max(axis=0)
    if bounds is not None:
        lo[:k] = np.minimum(lo[:k], np.asarray(bounds[0], float))
        hi[:k] = np.maximum(hi[:k], np.asarray(bounds[1], float))
    span = np.where(hi > lo, hi - lo, 1.0)
    Z = (V - lo) / span
    axes = np.arange(len(labels), dtype=float)
    value = np.asarray(front.F[:, 0] if color_by == "F1" else front.sd, float)
    v_lo, v_hi = (float(value.min()), float(value.max())) if len(value) else (0.0, 1.0)
    shade = np.minimum(((value - v_lo) / (v_hi - v_lo if v_hi > v_lo else 1.0) * bins)
                       .astype(int), bins - 1)
    fig = go.Figure()
    for b in range(bins):
        rows = np.flatnonzero(shade == b)
        if not len(rows):
            continue
        xs = np.tile(np.r_[axes, np.nan], len(rows))
        ys = np.column_stack([Z[rows], np.full(len(rows), np.nan)]).ravel()
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", showlegend=False, hoverinfo="skip",
            line=dict(width=1.1, color=_viridis((b + 0.5) / bins)), opacity=0.55,
            meta=dict(role="front", rows=rows.tolist()),
        ))
    fig.add_trace(go.Scatter(  # carries the colour bar only
        x=[axes[0], axes[0]], y=[0, 0], mode="markers", showlegend=False, hoverinfo="skip",
        marker=dict(size=0.1, color=[v_lo, v_hi], colorscale="Viridis", showscale=True,
                    colorbar=dict(title=dict(text=color_by), len=0.9, thickness=14)),
        meta=dict(role="colorbar"),
    ))
    if P is not None:
        zp = (P - lo) / span
        fig.add_trace(go.Scatter(
            x=axes, y=zp, mode="lines+markers", name="picked", showlegend=False,
            line=dict(color=PICKED_COLOR, width=4), marker=dict(size=9, color=PICKED_COLOR),
            customdata=P, hovertemplate="%{customdata:.4g}<extra>picked</extra>",
            meta=dict(role="picked"),
        ))
        for j, (z, v) in enumerate(zip(zp, P, strict=True)):
            fig.add_annotation(x=j, y=z, text=f"<b>{v:.3g}</b>", showarrow=False,
                               xanchor="left", xshift=8, font=dict(color=PICKED_COLOR, size=12),
                               bgcolor="rgba(255,255,255,0.85)")
    for j in range(len(labels)):
        fig.add_shape(type="line", x0=j, x1=j, y0=0, y1=1, line=dict(color="#888", width=1),
                      layer="below")
        for y, v, pos in ((1.0, hi[j], "bottom"), (0.0, lo[j], "top")):
            fig.add_annotation(x=j, y=y, text=f"{v:.3g}", showarrow=False, yshift=0,
                               yanchor=pos, font=dict(size=11, color="#666"))
    fig.update_xaxes(tickvals=axes, ticktext=labels, range=[-0.3, len(labels) - 0.5],
                     showgrid=False, zeroline=False, side="top", tickfont=dict(size=13))
    fig.update_yaxes(visible=False, range=[-0.08, 1.08])
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=40, b=10),
                      plot_bgcolor="rgba(0,0,0,0)", hovermode="closest")
    return fig


def _viridis(t: float) -> str:
    from plotly.colors import sample_colorscale

    return sample_colorscale("Viridis", [min(max(t, 0.0), 1.0)])[0]


def fit_figure(fit) -> go.Figure:
    """Fitted against observed for the mean and the sd of an
    :class:`~gda_core.optimization.data.ExperimentFit`, with the identity line and R^2."""
    t = fit.table
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        f"mean: R² = {fit.mean_fit.r2:.3f}", f"sd: R² = {fit.sd_fit.r2:.3f}"),
        horizontal_spacing=0.12)
    for col, name in enumerate(("mean", "sd"), start=1):
        obs, fitted = t[name].to_numpy(float), t[f"{name}_fitted"].to_numpy(float)
        lo, hi = float(min(obs.min(), fitted.min())), float(max(obs.max(), fitted.max()))
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", showlegend=False,
                                 line=dict(color="#999", dash="dash"), hoverinfo="skip"),
                      row=1, col=col)
        fig.add_trace(go.Scatter(
            x=obs, y=fitted, mode="markers", name=name, showlegend=False,
            marker=dict(color=PALETTE[col - 1], size=8),
            customdata=np.column_stack([np.arange(1, len(t) + 1), t[f"{name}_residual"]]),
            hovertemplate="run %{customdata[0]}<br>observed %{x:.4g}<br>fitted %{y:.4g}"
                          "<br>residual %{customdata[1]:.3g}<extra></extra>",
        ), row=1, col=col)
        fig.update_xaxes(title_text="observed", row=1, col=col)
        fig.update_yaxes(title_text="fitted", row=1, col=col)
    fig.update_layout(height=330, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def design_space_figure(case: DRSOCase, i: int, j: int, *,
                        fixed: Sequence[float] | None = None, front: Front | None = None,
                        picked: Mapping[str, Any] | None = None, n: int = 60,
                        height: int = 420) -> go.Figure:
    """Contours of the mean and the sd over factors ``i`` and ``j`` (two panels).

    The other factors are held at ``fixed`` (a full point, e.g. the picked solution's
    ``x``; default the centre of the bounds). The Pareto set's points (``front.X``
    projected on the two factors) are overlaid as dots and the picked point as a star.
    Traces: ``meta["role"]`` is ``"mean"`` / ``"sd"`` (contours), ``"front"`` and
    ``"picked"`` (one per panel).

    Examples
    --------
    >>> from gda_core.optimization import CASES
    >>> fig = design_space_figure(CASES["printing"], 0, 2)
    >>> [t.meta["role"] for t in fig.data]
    ['mean', 'sd']
    """
    k = case.k
    if not (0 <= i < k and 0 <= j < k) or i == j:
        raise ValueError(f"choose two different factors among 0..{k - 1}; got {i} and {j}")
    lo, hi = case.bounds
    base = (lo + hi) / 2 if fixed is None else np.asarray(fixed, float).copy()
    gi, gj = np.linspace(lo[i], hi[i], n), np.linspace(lo[j], hi[j], n)
    A, B = np.meshgrid(gi, gj)
    X = np.tile(base, (A.size, 1))
    X[:, i], X[:, j] = A.ravel(), B.ravel()
    names = case.variables
    others = ", ".join(f"{names[m]} = {base[m]:.3g}" for m in range(k) if m not in (i, j))
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.14, subplot_titles=(
        "mean", "standard deviation (sd)"))
    for col, (role, surface, scale) in enumerate(
            (("mean", case.mean, "Viridis"), ("sd", case.sd, "Cividis")), start=1):
        Z = surface.predict(X).reshape(A.shape)
        fig.add_trace(go.Contour(
            x=gi, y=gj, z=Z, colorscale=scale, contours=dict(showlabels=True),
            colorbar=dict(title=dict(text=role), x=0.43 if col == 1 else 1.0, len=0.9,
                          thickness=12),
            hovertemplate=f"{names[i]} = %{{x:.3g}}<br>{names[j]} = %{{y:.3g}}<br>"
                          f"{role} = %{{z:.4g}}<extra></extra>",
            meta=dict(role=role)), row=1, col=col)
        if front is not None and len(front):
            fig.add_trace(go.Scatter(
                x=front.X[:, i], y=front.X[:, j], mode="markers", name="Pareto set",
                legendgroup="front", showlegend=col == 1,
                marker=dict(color="white", size=6, line=dict(color="black", width=1)),
                hovertemplate=f"{names[i]} = %{{x:.3g}}<br>{names[j]} = %{{y:.3g}}"
                              "<extra>Pareto set</extra>",
                meta=dict(role="front")), row=1, col=col)
        if picked:
            x = np.asarray(picked["x"], float)
            fig.add_trace(go.Scatter(
                x=[x[i]], y=[x[j]], mode="markers", name="picked", legendgroup="picked",
                showlegend=col == 1,
                marker=dict(symbol="star", size=18, color=PICKED_COLOR,
                            line=dict(color="white", width=1)),
                hovertemplate="picked<extra></extra>", meta=dict(role="picked")),
                row=1, col=col)
        fig.update_xaxes(title_text=names[i], range=[lo[i], hi[i]], row=1, col=col)
        fig.update_yaxes(title_text=names[j], range=[lo[j], hi[j]], row=1, col=col)
    title = f"other factors at {others}" if others else ""
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=60 if title else 40, b=10),
                      title=dict(text=title, font=dict(size=13)),
                      legend=dict(orientation="h", y=-0.18, x=0))
    return fig


def multi_front_figure(front: MultiFront, *, picked: int | None = None,
                       height: int = 560) -> go.Figure:
    """A k-response front (:class:`~gda_core.optimization.multi.MultiFront`): a 3-D scatter
    of the three responses for ``k == 3``, a scatter matrix otherwise; coloured by the
    first response; the ``picked`` row as a red marker (``meta["role"] == "picked"``).

    Examples
    --------
    >>> from gda_core.optimization.multi import MULTI_CASES, solve_multi
    >>> f = solve_multi(MULTI_CASES["printing-cost"], pop=12, gens=3, seed=1)
    >>> [t.meta["role"] for t in multi_front_figure(f, picked=0).data]
    ['front', 'picked']
    """
    names = list(front.response_names)
    Y = np.asarray(front.Y, float)
    hover = "<br>".join(f"{n} = %{{customdata[{j}]:.4g}}" for j, n in enumerate(names))
    xs = "<br>".join(f"{v} = %{{customdata[{len(names) + j}]:.3g}}"
                     for j, v in enumerate(front.variables))
    data = np.column_stack([Y, front.X])
    fig = go.Figure()
    if len(names) == 3:
        fig.add_trace(go.Scatter3d(
            x=Y[:, 0], y=Y[:, 1], z=Y[:, 2], mode="markers", name="Pareto front",
            customdata=data, hovertemplate=f"{hover}<br>{xs}<extra></extra>",
            marker=dict(size=4, color=Y[:, 0], colorscale="Viridis", opacity=0.85,
                        colorbar=dict(title=dict(text=names[0]), thickness=12)),
            meta=dict(role="front")))
        if picked is not None:
            fig.add_trace(go.Scatter3d(
                x=[Y[picked, 0]], y=[Y[picked, 1]], z=[Y[picked, 2]], mode="markers",
                name="picked", marker=dict(size=10, color=PICKED_COLOR, symbol="diamond",
                                           line=dict(color="white", width=1)),
                customdata=data[[picked]], hovertemplate=f"picked<br>{hover}<extra></extra>",
                meta=dict(role="picked")))
        fig.update_layout(scene=dict(xaxis_title=names[0], yaxis_title=names[1],
                                     zaxis_title=names[2]))
    else:
        dims = [dict(label=n, values=Y[:, j]) for j, n in enumerate(names)]
        fig.add_trace(go.Splom(dimensions=dims, name="Pareto front", showupperhalf=False,
                               marker=dict(size=4, color=Y[:, 0], colorscale="Viridis"),
                               meta=dict(role="front")))
        if picked is not None:
            fig.add_trace(go.Splom(
                dimensions=[dict(label=n, values=[Y[picked, j]]) for j, n in enumerate(names)],
                name="picked", showupperhalf=False,
                marker=dict(size=12, color=PICKED_COLOR, symbol="diamond"),
                meta=dict(role="picked")))
    fig.update_layout(height=height, margin=dict(l=10, r=10, t=30, b=10),
                      legend=dict(orientation="h", y=-0.05, x=0), uirevision="multi")
    return fig
