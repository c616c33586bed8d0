"""Session state and small helpers of the Pareto page (computation stays in gda_core).

Everything computed for a case lives in a :class:`CaseState` stored in
``st.session_state[STATE_KEY][case_key(case)]``: its :class:`FrontArchive` (so the
best-known front is everything computed for that case in the session), the picked solution,
the shortlist and the last study.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from gda_core.errors import ConfigError, GDAError
from gda_core.optimization import (
    ALGORITHMS,
    CASES,
    DRSOCase,
    ExperimentFit,
    Front,
    FrontArchive,
    QuadraticSurface,
    StudyResult,
    fit_experiment,
    front_metrics,
    objective_ranges,
    picking,
    pieces,
    solve,
    term_names,
)
from gda_core.viz.pareto import BEST, PICKED, SHORTLIST, selected_refs
from pages._common import plain

EXAMPLE_CSV = Path(__file__).resolve().parents[1] / "assets" / "printing_ink.csv"
STATE_KEY = "pareto_cases"  # case key -> CaseState
PICK_REQUEST_KEY = "pareto_pick_request"  # a selection dict to apply (tests, deep links)
UPLOAD_KEY = "pareto_upload"  # (name, bytes) of the CSV in use
UPLOAD_SEEN_KEY = "pareto_upload_seen"  # digest of the last file taken from the uploader
GOOD_FIT_KEY = "pareto_good_fit"  # (name, ExperimentFit) of the last CSV that fitted
CHART_KEY = "pareto-chart"
DEFAULT_ALGORITHMS = ("nsga2", "spea2", "npga")
METRICS_CAPTION = (
    "Each run against the best-known front (the non-dominated union of everything computed "
    "for this case in this session). Objectives are normalised to [0, 1] by the best-known "
    "front's ideal (minimum) and nadir (maximum) of F1 and F2. **M1'**: mean distance to "
    "the ideal point (smaller is better). **Delta'**: spread, 0 for evenly spaced points "
    "reaching both extremes (smaller is better; a gap in a disconnected front counts "
    "against it). **HV**: area dominated up to (1.1, 1.1) (larger is better). **IGD**: mean "
    "distance from each best-known point to the run's nearest point (smaller is better)."
)


@dataclass
class CaseState:
    """What the session computed and chose for one case."""

    archive: FrontArchive
    picked: dict[str, Any] | None = None
    shortlist: list[dict[str, Any]] = field(default_factory=list)
    study: StudyResult | None = None


def case_key(case: DRSOCase) -> str:
    """A stable key for a case (its name plus a digest of everything that defines it)."""
    text = json.dumps(case.to_dict(), sort_keys=True)  # 500 and 500.0 are the same target
    return f"{case.name}-{hashlib.sha1(text.encode()).hexdigest()[:10]}"


def case_state(case: DRSOCase) -> CaseState:
    """The state of ``case``, created on first use."""
    cases = st.session_state.setdefault(STATE_KEY, {})
    key = case_key(case)
    if key not in cases:
        cases[key] = CaseState(FrontArchive(case))
    return cases[key]


def clear_runs(case: DRSOCase) -> None:
    """Forget the runs, the pick and the study of ``case`` (the shortlist stays)."""
    cs = case_state(case)
    cs.archive.fronts.clear()
    cs.picked, cs.study = None, None


# ------------------------------------------------------------------ problem
def default_objective(case: DRSOCase) -> str:
    """The case's objective type; nominal-the-best for a fitted or typed-in case (built
    without a target)."""
    return case.objective if case.target is not None else "nominal"


def default_target(case: DRSOCase) -> float:
    """The case's target, else the middle of the mean's reachable range (3 digits)."""
    if case.target is not None:
        return float(case.target)
    lo, hi = case.mean_range()
    return float(f"{(lo + hi) / 2:.3g}")


def fit_upload(payload: bytes) -> ExperimentFit:
    """Fit a case to an uploaded CSV (design x1.., replicates y1..); raises GDAError."""
    return fit_experiment(payload, objective="smaller", name="uploaded")


def example_bytes() -> bytes:
    return EXAMPLE_CSV.read_bytes()


def uploaded_fit() -> tuple[str, ExperimentFit] | None:
    """The upload widgets (file, "Use the example", example download) and the fit in use.

    A file that cannot be fitted is reported with ``st.error`` and the last file that
    fitted stays in use (its name and fit are returned); None before any file fitted.
    """
    up_col, ex_col = st.columns([3, 1])
    upload = up_col.file_uploader("Experiment CSV: design columns x1, x2, … and replicate "
                                  "columns y1, y2, … (one row per run)", type=["csv"],
                                  key="pareto-upload")
    if ex_col.button("Use the example", help="Box & Draper's printing-ink experiment: 27 "
                     "runs of a 3³ design, 3 replicates each"):
        st.session_state[UPLOAD_KEY] = (EXAMPLE_CSV.name, example_bytes())
    ex_col.download_button("Download the example", example_bytes(),
                           file_name=EXAMPLE_CSV.name, mime="text/csv")
    if upload is not None:  # a new file in the uploader replaces the one in use
        payload = upload.getvalue()
        digest = hashlib.sha1(payload).hexdigest()
        if st.session_state.get(UPLOAD_SEEN_KEY) != digest:
            st.session_state[UPLOAD_SEEN_KEY] = digest
            st.session_state[UPLOAD_KEY] = (upload.name, payload)
    current = st.session_state.get(UPLOAD_KEY)
    good = st.session_state.get(GOOD_FIT_KEY)
    if current is not None:
        try:
            fit = fit_upload(current[1])
        except GDAError as exc:
            st.error(f"{plain(current[0])} cannot be used: {plain(exc)}")
            if good is not None:
                st.caption(f"Still using the last file that fitted: **{good[0]}**.")
        else:
            good = st.session_state[GOOD_FIT_KEY] = (current[0], fit)
    return good


def coefficient_frame(k: int) -> pd.DataFrame:
    """Editable coefficients (terms x mean/sd): a built-in case's when one has ``k``
    variables, else an intercept of 1 and zeros."""
    terms = term_names(k)
    same_k = [c for c in CASES.values() if c.k == k]
    if same_k:
        mean, sd = same_k[0].mean.coef, same_k[0].sd.coef
    else:
        mean = sd = (1.0,) + (0.0,) * (len(terms) - 1)
    return pd.DataFrame({"mean": mean, "sd": sd}, index=pd.Index(terms, name="term"))


def case_from_coefficients(table: pd.DataFrame) -> DRSOCase:
    """A case from the edited coefficient table (bounds -1..1, objective set later)."""
    mean = pd.to_numeric(table["mean"], errors="coerce").to_numpy(float)
    sd = pd.to_numeric(table["sd"], errors="coerce").to_numpy(float)
    k = QuadraticSurface.from_coefficients(mean).k  # checks the count and NaN first
    return DRSOCase.from_coefficients("custom", mean, sd, lower=(-1.0,) * k,
                                      upper=(1.0,) * k, objective="smaller",
                                      description=f"typed-in coefficients, {k} variables")


def bounds_frame(case: DRSOCase) -> pd.DataFrame:
    lo, hi = case.bounds
    return pd.DataFrame({"lower": lo, "upper": hi},
                        index=pd.Index(list(case.variables), name="variable"))


def configure(base: DRSOCase, objective: str, target: float | None,
              bounds: pd.DataFrame) -> DRSOCase:
    """``base`` with the chosen objective type, target and bounds (validated)."""
    lo = pd.to_numeric(bounds["lower"], errors="coerce").to_numpy(float)
    hi = pd.to_numeric(bounds["upper"], errors="coerce").to_numpy(float)
    if np.isnan(lo).any() or np.isnan(hi).any():
        raise ConfigError("every variable needs a lower and an upper bound (numbers)")
    return base.with_settings(objective=objective,
                              target=target if objective == "nominal" else base.target,
                              lower=tuple(lo), upper=tuple(hi))


# ---------------------------------------------------------------------- runs
def run_algorithms(case: DRSOCase, archive: FrontArchive, algorithms: Sequence[str], *,
                   pop: int, gens: int, pc: float, pm: float, seed: int, repeats: int,
                   progress: Callable[[float, str], None]) -> list[Front]:
    """Run each algorithm ``repeats`` times (seeds ``seed, seed + 1, ...``); every front is
    added to ``archive`` as it finishes."""
    if not algorithms:
        raise ConfigError("choose at least one algorithm")
    jobs = [(a, seed + r) for a in algorithms for r in range(repeats)]
    done: list[Front] = []
    for i, (name, s) in enumerate(jobs):
        info = ALGORITHMS[name]
        text = f"{info.label} seed {s} · run {i + 1} of {len(jobs)}"
        progress(i / len(jobs), text)

        def step(f: float, i: int = i, text: str = text) -> None:
            progress((i + min(max(f, 0.0), 1.0)) / len(jobs), text)

        if info.genetic:
            front = solve(case, name, pop=pop, gens=gens, pc=pc, pm=pm, seed=s, progress=step)
        else:
            front = solve(case, name, seed=s, progress=step)
        archive.add(front)
        done.append(front)
    progress(1.0, f"{len(jobs)} run(s) done")
    return done


def metrics_table(archive: FrontArchive, best: Front) -> pd.DataFrame:
    """One row per run: its metrics against the best-known front, and its time."""
    rows = []
    ranges = objective_ranges(archive.case)
    for i, front in enumerate(archive.fronts):
        info = ALGORITHMS.get(front.algorithm)
        m = front_metrics(front.F, best.F, ranges) if len(best) else {}
        rows.append({"run": i + 1, "algorithm": info.label if info else front.algorithm,
                     **m, "seconds": front.seconds, "settings": front.label})
    return pd.DataFrame(rows)


def _num(v: float, scale: float) -> str:
    """``v`` with 4 significant digits; 0 when negligible against ``scale``."""
    return "0" if abs(v) <= 1e-9 * max(abs(scale), 1e-300) else f"{v:.4g}"


def pieces_text(best: Front) -> str:
    """Where the pieces of the best-known front are, in F1."""
    parts = sorted(pieces(best), key=lambda p: best.F[p, 0].min())
    scale = float(np.ptp(best.F[:, 0])) or 1.0
    where = "; ".join(f"F1 {_num(best.F[p, 0].min(), scale)} to "
                      f"{_num(best.F[p, 0].max(), scale)} ({len(p)} points)" for p in parts)
    noun = "piece" if len(parts) == 1 else "pieces"
    return f"Best-known front: {len(best)} points in **{len(parts)} {noun}**: {where}."


# ------------------------------------------------------------------ picking
def solution(front: Front, row: int, source: str) -> dict[str, Any]:
    """A solution as a plain dict (survives new runs: it does not point into the archive)."""
    return {"source": source, "F1": float(front.F[row, 0]), "F2": float(front.F[row, 1]),
            "mean": float(front.mean[row]), "sd": float(front.sd[row]),
            "x": tuple(float(v) for v in front.X[row])}


def resolve(cs: CaseState, best: Front, run: int, row: int) -> dict[str, Any] | None:
    """The solution behind a chart point's ``(run, row)`` customdata, or None."""
    try:
        if run == BEST:
            return solution(best, row, "best-known front")
        if run == SHORTLIST:
            return dict(cs.shortlist[row])
        if run == PICKED:
            return cs.picked
        front = cs.archive.fronts[run]
        return solution(front, row, f"run {run + 1}: {front.label}")
    except IndexError:
        return None


def pick_from_selection(cs: CaseState, best: Front,
                        selection: Mapping[str, Any] | None) -> bool:
    """Pick the last selected point of a chart selection; True when something was picked."""
    refs = selected_refs(selection)
    for run, row in reversed(refs):
        sol = resolve(cs, best, run, row)
        if sol is not None:
            cs.picked = sol
            return True
    return False


def apply_pick_request(cs: CaseState, best: Front) -> None:
    """Apply a selection put in ``st.session_state[PICK_REQUEST_KEY]`` (then drop it)."""
    request = st.session_state.pop(PICK_REQUEST_KEY, None)
    if request:
        pick_from_selection(cs, best, request.get("selection", request))


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
    """Row of the best-known front suggested by each rule (None when it does not apply)."""
    return {
        "knee": picking.knee(best.F),
        "pseudo-weight": picking.by_pseudo_weight(best.F, w_pseudo),
        "ASF": picking.asf(best.F, w_asf),
        "minimum MSE": picking.min_mse(best.mean, best.sd, case.objective, case.target),
    }


def add_to_shortlist(cs: CaseState, sol: Mapping[str, Any]) -> bool:
    """Add a solution unless the same x is already there; True when added."""
    if any(tuple(s["x"]) == tuple(sol["x"]) for s in cs.shortlist):
        return False
    cs.shortlist.append(dict(sol))
    return True


def solutions_frame(items: Sequence[Mapping[str, Any]],
                    variables: Sequence[str]) -> pd.DataFrame:
    """Columns ``F1, F2, mean, sd``, the variables, then ``source``."""
    cols = ["F1", "F2", "mean", "sd", *variables, "source"]
    rows = [{"F1": s["F1"], "F2": s["F2"], "mean": s["mean"], "sd": s["sd"],
             **dict(zip(variables, s["x"], strict=True)), "source": s["source"]}
            for s in items]
    return pd.DataFrame(rows, columns=cols)


def shown_solution(sol: Mapping[str, Any], variables: Sequence[str]) -> pd.DataFrame:
    """One-row table of a solution with readable numbers (for ``st.table``)."""
    row = {**dict(zip(variables, sol["x"], strict=True)), "mean": sol["mean"],
           "sd": sol["sd"], "F1": sol["F1"], "F2": sol["F2"]}
    return pd.DataFrame([{k: f"{v:.4g}" for k, v in row.items()}], index=["picked"])
