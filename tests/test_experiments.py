"""The comparison runner and its result object, on the built-in digits data."""

from __future__ import annotations

import math

import numpy as np
import pytest

from gda_core.datasets import ImbalanceSpec
from gda_core.errors import ConfigError
from gda_core.experiments import (
    ClassifierConfig,
    CompareConfig,
    ComparisonResult,
    decode_images,
    encode_images,
    run_comparison,
)

FAST = ClassifierConfig(epochs=3, width=8, fc_units=32)
SPEC = ImbalanceSpec(ratio=0.1, minority_classes=(3, 8), test_per_class=20)


@pytest.fixture(scope="module")
def result(digits_splits) -> ComparisonResult:
    config = CompareConfig(
        imbalance=SPEC,
        methods=("baseline", "smote", "augment"),
        method_params={"smote": {"k_neighbors": 3}},
        seeds=(0, 1),
        classifier=FAST,
    )
    seen = []
    res = run_comparison(config, splits=digits_splits, progress=lambda f, m: seen.append(f))
    assert seen[-1] == 1.0 and all(0 <= f <= 1 for f in seen)
    assert seen == sorted(seen)
    return res


def test_runs_every_method_and_seed(result):
    assert result.methods == ["baseline", "smote", "augment"]
    assert [(r.method, r.seed) for r in result.runs if r.ok] == [
        (m, s) for s in (0, 1) for m in ("baseline", "smote", "augment")]
    table = result.metrics_table()
    assert list(table.index) == ["baseline", "smote", "augment"]
    assert table.loc["baseline", "accuracy"] > 0.3  # chance is 0.1
    assert ((table.drop(columns="roc_auc_ovr") >= 0) & (table.drop(columns="roc_auc_ovr")
                                                         <= 1)).all().all()


def test_oversampled_sets_are_balanced_and_samples_kept(result):
    smote = result.runs_of("smote")[0]
    baseline = result.runs_of("baseline")[0]
    real = smote.split_counts["train"]["real"]   # after the validation hold-out
    assert real == baseline.split_counts["train"]["real"]
    assert sum(real) + sum(smote.split_counts["validation"]["real"]) == sum(result.train_counts)
    assert smote.n_train == 10 * max(real)
    assert baseline.n_train == sum(real)
    assert smote.n_generated[3] == max(real) - real[3]
    assert smote.split_counts["train"]["synthetic"][3] == smote.n_generated[3]
    assert set(result.synthetic_samples["smote"]) == {3, 8}
    assert result.synthetic_samples["smote"][3].shape[1:] == (1, 8, 8)
    assert result.real_samples[3].dtype == np.uint8


def test_confusion_matrices_sum_over_test_set(result):
    n_test = sum(result.test_counts)
    assert result.confusion("baseline", seed=0).sum() == n_test
    assert result.confusion("baseline").sum() == 2 * n_test
    with pytest.raises(KeyError):
        result.confusion("adasyn")


def test_delta_table_is_relative_to_baseline(result):
    delta = result.delta_table()
    assert (delta.loc["baseline"] == 0).all()
    np.testing.assert_allclose(
        delta.loc["smote", "f1_macro"],
        result.metrics_table().loc["smote", "f1_macro"]
        - result.metrics_table().loc["baseline", "f1_macro"])


def test_json_round_trip(result, tmp_path):
    path = tmp_path / "r.json"
    text = result.to_json(path)
    assert "NaN" not in text
    back = ComparisonResult.from_json(path)
    assert back.methods == result.methods
    assert back.metrics_table().round(12).equals(result.metrics_table().round(12))
    assert np.array_equal(back.synthetic_samples["smote"][8], result.synthetic_samples["smote"][8])
    assert CompareConfig.from_dict(back.config).seeds == (0, 1)


def test_same_seed_same_numbers(digits_splits):
    config = CompareConfig(imbalance=SPEC, methods=("baseline",), seeds=(5,), classifier=FAST)
    a = run_comparison(config, splits=digits_splits)
    b = run_comparison(config, splits=digits_splits)
    assert a.runs[0].metrics == b.runs[0].metrics


def test_failing_method_is_recorded_and_others_go_on(digits_splits):
    config = CompareConfig(
        imbalance=SPEC, methods=("baseline", "smote", "random"),
        method_params={"smote": {"k_neighbors": 40}}, classifier=FAST,
    )
    kept = []
    res = run_comparison(config, splits=digits_splits, on_run=lambda run, part: kept.append(
        len(part.runs)))
    assert kept == [1, 2, 3]
    assert "k_neighbors" in res.errors()["smote"]
    assert res.runs_of("random")[0].ok
    assert "smote" not in res.metrics_table().index


def test_encode_images_round_trip():
    arr = np.random.default_rng(0).integers(0, 256, (3, 3, 5, 7), dtype=np.uint8)
    assert np.array_equal(decode_images(encode_images(arr)), arr)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"methods": ()}, "at least one method"),
        ({"methods": ("baseline", "vae")}, "unknown method 'vae'"),
        ({"methods": ("smote", "smote")}, "once"),
        ({"seeds": ()}, "seed"),
        ({"classifier": ClassifierConfig(epochs=0)}, "epochs"),
    ],
)
def test_config_validation(changes, match):
    with pytest.raises(ConfigError, match=match):
        CompareConfig(**changes).validate()


def test_nan_metric_survives_json():
    res = ComparisonResult(config=CompareConfig().to_dict(), class_names=["a", "b"],
                           minority_classes=[1], majority_classes=[0], train_counts=[5, 1],
                           test_counts=[2, 2])
    from gda_core.experiments import MethodRun

    res.runs.append(MethodRun("baseline", 0, metrics={k: math.nan for k in (
        "accuracy", "precision_macro", "recall_macro", "f1_macro", "acsa", "gmean",
        "minority_recall", "majority_precision", "top2_accuracy", "roc_auc_ovr")}))
    back = ComparisonResult.from_json(res.to_json())
    assert math.isnan(back.runs[0].metrics["roc_auc_ovr"])


def test_gan_methods_report_training_progress():
    from gda_core.experiments import ClassifierConfig, CompareConfig, run_comparison

    msgs: list[str] = []
    cfg = CompareConfig(methods=("dcgan",), classifier=ClassifierConfig(epochs=1),
                        method_params={"dcgan": {"epochs": 1, "min_steps": 20}})
    run_comparison(cfg, progress=lambda f, m: msgs.append(m))
    assert "seed 0 · dcgan: training class 3, step 10 of 20" in msgs
    assert "seed 0 · dcgan: training class 8, step 20 of 20" in msgs
