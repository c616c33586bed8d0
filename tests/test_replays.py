"""Study replays: every registered replay runs at smoke scale and reports published vs ours."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_path

from gda_core.errors import ConfigError
from gda_core.replays import NO_VERDICT_SMOKE, REPLAYS, ReplayOptions, run_replay
from gda_core.replays.am_table2 import PUBLISHED as AM_PUBLISHED
from gda_core.replays.pareto_study import PUBLISHED as PARETO_PUBLISHED
from gda_core.replays.standins import am_standin

SLOW = {"am-table2", "lt-benchmark"}
NEEDS_DATA = {"lt-benchmark"}  # MNIST and Fashion-MNIST from ../shared/data


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in REPLAYS])
def test_every_replay_runs_at_smoke_scale(name):
    seen = []
    root = str(shared_path("mnist").parent) if name in NEEDS_DATA else None
    result = run_replay(name, ReplayOptions(scale="smoke", root=root),
                        lambda f, m: seen.append(f))
    assert result.name == name
    assert isinstance(result.published, pd.DataFrame)
    # gan-diversity's source reports no numbers, so it quotes none
    assert (len(result.published) == 0) == (name == "gan-diversity")
    assert isinstance(result.ours, pd.DataFrame) and len(result.ours) > 0
    assert result.checks, "a replay states what matched and what did not"
    # smoke scale only checks that the replay runs: no check has a verdict
    assert result.scale == "smoke"
    assert [c.verdict for c in result.checks] == ["no verdict"] * len(result.checks)
    assert {c.reason for c in result.checks} == {NO_VERDICT_SMOKE}
    assert [c["verdict"] for c in result.to_dict()["checks"]] == ["no verdict"] * len(
        result.checks)
    text = result.report()
    assert "published:" in text and "ours:" in text
    assert text.count("[NO VERDICT ]") == len(result.checks)
    assert "[MATCHED" not in text and "[NOT MATCHED]" not in text
    assert seen and max(seen) == pytest.approx(1.0)
    assert result.notes


def test_published_values_are_the_papers():
    f1 = dict(zip(AM_PUBLISHED["method"], AM_PUBLISHED["F1"], strict=True))
    assert f1 == {"Baseline": 0.7369, "SMOTE": 0.7206, "B-SMOTE": 0.7417, "ADASYN": 0.7797,
                  "DCGAN": 0.8611}
    assert PARETO_PUBLISHED[("printing", "nsga2")] == (0.479, 0.448)
    assert PARETO_PUBLISHED[("welding", "eps")] == (0.600, 0.890)


def test_am_standin_has_the_study_shape():
    from gda_core.datasets import PRESETS, make_imbalanced

    splits = am_standin()
    assert len(splits.class_names) == 3
    data = make_imbalanced(splits, PRESETS["am-study"], random_state=0)
    assert data.train.counts() == {0: 500, 1: 25, 2: 25}
    assert set(data.test.counts().values()) == {100}


def test_pareto_replay_states_rankings():
    result = run_replay("pareto-study", ReplayOptions(scale="smoke"))
    claims = [c.claim for c in result.checks]
    assert "printing: lowest M1' (best)" in claims and "welding: ranking by Delta'" in claims
    assert set(result.ours["algorithm"]) == {"NSGA-II", "SPEA2", "NPGA", "eps-constraint"}
    # per-setting rows, each front's size, the compared (best) row of each algorithm
    assert {"pop", "pc", "pm", "M1'", "Delta'", "points", "best"} <= set(result.ours.columns)
    assert result.ours.groupby(["case", "algorithm"])["best"].sum().eq(1).all()
    genetic = result.ours.dropna(subset=["pop"])
    assert (genetic["points"] <= genetic["pop"]).all()
    # the published rows are quoted as single rows, never as means over settings
    assert set(result.published["setting"]) == {"best (not recorded)"}
    ranking = next(c for c in result.checks if c.claim == "printing: ranking by M1'")
    assert ranking.published == "SPEA2 0.399 < NSGA-II 0.479 < NPGA 0.546"
    assert "not recorded" in ranking.source
    text = " ".join(result.notes)
    assert "eqs. 4, 7 and 8" in text and "per-setting tables" in text


def test_bad_replay_options():
    with pytest.raises(ConfigError, match="unknown replay"):
        run_replay("nope")
    with pytest.raises(ConfigError, match="scale must be"):
        ReplayOptions(scale="huge")
    with pytest.raises(ConfigError, match="dataset must be"):
        ReplayOptions(dataset="cifar")


def test_cli_replay_prints_published_and_ours(tmp_path, capsys):
    from gda_core.cli import main

    out = tmp_path / "ours.csv"
    assert main(["replay", "pareto-study", "--scale", "smoke", "--quiet", "--csv",
                 str(out)]) == 0
    text = capsys.readouterr().out
    assert "published:" in text and "ours:" in text
    assert f"checks ({NO_VERDICT_SMOKE}):" in text
    assert text.count("[NO VERDICT ]") == 8 and "[MATCHED" not in text
    assert len(pd.read_csv(out)) == 6
    assert main(["replay", "list"]) == 0
    assert "gan-sensitivity" in capsys.readouterr().out


# ------------------------------------------------------------------ replays as jobs
def test_replay_job_saves_a_result_that_reads_back(tmp_path):
    from gda_core.experiments import ComparisonResult
    from gda_core.replays.job import list_replays, load_replay, start_replay
    from gda_core.runs import RunStore, wait_for_run

    store = RunStore(tmp_path / "runs")
    run_id = start_replay(store, "am-table2", ReplayOptions(scale="smoke"))
    record = wait_for_run(store, run_id, timeout=300)
    assert record.status == "finished", record.error
    assert [r.id for r in list_replays(store)] == [run_id]
    result = load_replay(store, run_id)
    here = run_replay("am-table2", ReplayOptions(scale="smoke"))
    assert result.checks == here.checks
    assert result.ours.round(12).equals(here.ours.round(12))
    assert isinstance(result.extra["comparison"], ComparisonResult)
    assert record.summary["matched"] == here.n_matched


def test_a_stopped_replay_keeps_no_numbers(tmp_path):
    import time

    from gda_core.errors import RunError
    from gda_core.replays.job import load_replay, start_replay
    from gda_core.runs import RunStore, stop_run

    store = RunStore(tmp_path / "runs")
    run_id = start_replay(store, "gan-sensitivity", ReplayOptions(scale="quick"))
    deadline = time.monotonic() + 120
    while (store.get_run(run_id).progress or 0) <= 0:
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert stop_run(store, run_id, timeout=30) == "stopped"
    assert store.get_run(run_id).summary["message"] == "stopped"
    with pytest.raises(RunError, match="stopped"):
        load_replay(store, run_id)


def test_replays_load_their_data_through_the_decoded_cache(tmp_path, monkeypatch):
    # a replay on the user's photos or MNIST files decodes them once; later replays (and
    # comparisons on the same folder) read the cache
    from PIL import Image

    import gda_core.replays.am_table2 as am
    import gda_core.replays.data as replay_data
    from gda_core.datasets import default_cache_dir

    calls: list[dict] = []

    class Enough(Exception):
        pass

    def spy(source, **kwargs):
        calls.append({"source": source, **kwargs})
        raise Enough

    rng = np.random.default_rng(0)
    for name in ("a-normal", "b-defect", "c-defect"):
        (tmp_path / "photos" / name).mkdir(parents=True)
        for i in range(3):
            Image.fromarray(rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)).save(
                tmp_path / "photos" / name / f"{i}.png")
    monkeypatch.setattr(am, "load_source", spy)
    with pytest.raises(Enough):
        run_replay("am-table2", ReplayOptions(scale="smoke", path=str(tmp_path / "photos")))
    monkeypatch.setattr(replay_data, "load_source", spy)
    with pytest.raises(Enough):
        replay_data.gan_data(ReplayOptions(scale="smoke", root=str(tmp_path)))
    assert [c["source"] for c in calls] == ["folder", "mnist"]
    assert all(c["cache_dir"] == default_cache_dir() is not None for c in calls)
