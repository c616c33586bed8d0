"""AppTest of the Replays page: the smallest replay runs from the UI as a background job."""

from __future__ import annotations

import pandas as pd
from conftest import REPO, finish_job
from streamlit.testing.v1 import AppTest

from gda_core.replays import NO_VERDICT_SMOKE, Check, ReplayResult
from gda_core.viz.grids import image_grid, png_bytes


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
    assert at.metric[0].value == "no verdict"  # smoke scale: it only checks that it runs
    assert any(i.value.startswith(NO_VERDICT_SMOKE.capitalize()) for i in at.info)
    frames = [d.value for d in at.dataframe]
    checks = next(f for f in frames if "claim" in f.columns)
    assert checks["verdict"].tolist() == [f"no verdict: {NO_VERDICT_SMOKE}"] * 8
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


def test_replays_page_shows_each_verdict_its_rule_and_the_images(tmp_path, monkeypatch):
    """A finished result with every kind of verdict: the page shows them as they are."""
    import numpy as np

    monkeypatch.setenv("GDA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    grid = png_bytes(image_grid(np.zeros((4, 1, 8, 8), np.uint8), ncols=2))
    checks = [Check("DCGAN learns every class", "", "FID 50 < 1000", True,
                    rule="matched: FID < 0.5 × the noise FID", source="our expectation"),
              Check("MAD-GAN covers more", "", "0.1 vs 0.7", False, rule="matched: ..."),
              Check("MAD-GAN has a lower FID", "", "900 vs 50", None, rule="matched: ...",
                    reason="DCGAN did not learn every class")]
    result = ReplayResult("gan-diversity", "Diversity", pd.DataFrame(columns=["model"]),
                          pd.DataFrame({"model": ["DCGAN"], "FID": [50.0]}), checks,
                          ["a note"], 1.0, {"samples": {"DCGAN": grid}}, "quick")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/replays.py").run()
    at.session_state["replay_results"] = {"gan-diversity": result}
    at.selectbox(key="replay_name").set_value("gan-diversity").run()
    assert not at.exception
    assert at.metric[0].value == "1 of 2 matched (1 without a verdict)"
    frame = next(d.value for d in at.dataframe if "claim" in d.value.columns)
    assert frame["verdict"].tolist() == ["matched", "not matched",
                                         "no verdict: DCGAN did not learn every class"]
    assert frame["rule"].tolist()[0] == "matched: FID < 0.5 × the noise FID"
    assert any(c.value == "The source reports no numbers for this experiment."
               for c in at.caption)
    assert len(at.get("image")) == 1
