"""AppTest of the Replays page: the smallest replay runs from the UI as a background job."""

from __future__ import annotations

from conftest import REPO, finish_job
from streamlit.testing.v1 import AppTest


def test_replays_page_runs_the_pareto_replay(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/replays.py").run()
    assert not at.exception
    assert any("Press **Run replay**" in i.value for i in at.info)
    at.selectbox(key="replay_name").set_value("pareto-study").run()
    scale = next(s for s in at.selectbox if s.label == "Scale")
    scale.set_value("smoke")
    at.button[0].click().run()  # the form's submit button: a background job
    assert finish_job(at, "replay_job").status == "finished"
    assert not at.exception and not at.error
    assert at.metric[0].label == "Claims matched"
    assert " of 8" in at.metric[0].value
    frames = [d.value for d in at.dataframe]
    assert any("claim" in f.columns for f in frames)
    assert any("M1'" in f.columns and "runs" in f.columns for f in frames)  # ours
    assert any("published" in c.value.lower() or "normalised" in c.value for c in at.caption)


def test_replays_page_reports_bad_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/replays.py").run()
    at.selectbox(key="replay_name").set_value("am-table2").run()
    next(t for t in at.text_input if "AM image folder" in t.label).set_value(
        str(tmp_path / "missing"))
    next(s for s in at.selectbox if s.label == "Scale").set_value("smoke")
    at.button[0].click().run()
    assert finish_job(at, "replay_job").status == "failed"
    assert not at.exception
    assert at.error and "could not run" in at.error[0].value
