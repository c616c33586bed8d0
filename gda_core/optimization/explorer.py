"""The Pareto explorer's logic without a user interface: runs, tables, picks and units.

Everything the Streamlit page (``pages/pareto.py``) and the CLI (``gda_core/cli/drso.py``)
do with a case beyond drawing widgets lives here, so it can be tested and reused:

- :class:`CaseState` holds what was computed and chosen for one case (its
  :class:`~gda_core.optimization.archive.FrontArchive`, the picked solution, the
  shortlist and the last study); :func:`case_key` names a case stably.
- problem set-up: :func:`coefficient_frame`, :func:`case_from_coefficients`,
  :func:`bounds_frame`, :func:`configure`, :func:`fit_upload`;
- runs and their tables: :func:`run_algorithms`, :func:`metrics_table`,
  :func:`pieces_text`;
- picking: :func:`solution`, :func:`resolve`, :func:`pick_from_selection`,
  :func:`suggestion_rows`, :func:`nearest_to_reference`, :func:`add_to_shortlist`,
  :func:`solutions_frame`, :func:`shown_solution`;
- natural units: :class:`FactorRanges` (coded <-> natural) and :func:`picked_intervals`
  (prediction intervals of a fitted case at a point).

A *solution* is a plain dict ``{"source", "F1", "F2", "mean", "sd", "x"}`` so that it
survives new runs (it does not point into the archive).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

import gda_core.optimization.picking as picking
from gda_core.errors import ConfigError
from gda_core.optimization.algorithms.registry import ALGORITHMS, algorithm_label, solve
from gda_core.optimization.archive import FrontArchive, pieces
from gda_core.optimization.cases import CASES, DRSOCase
from gda_core.optimization.data import ExperimentFit, fit_experiment
from gda_core.optimization.front import Front
from gda_core.optimization.indicators import front_metrics
from gda_core.optimization.ranges import objective_ranges
from gda_core.optimization.study import StudyResult
from gda_core.optimization.surfaces import QuadraticSurface, term_names

#: ``run`` codes of chart points that are not a run's front (see :func:`resolve`)
BEST, SHORTLIST, PICKED = -1, -2, -3
DEFAULT_ALGORITHMS = ("nsga2", "spea2", "npga")
METRICS_CAPTION = (
    "Each run against the best-known front (the non-dominated union of everything computed "
    "for this case in this session). **points**: the front's size. **M1'** and **Delta'** "
    "as the study's eqs. (4), (7), (8), each objective normalised by its range over the "
    "design region: M1' is the mean normalised distance to the ideal (smaller is better), "
    "Delta' the spread, 0 for evenly spaced points reaching both extremes (smaller is "
    "better). **HV**: area dominated up to (1.1, 1.1) after normalising by the best-known "
    "front (larger is better). **IGD**: mean distance from each best-known point to the "
    "run's nearest point (smaller is better).")


@dataclass
class CaseState:
    """What a session computed and chose for one case.

    Attributes
    ----------
    archive : FrontArchive
        Every front computed for the case (the best-known front is their union).
    picked : dict or None
        The picked solution.
    shortlist : list of dict
        Solutions kept for comparison.
    study : StudyResult or None
        The last study run on the case.
    """

    archive: FrontArchive
    picked: dict[str, Any] | None = None
    shortlist: list[dict[str, Any]] = field(default_factory=list)
    study: StudyResult | None = None

    def clear_runs(self) -> None:
        """Forget the runs, the pick and the study (the shortlist stays)."""
        self.archive.fronts.clear()
        self.archive.filled.clear()
        self.picked, self.study = None, None


def case_key(case: DRSOCase) -> str:
    """A stable key for a case: its name and a digest of everything that defines it.

    Examples
    --------
    >>> from gda_core.optimization import CASES
    >>> case_key(CASES["welding"]).startswith("welding-")
    True
    >>> case_key(CASES["welding"]) == case_key(CASES["welding"].with_settings(target=3.7))
    True
    """
    text = json.dumps(case.to_dict(), sort_keys=True)  # 500 and 500.0 are the same target
    return f"{case.name}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


# ------------------------------------------------------------------ problem
def fit_upload(payload: bytes, *, log_sd: bool = False, reduce: bool = False,
               alpha: float = 0.10) -> ExperimentFit:
    """Fit a case to an uploaded CSV (design ``x1..``, replicates ``y1..``).

    The case has no target (smaller-the-better until the user says otherwise); ``log_sd``,
    ``reduce`` and ``alpha`` go to :func:`~gda_core.optimization.data.fit_experiment`.
    Raises :class:`~gda_core.errors.GDAError` with a plain message when the file cannot be
    fitted.
    """
    return fit_experiment(payload, objective="smaller", name="uploaded", log_sd=log_sd,
                          reduce=reduce, alpha=alpha)


def default_objective(case: DRSOCase) -> str:
    """The case's objective type; nominal-the-best for a case built with a target."""
    return case.objective if case.target is not None else "nominal"


def coefficient_frame(k: int) -> pd.DataFrame:
    """Editable coefficients (terms x ``mean``/``sd``): a built-in case's when one has ``k``
    variables, else an intercept of 1 and zeros.

    ``attrs["sd_link"]`` carries the sd surface's link (``"log"`` when its coefficients
    are those of ``log(s)``), which :func:`case_from_coefficients` reads back.

    Examples
    --------
    >>> float(coefficient_frame(2).loc["x1", "mean"])
    0.4967
    >>> coefficient_frame(1)["sd"].tolist()
    [1.0, 0.0, 0.0]
    """
    terms = term_names(k)
    same_k = [c for c in CASES.values() if c.k == k]
    link = "identity"
    if same_k:
        mean, sd, link = same_k[0].mean.coef, same_k[0].sd.coef, same_k[0].sd.link
    else:
        mean = sd = (1.0,) + (0.0,) * (len(terms) - 1)
    frame = pd.DataFrame({"mean": mean, "sd": sd}, index=pd.Index(terms, name="term"))
    frame.attrs["sd_link"] = link
    return frame


def case_coefficient_frame(case: DRSOCase) -> pd.DataFrame:
    """A case's coefficients as :func:`coefficient_frame` lays them out, with its sd link
    in ``attrs["sd_link"]`` (a log(s) case stays one when edited)."""
    frame = pd.DataFrame({"mean": case.mean.coef, "sd": case.sd.coef},
                         index=pd.Index(term_names(case.k), name="term"))
    frame.attrs["sd_link"] = case.sd.link
    return frame


def case_from_coefficients(table: pd.DataFrame, sd_link: str | None = None) -> DRSOCase:
    """A case from an edited coefficient table (bounds -1..1, smaller-the-better until
    configured).

    ``sd_link`` (default: ``table.attrs["sd_link"]``, else identity) says whether the sd
    column holds the coefficients of ``log(s)``.  Raises ``ConfigError`` naming the term
    when a coefficient is missing.
    """
    mean = pd.to_numeric(table["mean"], errors="coerce").to_numpy(float)
    sd = pd.to_numeric(table["sd"], errors="coerce").to_numpy(float)
    k = QuadraticSurface.from_coefficients(mean).k  # checks the count and NaN first
    link = sd_link or table.attrs.get("sd_link", "identity")
    scale = "log(s) coefficients" if link == "log" else "coefficients"
    return DRSOCase.from_coefficients("custom", mean, sd, lower=(-1.0,) * k,
                                      upper=(1.0,) * k, objective="smaller", sd_link=link,
                                      description=f"typed-in {scale}, {k} variables")


def bounds_frame(case: DRSOCase) -> pd.DataFrame:
    """The case's bounds as an editable table (rows = variables, ``lower``/``upper``)."""
    lo, hi = case.bounds
    return pd.DataFrame({"lower": lo, "upper": hi},
                        index=pd.Index(list(case.variables), name="variable"))


def configure(base: DRSOCase, objective: str, target: float | None,
              bounds: pd.DataFrame, *, sd_max: float | None = None,
              lsl: float | None = None, usl: float | None = None) -> DRSOCase:
    """``base`` with the chosen objective type, target, bounds and constraints (an sd cap,
    spec limits on the mean; None for none), validated.

    Raises ``ConfigError`` for a missing bound, a lower bound not below its upper bound,
    nominal-the-best without a finite target, or inconsistent constraints.
    """
    lo = pd.to_numeric(bounds["lower"], errors="coerce").to_numpy(float)
    hi = pd.to_numeric(bounds["upper"], errors="coerce").to_numpy(float)
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ConfigError("every variable needs a lower and an upper bound (numbers)")
    return base.with_settings(objective=objective,
                              target=target if objective == "nominal" else base.target,
                              lower=tuple(lo), upper=tuple(hi), sd_max=sd_max, lsl=lsl,
                              usl=usl)


# ---------------------------------------------------------------------- runs
def run_algorithms(case: DRSOCase, archive: FrontArchive, algorithms: Sequence[str], *,
                   pop: int, gens: int, pc: float, pm: float, seed: int, repeats: int = 1,
                   elitist_archive: bool = False,
                   progress: Callable[[float, str], None] | None = None) -> list[Front]:
    """Run each algorithm ``repeats`` times (seeds ``seed, seed + 1, ...``).

    Every front is added to ``archive`` as it finishes; ``elitist_archive`` runs the
    genetic algorithms with the elitist archive option (labelled "+ archive").  Then the
    archive fills the gaps of its best-known front (:meth:`FrontArchive.fill_gaps`: an
    eps sweep, then eps values inside each gap), so a piece a GA population missed is found
    and reported with its range.
    ``progress(fraction, text)`` is called as runs advance.

    Examples
    --------
    >>> from gda_core.optimization import CASES
    >>> arc = FrontArchive(CASES["welding"])
    >>> fronts = run_algorithms(CASES["welding"], arc, ["nsga2"], pop=12, gens=5, pc=0.5,
    ...                         pm=0.5, seed=1, repeats=2)
    >>> [f.settings["seed"] for f in fronts], len(arc.fronts)
    ([1, 2], 2)
    """
    if not algorithms:
        raise ConfigError("choose at least one algorithm")
    unknown = [a for a in algorithms if a not in ALGORITHMS]
    if unknown:
        raise ConfigError(f"unknown algorithm(s) {', '.join(unknown)}; choose from "
                          f"{', '.join(ALGORITHMS)}")
    report = progress or (lambda f, t: None)
    jobs = [(a, seed + r) for a in algorithms for r in range(repeats)]
    done: list[Front] = []
    for i, (name, s) in enumerate(jobs):
        info = ALGORITHMS[name]
        text = f"{algorithm_label(name, elitist_archive and info.genetic)} seed {s} · " \
               f"run {i + 1} of {len(jobs)}"
        report(i / len(jobs), text)

        def step(f: float, i: int = i, text: str = text) -> None:
            report((i + min(max(f, 0.0), 1.0)) / len(jobs), text)

        if info.genetic:
            front = solve(case, name, pop=pop, gens=gens, pc=pc, pm=pm, seed=s,
                          progress=step, archive=elitist_archive)
        else:
            front = solve(case, name, seed=s, progress=step)
        archive.add(front)
        done.append(front)
    report(len(jobs) / (len(jobs) + 1), "finding the pieces of the front (eps-constraint)")
    archive.fill_gaps(seed=seed)
    report(1.0, f"{len(jobs)} run(s) done")
    return done


def front_name(front: Front) -> str:
    """What tables and charts call a front's algorithm: its label, "+ archive" when the
    elitist archive option was used (so archive variants are told apart).

    Examples
    --------
    >>> from gda_core.optimization import CASES
    >>> f = Front.from_X(CASES["welding"], np.zeros((1, 2)), "npga",
    ...                  settings={"archive": True})
    >>> front_name(f)
    'NPGA + archive'
    """
    if front.algorithm not in ALGORITHMS:
        return front.algorithm
    return algorithm_label(front.algorithm, bool(front.settings.get("archive", False)))


def metrics_table(archive: FrontArchive, best: Front) -> pd.DataFrame:
    """One row per run: ``run, algorithm, points`` (the front's size), ``M1', Delta', HV,
    IGD`` against ``best`` and the run's ``seconds``.

    M1' and Delta' are normalised by the objectives' exact ranges over the design region
    (:func:`~gda_core.optimization.ranges.objective_ranges`); the archive-normalised
    variants are left out (the study tables keep them).
    """
    rows = []
    ranges = objective_ranges(archive.case) if archive.fronts else None
    for i, front in enumerate(archive.fronts):
        m = front_metrics(front.F, best.F, ranges) if len(best) else {}
        rows.append({"run": i + 1, "algorithm": front_name(front),
                     "points": len(front), "M1'": m.get("M1'"),
                     "Delta'": m.get("Delta'"), "HV": m.get("HV"), "IGD": m.get("IGD"),
                     "seconds": front.seconds})
    return pd.DataFrame(rows, columns=["run", "algorithm", "points", "M1'", "Delta'", "HV",
                                       "IGD", "seconds"])


def short_number(v: float, scale: float) -> str:
    """``v`` with 4 significant digits; ``"0"`` when negligible against ``scale``.

    Examples
    --------
    >>> short_number(1e-14, 10.0), short_number(382.153, 10.0)
    ('0', '382.2')
    """
    return "0" if abs(v) <= 1e-9 * max(abs(scale), 1e-300) else f"{v:.4g}"


def pieces_text(best: Front) -> str:
    """Where the pieces of the best-known front are, in F1 (Markdown)."""
    parts = sorted(pieces(best), key=lambda p: best.F[p, 0].min())
    scale = float(np.ptp(best.F[:, 0])) or 1.0
    where = "; ".join(f"F1 {short_number(best.F[p, 0].min(), scale)} to "
                      f"{short_number(best.F[p, 0].max(), scale)} ({len(p)} points)"
                      for p in parts)
    noun = "piece" if len(parts) == 1 else "pieces"
    return f"Best-known front: {len(best)} points in **{len(parts)} {noun}**: {where}."


# ------------------------------------------------------------------ picking
def solution(front: Front, row: int, source: str) -> dict[str, Any]:
    """Row ``row`` of ``front`` as a plain solution dict labelled ``source``."""
    return {"source": source, "F1": float(front.F[row, 0]), "F2": float(front.F[row, 1]),
            "mean": float(front.mean[row]), "sd": float(front.sd[row]),
            "x": tuple(float(v) for v in front.X[row])}


def resolve(cs: CaseState, best: Front, run: int, row: int) -> dict[str, Any] | None:
    """The solution behind a chart point's ``(run, row)`` customdata, or None.

    ``run`` is a run's index in ``cs.archive.fronts``, or :data:`BEST`,
    :data:`SHORTLIST`, :data:`PICKED`.
    """
    try:
        if run == BEST:
            return solution(best, row, "best-known front")
        if run == SHORTLIST:
            return dict(cs.shortlist[row])
        if run == PICKED:
            return cs.picked
        if run < 0:
            return None
        front = cs.archive.fronts[run]
        return solution(front, row, f"run {run + 1}: {front.label}")
    except IndexError:
        return None


def selected_refs(selection: Mapping[str, Any] | None) -> list[tuple[int, int]]:
    """``(run, row)`` of each point in a Streamlit plotly selection (``event.selection``).

    Plotly sends a point's customdata as a list, or, for numpy-backed (typed array) data,
    as a dict keyed by position (``{"0": run, "1": row, ...}``); both are understood.

    Examples
    --------
    >>> selected_refs({"points": [{"customdata": [0, 5, 0.1]},
    ...                           {"customdata": {"0": -1, "1": 2}}, {}]})
    [(0, 5), (-1, 2)]
    """
    if not selection:
        return []
    out = []
    for point in selection.get("points", []) or []:
        data = point.get("customdata")
        if isinstance(data, Mapping):  # typed arrays arrive as {"0": run, "1": row, ...}
            data = [data.get("0", data.get(0)), data.get("1", data.get(1))]
        if data is None or len(data) < 2:
            continue
        try:
            out.append((int(data[0]), int(data[1])))
        except (TypeError, ValueError):
            continue
    return out


def pick_from_selection(cs: CaseState, best: Front,
                        selection: Mapping[str, Any] | None) -> bool:
    """Pick the last selected point of a chart selection; True when something was picked."""
    for run, row in reversed(selected_refs(selection)):
        sol = resolve(cs, best, run, row)
        if sol is not None:
            cs.picked = sol
            return True
    return False


#: name -> (what it picks, label of its weight slider or None)
SUGGESTIONS: dict[str, tuple[str, str | None]] = {
    "knee": ("The point farthest below the line through the front's two extremes: where a "
             "little more of one objective costs a lot of the other.", None),
    "pseudo-weight": ("The point whose pseudo-weight on F1 (Deb 2001) is closest to the "
                      "chosen weight; 0 puts all the weight on sd.", "weight on F1"),
    "ASF": ("Achievement scalarising function: the best weighted Chebyshev distance to the "
            "ideal point; a larger weight asks for a smaller F1.", "weight on F1"),
    "minimum MSE": ("The smallest mean squared error: (mean − target)² + sd² "
                    "(nominal-the-best) or mean² + sd² (smaller-the-better).", None),
}
SUGGESTIONS_SHORT = {"knee": "the sharpest bend of the front",
                     "minimum MSE": "smallest (mean − target)² + sd²"}


def suggestion_rows(case: DRSOCase, best: Front, w_pseudo: float,
                    w_asf: float) -> dict[str, int | None]:
    """Row of ``best`` suggested by each rule of :data:`SUGGESTIONS` (None when the rule
    does not apply, e.g. minimum MSE for larger-the-better)."""
    return {
        "knee": picking.knee(best.F),
        "pseudo-weight": picking.by_pseudo_weight(best.F, w_pseudo),
        "ASF": picking.asf(best.F, w_asf),
        "minimum MSE": picking.min_mse(best.mean, best.sd, case.objective, case.target),
    }


def nearest_to_reference(F: np.ndarray, reference: Sequence[float]) -> int:
    """Row of the front ``F`` nearest to a reference point of aspiration levels.

    Each objective is normalised by the front's own range (ideal to nadir), so F1 and sd
    weigh alike whatever their units; distances are Euclidean. Works for any number of
    objectives.

    Examples
    --------
    >>> F = np.array([[0.0, 10.0], [1.0, 5.0], [2.0, 0.0]])
    >>> nearest_to_reference(F, [0.9, 6.0]), nearest_to_reference(F, [5.0, -1.0])
    (1, 2)
    """
    F = np.atleast_2d(np.asarray(F, float))
    ref = np.asarray(reference, float).ravel()
    if not len(F):
        raise ConfigError("the front is empty: run an algorithm first")
    if ref.shape != (F.shape[1],) or not np.all(np.isfinite(ref)):
        raise ConfigError(f"give {F.shape[1]} finite aspiration levels, one per objective")
    lo, hi = F.min(axis=0), F.max(axis=0)
    span = np.where(hi > lo, hi - lo, 1.0)
    return int(np.argmin(np.linalg.norm((F - ref) / span, axis=1)))


def add_to_shortlist(cs: CaseState, sol: Mapping[str, Any]) -> bool:
    """Add a solution unless the same ``x`` is already there; True when added."""
    if any(tuple(s["x"]) == tuple(sol["x"]) for s in cs.shortlist):
        return False
    cs.shortlist.append(dict(sol))
    return True


def solutions_frame(items: Sequence[Mapping[str, Any]], variables: Sequence[str],
                    units: FactorRanges | None = None) -> pd.DataFrame:
    """Columns ``F1, F2, mean, sd``, the (coded) variables, their natural values when
    ``units`` are given (``"x1 (natural)"``, ...), then ``source``."""
    natural = [] if units is None or units.is_coded else [f"{v} ({units.unit(j)})"
                                                          for j, v in enumerate(variables)]
    cols = ["F1", "F2", "mean", "sd", *variables, *natural, "source"]
    rows = []
    for s in items:
        row = {"F1": s["F1"], "F2": s["F2"], "mean": s["mean"], "sd": s["sd"],
               **dict(zip(variables, s["x"], strict=True))}
        if natural:
            row.update(zip(natural, units.to_natural(s["x"]), strict=True))
        rows.append({**row, "source": s["source"]})
    return pd.DataFrame(rows, columns=cols)


def shown_solution(sol: Mapping[str, Any], variables: Sequence[str],
                   units: FactorRanges | None = None) -> pd.DataFrame:
    """One-row table of a solution with readable numbers (4 significant digits), plus a
    ``natural`` row with the variables in natural units when ``units`` are given."""
    row = {**dict(zip(variables, sol["x"], strict=True)), "mean": sol["mean"],
           "sd": sol["sd"], "F1": sol["F1"], "F2": sol["F2"]}
    frame = pd.DataFrame([{k: f"{v:.4g}" for k, v in row.items()}], index=["picked"])
    if units is not None and not units.is_coded:
        nat = units.to_natural(sol["x"])
        frame.loc["natural"] = [*(f"{v:.4g}" for v in nat), "", "", "", ""]
        frame = frame.rename(index={"picked": "picked (coded)"})
    return frame


# ------------------------------------------------------------- natural units
@dataclass(frozen=True)
class FactorRanges:
    """Natural low and high of each factor for coded -1 and +1 (and optional units).

    ``natural = centre + half_range * coded`` with ``centre = (low + high) / 2`` and
    ``half_range = (high - low) / 2``.

    Examples
    --------
    >>> r = FactorRanges(("speed",), low=(100.0,), high=(200.0,), units=("rpm",))
    >>> r.to_natural([-1.0]).tolist(), r.to_coded([175.0]).tolist()
    ([100.0], [0.5])
    >>> FactorRanges.coded(("x1", "x2")).is_coded
    True
    """

    variables: tuple[str, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    units: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        k = len(self.variables)
        if len(self.low) != k or len(self.high) != k:
            raise ConfigError(f"give a natural low and high for each of the {k} factors")
        lo, hi = np.asarray(self.low, float), np.asarray(self.high, float)
        if not (np.all(np.isfinite(lo)) and np.all(np.isfinite(hi))):
            raise ConfigError("natural lows and highs must be numbers")
        bad = [v for v, a, b in zip(self.variables, lo, hi, strict=True) if a == b]
        if bad:
            raise ConfigError(f"natural low and high must differ for {', '.join(bad)}")
        if self.units and len(self.units) != k:
            raise ConfigError(f"give one unit per factor ({k}) or none")

    @classmethod
    def coded(cls, variables: Sequence[str]) -> FactorRanges:
        """Identity ranges: natural = coded (-1..1)."""
        k = len(variables)
        return cls(tuple(variables), (-1.0,) * k, (1.0,) * k)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> FactorRanges:
        """From a table indexed by factor with ``low``, ``high`` and optionally ``unit``
        columns (what :meth:`to_frame` gives and a user edits)."""
        lo = pd.to_numeric(frame["low"], errors="coerce").to_numpy(float)
        hi = pd.to_numeric(frame["high"], errors="coerce").to_numpy(float)
        if np.isnan(lo).any() or np.isnan(hi).any():
            raise ConfigError("every factor needs a natural low and high (numbers)")
        units = tuple("" if pd.isna(u) else str(u) for u in frame["unit"]) \
            if "unit" in frame else ()
        return cls(tuple(str(v) for v in frame.index), tuple(lo), tuple(hi), units)

    def to_frame(self) -> pd.DataFrame:
        """Editable table: rows = factors, ``low``, ``high``, ``unit``."""
        return pd.DataFrame({"low": self.low, "high": self.high,
                             "unit": list(self.units) or [""] * len(self.variables)},
                            index=pd.Index(list(self.variables), name="factor"))

    @property
    def is_coded(self) -> bool:
        """True when natural and coded values are the same (-1..1 everywhere)."""
        return all(a == -1 and b == 1 for a, b in zip(self.low, self.high, strict=True))

    def unit(self, j: int) -> str:
        """The unit of factor ``j``, or ``"natural"`` when none was given."""
        return (self.units[j] if self.units and self.units[j] else "natural")

    def to_natural(self, coded) -> np.ndarray:
        """Coded values (a point or rows of points) in natural units."""
        lo, hi = np.asarray(self.low, float), np.asarray(self.high, float)
        return (lo + hi) / 2 + (hi - lo) / 2 * np.asarray(coded, float)

    def to_coded(self, natural) -> np.ndarray:
        """Natural values (a point or rows of points) in coded units."""
        lo, hi = np.asarray(self.low, float), np.asarray(self.high, float)
        return (np.asarray(natural, float) - (lo + hi) / 2) / ((hi - lo) / 2)


def picked_intervals(fit: ExperimentFit, x: Sequence[float],
                     level: float = 0.95) -> pd.DataFrame:
    """Confidence and prediction intervals of the fitted mean and sd at the point ``x``.

    Rows ``mean`` and ``sd``; columns ``fit, ci_low, ci_high, pi_low, pi_high`` from
    :meth:`~gda_core.optimization.surfaces.SurfaceFit.interval` (for a log(s) fit the sd
    row is on the sd's own scale and ``fit`` is its median).
    """
    X = np.asarray(x, float).reshape(1, -1)
    out = pd.concat([fit.mean_fit.interval(X, level), fit.sd_fit.interval(X, level)])
    out.index = ["mean", "sd"]
    return out
