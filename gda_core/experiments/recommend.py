"""One plain answer from a comparison: which method to use, or that none is shown to help.

:func:`recommend` is a pure function of a :class:`ComparisonResult`.  It reads the test of
the primary metric (:func:`gda_core.metrics.stats.summarise`: the corrected resampled
t-test over folds, or the paired t-test over seeds, Holm-corrected over the methods) and
the quality gate's verdicts of every run, and decides:

1. **Excluded**: a method whose images the gate failed (noise, unlike real images,
   collapsed, copies of the training images, another class's look) in at least
   :data:`EXCLUDE_SHARE` of its runs is never recommended, whatever its scores: its gain
   would not come from realistic new images.  A method that copies or transforms training
   images by design (random oversampling, traditional augmentation; the class's
   ``copies_by_design``) is not excluded for copies: it is judged as what it is, and the
   text says so.
2. **Candidates**: the other methods whose gain over the baseline on the primary metric is
   significant after Holm's correction.
3. **The answer**: the candidate with the largest mean gain, unless a cheaper one is not
   distinguishable from it (the same test between the two): fit time breaks ties.  Without
   candidates the answer is that no method is shown to help, with the closest one and
   what would narrow the intervals.

The answer is a dict (``ComparisonResult.recommendation``, in the JSON):
``{"method": str | None, "primary_metric", "difference", "interval": [low, high],
"p_value", "p_holm", "test", "units", "excluded": [{"method", "reason"}], "flagged":
[{"method", "runs", "of", "codes"}], "text"}``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from gda_core.experiments.config import BASELINE
from gda_core.experiments.result import ComparisonResult, MethodRun
from gda_core.metrics import METRIC_LABELS
from gda_core.metrics.stats import difference_test, resampled_t_test, summarise
from gda_core.oversampling import OVERSAMPLERS

FAILED_IMAGES: dict[str, str] = {
    "noise": "its images look like noise",
    "unlike-real": "its images do not look like real images of the class",
    "collapsed": "its images are nearly all the same (the generator collapsed)",
    "copies": "its images are copies of the training images (memorised)",
    "wrong-class": "its images look like another class",
}
"""Gate codes that fail a method's images, and what they mean in a recommendation."""

EXCLUDE_SHARE = 0.25
"""A method is excluded when the gate failed its images in at least this share of its
runs (one run of one: excluded).  Fewer failures are named beside a recommendation."""

ALPHA = 0.05
"""Level of the tests behind the answer."""


def _label(method: str) -> str:
    cls = OVERSAMPLERS.get(method)
    return (getattr(cls, "label", "") or method) if cls is not None else method


def _failing_codes(method: str, run: MethodRun) -> list[str]:
    """The gate's failing codes of one run (copies do not count for a method that copies
    by design)."""
    by_design = bool(getattr(OVERSAMPLERS.get(method), "copies_by_design", ""))
    codes = dict.fromkeys(w.get("code", "") for w in run.warnings)
    return [c for c in codes if c in FAILED_IMAGES and not (by_design and c == "copies")]


def gate_record(result: ComparisonResult, method: str) -> dict[str, Any]:
    """How often the gate failed ``method``'s images: ``{"runs", "of", "codes"}`` (codes
    by how many runs carry them)."""
    runs = [r for r in result.runs_of(method) if r.ok]
    counts: dict[str, int] = {}
    flagged = 0
    for run in runs:
        codes = _failing_codes(method, run)
        flagged += bool(codes)
        for c in codes:
            counts[c] = counts.get(c, 0) + 1
    return {"runs": flagged, "of": len(runs),
            "codes": dict(sorted(counts.items(), key=lambda kv: -kv[1]))}


def _seconds(result: ComparisonResult, method: str) -> float:
    """Mean seconds per run of ``method`` (oversampling and training)."""
    totals = [sum(r.seconds.values()) for r in result.runs_of(method) if r.ok]
    return float(np.mean(totals)) if totals else math.nan


def _fmt(x: float) -> str:
    return "–" if x is None or not math.isfinite(x) else f"{x:.2f}"


def _p(p: float) -> str:
    if not math.isfinite(p):
        return "p not defined"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def _units(result: ComparisonResult, n: int) -> str:
    kind = result.protocol.get("kind")
    return f"{n} folds" if kind == "cv" else f"{n} seed{'s' if n != 1 else ''}"


def _values(result: ComparisonResult, method: str, metric: str) -> dict[tuple, float]:
    return {(r.seed, r.fold): float(r.metrics.get(metric, math.nan))
            for r in result.runs_of(method) if r.ok}


def recommend(result: ComparisonResult, *, primary: str | None = None) -> dict[str, Any]:
    """The comparison's answer (see the module docstring).

    Parameters
    ----------
    result : ComparisonResult
        Complete or partial (the answer then covers the runs that finished).
    primary : str, optional
        The metric to decide on (default: the comparison's ``primary_metric``).

    Returns
    -------
    dict

    Examples
    --------
    >>> from gda_core.experiments import MethodRun
    >>> base = [.50, .55, .52, .48, .51]
    >>> smote = [.70, .72, .66, .69, .73]
    >>> copy = [.90, .91, .92, .90, .93]
    >>> runs = [MethodRun(m, 0, {"f1_macro": v}, fold=f) for m, vals in
    ...         (("baseline", base), ("smote", smote), ("random", copy)) for f, v in
    ...         enumerate(vals)]
    >>> for r in runs:
    ...     if r.method == "smote":
    ...         r.warnings = [{"code": "copies", "message": "..."}]
    >>> res = ComparisonResult({"primary_metric": "f1_macro"}, ["ok", "defect"], [1], [0],
    ...                        [100, 20], [25, 5], runs=runs, protocol={"kind": "cv",
    ...                        "folds": 5})
    >>> answer = recommend(res)
    >>> answer["method"], [e["method"] for e in answer["excluded"]]
    ('random', ['smote'])
    >>> answer["text"].split(":")[0]
    'Use Random oversampling'
    """
    primary = primary or result.config.get("primary_metric") or "f1_macro"
    label = METRIC_LABELS.get(primary, primary)
    test_name, ratio = difference_test(result)
    out: dict[str, Any] = {"method": None, "primary_metric": primary, "difference": None,
                           "interval": None, "p_value": None, "p_holm": None,
                           "test": test_name, "units": 0, "excluded": [], "flagged": [],
                           "text": ""}
    others = [m for m in result.methods if m != BASELINE
              and any(r.ok for r in result.runs_of(m))]
    if not any(r.ok for r in result.runs_of(BASELINE)):
        out["text"] = ("No recommendation: add the baseline to the methods (each method is "
                       "judged by what it adds to it).")
        return out
    if not others:
        out["text"] = "No recommendation: no method besides the baseline ran."
        return out
    table = summarise(result, primary=primary)
    rows = table[(table["metric"] == primary) & (table["method"] != BASELINE)]
    rows = rows.set_index("method")
    excluded, flagged, candidates = [], [], []
    for m in others:
        gate = gate_record(result, m)
        if gate["runs"]:
            flagged.append({"method": m, **gate})
        if gate["of"] and gate["runs"] >= max(1.0, EXCLUDE_SHARE * gate["of"]):
            top = next(iter(gate["codes"]))
            excluded.append({"method": m, "reason": (
                f"{FAILED_IMAGES[top]} (the quality gate, in {gate['runs']} of its "
                f"{gate['of']} runs)")})
            continue
        if m in rows.index and bool(rows.loc[m, "significant"]) and \
                rows.loc[m, "diff_vs_baseline"] > 0:
            candidates.append(m)
    out["excluded"], out["flagged"] = excluded, flagged
    excluded_text = " ".join(
        f"{_label(e['method'])} was excluded: {e['reason']}." for e in excluded)
    if not candidates:
        out["text"] = _none_text(result, rows, others, excluded, label) + (
            f" {excluded_text}" if excluded_text else "")
        return out
    best = max(candidates, key=lambda m: rows.loc[m, "diff_vs_baseline"])
    ties = [best]
    for m in candidates:
        if m == best:
            continue
        a, b = _values(result, m, primary), _values(result, best, primary)
        keys = [k for k in a if k in b]
        d = np.array([a[k] - b[k] for k in keys], dtype=np.float64)
        if resampled_t_test(d, ratio).significant_at > ALPHA:
            ties.append(m)
    chosen = min(ties, key=lambda m: (_seconds(result, m), m != best))
    row = rows.loc[chosen]
    n = int(row["n_pairs"])
    out.update(method=chosen, difference=float(row["diff_vs_baseline"]),
               interval=[float(row["diff_low"]), float(row["diff_high"])],
               p_value=float(row["p_value"]), p_holm=float(row["p_holm"]), units=n)
    parts = [f"Use {_label(chosen)}: it raises {label} by {_fmt(row['diff_vs_baseline'])} "
             f"[{_fmt(row['diff_low'])}, {_fmt(row['diff_high'])}] over the baseline "
             f"({test_name}, {_units(result, n)}, {_p(row['p_value'])}; Holm-adjusted "
             f"over the methods: {_p(row['p_holm'])})."]
    by_design = getattr(OVERSAMPLERS.get(chosen), "copies_by_design", "")
    if by_design:
        parts.append(f"It {by_design} by design: its gain comes from showing the classifier "
                     "those images more often, not from new ones.")
    mine = next((f for f in flagged if f["method"] == chosen), None)
    if mine:
        codes = ", ".join(mine["codes"])
        parts.append(f"The quality gate flagged its images in {mine['runs']} of "
                     f"{mine['of']} runs ({codes}): look at them.")
    elif not by_design:
        parts.append("Its images pass the quality gate.")
    for m in ties:
        if m == chosen:
            continue
        cost = _seconds(result, m) / _seconds(result, chosen)
        parts.append(f"{_label(m)} is not distinguishable from it"
                     + (f" and costs {cost:.0f}× the time." if cost >= 1.5 else "."))
    if excluded_text:
        parts.append(excluded_text)
    out["text"] = " ".join(parts)
    return out


def _none_text(result: ComparisonResult, rows: Any, others: list[str],
               excluded: list[dict[str, str]], label: str) -> str:
    """The answer when no method is shown to help."""
    gone = {e["method"] for e in excluded}
    shown = [m for m in others if m not in gone and m in rows.index]
    text = "No method is shown to help on these images."
    if shown:
        top = max(shown, key=lambda m: rows.loc[m, "diff_vs_baseline"])
        r = rows.loc[top]
        if r["note"]:
            why = {"no spread": "its differences to the baseline have no spread to test",
                   "one pair": "one pair cannot be tested",
                   "baseline constant": "the baseline's score is constant"}.get(
                       r["note"], r["note"])
            text += f" The closest, {_label(top)}, changes {label} by " \
                    f"{_fmt(r['diff_vs_baseline'])}, but {why}."
        else:
            text += (f" The closest, {_label(top)}, changes {label} by "
                     f"{_fmt(r['diff_vs_baseline'])} [{_fmt(r['diff_low'])}, "
                     f"{_fmt(r['diff_high'])}], not distinguishable from the baseline.")
    kind = result.protocol.get("kind")
    more = ("more repeats (seeds) or more images of the small classes" if kind == "cv"
            else "more seeds, or cross-validation when a class has few images")
    return text + f" To narrow the intervals: {more}."
