"""Classifier options, ratio sweep, sample quality, persistence and export of comparisons."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest
import torch
from conftest_synth import fast_params
from torch import nn

from gda_core.classifiers import (
    CNNClassifier,
    ResNetClassifier,
    SoftVotingEnsemble,
    make_classifier,
)
from gda_core.classifiers.resnet import resnet18
from gda_core.classifiers.trainer import _batches
from gda_core.cli import main
from gda_core.datasets import ImbalanceSpec
from gda_core.errors import ConfigError, RunError
from gda_core.experiments import (
    QUALITY_METRICS,
    ClassifierConfig,
    CompareConfig,
    ComparisonResult,
    RatioSweep,
    export_comparison,
    export_sweep,
    list_comparisons,
    load_comparison,
    run_comparison,
    run_ratio_sweep,
    save_comparison,
    save_sweep,
)
from gda_core.experiments.compare import run_method, split_for_seed
from gda_core.metrics.stats import SUMMARY_COLUMNS
from gda_core.oversampling import OVERSAMPLERS
from gda_core.runs import RunStore

FAST = ClassifierConfig(epochs=1, width=8, fc_units=32)
# Classes 0, 1, 3, 8 of digits: 60 images per majority class, 12 per minority class.
SPEC = ImbalanceSpec(ratio=0.2, minority_classes=(3, 8), classes=(0, 1, 3, 8),
                     majority_count=60, test_per_class=10)
SMALL = ["--ratio", "0.2", "--minority", "3,8", "--majority-count", "60",
         "--test-per-class", "10", "--epochs", "1", "--width", "8", "--quiet"]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("features")


@pytest.fixture(scope="module")
def result(digits_splits, cache_dir) -> ComparisonResult:
    config = CompareConfig(imbalance=SPEC, methods=("baseline", "smote"),
                           method_params={"smote": {"k_neighbors": 3}}, seeds=(0, 1),
                           classifier=FAST, sample_quality=True,
                           quality_cache_dir=str(cache_dir))
    return run_comparison(config, splits=digits_splits)


@pytest.fixture(scope="module")
def digits_xy(digits_splits):
    return digits_splits.train.images[:120], digits_splits.train.labels[:120]


# ------------------------------------------------------------------ classifiers
def test_resnet18_stem_fits_small_and_large_images():
    small = resnet18(1, 10, 8)
    assert small.conv1.in_channels == 1 and small.conv1.kernel_size == (3, 3)
    assert small.conv1.stride == (1, 1) and isinstance(small.maxpool, nn.Identity)
    assert small(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
    large = resnet18(1, 4, (64, 80))
    assert large.conv1.in_channels == 1 and large.conv1.stride == (2, 2)
    assert isinstance(large.maxpool, nn.MaxPool2d)
    assert resnet18(3, 5, 32).conv1.in_channels == 3


def test_batches_merge_a_last_single_image_only_when_asked():
    assert _batches(129, 64, 1) == [(0, 64), (64, 128), (128, 129)]
    assert _batches(129, 64, 2) == [(0, 64), (64, 129)]
    assert _batches(10, 64, 2) == [(0, 10)]


def test_resnet_classifier_trains_one_epoch(digits_xy):
    X, y = digits_xy
    clf = ResNetClassifier(epochs=1, batch_size=32, random_state=0).fit(X[:97], y[:97])
    proba = clf.predict_proba(X[97:])
    assert proba.shape == (23, 10)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert len(clf.history_) == 1 and clf.model_.fc.out_features == 10


def test_ensemble_is_the_mean_of_members_with_consecutive_seeds(digits_xy):
    X, y = digits_xy
    seen = []
    ens = SoftVotingEnsemble(member_params={"epochs": 1, "width": 8, "fc_units": 32},
                             n_members=2, random_state=5)
    ens.fit(X, y, callback=lambda e, n, logs: seen.append((e, n, logs["member"])))
    assert [m.random_state for m in ens.members_] == [5, 6]
    assert seen == [(1, 2, 0), (2, 2, 1)]
    expected = (ens.members_[0].predict_proba(X) + ens.members_[1].predict_proba(X)) / 2
    np.testing.assert_allclose(ens.predict_proba(X), expected)
    assert not np.allclose(ens.members_[0].predict_proba(X), ens.members_[1].predict_proba(X))


def test_make_classifier_builds_each_architecture():
    default = make_classifier(ClassifierConfig(), 3)
    assert type(default) is CNNClassifier
    fields = {k: v for k, v in asdict(ClassifierConfig()).items()
              if k not in ("architecture", "ensemble_size")}
    assert default.get_params() == CNNClassifier(**fields, random_state=3).get_params()
    assert type(make_classifier(ClassifierConfig(architecture="resnet18"), 0)) is ResNetClassifier
    ens = make_classifier(ClassifierConfig(architecture="ensemble", ensemble_size=4,
                                           loss="focal"), 7)
    assert isinstance(ens, SoftVotingEnsemble)
    assert (ens.n_members, ens.random_state, ens.member_params["loss"]) == (4, 7, "focal")
    # the float32 reference path reaches every architecture's models
    assert make_classifier(ClassifierConfig(fast=False), 0).fast is False
    assert make_classifier(ClassifierConfig(architecture="resnet18", fast=False), 0).fast is False
    assert make_classifier(ClassifierConfig(architecture="ensemble", fast=False),
                           0).member_params["fast"] is False


@pytest.mark.parametrize(("clf", "match"), [
    (ClassifierConfig(architecture="vgg"), "unknown architecture 'vgg'"),
    (ClassifierConfig(architecture="ensemble", ensemble_size=1), "at least 2 models"),
    (ClassifierConfig(fast="no"), "fast setting must be true or false"),
])
def test_classifier_config_validation(clf, match):
    with pytest.raises(ConfigError, match=match):
        CompareConfig(classifier=clf).validate()


def test_config_round_trip_and_old_dicts():
    cfg = CompareConfig(classifier=ClassifierConfig(architecture="ensemble", ensemble_size=5),
                        sample_quality=True, quality_cache_dir="/tmp/x")
    assert CompareConfig.from_dict(cfg.to_dict()) == cfg
    old = CompareConfig().to_dict()
    for key in ("sample_quality", "quality_cache_dir"):
        del old[key]
    del old["classifier"]["architecture"], old["classifier"]["ensemble_size"]
    del old["classifier"]["fast"]  # saved before the setting existed: the fast path
    assert CompareConfig.from_dict(old) == CompareConfig()


# ------------------------------------------------------------------ ratio sweep
def test_ratio_sweep_one_point_per_ratio_and_zero_is_baseline(digits_splits, tmp_path):
    config = CompareConfig(imbalance=SPEC, methods=("baseline",), seeds=(0,),
                           method_params={"smote": {"k_neighbors": 3}}, classifier=FAST)
    sweep = run_ratio_sweep(config, "smote", ratios=(0, 1, 2.5), splits=digits_splits)
    summary = sweep.summary()
    assert summary["ratio"].tolist() == [0.0, 1.0, 2.5]
    assert summary["n"].tolist() == [1, 1, 1]
    # minorities have 12 each, one held out for validation before oversampling: 11 left
    assert sweep.runs["n_generated"].tolist() == [0, 22, 56]
    base = run_comparison(config, splits=digits_splits).runs[0]
    row = sweep.runs.iloc[0]
    assert all(row[k] == v for k, v in base.metrics.items() if not np.isnan(v))
    assert row["n_train"] == base.n_train
    back = RatioSweep.from_json(sweep.to_json())
    pd.testing.assert_frame_equal(back.summary(), summary)
    store = RunStore(tmp_path / "runs")
    run_id = save_sweep(store, sweep)
    assert store.get_run(run_id).status == "finished"
    files = export_sweep(sweep, tmp_path / "sweep")
    assert pd.read_csv(files[2])["ratio"].tolist() == [0.0, 1.0, 2.5]
    assert files[3].name == "sweep.html" and files[3].stat().st_size > 100_000


def test_ratio_sweep_fits_one_gan_per_seed_and_draws_every_ratio_from_it(digits_splits,
                                                                           monkeypatch):
    dcgan = OVERSAMPLERS["dcgan"]
    fits = []
    real_fit = dcgan.fit

    def counting_fit(self, *args, **kwargs):
        fits.append(self.random_state)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(dcgan, "fit", counting_fit)
    params = fast_params("dcgan", epochs=1)
    config = CompareConfig(imbalance=SPEC, methods=("baseline",), seeds=(0, 1),
                           method_params={"dcgan": params}, classifier=FAST,
                           sample_quality=False)
    sweep = run_ratio_sweep(config, "dcgan", ratios=(0, 0.5, 1, 2), splits=digits_splits)
    assert sorted(fits) == [0, 1]                     # 4 ratios, 2 seeds: one fit per seed
    assert sweep.runs["n_generated"].tolist() == [0, 12, 22, 44] * 2
    assert sweep.runs["error"].isna().all()
    # a ratio's point equals what a GAN fitted for that ratio alone gives
    split = split_for_seed(config, digits_splits, 1)
    counts = split.fit.counts()
    strategy = {c: counts[c] * 2 for c in split.data.minority_classes}
    alone = run_method(config, split, "dcgan", 1, lambda f, m: None, sampling_strategy=strategy)
    row = sweep.runs[(sweep.runs["ratio"] == 2) & (sweep.runs["seed"] == 1)].iloc[0]
    assert row["f1_macro"] == alone.metrics["f1_macro"]
    assert sorted(fits) == [0, 1, 1]


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"ratios": (0, -1)}, "at least 0"),
    ({"ratios": (1, 1)}, "once"),
    ({"metric": "f2"}, "unknown metric"),
    ({"method": "baseline"}, "needs an oversampler"),
])
def test_ratio_sweep_rejects_bad_settings(kwargs, match):
    args = {"method": "smote", **kwargs}
    with pytest.raises(ConfigError, match=match):
        run_ratio_sweep(CompareConfig(classifier=FAST), **args)


# --------------------------------------------------------------- sample quality
def test_quality_scored_per_oversampler_class_and_seed(result, cache_dir):
    assert list(cache_dir.glob("extractor-*.pt"))
    base, smote = result.runs_of("baseline")[0], result.runs_of("smote")[0]
    assert base.quality == {}
    assert sorted(smote.quality) == [2, 3]  # classes "3" and "8" after re-indexing
    table = result.quality_table()
    assert list(table["method"]) == ["smote", "smote"]
    assert list(table["class_name"]) == ["3", "8"]
    assert (table["n_seeds"] == 2).all()
    assert set(QUALITY_METRICS) <= set(table.columns)
    assert table["fid"].gt(0).all() and table["coverage"].between(0, 1).all()
    mean_fid = np.mean([r.quality[2]["fid"] for r in result.runs_of("smote")])
    assert table.loc[0, "fid"] == pytest.approx(mean_fid)


def test_quality_and_recall_survive_json(result):
    back = ComparisonResult.from_json(result.to_json())
    pd.testing.assert_frame_equal(back.quality_table(), result.quality_table())
    assert back.runs[1].quality[2].keys() == result.runs[1].quality[2].keys()
    recall = result.per_class_recall_table()
    assert recall.shape == (2, 4) and list(recall.columns) == ["0", "1", "3", "8"]
    expected = np.mean([r.per_class["recall"] for r in result.runs_of("smote")], axis=0)
    np.testing.assert_allclose(recall.loc["smote"], expected)
    assert result.confusion("smote").sum() == 2 * sum(result.test_counts)


# ------------------------------------------------------- persistence and export
def test_save_list_load_through_run_store(result, tmp_path):
    store = RunStore(tmp_path / "runs")
    run_id = save_comparison(store, result, name="two seeds")
    other = store.create_run("train", {})
    records = list_comparisons(store)
    assert [r.id for r in records] == [run_id]
    assert records[0].status == "finished" and records[0].name == "two seeds"
    assert records[0].summary["methods"] == ["baseline", "smote"]
    assert CompareConfig.from_dict(records[0].config).seeds == (0, 1)
    back = load_comparison(store, run_id)
    pd.testing.assert_frame_equal(back.metrics_table(), result.metrics_table())
    csv = pd.read_csv(store.latest_artifact(run_id, "metrics"))
    assert list(csv.columns) == list(SUMMARY_COLUMNS)
    with pytest.raises(RunError, match="not a comparison"):
        load_comparison(store, other)


def test_export_files_reload(result, tmp_path):
    files = export_comparison(result, tmp_path / "export")
    names = {f.name for f in files}
    assert {"result.json", "metrics.csv", "per_seed.csv", "per_class_recall.csv",
            "quality.csv", "figures.html", "samples-smote-class2.png"} <= names
    assert all(f.is_file() for f in files)
    back = ComparisonResult.from_json(tmp_path / "export" / "result.json")
    assert back.to_dict() == json.loads(result.to_json())
    metrics = pd.read_csv(tmp_path / "export" / "metrics.csv")
    assert list(metrics.columns) == list(SUMMARY_COLUMNS)
    assert set(metrics["method"]) == {"baseline", "smote"}
    assert len(pd.read_csv(tmp_path / "export" / "per_seed.csv")) == 4
    html = (tmp_path / "export" / "figures.html").read_text()
    assert html.count("plotly.js v") == 1 and not re.search(r"<script[^>]*\bsrc=", html)
    png = (tmp_path / "export" / "samples-smote-class2.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


# ------------------------------------------------------------------------- CLI
def test_cli_three_seeds_marks_significance_and_saves(tmp_path, cache_dir, capsys):
    code = main(["compare", *SMALL, "--methods", "baseline,smote", "--param",
                 "smote.k_neighbors=3", "--seeds", "0-2", "--architecture", "ensemble",
                 "--ensemble-size", "2", "--loss", "weighted-cross-entropy",
                 "--sample-quality", "--quality-cache", str(cache_dir), "--save",
                 "--runs-dir", str(tmp_path / "runs"), "--export", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert re.search(r"0\.\d{3} \[0\.\d{3}, [01]\.\d{3}\]", out), out
    assert "* = differs from the baseline" in out and "protocol: held-out test set" in out
    assert "\nanswer: " in out
    assert "difference to the baseline" in out
    assert "quality gate: the synthesized images beside real ones" in out
    assert "realFID" in out and "gcov" in out
    assert "saved as run" in out and (tmp_path / "out" / "metrics.csv").is_file()
    saved = load_comparison(RunStore(tmp_path / "runs"),
                            list_comparisons(RunStore(tmp_path / "runs"))[0].id)
    clf = saved.config["classifier"]
    assert (clf["architecture"], clf["ensemble_size"], clf["loss"]) == (
        "ensemble", 2, "weighted-cross-entropy")
    assert saved.runs[0].epochs_run == 2  # two members, one epoch each


def test_cli_resnet_focal_single_seed(tmp_path, capsys):
    out_json = tmp_path / "r.json"
    code = main(["compare", "--counts", "0=30,1=30,3=6", "--test-per-class", "5",
                 "--epochs", "1", "--quiet", "--methods", "baseline", "--architecture",
                 "resnet18", "--loss", "focal", "--focal-gamma", "1.5", "--json",
                 str(out_json)])
    out = capsys.readouterr().out
    assert code == 0, out
    line = next(x for x in out.splitlines() if x.startswith("baseline"))
    assert "[" not in line  # one seed: values, no intervals
    clf = json.loads(out_json.read_text())["config"]["classifier"]
    assert (clf["architecture"], clf["loss"], clf["focal_gamma"]) == ("resnet18", "focal", 1.5)
    assert clf["fast"] is True


def test_cli_classifier_reference_path(tmp_path, capsys):
    out_json = tmp_path / "r.json"
    code = main(["compare", "--counts", "0=30,1=30,3=6", "--test-per-class", "5",
                 "--epochs", "1", "--quiet", "--methods", "baseline", "--dataset", "digits",
                 "--classifier-reference", "--json", str(out_json)])
    assert code == 0, capsys.readouterr().out
    assert json.loads(out_json.read_text())["config"]["classifier"]["fast"] is False


def test_cli_ratio_sweep_prints_one_row_per_ratio(capsys):
    code = main(["compare", *SMALL, "--ratios", "0,1", "--sweep-method", "smote",
                 "--param", "smote.k_neighbors=3", "--methods", "baseline",
                 "--sweep-metric", "gmean"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "smote: gmean" in out
    rows = [line.split() for line in out.splitlines() if line.split()[:1] in (["0.0000"],
                                                                          ["1.0000"])]
    assert [r[0] for r in rows] == ["0.0000", "1.0000"]


@pytest.mark.parametrize(("args", "message"), [
    (["--ratios", "0,-1", "--sweep-method", "smote"], "at least 0"),
    (["--ratios", "0,a"], "numbers like"),
    (["--ratios", "0,1", "--methods", "baseline"], "needs an oversampler"),
    (["--ratios", "0,1", "--sweep-metric", "f2"], "unknown metric"),
    (["--architecture", "ensemble", "--ensemble-size", "1"], "at least 2 models"),
    (["--focal-gamma", "-1", "--loss", "focal"], "gamma"),
])
def test_cli_bad_options_exit_2(args, message, capsys):
    code = main(["compare", "--epochs", "1", "--quiet", *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err.strip().splitlines()[-1]



def test_figures_of_recall_and_sweep(result):
    from gda_core.viz.comparison import per_class_recall_figure, ratio_sweep_figure

    fig = per_class_recall_figure(result.per_class_recall_table(), minority=[2, 3])
    assert [t.name for t in fig.data] == ["baseline", "smote"]
    assert list(fig.data[0].x) == ["0", "1", "3*", "8*"]
    summary = pd.DataFrame({"ratio": [0.0, 1.0], "mean": [0.5, 0.6], "ci_low": [0.4, 0.5],
                            "ci_high": [0.6, 0.7]})
    line = ratio_sweep_figure(summary, metric="f1_macro", method="smote")
    assert list(line.data[-1].y) == [0.5, 0.6] and line.data[0].fill == "toself"
