"""Replays decide "matched" by the comparison's own test and the quality gate, never by
comparing means (the AM study's Table 2 and the long-tail benchmark's checks)."""

from __future__ import annotations

from gda_core.experiments import ComparisonResult, MethodRun
from gda_core.replays.verdicts import beats, best


def _result(values: dict[str, list[float]], flagged: dict[str, int] | None = None
            ) -> ComparisonResult:
    runs = []
    for method, vals in values.items():
        for seed, v in enumerate(vals):
            run = MethodRun(method, seed, {"f1_macro": v})
            if seed < (flagged or {}).get(method, 0):
                run.warnings = [{"code": "noise", "message": "noise"}]
            runs.append(run)
    return ComparisonResult({"seeds": [0, 1, 2]}, ["a", "b"], [1], [0], [9, 3], [5, 5],
                            runs=runs)


KW = {"claim": "DCGAN beats SMOTE", "published": "0.86 vs 0.72", "source": "Table 2"}


def test_a_higher_mean_over_three_seeds_is_no_verdict_without_the_test():
    # DCGAN's mean is higher, but the seeds disagree: the means' order is noise
    result = _result({"dcgan": [0.80, 0.60, 0.75], "smote": [0.70, 0.72, 0.68]})
    check = beats(result, "dcgan", "smote", "f1_macro", **KW)
    assert check.verdict == "no verdict" and "not distinguishable over 3" in check.reason
    assert check.rule.startswith("matched when dcgan is better than smote on f1_macro by the "
                                 "paired t-test over seeds at 5%")
    assert check.source == "Table 2"


def test_a_steady_gain_is_matched_and_a_steady_loss_is_not():
    result = _result({"dcgan": [0.80, 0.83, 0.81], "smote": [0.70, 0.72, 0.71]})
    assert beats(result, "dcgan", "smote", "f1_macro", **KW).verdict == "matched"
    assert beats(result, "smote", "dcgan", "f1_macro", **KW).verdict == "not matched"
    assert best(result, "dcgan", ("dcgan", "smote"), "f1_macro", claim="best",
                published="", source="T").verdict == "matched"


def test_a_method_whose_images_failed_the_gate_gets_no_verdict():
    result = _result({"dcgan": [0.80, 0.83, 0.81], "smote": [0.70, 0.72, 0.71]},
                     flagged={"dcgan": 2})
    check = beats(result, "dcgan", "smote", "f1_macro", **KW)
    assert check.verdict == "no verdict"
    assert "its images look like noise (quality gate, 2 of 3 runs)" in check.reason
    assert best(result, "dcgan", ("dcgan", "smote"), "f1_macro", claim="best",
                published="", source="T").verdict == "no verdict"
