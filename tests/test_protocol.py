"""The cross-validated protocol: when it runs, what each fold sees, and what it reports."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from conftest import synthetic_dataset

import gda_core.experiments.compare as compare_module
from gda_core.cli import main
from gda_core.datasets import DatasetSplits, ImbalanceSpec
from gda_core.errors import ConfigError
from gda_core.experiments import ClassifierConfig, CompareConfig, ComparisonResult, run_comparison
from gda_core.experiments.compare import plan_units
from gda_core.experiments.protocol import AUTO_CV_BELOW, Protocol, default_seeds
from gda_core.experiments.recommend import recommend
from gda_core.experiments.result import MethodRun

FAST = ClassifierConfig(epochs=2, width=8, fc_units=16)
ALL = ImbalanceSpec(counts={0: None, 1: None}, test_per_class=5, name="all")


def _digest(img: np.ndarray) -> bytes:
    return hashlib.blake2b(np.ascontiguousarray(img).tobytes(), digest_size=16).digest()


def folder_like(n_minority: int = 20, n_majority: int = 60, *, size: int = 8,
                seed: int = 0) -> DatasetSplits:
    """A user's folder: no test split, every image distinct."""
    return DatasetSplits(synthetic_dataset({0: n_majority, 1: n_minority}, size=size,
                                           channels=3, seed=seed), None)


# ----------------------------------------------------------------- which protocol
def test_auto_cross_validates_a_small_folder_and_holds_out_otherwise(digits_splits):
    small = folder_like()
    config = CompareConfig(imbalance=ALL, methods=("baseline",), protocol="auto", folds=4)
    protocol, _, units = plan_units(config, small)
    assert protocol.kind == "cv" and len(units) == 4
    assert f"class 'c1' has 20 images (below {AUTO_CV_BELOW})" in protocol.reason
    assert protocol.test_per_class == [15, 5] and protocol.train_per_class == [45, 15]
    # the built-in digits: every class has more than 100 images in all
    digits = CompareConfig(methods=("baseline",))
    protocol, _, units = plan_units(digits, digits_splits)
    assert protocol.kind == "holdout" and units == [(0, None, "baseline")]
    assert "enough for a held-out test set" in protocol.reason
    # a source with its own test split keeps it, however small the classes
    with_test = DatasetSplits(small.train, synthetic_dataset({0: 10, 1: 10}, size=8,
                                                             channels=3, seed=5))
    assert plan_units(config, with_test)[0].kind == "holdout"
    # asked for explicitly, either runs
    assert plan_units(CompareConfig(imbalance=ALL, methods=("baseline",), protocol="cv"),
                      digits_splits)[0].kind == "cv"
    assert plan_units(CompareConfig(imbalance=ALL, methods=("baseline",),
                                    protocol="holdout"), small)[0].kind == "holdout"
    assert default_seeds(config, small) == (0, 1)
    assert default_seeds(digits, digits_splits) == (0,)


def test_too_few_images_for_the_folds_is_a_clear_error():
    config = CompareConfig(imbalance=ALL, methods=("baseline",), protocol="cv", folds=5)
    with pytest.raises(ConfigError, match="class 'c1' has 4 images: 5-fold cross-validation "
                                          "needs at least 5 per class"):
        plan_units(config, folder_like(n_minority=4))
    with pytest.raises(ConfigError, match="2 to 20 folds"):
        CompareConfig(folds=1).validate()
    with pytest.raises(ConfigError, match="unknown protocol"):
        CompareConfig(protocol="loo").validate()
    with pytest.raises(ConfigError, match="unknown primary metric"):
        CompareConfig(primary_metric="accuracy").validate()


# -------------------------------------------------------------- what a fold sees
@pytest.fixture(scope="module")
def spied(tmp_path_factory):
    """A cross-validated comparison (3 folds x 2 repeats, baseline and SMOTE, sample
    quality on) that records every image the synthesizers, the classifiers (training and
    early stopping) and the quality gate's references were given, unit by unit."""
    splits = folder_like()
    seen: dict[tuple, dict[str, set[bytes]]] = {}
    current: dict[str, tuple] = {}
    real_make_oversampler = compare_module.make_oversampler
    real_make_classifier = compare_module.make_classifier
    real_reference = compare_module.quality_reference
    real_split = compare_module.split_for_unit

    def record(kind: str, images: np.ndarray) -> None:
        seen.setdefault(current["unit"], {}).setdefault(kind, set()).update(
            _digest(x) for x in images)

    def split_for_unit(config, splits, seed, fold, pool=None):
        split = real_split(config, splits, seed, fold, pool)
        current["unit"] = (seed, fold)
        record("test", split.data.test.images)
        return split

    def make_oversampler(*args, **kwargs):
        sampler = real_make_oversampler(*args, **kwargs)
        fit = sampler.fit_resample

        def fit_resample(X, y):
            record("synthesizer", X)
            return fit(X, y)

        sampler.fit_resample = fit_resample
        return sampler

    def make_classifier(*args, **kwargs):
        clf = real_make_classifier(*args, **kwargs)
        fit = clf.fit

        def fit_spy(X, y, **kw):
            record("classifier", X)
            record("early stopping", kw["validation"][0])
            return fit(X, y, **kw)

        clf.fit = fit_spy
        return clf

    def quality_reference(splits, **kwargs):
        record("gate reference", splits.train.images)
        return real_reference(splits, **kwargs)

    mp = pytest.MonkeyPatch()
    mp.setattr(compare_module, "make_oversampler", make_oversampler)
    mp.setattr(compare_module, "make_classifier", make_classifier)
    mp.setattr(compare_module, "quality_reference", quality_reference)
    mp.setattr(compare_module, "split_for_unit", split_for_unit)
    try:
        config = CompareConfig(imbalance=ALL, methods=("baseline", "smote"),
                               method_params={"smote": {"k_neighbors": 3}}, seeds=(0, 1),
                               classifier=FAST, protocol="cv", folds=3,
                               quality_cache_dir=str(tmp_path_factory.mktemp("features")))
        result = run_comparison(config, splits=splits)
    finally:
        mp.undo()
    return splits, seen, result


def test_fold_test_images_never_reach_a_synthesizer_classifier_or_gate(spied):
    splits, seen, _ = spied
    assert len(seen) == 6  # 3 folds x 2 repeats
    for unit, sets in seen.items():
        test = sets["test"]
        assert test, unit
        for kind in ("synthesizer", "classifier", "early stopping", "gate reference"):
            assert sets.get(kind), (unit, kind)  # each was seen, and checked
            assert not test & sets[kind], (unit, kind)
    # every image is tested exactly once per repeat
    pool = [_digest(x) for x in splits.train.images]
    for seed in (0, 1):
        tested = [d for (s, _), sets in seen.items() if s == seed for d in sets["test"]]
        assert sorted(tested) == sorted(pool)


def test_the_result_says_which_protocol_ran_and_pools_every_image_once(spied):
    splits, _, result = spied
    assert result.is_complete() and not result.errors()
    assert [(r.seed, r.fold, r.method) for r in result.runs] == [
        (s, f, m) for s in (0, 1) for f in range(3) for m in ("baseline", "smote")]
    protocol = Protocol.from_dict(result.protocol)
    assert (protocol.kind, protocol.folds, protocol.repeats) == ("cv", 3, 2)
    assert sum(protocol.test_per_class) == 80 // 3 + (80 % 3 > 0)
    counts = np.bincount(splits.train.labels).tolist()
    for seed in (0, 1):  # a repeat's pooled confusion matrix tests every image once
        cm = result.confusion("baseline", seed)
        assert cm.sum(axis=1).tolist() == counts
    for run in result.runs:  # split_counts per fold: nothing synthetic reached a test
        assert sum(run.split_counts["test"]["synthetic"]) == 0
        assert sum(run.split_counts["test"]["real"]) in (26, 27)
    back = ComparisonResult.from_json(result.to_json())
    assert back.protocol == result.protocol and back.recommendation == result.recommendation
    assert [r.fold for r in back.runs] == [r.fold for r in result.runs]
    answer = json.loads(result.to_json())["recommendation"]
    assert set(answer) >= {"method", "primary_metric", "difference", "interval", "test",
                           "excluded", "text"}
    assert answer["test"].startswith("corrected resampled t-test")


def test_a_comparison_saved_before_protocols_loads_as_held_out():
    old = {"format": "gda-workbench/comparison@1", "config": {"seeds": [0]},
           "class_names": ["a", "b"], "minority_classes": [1], "majority_classes": [0],
           "train_counts": [10, 2], "test_counts": [5, 5], "runs": [
               {"method": "baseline", "seed": 0, "metrics": {"f1_macro": 0.5}}],
           "real_samples": {}, "synthetic_samples": {}}
    result = ComparisonResult.from_dict(old)
    assert result.protocol == {} and result.runs[0].fold is None
    assert CompareConfig.from_dict({"imbalance": ALL.to_dict(), "methods": ["baseline"],
                                    "seeds": [0]}).protocol == "holdout"


# ------------------------------------------------------------- the recommendation
def _cv_result(values: dict[str, list[float]], warnings: dict[str, int] | None = None,
               seconds: dict[str, float] | None = None) -> ComparisonResult:
    runs = []
    for method, vals in values.items():
        for i, v in enumerate(vals):
            run = MethodRun(method, i // 5, {"f1_macro": v}, fold=i % 5,
                            seconds={"train": (seconds or {}).get(method, 1.0)})
            if i < (warnings or {}).get(method, 0):
                run.warnings = [{"code": "copies", "message": "copies"}]
            runs.append(run)
    return ComparisonResult({"primary_metric": "f1_macro", "seeds": [0, 1]}, ["ok", "defect"],
                            [1], [0], [100, 20], [25, 5], runs=runs,
                            protocol={"kind": "cv", "folds": 5, "repeats": 2})


BASE = [.50, .55, .52, .48, .51, .49, .53, .50, .47, .52]


def test_the_recommendation_never_names_a_flagged_method():
    gain = [v + d for v, d in zip(BASE, [.30, .28, .33, .31, .29, .30, .32, .27, .31, .30],
                                  strict=True)]
    small = [v + d for v, d in zip(BASE, [.10, .12, .09, .11, .08, .10, .12, .10, .09, .11],
                                   strict=True)]
    result = _cv_result({"baseline": BASE, "dcgan": gain, "smote": small},
                        warnings={"dcgan": 10})
    answer = recommend(result)
    assert answer["method"] == "smote"
    assert answer["excluded"][0]["method"] == "dcgan"
    assert "copies of the training images" in answer["excluded"][0]["reason"]
    assert "DCGAN was excluded" in answer["text"]
    # flagged in 3 of 10 runs (at least a quarter): still excluded
    assert recommend(_cv_result({"baseline": BASE, "dcgan": gain}, warnings={"dcgan": 3}))[
        "method"] is None
    # flagged in 2 of 10: recommended, with the flags said
    answer = recommend(_cv_result({"baseline": BASE, "dcgan": gain}, warnings={"dcgan": 2}))
    assert answer["method"] == "dcgan" and "flagged its images in 2 of 10 runs" in \
        answer["text"]


def test_random_oversampling_copies_by_design_and_is_judged_as_such():
    gain = [v + d for v, d in zip(BASE, [.10, .12, .09, .11, .08, .10, .12, .10, .09, .11],
                                  strict=True)]
    answer = recommend(_cv_result({"baseline": BASE, "random": gain},
                                  warnings={"random": 10}))
    assert answer["method"] == "random" and not answer["excluded"]
    assert "repeats the training images by design" in answer["text"]


def test_no_method_shown_to_help_and_fit_time_breaking_ties():
    noise = [v + d for v, d in zip(BASE, [.05, -.04, .02, -.03, .01, .04, -.05, .02, -.01,
                                          .00], strict=True)]
    answer = recommend(_cv_result({"baseline": BASE, "smote": noise}))
    assert answer["method"] is None
    assert answer["text"].startswith("No method is shown to help on these images.")
    assert "more repeats" in answer["text"]
    a = [v + d for v, d in zip(BASE, [.30, .28, .33, .31, .29, .30, .32, .27, .31, .30],
                               strict=True)]
    b = [v + d for v, d in zip(BASE, [.29, .30, .31, .30, .30, .28, .33, .28, .30, .31],
                               strict=True)]
    answer = recommend(_cv_result({"baseline": BASE, "dcgan": a, "smote": b},
                                  seconds={"dcgan": 400.0, "smote": 10.0}))
    assert answer["method"] == "smote"  # not distinguishable from DCGAN, 40x cheaper
    assert "DCGAN is not distinguishable from it and costs 40× the time." in answer["text"]
    assert recommend(_cv_result({"smote": b}))["text"].startswith("No recommendation")


# ---------------------------------------------------------------------- the CLI
def test_cli_prints_the_protocol_and_ends_with_the_answer(tmp_path, capsys):
    folder = tmp_path / "photos"
    rng = np.random.default_rng(0)
    from PIL import Image

    for name, n in (("normal", 30), ("defect", 10)):
        (folder / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
                folder / name / f"{i}.png")
    out_json = tmp_path / "r.json"
    code = main(["compare", "--dataset", "folder", "--path", str(folder), "--image-size", "8",
                 "--methods", "baseline,smote", "--param", "smote.k_neighbors=3",
                 "--epochs", "1", "--width", "8", "--folds", "3", "--seeds", "0",
                 "--no-sample-quality", "--quiet", "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert ("protocol: 3-fold cross-validation × 1 repeat: every image tested once per "
            "repeat, 4 + 10 test images (defect 4, normal 10) per fold") in out
    assert out.rstrip().splitlines()[-1].startswith("answer: ")
    saved = json.loads(out_json.read_text())
    assert saved["protocol"]["kind"] == "cv" and saved["recommendation"]["text"]
    assert [r["fold"] for r in saved["runs"]] == [0, 0, 1, 1, 2, 2]
    code = main(["compare", "--dataset", "folder", "--path", str(folder), "--image-size", "8",
                 "--methods", "baseline", "--folds", "11", "--quiet", "--protocol", "cv"])
    assert code == 2
    assert "class 'defect' has 10 images: 11-fold cross-validation needs at least 11" in \
        capsys.readouterr().err
    # chosen automatically, the folds shrink to what the smallest class allows
    code = main(["compare", "--dataset", "folder", "--path", str(folder), "--image-size", "8",
                 "--methods", "baseline", "--folds", "11", "--seeds", "0", "--epochs", "1",
                 "--no-sample-quality", "--quiet"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "protocol: 10-fold cross-validation" in out
    assert "10 folds, as the smallest class has 10 images" in out
