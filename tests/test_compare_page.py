"""AppTest of the Compare page: seeds with intervals and significance, sample quality,
confusion per seed, recall and gallery views, past comparisons, ratio sweep and export.

One three-seed comparison (digits, 4 classes, 1 epoch) is run once for the module; the
tests then look at it through the page's views.
"""

from __future__ import annotations

import io
import json
import math
import re
import zipfile

import pandas as pd
import pytest
from conftest import REPO, finish_job, shown, wait_until
from streamlit.testing.v1 import AppTest

from gda_core.datasets import ImbalanceSpec
from gda_core.experiments import ComparisonResult, MethodRun
from gda_core.metrics.stats import summarise
from gda_core.runs import RunStore, wait_for_run
from pages._compare_sweep import parse_ratios
from pages._results import comparison_zip, headline, interval_frames

TIMEOUT = 180
# Classes 0, 1, 3, 8 of digits: 60 images per majority class, 12 per minority class.
SPEC = ImbalanceSpec(ratio=0.2, minority_classes=(3, 8), classes=(0, 1, 3, 8),
                     majority_count=60, test_per_class=10)
INTERVAL = re.compile(r"^-?\d\.\d{3} \[-?\d\.\d{3}, -?\d\.\d{3}\]$")
DIFF = re.compile(r"^[+-]\d\.\d{3}( \[[+-]\d\.\d{3}, [+-]\d\.\d{3}\]| \(no spread\))"
                  r"( [▲▼])?$")


@pytest.fixture(scope="module")
def ran(tmp_path_factory) -> AppTest:
    """The Compare page after a 3-seed baseline / SMOTE / random run with sample quality."""
    root = tmp_path_factory.mktemp("compare-page")
    env = pytest.MonkeyPatch()
    env.setenv("GDA_DATA_DIR", str(root / "data"))
    env.setenv("GDA_RUNS_DIR", str(root / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.session_state["imbalance_spec"] = SPEC
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    at.multiselect[0].set_value(["baseline", "smote", "random"])
    at.number_input(key="compare_seeds").set_value(3)
    next(n for n in at.number_input if n.label.startswith("Epochs")).set_value(1)
    at.select_slider[0].set_value(8)
    at.checkbox(key="compare_quality").check()
    at.button(key="compare_run").click().run()
    finish_job(at)
    yield at
    env.undo()


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return shown("\n".join(str(p) for p in parts))


def _show(at: AppTest, tab: str = "Results", view: str | None = None) -> AppTest:
    at.session_state["compare_tab"] = tab
    if view is not None:
        at.session_state["result-view"] = view
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    return at


def test_three_seeds_show_intervals_and_significance(ran):
    at = _show(ran, view="Confusion matrices")
    means, diffs = at.dataframe[0].value, at.dataframe[1].value
    assert list(means.columns) == ["Baseline", "SMOTE", "Random oversampling"]
    assert "Macro F1" in means.index and "G-mean (recalls)" in means.index
    assert "G-mean (sens×spec)" in means.index and "R_min (smallest class)" in means.index
    assert all(INTERVAL.match(v) for v in means.loc["Macro F1"]), means.loc["Macro F1"]
    assert list(diffs.columns) == ["SMOTE", "Random oversampling"]
    assert all(DIFF.match(v) for v in diffs.to_numpy().ravel()), diffs
    text = _texts(at)
    assert "Holm-corrected over the 2 methods tested" in text
    assert "paired t-test over seeds at 5% on Macro F1 (the primary metric)" in text
    assert "**G-mean (sens×spec)**: Mean over classes of sqrt(sensitivity" in text
    assert "significantly better than the baseline" in text
    assert "over 3 seeds" in text
    assert len(at.get("plotly_chart")) == 3
    result = at.session_state["compare_result"]
    assert sorted({r.seed for r in result.runs}) == [0, 1, 2]


def test_sample_quality_table(ran):
    at = _show(ran)
    table = next(d.value for d in at.dataframe if "FID ↓" in d.value.columns)
    assert list(table["Method"]) == ["SMOTE", "SMOTE", "Random oversampling",
                                     "Random oversampling"]
    assert list(table["Class"]) == ["3*", "8*", "3*", "8*"]
    assert table["FID ↓"].map(math.isfinite).all()
    assert (table["Seeds"] == 3).all()
    assert "Coverage" in _texts(at)


def test_quality_gate_warnings_and_split_counts(ran):
    at = _show(ran)
    means = at.dataframe[0].value
    assert means.index[0] == "Warnings"
    assert means.loc["Warnings", "Random oversampling"] == "⚠ copies"
    assert means.loc["Warnings", "SMOTE"] == "" and means.loc["Warnings", "Baseline"] == ""
    warnings = [shown(w.value) for w in at.warning]
    assert any(w.startswith("**Random oversampling**") and "near-copies of training images"
               in w for w in warnings), warnings
    table = next(d.value for d in at.dataframe if "Real-vs-real FID" in d.value.columns)
    assert (table["FID ↓"] > 0).all() and (table["Real-vs-real FID"] > 0).all()
    assert list(table["Copies"][table["Method"] == "Random oversampling"]) == [1.0, 1.0]
    counts = next(d.value for d in at.dataframe if list(d.value.columns) == ["0", "1", "3", "8"])
    assert counts.loc[("SMOTE", "Validation (early stopping)")].tolist() == ["6", "6", "1", "1"]
    assert counts.loc[("SMOTE", "Training")].tolist()[2] == "11 + 43"
    assert "no synthetic image in validation or test" in _texts(at)


def test_confusion_matrices_for_one_seed(ran):
    at = _show(ran, view="Confusion matrices")
    at.radio(key="result-cm-seed").set_value("1").run()
    assert not at.exception
    assert len(at.get("plotly_chart")) == 3


def test_recall_and_gallery_views(ran):
    at = _show(ran, view="Recall per class")
    assert len(at.get("plotly_chart")) == 1
    at = _show(ran, view="Gallery")
    assert at.selectbox(key="result-gallery-class").value in (2, 3)  # re-indexed 3 and 8
    assert len(at.get("image")) == 1
    # 12 minority images, one held out for validation before oversampling
    assert "nearest real image among all 11 real training images" in _texts(at)
    _show(ran, view="Confusion matrices")


def test_past_comparisons_list_and_reopen(ran):
    saved = ran.session_state["compare_result_id"]
    assert saved
    ran.session_state["compare_result"] = None
    ran.session_state["compare_result_id"] = None
    at = _show(ran, tab="Past comparisons")
    table = at.dataframe[0].value
    assert list(table["Run"]) == [saved]
    assert table.loc[0, "Dataset"] == "digits" and table.loc[0, "Seeds"] == 3
    assert table.loc[0, "Methods"] == "Baseline, SMOTE, Random oversampling"
    assert table.loc[0, "Sample quality"] == "yes"
    at.button(key="compare_history_open").click().run()
    assert not at.exception
    assert at.session_state["compare_tab"] == "Results"
    assert at.session_state["compare_result_id"] == saved
    reopened = at.session_state["compare_result"]
    assert isinstance(reopened, ComparisonResult) and len(reopened.runs) == 9
    assert saved in _texts(at)
    assert list(at.dataframe[0].value.columns) == ["Baseline", "SMOTE", "Random oversampling"]


def test_ratio_sweep_with_two_ratios(ran):
    at = _show(ran, tab="Real : synthetic ratio sweep")
    assert at.selectbox(key="sweep_method").options == ["SMOTE", "Random oversampling"]
    at.text_input(key="sweep_ratios").set_value("0, 1")
    at.button(key="sweep_run").click().run()
    finish_job(at, "compare_sweep_job")
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert len(at.get("plotly_chart")) == 1
    summary = at.dataframe[0].value
    assert list(summary["Synthesized : real"]) == ["0", "1"]
    assert list(summary["Seeds"]) == [3, 3]
    assert at.session_state["compare_sweep"].runs.shape[0] == 6
    at.selectbox(key="sweep_metric").set_value("gmean").run()  # redraw, no rerun of the sweep
    assert "G-mean (recalls)" in at.dataframe[0].value.columns
    _show(ran)


def test_bad_ratios_are_a_message(ran):
    at = _show(ran, tab="Real : synthetic ratio sweep")
    at.text_input(key="sweep_ratios").set_value("0, lots").run()
    assert any("ratios must be numbers" in e.value for e in at.error)
    at.text_input(key="sweep_ratios").set_value("0, 0.5, 1, 2, 5").run()
    _show(ran)


def test_zip_export_holds_every_file(ran):
    result = ran.session_state["compare_result"]
    with zipfile.ZipFile(io.BytesIO(comparison_zip(result))) as zf:
        names = set(zf.namelist())
        assert {"gda-comparison/result.json", "gda-comparison/metrics.csv",
                "gda-comparison/quality.csv", "gda-comparison/figures.html"} <= names
        assert any(n.endswith(".png") for n in names)
        again = ComparisonResult.from_json(zf.read("gda-comparison/result.json").decode())
        metrics = pd.read_csv(zf.open("gda-comparison/metrics.csv"))
    assert len(again.runs) == len(result.runs)
    assert {"ci_low", "diff_vs_baseline", "significant"} <= set(metrics.columns)


def test_classifier_options_appear_when_chosen(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT).run()
    at.switch_page("pages/compare.py").run()
    labels = [n.label for n in at.number_input]
    assert "Focal γ" not in labels and "Ensemble size" not in labels
    assert at.number_input(key="compare_seeds").value == 1  # defaults stay fast
    next(s for s in at.selectbox if s.label == "Loss").set_value("focal").run()
    next(s for s in at.selectbox if s.label == "Architecture").set_value("resnet18").run()
    assert "Focal γ" in [n.label for n in at.number_input]
    assert "0.8 s per batch of 64" in _texts(at)
    next(s for s in at.selectbox if s.label == "Architecture").set_value("ensemble").run()
    assert "Ensemble size" in [n.label for n in at.number_input]
    assert "3 or more seeds" in _texts(at)
    assert not at.exception


def _hand_result() -> ComparisonResult:
    runs = [MethodRun("baseline", s, {"f1_macro": v}) for s, v in enumerate([.70, .72, .71])]
    runs += [MethodRun("smote", s, {"f1_macro": v}) for s, v in enumerate([.80, .83, .81])]
    runs += [MethodRun("random", s, {"f1_macro": v}) for s, v in enumerate([.70, .75, .68])]
    return ComparisonResult({"seeds": [0, 1, 2]}, ["a", "b"], [1], [0], [10, 2], [5, 5],
                            runs=runs)


def test_interval_and_difference_cells_by_hand():
    summary = summarise(_hand_result())
    means, diffs, marks = interval_frames(summary)
    # baseline 0.71 ± t(0.975, 2) * 0.01 / sqrt(3) = 0.71 ± 0.0248
    assert means.loc["Macro F1", "Baseline"] == "0.710 [0.685, 0.735]"
    # smote - baseline: +0.10, +0.11, +0.10; mean 0.1033, s = 0.00577, half-width
    # t(0.975, 2) * 0.00577 / sqrt(3) = 0.0143: significant
    assert diffs.loc["Macro F1", "SMOTE"] == "+0.103 [+0.089, +0.118] ▲"
    assert marks.loc["Macro F1", "SMOTE"] == 1
    assert not diffs.loc["Macro F1", "Random oversampling"].endswith(("▲", "▼"))
    assert marks.loc["Macro F1", "Random oversampling"] == 0
    sentence = headline(summary)
    assert "**SMOTE** ▲" in sentence and "not distinguishable from it: Random" in sentence
    # the same +0.10 in every seed has no spread to test: never marked
    steady = _hand_result()
    for run in steady.runs:
        if run.method == "smote":
            run.metrics["f1_macro"] = [.80, .82, .81][run.seed]
    means, diffs, marks = interval_frames(summarise(steady))
    assert diffs.loc["Macro F1", "SMOTE"] == "+0.100 (no spread)"
    assert marks.loc["Macro F1", "SMOTE"] == 0


def test_parse_ratios():
    assert parse_ratios("0, 0.5 1;2") == [0.0, 0.5, 1.0, 2.0]
    with pytest.raises(Exception, match="at least one ratio"):
        parse_ratios("  ")
    json.dumps(parse_ratios("5"))  # plain floats


# ------------------------------------------------------------------ background jobs
def _fresh_compare_page(root) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.session_state["imbalance_spec"] = SPEC
    at.switch_page("pages/compare.py").run()
    assert not at.exception
    return at


def test_a_running_comparison_survives_a_new_session_and_stop_keeps_what_finished(
        tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    at = _fresh_compare_page(tmp_path)
    at.multiselect[0].set_value(["baseline", "smote", "dcgan"])
    next(n for n in at.number_input if n.label.startswith("Epochs")).set_value(1)
    at.checkbox(key="compare_quality").uncheck()
    for name, value in (("min_steps", 20000), ("width", 8)):
        next(n for n in at.number_input if n.key == f"param-dcgan-{name}").set_value(value)
    at.button(key="compare_run").click().run()
    run_id = at.session_state["compare_job"]
    assert at.button(key="compare_run").disabled          # one comparison at a time
    wait_until(lambda: (store.get_run(run_id).summary or {}).get("runs_done") == 2)

    # a reloaded or new tab: another session finds the running job and follows it
    other = _fresh_compare_page(tmp_path)
    assert other.session_state["compare_job"] == run_id
    wait_until(lambda: "training" in (store.get_run(run_id).summary or {}).get("message", ""))
    other.run()
    bar = other.get("progress")[0]
    assert "running" in bar.proto.text and "2 of 3 runs done" in bar.proto.text
    table = other.dataframe[0].value                      # the runs that finished so far
    assert list(table["Method"]) == ["Baseline (no oversampling)", "SMOTE"]
    assert any("in the background" in c.value for c in other.caption)

    other.button(key="compare_stop").click().run()
    assert wait_for_run(store, run_id, timeout=60).status == "stopped"
    other.run()
    assert not other.exception and not other.error, [e.value for e in other.error]
    assert any("was stopped" in w.value and "2 of 3" in w.value for w in other.warning)
    result = other.session_state["compare_result"]
    assert [r.method for r in result.runs] == ["baseline", "smote"]
    assert other.dataframe[0].value.index.tolist() == ["Baseline (no oversampling)", "SMOTE"]
    assert not other.button(key="compare_run").disabled

    other.session_state["compare_tab"] = "Past comparisons"
    other.run()
    history = other.dataframe[0].value
    assert history.loc[0, "Status"] == "stopped (partial)" and history.loc[0, "Run"] == run_id


def test_an_unreachable_ray_cluster_is_a_message(tmp_path, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = _fresh_compare_page(tmp_path)
    at.multiselect[0].set_value(["baseline"])
    at.radio(key="compare_executor").set_value("ray").run()
    at.text_input(key="compare_ray_address").set_value("127.0.0.1:9").run()
    at.button(key="compare_run").click().run()
    record = finish_job(at)
    assert record.status == "failed" and "nothing answers there" in record.error
    assert any("could not run" in shown(e.value) and "127.0.0.1:9" in shown(e.value)
               for e in at.error)
    assert record.config["job"]["executor"] == {"kind": "ray", "address": "127.0.0.1:9",
                                                "num_cpus": None}


def test_the_classifier_can_train_on_its_float32_reference_path(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    at = _fresh_compare_page(tmp_path)
    at.multiselect[0].set_value(["baseline"])
    next(n for n in at.number_input if n.label.startswith("Epochs")).set_value(1)
    at.checkbox(key="compare_quality").uncheck()
    assert at.toggle(key="compare_fast_classifier").value is True  # the fast path by default
    at.toggle(key="compare_fast_classifier").set_value(False).run()
    at.button(key="compare_run").click().run()
    run_id = at.session_state["compare_job"]
    assert store.get_run(run_id).config["classifier"]["fast"] is False
    assert wait_for_run(store, run_id, timeout=120).status == "finished"


def test_a_small_folder_is_cross_validated_and_the_answer_comes_first(tmp_path, monkeypatch):
    """A user's folder of 12 defect photos against 40 normal ones: the page says before the
    run that it will cross-validate, with the test images of each fold, estimates the time
    once a comparison has run here, and opens the results with the answer."""
    import numpy as np
    from PIL import Image

    from gda_core.experiments import DataConfig

    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    rng = np.random.default_rng(0)
    for name, n in (("defect", 12), ("normal", 40)):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
                tmp_path / "photos" / name / f"{i}.png")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.session_state["data_config"] = DataConfig(source="folder", path=str(tmp_path / "photos"),
                                                 image_size=8)
    at.session_state["imbalance_spec"] = ImbalanceSpec(counts={0: None, 1: None}, name="all")
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    text = _texts(at)
    assert ("5-fold cross-validation × 2 repeats: every image tested once per repeat, "
            "3 + 8 test images (defect 3, normal 8) per fold") in text
    assert "class 'defect' has 12 images (below 100)" in text
    assert at.number_input(key="compare_seeds").label == "Repeats"
    assert at.number_input(key="compare_seeds").value == 2
    assert "from a training step timed on this machine" in text   # no earlier run here
    at.multiselect[0].set_value(["baseline", "random"])
    at.number_input(key="compare_folds").set_value(3)
    at.number_input(key="compare_seeds").set_value(1)
    next(n for n in at.number_input if n.label.startswith("Epochs")).set_value(1)
    at.run()
    assert "2 method(s) × 3 folds × 1 repeat(s) = 6 trainings" in _texts(at)
    at.button(key="compare_run").click().run()
    record = finish_job(at)
    assert record.status == "finished", record.error
    at.session_state["compare_tab"] = "Results"
    at.run()
    assert not at.exception, at.exception
    first = [*at.success, *at.info][0].value if (at.success or at.info) else ""
    answer = at.session_state["compare_result"].recommendation["text"]
    assert (answer and shown(first).endswith(answer.partition(":")[2])) or \
        shown(first) == answer
    result = at.session_state["compare_result"]
    assert result.protocol["kind"] == "cv" and {r.fold for r in result.runs} == {0, 1, 2}
    # with a comparison done here, the next one is estimated from its units
    assert "earlier units on this machine" in _texts(at)
