"""Fit a dual response case from a designed experiment (a CSV of design and replicates).

Both fits carry their checks (ANOVA, lack of fit, term tests, intervals; see
:class:`~gda_core.optimization.surfaces.SurfaceFit`) and :attr:`ExperimentFit.notices` says
in words what is wrong with them (weak fit, lack of fit, negative predicted sd; codes in
:mod:`gda_core.optimization.fitcheck`).
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from gda_core.errors import ConfigError
from gda_core.notices import Notice
from gda_core.optimization.anova import pure_error_from_replicates
from gda_core.optimization.cases import DRSOCase, ObjectiveType
from gda_core.optimization.fitcheck import fit_notices
from gda_core.optimization.surfaces import SurfaceFit, fit_quadratic, n_terms, term_names

_DESIGN = re.compile(r"^x\d+$", re.IGNORECASE)
_REPLICATE = re.compile(r"^y\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class ExperimentFit:
    """A case fitted from an experiment, with both fits and the per-run summary table.

    Attributes
    ----------
    case : DRSOCase
        The fitted case.
    mean_fit, sd_fit : SurfaceFit
        The two fits (``sd_fit`` of ``log(s)`` for the log model).
    table : DataFrame
        Design columns, then ``mean, mean_fitted, mean_residual, sd, sd_fitted,
        sd_residual`` per run (fitted values and residuals on the response's own scale).
    notices : tuple of Notice
        What the checks found (:func:`~gda_core.optimization.fitcheck.fit_notices`).
    """

    case: DRSOCase
    mean_fit: SurfaceFit
    sd_fit: SurfaceFit
    table: pd.DataFrame
    notices: tuple[Notice, ...] = ()

    def coefficient_table(self) -> pd.DataFrame:
        """Coefficients of both models, one row per term (of ``log(s)`` for the log model)."""
        return pd.DataFrame({"mean": self.case.mean.coef, "sd": self.case.sd.coef},
                            index=term_names(self.case.k))

    def summary_table(self) -> pd.DataFrame:
        """Headline numbers of both fits, one row each (``mean``, ``sd``): scale, runs, terms,
        R², adjusted and predicted R², residual sd, the regression's F and p and the
        lack-of-fit p (empty without pure error)."""
        rows = {"mean": self.mean_fit.summary(), "sd": self.sd_fit.summary()}
        return pd.DataFrame.from_dict(rows, orient="index").drop(columns="response")


def read_table(source: str | Path | bytes | pd.DataFrame) -> pd.DataFrame:
    """Read a CSV (path, bytes or an already-read frame) with a clear message on failure."""
    if isinstance(source, pd.DataFrame):
        return source
    try:
        if isinstance(source, bytes):
            return pd.read_csv(io.BytesIO(source))
        return pd.read_csv(source)
    except FileNotFoundError:
        raise ConfigError(f"no such file: {source}") from None
    except IsADirectoryError:
        raise ConfigError(f"{source} is a folder; give the CSV file inside it") from None
    except PermissionError:
        raise ConfigError(f"cannot read {source}: permission denied") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise ConfigError(f"could not read the CSV: {str(exc).splitlines()[0]}") from None


def guess_columns(df: pd.DataFrame) -> tuple[list[str], list[str]]:
    """Design columns (``x1, x2, ...``) and replicate columns (``y1, y2, ...``) by name."""
    design = [c for c in df.columns if _DESIGN.match(str(c).strip())]
    reps = [c for c in df.columns if _REPLICATE.match(str(c).strip())]
    return design, reps


def _numeric(df: pd.DataFrame, cols: list[str], what: str) -> np.ndarray:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ConfigError(f"{what} column(s) not in the file: {', '.join(map(str, missing))}")
    values = df[cols].apply(pd.to_numeric, errors="coerce")
    bad = values.isna() & df[cols].notna()
    if bad.any().any():
        col = bad.any().idxmax()
        row = int(bad[col].to_numpy().argmax())
        raise ConfigError(f"{what} column {col!r} has a non-numeric value "
                          f"{df[col].iloc[row]!r} in row {row + 1}")
    if values.isna().any().any():
        col = values.isna().any().idxmax()
        raise ConfigError(f"{what} column {col!r} has empty cells")
    return values.to_numpy(dtype=float)


def fit_experiment(source, *, design: list[str] | None = None,
                   replicates: list[str] | None = None, mean_col: str | None = None,
                   sd_col: str | None = None, objective: ObjectiveType = "nominal",
                   target: float | None = None, lower=None, upper=None,
                   name: str = "uploaded", log_sd: bool = False, reduce: bool = False,
                   alpha: float = 0.10) -> ExperimentFit:
    """Fit mean and standard-deviation surfaces to a designed experiment.

    Each row is one design point. The response is either several replicate columns (the
    row mean and sample standard deviation, ``ddof=1``, are fitted) or a mean column and
    an sd column given explicitly. Bounds default to the range of each design column.

    With replicate columns the mean model's lack of fit is tested against the replicates'
    pure error; otherwise (and for the sd model) against runs at repeated design points,
    when there are any.  ``log_sd`` fits ``log(s)`` (every sd must be positive), so the
    predicted sd is positive everywhere; ``reduce`` drops insignificant terms of both models
    (backward elimination at ``alpha``, keeping hierarchy).  The fit's
    :attr:`~ExperimentFit.notices` report weak fits, lack of fit and negative predicted sd
    within the bounds.

    Examples
    --------
    >>> fit = fit_experiment("assets/printing_ink.csv", target=500)  # doctest: +SKIP
    >>> round(fit.case.mean.coef[1], 1)  # doctest: +SKIP
    177.0
    """
    df = read_table(source)
    if df.empty:
        raise ConfigError("the CSV has no rows")
    g_design, g_reps = guess_columns(df)
    design = list(design or g_design)
    if not design:
        raise ConfigError("no design columns: name them x1, x2, ... or choose them")
    X = _numeric(df, design, "design")
    Y = None
    if mean_col or sd_col:
        if not (mean_col and sd_col):
            raise ConfigError("give both a mean column and an sd column, or replicate columns")
        mean = _numeric(df, [mean_col], "mean")[:, 0]
        sd = _numeric(df, [sd_col], "sd")[:, 0]
    else:
        reps = list(replicates or g_reps)
        if len(reps) < 2:
            raise ConfigError("need at least two replicate columns (y1, y2, ...) to estimate "
                              "a standard deviation per run, or a mean and an sd column")
        Y = _numeric(df, reps, "replicate")
        mean, sd = Y.mean(axis=1), Y.std(axis=1, ddof=1)
    k = len(design)
    if len(df) < n_terms(k):
        raise ConfigError(f"a full quadratic model in {k} variables has {n_terms(k)} terms, "
                          f"so it needs at least {n_terms(k)} runs; the file has {len(df)}")
    mean_fit = fit_quadratic(X, mean, reduce=reduce, alpha=alpha, name="mean",
                             pure_error=None if Y is None else pure_error_from_replicates(Y))
    sd_fit = fit_quadratic(X, sd, log=log_sd, reduce=reduce, alpha=alpha, name="sd")
    lo = X.min(axis=0) if lower is None else lower
    hi = X.max(axis=0) if upper is None else upper
    variables = tuple(str(c) for c in design)
    how = [f"fitted from {len(df)} runs"]
    if log_sd:
        how.append("log(s) model")
    if reduce:
        how.append(f"reduced models (p > {alpha:g} dropped)")
    case = DRSOCase(name, mean_fit.surface, sd_fit.surface, tuple(map(float, lo)),
                    tuple(map(float, hi)), objective,
                    None if target is None else float(target), variables, ", ".join(how))
    table = pd.DataFrame(X, columns=[str(c) for c in design])
    mean_fitted, sd_fitted = mean_fit.surface.predict(X), sd_fit.surface.predict(X)
    table["mean"], table["mean_fitted"], table["mean_residual"] = (
        mean, mean_fitted, mean - mean_fitted)
    table["sd"], table["sd_fitted"], table["sd_residual"] = sd, sd_fitted, sd - sd_fitted
    notices = (fit_notices(mean_fit, case.lower, case.upper, variables=variables)
               + fit_notices(sd_fit, case.lower, case.upper, sd=True, variables=variables))
    return ExperimentFit(case, mean_fit, sd_fit, table, tuple(notices))
