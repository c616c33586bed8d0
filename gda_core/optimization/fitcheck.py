"""Plain-language checks of fitted response surfaces: weak fits, lack of fit, negative sd.

Each check returns :class:`~gda_core.notices.Notice` objects whose ``code`` is one of

``weak-fit``
    adjusted R^2 below a threshold (0.5 by default) or a regression that is not significant;
``lack-of-fit``
    significant lack of fit against pure error (p below 0.05 by default);
``saturated-fit``
    as many terms as runs: nothing is left to test the model or to set intervals;
``model-reduced``
    (information) the terms that backward elimination dropped;
``negative-sd``
    a standard-deviation surface that goes below zero inside the region, with where and
    how far.

Examples
--------
>>> from gda_core.optimization.surfaces import QuadraticSurface
>>> sd = QuadraticSurface.from_coefficients([0.2, 0.0, 0.0, -1.0, 1.0, 0.0])
>>> negative_sd_notice(sd, [-1, -1], [1, 1]).code
'negative-sd'
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from gda_core.notices import Notice
from gda_core.optimization.surfaces import (
    QuadraticSurface,
    SurfaceFit,
    surface_minimum,
    term_names,
)

WEAK_FIT = "weak-fit"
LACK_OF_FIT = "lack-of-fit"
SATURATED_FIT = "saturated-fit"
MODEL_REDUCED = "model-reduced"
NEGATIVE_SD = "negative-sd"
FIT_NOTICE_CODES = (WEAK_FIT, LACK_OF_FIT, SATURATED_FIT, MODEL_REDUCED, NEGATIVE_SD)
"""Every code a check in this module can give."""

MIN_R2_ADJ = 0.5
"""Adjusted R^2 below which a fit is called weak."""


def _names(variables: Sequence[str] | None) -> tuple[str, ...] | None:
    return tuple(variables) if variables else None


def _where(x: np.ndarray, variables: Sequence[str] | None) -> str:
    names = list(variables) if variables else [f"x{i + 1}" for i in range(len(x))]
    return ", ".join(f"{n} = {v:.3g}" for n, v in zip(names, x, strict=True))


def negative_sd_notice(surface: QuadraticSurface, lower, upper, *, name: str = "sd",
                       variables: Sequence[str] | None = None, seed: int = 0
                       ) -> Notice | None:
    """A ``negative-sd`` notice when ``surface`` goes below zero in the box, else ``None``.

    The box is searched by :func:`~gda_core.optimization.surfaces.surface_minimum`; the
    notice says the smallest value and where it is.  A log-scale surface is never negative.

    Examples
    --------
    >>> from gda_core.optimization.surfaces import QuadraticSurface
    >>> flat = QuadraticSurface.from_coefficients([1.0, 0.5, 0.0])
    >>> negative_sd_notice(flat, [-1], [1]) is None
    True
    >>> print(negative_sd_notice(flat, [-4], [1]))  # doctest: +ELLIPSIS
    The sd model predicts a negative standard deviation, -1, inside the region (at x1 = -4)...
    """
    if surface.link == "log":
        return None
    x, value = surface_minimum(surface, lower, upper, seed=seed)
    if value >= 0:
        return None
    return Notice(NEGATIVE_SD, (
        f"The {name} model predicts a negative standard deviation, {value:.4g}, inside the "
        f"region (at {_where(x, variables)}). A standard deviation cannot be negative: the "
        "optimiser is drawn to such settings and the front's sd there means nothing. Use the "
        "log(s) model (its predictions are always positive), narrow the bounds to where the "
        "model stays positive, or check the sd data."))


def fit_notices(fit: SurfaceFit, lower=None, upper=None, *, sd: bool = False,
                variables: Sequence[str] | None = None, min_r2_adj: float = MIN_R2_ADJ,
                alpha: float = 0.05, seed: int = 0) -> list[Notice]:
    """Notices about one fitted surface.

    Parameters
    ----------
    fit
        The fit to check.
    lower, upper
        The region to search for negative predictions (default: the design's range).
    sd
        Whether the surface is a standard deviation (then negative predictions are checked
        and the advice mentions the log(s) model).
    variables
        Names of the variables, for the notice's text.
    min_r2_adj, alpha
        Adjusted R^2 below ``min_r2_adj``, or a regression or lack-of-fit test with
        ``p < alpha`` (regression: ``p >= alpha``), gives a notice.
    seed
        Seed of the region search.

    Returns
    -------
    list of Notice
        In the order ``saturated-fit`` / ``weak-fit``, ``lack-of-fit``, ``negative-sd``,
        ``model-reduced``; empty for a sound fit.
    """
    out: list[Notice] = []
    name = f"log({fit.name})" if fit.log else fit.name
    log_advice = (" Try the log(s) model, which often suits a standard deviation better."
                  if sd and not fit.log else "")
    if fit.df_residual <= 0:
        out.append(Notice(SATURATED_FIT, (
            f"The {name} model has as many terms as runs ({fit.result.n}): it passes through "
            "every run, so nothing is left to test it, to judge its fit or to set intervals. "
            "Add runs, or reduce the model.")))
    else:
        p = fit.result.f_regression[1]
        weak_r2 = not fit.r2_adj >= min_r2_adj
        weak_p = not p < alpha
        if weak_r2 or weak_p:
            why = []
            if weak_r2:
                why.append(f"adjusted R² {fit.r2_adj:.3f}, below {min_r2_adj:g}")
            if weak_p:
                why.append(f"the regression is not significant, p = {p:.3g}")
            out.append(Notice(WEAK_FIT, (
                f"The {name} model explains little of the variation between runs "
                f"({'; '.join(why)}). Its predictions, and a front built on them, are "
                "uncertain: check the data for outliers or typing errors, and add runs or "
                f"terms before relying on it.{log_advice}")))
    lof = fit.lack_of_fit()
    if lof is not None and lof.p < alpha:
        src = ("the runs at repeated design points" if lof.pure_error.within_residual
               else "the replicates of each run")
        out.append(Notice(LACK_OF_FIT, (
            f"The {name} model shows significant lack of fit (F = {lof.F:.3g} on {lof.df} "
            f"and {lof.pure_error.df} df, p = {lof.p:.3g}, against the pure error of {src}): "
            "a quadratic does not follow the response in this region, so its predictions may "
            "be biased. Consider a transformation of the response, a smaller region, or a "
            f"design that supports more terms.{log_advice}")))
    if sd:
        X = fit.X
        lo = X.min(axis=0) if lower is None else np.asarray(lower, dtype=float)
        hi = X.max(axis=0) if upper is None else np.asarray(upper, dtype=float)
        neg = negative_sd_notice(fit.surface, lo, hi, name=name, variables=variables,
                                 seed=seed)
        if neg is not None:
            out.append(neg)
    dropped = [t for t, kept in zip(term_names(fit.surface.k, _names(variables)), fit.kept,
                                    strict=True) if not kept]
    if dropped:
        level = "" if fit.alpha is None else f" (p > {fit.alpha:g})"
        out.append(Notice(MODEL_REDUCED, (
            f"Backward elimination{level} dropped {len(dropped)} term(s) of the {name} "
            f"model: {', '.join(dropped)}. Main effects stay while a square or an "
            "interaction with them does.")))
    return out
