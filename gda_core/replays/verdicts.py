"""Verdicts of a replay's claims by the comparison's own test, never by comparing means.

A replay reruns a study's comparison over a few seeds; "method A beats method B" is then
matched only when the test that Compare uses (:func:`gda_core.metrics.stats.
resampled_t_test`: paired over seeds, or the corrected resampled t-test over folds) finds A
better at 5%, not matched when it finds B better, and without a verdict when it cannot
tell them apart (the means' order over three seeds is noise).  A claim that needs a method
whose images the quality gate failed (as :func:`gda_core.experiments.recommend.recommend`
decides) gets no verdict either: its scores do not come from realistic images.  Every
check states its rule and its source.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from gda_core.experiments.recommend import EXCLUDE_SHARE, FAILED_IMAGES, gate_record
from gda_core.experiments.result import ComparisonResult
from gda_core.metrics.stats import difference_test, resampled_t_test
from gda_core.replays.base import Check

ALPHA = 0.05
"""Level of the test behind a verdict."""


def _values(result: ComparisonResult, method: str, metric: str) -> dict[tuple, float]:
    return {(r.seed, r.fold): float(r.metrics.get(metric, math.nan))
            for r in result.runs_of(method) if r.ok}


def gate_failure(result: ComparisonResult, method: str) -> str:
    """Why ``method``'s images failed the gate (``""`` when they did not), as the
    recommendation decides: in at least a quarter of its runs."""
    gate = gate_record(result, method)
    if gate["of"] and gate["runs"] >= max(1.0, EXCLUDE_SHARE * gate["of"]):
        top = next(iter(gate["codes"]))
        return f"{FAILED_IMAGES[top]} (quality gate, {gate['runs']} of {gate['of']} runs)"
    return ""


def beats(result: ComparisonResult, a: str, b: str, metric: str, *, claim: str,
          published: str, source: str, labels: dict[str, str] | None = None) -> Check:
    """The check "``a`` beats ``b`` on ``metric``" (see the module docstring).

    Examples
    --------
    >>> from gda_core.experiments.result import MethodRun
    >>> runs = [MethodRun(m, s, {"f1_macro": v}) for m, vals in
    ...         (("a", [.80, .82, .81]), ("b", [.70, .73, .71])) for s, v in enumerate(vals)]
    >>> res = ComparisonResult({"seeds": [0, 1, 2]}, ["x", "y"], [1], [0], [9, 3], [5, 5],
    ...                        runs=runs)
    >>> beats(res, "a", "b", "f1_macro", claim="a beats b", published="", source="T").verdict
    'matched'
    >>> beats(res, "b", "a", "f1_macro", claim="b beats a", published="", source="T").verdict
    'not matched'
    """
    name = (labels or {}).get
    test_name, ratio = difference_test(result)
    rule = (f"matched when {name(a, a)} is better than {name(b, b)} on {metric} by the "
            f"{test_name} at {ALPHA:.0%}; not matched when worse; no verdict when the test "
            "cannot tell them apart or the quality gate failed one's images")
    va, vb = _values(result, a, metric), _values(result, b, metric)
    keys = [k for k in va if k in vb]
    d = np.array([va[k] - vb[k] for k in keys], dtype=np.float64)
    r = resampled_t_test(d, ratio)
    ours = (f"{r.mean:+.4f} [{r.low:+.4f}, {r.high:+.4f}], p = {r.p_value:.3g}, n = {r.n}"
            if not math.isnan(r.low) else f"{r.mean:+.4f} (n = {r.n})")
    for m in (a, b):
        why = gate_failure(result, m)
        if why:
            return Check(claim, published, ours, None, rule, source,
                         f"{name(m, m)}: {why}")
    if r.n == 0:
        return Check(claim, published, "n/a", None, rule, source,
                     "one of the methods has no successful run")
    if r.note or r.significant_at > ALPHA:
        why = r.note or f"not distinguishable over {r.n} unit(s) at {ALPHA:.0%}"
        return Check(claim, published, ours, None, rule, source, why)
    return Check(claim, published, ours, r.mean > 0, rule, source)


def best(result: ComparisonResult, method: str, others: Sequence[str], metric: str, *,
         claim: str, published: str, source: str,
         labels: dict[str, str] | None = None) -> Check:
    """The check "``method`` is the best of ``others`` on ``metric``": matched when it is
    significantly better than each, not matched when one is significantly better than it,
    else no verdict."""
    name = (labels or {}).get
    test_name, _ = difference_test(result)
    rule = (f"matched when {name(method, method)} is better than each of the others on "
            f"{metric} by the {test_name} at {ALPHA:.0%}; not matched when one is better "
            "than it; else no verdict")
    pairs = [beats(result, method, o, metric, claim="", published="", source="",
                   labels=labels) for o in others if o != method]
    ours = "; ".join(f"vs {name(o, o)}: {c.ours}" for o, c in
                     zip([o for o in others if o != method], pairs, strict=True))
    gone = [c.reason for c in pairs if c.matched is None and "quality gate" in c.reason]
    if gone:
        return Check(claim, published, ours, None, rule, source, gone[0])
    if any(c.matched is False for c in pairs):
        return Check(claim, published, ours, False, rule, source)
    if pairs and all(c.matched is True for c in pairs):
        return Check(claim, published, ours, True, rule, source)
    return Check(claim, published, ours, None, rule, source,
                 "not distinguishable from every other method")
