"""The quality gate, the sound comparison protocol (validation before oversampling, split
counts) and the few-data guidance: a failed synthesizer is never passed off as a result."""

from __future__ import annotations

import json

import numpy as np
import pytest

from gda_core.cli.main import main
from gda_core.datasets import ImbalanceSpec
from gda_core.experiments import (
    ClassifierConfig,
    CompareConfig,
    ComparisonResult,
    MethodRun,
    run_comparison,
)
from gda_core.experiments import compare as compare_module
from gda_core.experiments.compare import SeedSplit, split_counts, split_for_seed
from gda_core.experiments.guidance import few_data_guidance
from gda_core.metrics.gate import gate_findings, gate_scores, smoothness
from gda_core.oversampling import OVERSAMPLERS, make_oversampler

FAST = ClassifierConfig(epochs=2, width=8, fc_units=32)
SPEC = ImbalanceSpec(ratio=0.1, minority_classes=(3, 8), classes=(0, 1, 3, 8),
                     majority_count=120, test_per_class=15)


class PixelFeatures:
    """A stand-in feature extractor: pixels scaled to [0, 1]."""

    def transform(self, images: np.ndarray) -> np.ndarray:
        return images.reshape(len(images), -1) / 255.0


@pytest.fixture(scope="module")
def threes(digits_splits):
    images = digits_splits.train.images[digits_splits.train.labels == 3]
    return images[:120], images[120:]       # reference + held-out real images


def _codes(scores: dict) -> list[str]:
    return [f.code for f in gate_findings(scores)]


# ------------------------------------------------------------------------- unit
def test_smoothness_tells_photos_from_noise(digits_splits):
    rng = np.random.default_rng(0)
    real = smoothness(digits_splits.train.images[:200])
    noise = smoothness(rng.integers(0, 256, (50, 1, 8, 8), np.uint8))
    assert np.median(real) > 0.4 and np.abs(np.median(noise)) < 0.2
    assert smoothness(np.zeros((2, 3, 4, 4), np.uint8)).tolist() == [1.0, 1.0]


def test_real_images_pass_the_gate(threes):
    ref, held = threes
    scores = gate_scores(ref, ref[:20], held, extractor=PixelFeatures())
    assert _codes(scores) == []
    assert scores["fid_equal"] < 3 * scores["fid_real"]
    assert scores["n_compared"] == min(len(ref) // 2, len(held))


def test_noise_is_flagged_as_noise(threes):
    ref, _ = threes
    noise = np.random.default_rng(1).integers(0, 256, (100, 1, 8, 8), np.uint8)
    scores = gate_scores(ref, ref[:20], noise, extractor=PixelFeatures())
    assert scores["noise_share"] > 0.9 and _codes(scores) == ["noise"]


def test_one_grey_image_is_unlike_real_and_collapsed(threes):
    ref, _ = threes
    grey = np.full((100, 1, 8, 8), 128, np.uint8)
    scores = gate_scores(ref, ref[:20], grey, extractor=PixelFeatures())
    assert scores["dup_share"] == 1.0 and scores["spread"] == 0.0
    assert _codes(scores) == ["unlike-real", "collapsed"]
    # without task features the generic (random CNN) features still see it
    assert _codes(gate_scores(ref, ref[:20], grey)) == ["unlike-real", "collapsed"]
    # and with no features at all the pixel checks still see the collapse
    assert _codes(gate_scores(ref, ref[:20], grey, structure=False)) == ["collapsed"]


def test_copies_are_flagged_as_copies_only(threes):
    ref, _ = threes
    train = ref[:20]
    copies = train[np.random.default_rng(2).integers(0, 20, 100)]
    scores = gate_scores(ref, train, copies, extractor=PixelFeatures())
    assert scores["copy_share"] == 1.0 and _codes(scores) == ["copies"]


def test_smote_passes_the_gate(digits_splits, threes):
    ref, _ = threes
    X, y = digits_splits.train.images, digits_splits.train.labels
    keep = np.isin(y, [0, 3])
    X, y = X[keep], y[keep]
    X = np.concatenate([X[y == 0][:150], X[y == 3][:20]])
    y = np.array([0] * 150 + [3] * 20)
    sampler = make_oversampler("smote", random_state=0)
    X_res, _ = sampler.fit_resample(X, y)
    fake = X_res[len(y):]
    scores = gate_scores(ref, X[y == 3], fake, extractor=PixelFeatures())
    assert _codes(scores) == [], scores


def test_findings_need_their_evidence():
    assert gate_findings({}) == []
    assert gate_findings({"noise_share": 0.5}) == []          # half is not "mostly"
    assert _codes({"fid_equal": 40.0, "fid_real": 10.0, "coverage_equal": 0.5,
                   "coverage_real": 0.6}) == []              # far, but covering: not flagged
    assert _codes({"spread": 0.2}) == ["collapsed"]
    copies = {"copy_share": 0.8, "copy_share_real": 0.0, "copy_p": 1e-6, "copy_n_fake": 50,
              "copy_n_real": 20}
    message = gate_findings(copies, what="X's images of class 'a'")[0].message
    assert message.startswith("X's images of class 'a' are near-copies of training images")
    assert "80% of 50" in message and "0% of 20 real images" in message
    # many near-copies, but no more than among real images never learned from: not copies
    assert _codes({**copies, "copy_share_real": 0.7}) == []
    assert _codes({**copies, "copy_p": 0.2}) == []            # not shown by the test
    assert _codes({**copies, "copy_share": 0.55}) == []       # not most of them
    wrong = {"class_share": 0.1, "class_share_real": 0.8, "class_n_real": 20,
             "class_held_out": 1.0}
    assert _codes(wrong) == ["wrong-class"]
    assert _codes({**wrong, "class_share_real": 0.35}) == []  # the judge knows little more
    assert _codes({**wrong, "class_share": 0.55, "class_share_real": 1.0}) == []


# ------------------------------------------------------------------ protocol
def test_validation_is_real_and_held_out_before_oversampling(digits_splits, monkeypatch):
    seen = []
    real_make = compare_module.make_oversampler

    def spy(name, **kwargs):
        sampler = real_make(name, **kwargs)
        original = sampler.fit_resample

        def fit_resample(X, y):
            seen.append(X.copy())
            return original(X, y)

        sampler.fit_resample = fit_resample
        return sampler

    monkeypatch.setattr(compare_module, "make_oversampler", spy)
    config = CompareConfig(imbalance=SPEC, methods=("baseline", "smote", "random"),
                           method_params={"smote": {"k_neighbors": 3}}, seeds=(0, 1),
                           classifier=FAST, sample_quality=False)
    result = run_comparison(config, splits=digits_splits)
    assert len(seen) == 4 and all(r.ok for r in result.runs)
    for run in result.runs:
        counts = run.split_counts
        assert counts["validation"]["synthetic"] == [0, 0, 0, 0]
        assert counts["test"]["synthetic"] == [0, 0, 0, 0]
        assert counts["test"]["real"] == [15, 15, 15, 15]
        assert counts["train"]["synthetic"] == [run.n_generated.get(c, 0) for c in range(4)]
        assert min(counts["validation"]["real"]) >= 1     # every class validates
        assert sum(counts["train"]["real"]) + sum(counts["validation"]["real"]) == \
            sum(result.train_counts)
    for X, seed in zip(seen, (0, 0, 1, 1), strict=True):
        split = split_for_seed(config, digits_splits, seed)
        held = {img.tobytes() for img in split.validation.images}
        assert not any(img.tobytes() in held for img in X)   # never shown to oversamplers
        assert len(X) == len(split.fit.labels)
    # pixel-only gate scores: the quality table still counts the synthesized images
    table = result.quality_table()
    smote = table[table["method"] == "smote"].set_index("class")["n_fake"]
    assert smote.to_dict() == {c: np.mean([r.n_generated[c] for r in result.runs_of("smote")])
                               for c in (2, 3)}


def test_split_counts_catch_a_synthetic_image_in_validation(digits_splits):
    config = CompareConfig(imbalance=SPEC, classifier=FAST)
    split = split_for_seed(config, digits_splits, 0)
    leak = split.validation.images[:2]
    counts = split_counts(split, leak, np.array([0, 0]), 4)
    assert sum(counts["validation"]["synthetic"]) == 2
    assert counts["train"]["synthetic"] == [2, 0, 0, 0]
    assert isinstance(split, SeedSplit)


def test_classifier_stops_early_on_the_validation_it_is_given(digits_splits):
    from gda_core.classifiers import CNNClassifier

    X, y = digits_splits.train.images[:300], digits_splits.train.labels[:300]
    X_val, y_val = digits_splits.train.images[300:400], digits_splits.train.labels[300:400]
    clf = CNNClassifier(epochs=2, width=4, fc_units=16, random_state=0)
    clf.fit(X, y, validation=(X_val, y_val))
    assert np.allclose(clf.mean_ * 255, X.mean(axis=(0, 2, 3)))   # every image trained on
    import torch

    logits = clf._logits(torch.from_numpy(X_val))
    target = torch.from_numpy(y_val)
    # class-balanced: the mean over classes of each class's mean cross-entropy
    per_class = [float(torch.nn.functional.cross_entropy(logits[target == c],
                                                         target[target == c]))
                 for c in np.unique(y_val)]
    best = clf.history_[clf.best_epoch_ - 1]
    assert best["val_loss"] == pytest.approx(np.mean(per_class), rel=1e-4)
    plain = float(torch.nn.functional.cross_entropy(logits, target))
    assert best["val_loss"] != pytest.approx(plain, rel=1e-4)
    none = CNNClassifier(epochs=2, width=4, fc_units=16).fit(X, y, validation=(X[:0], y[:0]))
    assert all(np.isnan(h["val_loss"]) for h in none.history_)


# ----------------------------------------------------- a failed GAN is flagged
def test_one_step_dcgan_is_flagged_in_table_cli_and_json(tmp_path, capsys):
    out = tmp_path / "result.json"
    code = main(["compare", "--dataset", "digits", "--ratio", "0.1", "--minority", "3,8",
                 "--methods", "baseline,smote,dcgan", "--param", "dcgan.min_steps=1",
                 "--param", "dcgan.epochs=1", "--seeds", "0", "--epochs", "2",
                 "--quality-cache", str(tmp_path / "features"), "--json", str(out),
                 "--quiet"])
    printed = capsys.readouterr().out
    assert code == 0
    data = json.loads(out.read_text())
    runs = {r["method"]: r for r in data["runs"]}
    codes = {w["code"] for w in runs["dcgan"]["warnings"]}
    assert codes & {"noise", "unlike-real"}, runs["dcgan"]["warnings"]
    assert all(set(w) == {"code", "message"} for w in runs["dcgan"]["warnings"])
    assert not [w for w in runs["smote"]["warnings"] if w["code"] in ("noise", "unlike-real")]
    table_row = next(line for line in printed.splitlines() if line.startswith("dcgan "))
    assert "! " in table_row and ("noise" in table_row or "unlike-real" in table_row)
    assert "warning: dcgan [" in printed
    result = ComparisonResult.from_json(out)
    assert set(result.warning_codes()["dcgan"]) == codes


# ------------------------------------------------------------------ guidance
def _two_class_result(matrix, n_minority=5, methods=("baseline",)) -> ComparisonResult:
    runs = [MethodRun(m, 0, {"f1_macro": 0.5}, matrix,
                      split_counts={"train": {"real": [100, n_minority], "synthetic": [0, 0]}})
            for m in methods]
    return ComparisonResult({"method_params": {}}, ["ok", "defect"], [1], [0],
                            [110, n_minority + 1], [10, 10], runs=runs)


def test_guidance_says_when_the_baseline_ignores_a_class():
    found = few_data_guidance(_two_class_result([[10, 0], [10, 0]]))
    assert [g["code"] for g in found] == ["baseline-ignores-class"]
    assert "'defect'" in found[0]["message"] and "5 real training images" in found[0]["message"]
    assert few_data_guidance(_two_class_result([[9, 1], [5, 5]])) == []


def test_guidance_says_when_a_class_is_too_small_for_a_method():
    res = _two_class_result([[9, 1], [5, 5]], n_minority=5,
                            methods=("baseline", "smote", "dcgan", "augment"))
    found = few_data_guidance(res)
    by_text = " ".join(g["message"] for g in found)
    assert [g["code"] for g in found] == ["too-few-images", "too-few-images"]
    assert "SMOTE needs more than k_neighbors=5" in by_text
    assert "far too few for a GAN" in by_text
    assert OVERSAMPLERS["dcgan"].advice(40).startswith("DCGAN learns from only 40")
    assert "pretrain=all" in OVERSAMPLERS["dcgan"].advice(40)
    assert "pretrain" not in OVERSAMPLERS["dcgan"].advice(40, {"pretrain": "all"})
    assert OVERSAMPLERS["dcgan"].advice(500) is None
    assert OVERSAMPLERS["smote"].advice(6) is None


def test_top2_accuracy_is_hidden_for_two_classes(digits_splits):
    spec = ImbalanceSpec(ratio=0.2, minority_classes=(8,), classes=(3, 8),
                         majority_count=100, test_per_class=15)
    result = run_comparison(CompareConfig(imbalance=spec, methods=("baseline",),
                                          classifier=FAST, sample_quality=False),
                            splits=digits_splits)
    assert "top2_accuracy" not in result.metrics_table().columns
    assert "top2_accuracy" not in result.runs[0].metrics
    assert "f1_macro" in result.metrics_table().columns


def test_a_method_that_failed_the_gate_is_never_the_saved_best(tmp_path):
    from gda_core.experiments import export_comparison, load_comparison, save_comparison
    from gda_core.runs import RunStore

    runs = [MethodRun("baseline", 0, {"f1_macro": 0.50}, [[9, 1], [5, 5]]),
            MethodRun("smote", 0, {"f1_macro": 0.60}, [[9, 1], [4, 6]]),
            MethodRun("dcgan", 0, {"f1_macro": 0.70}, [[9, 1], [3, 7]],
                      warnings=[{"code": "noise", "message": "noise"}])]
    res = ComparisonResult({"seeds": [0], "method_params": {}}, ["ok", "defect"], [1], [0],
                           [100, 5], [10, 10], runs=runs)
    store = RunStore(tmp_path / "runs")
    run_id = save_comparison(store, res)
    summary = store.get_run(run_id).summary
    assert summary["best_f1_method"] == "smote" and summary["failed_gate"] == ["dcgan"]
    assert load_comparison(store, run_id).warning_codes() == {"dcgan": ["noise"]}
    files = export_comparison(res, tmp_path / "export")
    text = (tmp_path / "export" / "warnings.csv").read_text()
    assert tmp_path / "export" / "warnings.csv" in files and "dcgan,0,noise,noise" in text


def test_low_coverage_from_few_training_images_is_not_unlike_real():
    """10 training images cannot cover a class of thousands: no synthesizer can, so low
    coverage alone must not condemn it (SMOTE on 10 MNIST digits covered 7%)."""
    few = {"fid_equal": 12.0, "fid_real": 1.0, "coverage_equal": 0.07, "coverage_real": 0.87,
           "precision_equal": 0.88, "precision_real": 0.87, "coverage_train": 0.01,
           "coverage_fake_train": 0.01, "n_real": 2000}
    assert _codes(few) == []
    # the same coverage when the training images themselves covered far more: a failure
    assert _codes({**few, "coverage_train": 0.18, "coverage_fake_train": 0.03}) == [
        "unlike-real"]
    # fakes that mostly lie outside the real images are unlike them whatever the coverage
    assert _codes({**few, "precision_equal": 0.2}) == ["unlike-real"]
    # ... but on a classifier that learned from 20 real images of the class, any unseen
    # image lies outside them: its features then do not speak
    assert _codes({**few, "precision_equal": 0.2, "n_real": 20}) == []
    # on the generic features alone just the same
    generic = {f"struct_{k}": v for k, v in few.items()}
    assert _codes({**generic, "struct_precision_equal": 0.2}) == ["unlike-real"]


def test_smote_from_ten_images_of_a_big_class_passes(digits_splits):
    X, y = digits_splits.train.images, digits_splits.train.labels
    pool = X[y == 9]                                  # ~180 real nines
    train = pool[:10]
    X_fit = np.concatenate([X[y == 0][:150], train])
    y_fit = np.array([0] * 150 + [9] * 10)
    sampler = make_oversampler("smote", random_state=0)
    fake = sampler.fit_resample(X_fit, y_fit)[0][len(y_fit):]
    scores = gate_scores(pool, train, fake, extractor=PixelFeatures())
    assert _codes(scores) == [], scores
