"""Replay verdicts need evidence from the images: the verdict logic on constructed results.

Noise, blank images and copies of a few images must never pass as a model that learned the
data; held-out real images always must.  The images are measured by the project's CNN
trained on part of the built-in digits; the real reference and the "good" images are two
other, disjoint parts.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from gda_core.datasets.digits import load_digits_splits
from gda_core.metrics.features import FeatureExtractor
from gda_core.replays import NO_VERDICT_SMOKE, Check, ReplayOptions, ReplayResult
from gda_core.replays.evidence import (
    ImageEvidence,
    Judge,
    collapsed,
    looks_like_data,
    no_structure,
)
from gda_core.replays.gan_quality import diversity_checks
from gda_core.replays.gan_sensitivity import COLLAPSES, TRAINS, VANISHES, judge_setting

SUCCESS = (TRAINS, COLLAPSES)  # claims that a model learned something


@pytest.fixture(scope="module")
def judged():
    """A judge, and constructed image sets: noise, blank, copies of 6 images, held-out real."""
    train = load_digits_splits().train
    order = np.random.default_rng(0).permutation(len(train.labels))
    fit, ref, good = order[:800], order[800:1300], order[1300:]
    extractor = FeatureExtractor(epochs=15).fit(train.images[fit], train.labels[fit],
                                                random_state=0)
    judge = Judge(extractor, train.images[ref], train.labels[ref],
                  tuple(str(c) for c in range(10)))
    rng = np.random.default_rng(1)
    n, shape = 240, train.images.shape[1:]
    sets = {
        "noise": rng.integers(0, 256, (n, *shape), dtype=np.uint8),
        "blank": np.zeros((n, *shape), np.uint8),
        "copies": np.resize(train.images[good[:6]], (n, *shape)),
        "good": train.images[good][:n],
    }
    return judge, sets, train.labels[good][:n]


def _one_class(judged, name: str, c: int) -> np.ndarray:
    _, sets, good_labels = judged
    if name == "good":
        return sets["good"][good_labels == c]
    return sets[name][:25]


# ------------------------------------------------------------- constructed images
@pytest.mark.parametrize("name", ["noise", "blank", "copies"])
def test_noise_blank_and_copies_never_look_like_the_data(judged, name):
    judge, sets, _ = judged
    ev = judge.evidence(sets[name], None, seed=0)
    assert looks_like_data(ev).ok is False
    for c in (0, 3, 8):
        assert looks_like_data(judge.evidence(_one_class(judged, name, c), c)).ok is False
    assert judge_setting(TRAINS, ev, [])[0] is False


def test_held_out_real_images_look_like_the_data(judged):
    judge, sets, _ = judged
    ev = judge.evidence(sets["good"], None, seed=0)
    found = looks_like_data(ev)
    assert found.ok is True, found.text
    assert ev.fid < ev.fid_noise / 4 and ev.classes_seen == 10
    assert collapsed(ev).ok is False and no_structure(ev).ok is False
    for c in (0, 3, 8):
        one = judge.evidence(_one_class(judged, "good", c), c)
        assert looks_like_data(one).ok is True, looks_like_data(one).text
        assert one.accuracy >= 0.8


def test_noise_never_matches_a_claim_of_learning(judged):
    judge, sets, _ = judged
    ev = judge.evidence(sets["noise"], None, seed=0)
    assert ev.noise_share > 0.9
    assert [judge_setting(o, ev, ["mode-collapse", "vanishing-gradient"])[0]
            for o in SUCCESS] == [False, False]
    assert collapsed(ev).ok is False
    # what noise *is* evidence of: a generator that learned nothing (with the warning)
    assert judge_setting(VANISHES, ev, ["vanishing-gradient"])[0] is True
    assert judge_setting(VANISHES, ev, [])[0] is False


def test_copies_of_a_few_images_are_a_collapse_not_a_success(judged):
    judge, sets, _ = judged
    ev = judge.evidence(sets["copies"], None, seed=0)
    assert ev.dup_share == 1.0
    assert judge_setting(COLLAPSES, ev, [])[0] is True
    assert judge_setting(TRAINS, ev, [])[0] is False


def test_blank_images_are_no_collapse_of_digits(judged):
    judge, sets, _ = judged
    ev = judge.evidence(sets["blank"], None, seed=0)
    assert judge_setting(COLLAPSES, ev, [])[0] is False


# ------------------------------------------------------------ the diversity checks
def _ev(good: bool, coverage: float = 0.8, fid: float = 50.0) -> ImageEvidence:
    if good:
        return ImageEvidence(400, fid, 40.0, 2000.0, (0.95, 0.05), 0.95, target=0,
                             accuracy=0.95, coverage=coverage, coverage_real=0.9)
    return ImageEvidence(400, 2100.0, 40.0, 2000.0, (0.2, 0.8), 0.2, target=0,
                         accuracy=0.2, coverage=0.0, coverage_real=0.9, noise_share=1.0)


LABELS = {"dcgan": "DCGAN", "madgan": "MAD-GAN", "cgan": "cGAN"}


@pytest.mark.parametrize(("mad", "dc", "expected"), [
    (_ev(True, 0.8, 50.0), _ev(True, 0.6, 60.0),
     ["matched", "matched", "matched", "matched", "matched"]),
    (_ev(True, 0.5, 70.0), _ev(True, 0.6, 60.0),
     ["matched", "matched", "matched", "not matched", "not matched"]),
    (_ev(False), _ev(True), ["matched", "not matched", "matched", "not matched",
                             "not matched"]),
    (_ev(False), _ev(False), ["not matched", "not matched", "matched", "not matched",
                              "not matched"]),
    (_ev(True), _ev(False), ["not matched", "matched", "matched", "no verdict",
                             "no verdict"]),
])
def test_diversity_verdicts(mad, dc, expected):
    checks = diversity_checks({"dcgan": {0: dc}, "madgan": {0: mad}, "cgan": {0: _ev(True)}},
                              LABELS)
    assert [c.verdict for c in checks] == expected
    assert all(c.source == "our expectation (not in the study)" and c.published == ""
               for c in checks)
    assert all(c.rule.startswith("matched: ") for c in checks)


def test_noise_never_wins_the_diversity_comparison():
    """A MAD-GAN that draws noise beside a working DCGAN: nothing about MAD-GAN matches."""
    checks = diversity_checks({"dcgan": {0: _ev(True)}, "madgan": {0: _ev(False)},
                               "cgan": {0: _ev(True)}}, LABELS)
    assert [c.verdict for c in checks if "MAD-GAN" in c.claim] == ["not matched"] * 3


# --------------------------------------------------------------- verdict plumbing
def test_a_verdict_is_one_of_three_and_survives_json():
    checks = [Check("a", "1", "2", True), Check("b", "1", "2", False),
              Check("c", "", "2", None, reason="DCGAN did not learn")]
    result = ReplayResult("x", "X", pd.DataFrame({"a": [1]}), pd.DataFrame({"a": [2]}),
                          checks, scale="quick")
    data = result.to_dict()
    assert [c["verdict"] for c in data["checks"]] == ["matched", "not matched", "no verdict"]
    back = ReplayResult.from_dict(data)
    assert back.checks == checks and back.scale == "quick"
    assert result.summary() == "1 of 2 matched (1 without a verdict)"
    frame = result.checks_frame()
    assert frame["verdict"].tolist() == ["matched", "not matched",
                                         "no verdict: DCGAN did not learn"]
    assert "[NOT MATCHED] b" in result.report() and "[MATCHED    ] a" in result.report()


def test_smoke_scale_gives_no_verdicts_in_text_and_json():
    from gda_core.replays import run_replay

    result = run_replay("gan-diversity", ReplayOptions(scale="smoke"))
    assert result.scale == "smoke"
    assert [c.verdict for c in result.checks] == ["no verdict"] * len(result.checks)
    assert {c.reason for c in result.checks} == {NO_VERDICT_SMOKE}
    assert result.n_matched == 0 and result.summary() == NO_VERDICT_SMOKE
    data = result.to_dict()
    assert {c["verdict"] for c in data["checks"]} == {"no verdict"}
    assert {c["reason"] for c in data["checks"]} == {NO_VERDICT_SMOKE}
    text = result.report()
    assert "MATCHED" not in text.replace("NO VERDICT", "")
    assert text.count(NO_VERDICT_SMOKE) == len(result.checks) + 1  # each check + header
    # gan-diversity quotes no published numbers: the MAD-GAN source reports none
    assert len(result.published) == 0
    assert "(the source reports no numbers for this experiment)" in text
    assert all(c.source == "our expectation (not in the study)" for c in result.checks)
    assert set(result.extra["samples"]) == {"DCGAN", "MAD-GAN", "Conditional GAN"}
    assert all(math.isfinite(e["fid_noise"]) for per in result.extra["evidence"].values()
               for e in per.values())


def test_the_judge_runs_numpy_in_one_blas_thread(judged, monkeypatch):
    # as the quality gate: numpy's BLAS threads would fight torch's for the cores
    from threadpoolctl import threadpool_info

    judge, sets, _ = judged
    seen: list[int] = []
    transform = judge.extractor.transform

    def recording(images):
        seen.extend(lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas")
        return transform(images)

    monkeypatch.setattr(judge.extractor, "transform", recording)
    judge.evidence(sets["good"][:40], None, seed=0)
    assert seen and set(seen) == {1}
