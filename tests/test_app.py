"""AppTest smoke tests of every page and the Data -> Compare flow."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, finish_job, shared_path, shown
from PIL import Image
from streamlit.testing.v1 import AppTest

TIMEOUT = 180


@pytest.fixture
def app(tmp_path, monkeypatch) -> AppTest:
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [e.value for e in (*at.error, *at.warning, *at.info, *at.success)]
    return shown("\n".join(str(p) for p in parts))


def test_home_page(app):
    assert app.title[0].value == "GDA Workbench"
    assert "Compare" in _texts(app)


def test_data_page_defaults_to_digits(app):
    app.switch_page("pages/data.py").run()
    assert not app.exception and not app.error
    assert "Digits" in _texts(app) or "digits" in _texts(app)
    assert len(app.get("plotly_chart")) == 1
    assert len(app.get("imgs")) >= 10 or len(app.get("image")) >= 10


def test_compare_page_before_running(app):
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    assert "Run comparison" in [b.label for b in app.button]
    assert any("Run comparison" in i.value for i in app.info)


def test_flow_data_to_compare(app):
    app.switch_page("pages/data.py").run()
    app.multiselect[0].set_value([2, 7]).run()
    ratio = next(n for n in app.number_input if "ratio" in n.label)
    ratio.set_value(0.2).run()
    assert not app.exception and not app.error
    assert app.session_state["imbalance_spec"].minority_classes == (2, 7)

    app.switch_page("pages/compare.py").run()
    assert "(2, 7)" not in _texts(app) and "[2, 7]" in _texts(app)
    app.multiselect[0].set_value(["baseline", "smote", "random"])
    next(n for n in app.number_input if n.label.startswith("Epochs")).set_value(2)
    app.button(key="compare_run").click().run()
    finish_job(app)
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    charts = app.get("plotly_chart")
    assert len(charts) == 3  # one confusion matrix per method
    frames = app.dataframe
    table = frames[0].value
    assert list(table.index) == ["Baseline (no oversampling)", "SMOTE", "Random oversampling"]
    assert "Macro F1" in table.columns
    result = app.session_state["compare_result"]
    assert result.minority_classes == [2, 7]
    assert result.runs_of("smote")[0].n_generated[2] > 0


def test_compare_reports_a_failing_method(app):
    app.switch_page("pages/compare.py").run()
    app.multiselect[0].set_value(["baseline", "smote"])
    next(n for n in app.number_input if n.label.startswith("Epochs")).set_value(1)
    next(n for n in app.number_input if n.key == "param-smote-k_neighbors").set_value(40)
    app.button(key="compare_run").click().run()
    finish_job(app)
    assert not app.exception
    warnings = shown(" ".join(w.value for w in app.warning))
    assert "SMOTE" in warnings and "k_neighbors" in warnings
    assert len(app.get("plotly_chart")) == 1


def test_data_page_bad_imbalance_is_a_message(app):
    app.switch_page("pages/data.py").run()
    app.multiselect[0].set_value([]).run()
    assert not app.exception
    assert any("minority" in e.value for e in app.error)


def test_data_page_preset_too_big_names_class(app):
    app.switch_page("pages/data.py").run()
    app.get("segmented_control")[0].set_value("Preset").run()
    assert not app.exception
    app.selectbox[-1].set_value("am-study").run()
    assert any("class '0'" in e.value for e in app.error)


def _zip_of_classes() -> bytes:
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(buf, "w") as zf:
        for cls, n in (("normal", 60), ("underfill_FR", 8)):
            for i in range(n):
                img = Image.fromarray(rng.integers(0, 255, (20, 20), dtype=np.uint8))
                b = io.BytesIO()
                img.save(b, format="PNG")
                zf.writestr(f"parts/{cls}/{i}.png", b.getvalue())
        zf.writestr("parts/normal/notes.txt", b"not an image")
        zf.writestr("../escape.png", b"x")
    return buf.getvalue()


def test_zip_upload(app, tmp_path):
    app.switch_page("pages/data.py").run()
    app.selectbox[0].set_value("zip").run()
    app.get("file_uploader")[0].upload("defects.zip", _zip_of_classes(), "application/zip")
    app.button[0].click().run()
    assert not app.exception
    assert not app.error, [e.value for e in app.error]
    cfg = app.session_state["data_config"]
    assert cfg.source == "folder" and str(tmp_path) in cfg.path
    assert not (tmp_path / "data" / "escape.png").exists()
    assert "underfill_FR" in _texts(app)
    skipped = next(e for e in app.expander if "skipped" in e.label)
    report = skipped.text[0].value
    assert "escape.png" in report and "notes.txt" in report
    assert any("Uploaded zips kept extracted: 1" in c.value for c in app.caption)
    app.button(key="clear_uploads").click().run()           # keeps the dataset in use
    assert not app.exception and not app.error
    assert Path(cfg.path).is_dir() and "underfill_FR" in _texts(app)


def test_bad_folder_is_a_message_and_keeps_loaded_data(app, tmp_path):
    app.switch_page("pages/data.py").run()
    app.selectbox[0].set_value("folder").run()
    app.text_input[0].set_value(str(tmp_path / "missing"))
    app.button[0].click().run()
    assert not app.exception
    assert any("Could not load the dataset" in e.value for e in app.error)
    # the previously loaded data (digits) is still there and previewed
    assert "data_config" not in app.session_state
    assert len(app.get("plotly_chart")) == 1


@pytest.mark.data
def test_mnist_from_a_local_folder_with_a_preset(app):
    root = shared_path("mnist")
    app.switch_page("pages/data.py").run()
    app.selectbox[0].set_value("mnist").run()
    app.text_input[0].set_value(str(root))
    app.button[0].click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    app.get("segmented_control")[0].set_value("Preset").run()
    app.selectbox[-1].set_value("mnist-case2").run()
    cap = next(n for n in app.number_input if n.label.startswith("Cap"))
    cap.set_value(500).run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    spec = app.session_state["imbalance_spec"]
    assert spec.name == "mnist-case2" and spec.max_per_class == 500
    table = app.dataframe[0].value
    assert list(table["train"]) == [500, 6, 6, 6, 6]
    assert list(table["test"]) == [100] * 5


def test_photo_folder_defaults_colour_64_crop_and_smallest_minority(app, tmp_path):
    rng = np.random.default_rng(0)
    for cls, n in (("normal", 20), ("defect", 5), ("scratch", 8)):
        (tmp_path / "photos" / cls).mkdir(parents=True)
        for i in range(n):  # wide colour photos
            Image.fromarray(rng.integers(0, 256, (30, 50, 3), np.uint8)).save(
                tmp_path / "photos" / cls / f"{i}.jpg")
    app.switch_page("pages/data.py").run()
    app.selectbox[0].set_value("folder").run()
    app.text_input[0].set_value(str(tmp_path / "photos"))
    fit = next(s for s in app.selectbox if s.label == "Non-square images")
    assert fit.value == "crop" and not fit.disabled
    fit.set_value("pad")
    app.button[0].click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    cfg = app.session_state["data_config"]
    assert cfg.fit == "pad" and cfg.image_size is None and cfg.color is None
    assert "images 64×64 with 3 channel(s)" in _texts(app)
    app.get("segmented_control")[0].set_value("Ratio").run()
    assert app.multiselect[0].value == [0]   # classes sorted: defect (5 images) is smallest
    assert not app.exception and not app.error


def test_compare_flags_a_one_step_dcgan_in_the_metrics_table(app):
    app.switch_page("pages/compare.py").run()
    app.multiselect[0].set_value(["baseline", "dcgan"])
    next(n for n in app.number_input if n.label.startswith("Epochs")).set_value(1)
    for name, value in (("min_steps", 1), ("epochs", 1), ("width", 8)):
        next(n for n in app.number_input if n.key == f"param-dcgan-{name}").set_value(value)
    app.button(key="compare_run").click().run()
    finish_job(app)
    assert not app.exception and not app.error, [e.value for e in app.error]
    table = app.dataframe[0].value
    flag = table.loc["DCGAN", "Warnings"]
    assert flag.startswith("⚠") and ("noise" in flag or "unlike-real" in flag), flag
    assert table.loc["Baseline (no oversampling)", "Warnings"] == ""
    assert any(w.value.startswith("**DCGAN**") for w in app.warning)
    # before the run, the page already said that 13 images are few for a GAN
    assert any("learns from only" in c.value for c in app.caption)


def test_class_folder_names_are_shown_as_typed_never_as_markdown(app, tmp_path):
    """Folder names are the user's: '**bold**', a link and LaTeX must reach Streamlit's
    Markdown escaped (shown as typed), on the Data page and in the Compare page's advice."""
    rng = np.random.default_rng(0)
    names = ("**bold**", "[link](http:x)", "$x^2$")
    for cls, n in zip(names, (30, 4, 30), strict=True):
        (tmp_path / "odd" / cls).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(rng.integers(0, 256, (12, 12, 3), np.uint8)).save(
                tmp_path / "odd" / cls / f"{i}.png")
    app.switch_page("pages/data.py").run()
    app.selectbox[0].set_value("folder").run()
    app.text_input[0].set_value(str(tmp_path / "odd"))
    app.button[0].click().run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    headers = [m.value for m in app.markdown if " · " in m.value and "train" in m.value]
    assert any(h.startswith(r"**\*\*bold\*\***") for h in headers), headers
    assert any(r"\[link\]\(http\:x\)" in h for h in headers), headers
    assert any(r"\$x^2\$" in h for h in headers), headers
    assert not any("**bold**" in h and r"\*" not in h for h in headers)
    app.get("segmented_control")[0].set_value("Ratio").run()
    app.switch_page("pages/compare.py").run()
    assert not app.exception
    advice = [c.value for c in app.caption if "lightbulb" in c.value]
    assert advice and all(r"Class **\[link\]\(http\:x\)**" in a for a in advice), advice


@pytest.mark.parametrize("page", ["pages/compare.py", "pages/train.py", "pages/replays.py",
                                  "pages/pareto.py"])
def test_a_damaged_run_store_is_a_message_on_every_page(page, tmp_path, monkeypatch):
    runs = tmp_path / "runs"
    runs.mkdir()
    (runs / "runs.sqlite3").write_bytes(b"this is not a database " * 200)
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(runs))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=TIMEOUT)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    (error,) = [e.value for e in at.error if "run store" in e.value]
    assert "damaged" in error and "Move it aside" in error
    if page == "pages/pareto.py":          # the explorer itself still works
        assert any(b.label == "Run" for b in at.button)
