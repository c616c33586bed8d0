"""The study runner and the drso CLI commands."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from gda_core.cli import main
from gda_core.errors import ConfigError
from gda_core.optimization import CASES, FrontArchive, StudyConfig, run_study


def test_study_tables_have_one_row_per_setting():
    cfg = StudyConfig(algorithms=("nsga2", "spea2"), pops=(12, 16),
                      rates=((0.0, 1.0), (1.0, 0.0)), repeats=2, gens=5)
    seen = []
    archive = FrontArchive(CASES["welding"])
    result = run_study(CASES["welding"], cfg, archive=archive,
                       progress=lambda f, m: seen.append(f))
    assert len(result.runs) == 2 * 2 * 2 * 2
    summary = result.summary()
    assert len(summary) == 8 and set(summary["runs"]) == {2}
    assert {"label", "archive", "M1' mean", "M1' sd", "Delta' mean", "Delta' sd", "HV mean",
            "IGD mean", "points", "seconds"} <= set(summary.columns)
    assert (summary["points"] <= summary["pop"]).all()
    assert {"M1'", "Delta'", "M1' (best-known)", "Delta' (best-known)", "points"} <= set(
        result.runs.columns)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert len(archive.fronts) == 16
    # metrics are computed against the union of every front: IGD >= 0, HV <= the union's
    assert (result.runs["IGD"] >= 0).all()


def test_study_is_deterministic():
    cfg = StudyConfig(algorithms=("nsga2",), pops=(12,), rates=((0.5, 0.5),), repeats=2,
                      gens=5)
    a = run_study(CASES["printing"], cfg).runs.drop(columns="seconds")
    b = run_study(CASES["printing"], cfg).runs.drop(columns="seconds")
    pd.testing.assert_frame_equal(a, b)


def test_study_archive_option_runs_every_genetic_algorithm_both_ways():
    cfg = StudyConfig(algorithms=("nsga2", "npga", "eps"), pops=(12,), rates=((0.5, 0.5),),
                      repeats=1, gens=5, archives=(False, True))
    result = run_study(CASES["welding"], cfg)
    summary = result.summary()
    assert summary["label"].tolist() == ["NSGA-II", "NSGA-II + archive", "NPGA",
                                         "NPGA + archive", "epsilon-constraint"]
    assert (summary.loc[summary["pop"].notna(), "points"] <= 12).all()
    labels = [f.label for f in result.fronts]
    assert sum("+ archive" in label for label in labels) == 2
    back = StudyConfig.from_dict(cfg.to_dict())
    assert back == cfg and StudyConfig.from_dict(
        {k: v for k, v in cfg.to_dict().items() if k != "archives"}).archives == (False,)


def test_a_study_saved_before_the_studys_metrics_reads_back_upgraded():
    from gda_core.optimization import StudyResult

    cfg = StudyConfig(algorithms=("nsga2",), pops=(12,), rates=((0.5, 0.5),), repeats=2,
                      gens=4)
    result = run_study(CASES["welding"], cfg)
    d = result.to_dict()
    old = result.runs.drop(columns=["M1'", "Delta'", "archive"]).rename(
        columns={"M1' (best-known)": "M1'", "Delta' (best-known)": "Delta'"})
    d["runs"] = {"columns": list(old.columns), "rows": old.values.tolist()}
    del d["config"]["archives"]
    back = StudyResult.from_dict(d)
    for col in ("M1'", "Delta'", "M1' (best-known)", "Delta' (best-known)"):
        assert back.runs[col].tolist() == pytest.approx(result.runs[col].tolist()), col
    assert back.summary()["label"].tolist() == ["NSGA-II"]


def test_study_rejects_unknown_algorithms():
    with pytest.raises(ConfigError, match="unknown algorithm"):
        StudyConfig(algorithms=("nope",)).settings()


def test_cli_drso_writes_front_csv(tmp_path, capsys):
    out = tmp_path / "front.csv"
    code = main(["drso", "--case", "welding", "--algorithm", "nsga2", "--pop", "20",
                 "--gens", "10", "--seed", "1", "--out", str(out)])
    assert code == 0
    df = pd.read_csv(out)
    assert list(df.columns) == ["F1", "F2", "mean", "sd", "x1", "x2"]
    assert (df[["x1", "x2"]].abs() <= 1 + 1e-9).all().all()
    assert "non-dominated points" in capsys.readouterr().out


def test_cli_drso_fits_a_csv(tmp_path, capsys):
    from conftest import REPO

    code = main(["drso", "--case", str(REPO / "assets" / "printing_ink.csv"), "--target",
                 "500", "--pop", "12", "--gens", "3"])
    assert code == 0
    assert "R^2 mean 0.927" in capsys.readouterr().out


def test_cli_drso_study(tmp_path, capsys):
    out = tmp_path / "summary.csv"
    code = main(["drso-study", "--case", "printing", "--algorithms", "nsga2",
                 "--pops", "12", "--rates", "0.5:0.5,1:0", "--repeats", "2", "--gens", "4",
                 "--out", str(out), "--quiet"])
    assert code == 0
    assert len(pd.read_csv(out)) == 2
    assert "best-known front" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["drso", "--case", "nowhere"], "printing, welding or a CSV"),
        (["drso", "--case", "welding", "--bounds", "1:-1,-1:1"], "lower bound must be below"),
        (["drso", "--case", "welding", "--algorithm", "bogus"], "unknown algorithm"),
        (["drso", "--case", "welding", "--pc", "0", "--pm", "0"], "never changes"),
        (["drso", "--case", "welding", "--pc", "1.5"], "between 0 and 1"),
        (["drso-study", "--rates", "0.5"], "rate pairs look like"),
        (["drso", "--case", "missing.csv", "--target", "1"], "no such file"),
        (["drso", "--case", str(Path(__file__).parent), "--target", "1"], "is a folder"),
    ],
)
def test_cli_bad_input_is_a_message(args, message, capsys):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


# ------------------------------------------------------------------ studies as jobs
def test_study_job_gives_the_in_process_result_and_uses_the_archive(tmp_path):
    from gda_core.optimization import solve
    from gda_core.optimization.job import list_studies, load_study, start_study
    from gda_core.runs import RunStore, wait_for_run

    case = CASES["welding"]
    earlier = solve(case, "nsga2", pop=20, gens=10, seed=7)   # already in the page's archive
    config = StudyConfig(algorithms=("nsga2", "eps"), pops=(20,), rates=((0.5, 0.5),),
                         repeats=2, gens=10)
    store = RunStore(tmp_path / "runs")
    run_id = start_study(store, case, config, [earlier])
    record = wait_for_run(store, run_id, timeout=120)
    assert record.status == "finished", record.error
    assert [r.id for r in list_studies(store)] == [run_id]
    job = load_study(store, run_id)
    archive = FrontArchive(case)
    archive.add(earlier)
    here = run_study(case, config, archive=archive)
    cols = ["algorithm", "pop", "M1' mean", "Delta' mean", "HV mean", "IGD mean", "runs"]
    pd.testing.assert_frame_equal(job.summary()[cols], here.summary()[cols])
    assert job.case == case and len(job.fronts) == 4
    assert (job.reference.F == here.reference.F).all()       # the archive joined it


def test_a_bad_study_creates_no_run_and_a_stopped_one_keeps_no_summary(tmp_path):
    import time

    from gda_core.errors import RunError
    from gda_core.optimization.job import load_study, start_study
    from gda_core.runs import RunStore, stop_run

    store = RunStore(tmp_path / "runs")
    with pytest.raises(ConfigError, match="unknown algorithm"):
        start_study(store, CASES["welding"], StudyConfig(algorithms=("nope",)))
    assert store.list_runs(limit=None) == []
    big = StudyConfig(algorithms=("nsga2",), pops=(200,), rates=((0.5, 0.5),), repeats=50,
                      gens=2000)
    run_id = start_study(store, CASES["welding"], big)
    deadline = time.monotonic() + 60
    while store.get_run(run_id).status != "running":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert stop_run(store, run_id, timeout=30) == "stopped"
    with pytest.raises(RunError, match="stopped"):
        load_study(store, run_id)
