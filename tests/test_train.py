"""Training runs: config, the worker job, the CLI `train` command and the Train page."""

from __future__ import annotations

import json
import time

import pytest
from conftest import REPO
from streamlit.testing.v1 import AppTest

from gda_core.cli import main
from gda_core.errors import ConfigError
from gda_core.experiments.train import JOB, RUN_KIND, TrainJobConfig
from gda_core.runs import RunStore, start_worker, wait_for_run

TINY = {"epochs": 1, "min_steps": 12, "batch_size": 16, "latent_dim": 8}


def test_config_round_trip_and_validation():
    cfg = TrainJobConfig(synthesizer="madgan", params={"epochs": 2}, classes=(3,), seed=4)
    assert TrainJobConfig.from_dict(json.loads(json.dumps(cfg.to_dict()))) == cfg
    with pytest.raises(ConfigError, match="unknown synthesizer"):
        TrainJobConfig(synthesizer="vae").validate()
    with pytest.raises(ConfigError, match="d_steps"):
        TrainJobConfig(params={"d_steps": 99}).validate()


def test_job_in_a_worker_logs_events_grids_and_checkpoint(tmp_path):
    store = RunStore(tmp_path)
    cfg = TrainJobConfig(params=TINY, classes=(3,), sample_every=5)
    run_id = store.create_run(RUN_KIND, cfg.to_dict())
    start_worker(store.root, run_id, JOB)
    run = wait_for_run(store, run_id, timeout=120)
    assert run.status == "finished", run.error
    events = store.events(run_id)
    assert len(events) == 12 and {e["class"] for e in events} == {3}
    assert {"d_loss", "g_loss", "g_grad_norm", "d_real", "d_fake"} <= set(events[0])
    grids = store.artifacts(run_id, "grid")
    assert [g.step for g in grids] == [1, 5, 10, 12]  # step 1, every sample_every, the end
    assert store.latest_artifact(run_id, "checkpoint").stat().st_size > 0
    assert run.summary["trained_classes"] == [3] and run.progress == 1.0

    from gda_core.synthesizers import SYNTHESIZERS

    synth = SYNTHESIZERS["dcgan"].load(store.latest_artifact(run_id, "checkpoint"))
    assert synth.sample(4, 3).shape == (4, 1, 8, 8)


def test_job_with_bad_classes_fails_with_a_message(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params=TINY, classes=(42,)).to_dict())
    start_worker(store.root, run_id, JOB)
    run = wait_for_run(store, run_id, timeout=120)
    assert run.status == "failed" and "classes among 0..9" in run.error


def test_cli_train(tmp_path, capsys):
    out = tmp_path / "t.json"
    code = main(["train", "--synthesizer", "dcgan", "--class", "8", "--epochs", "1",
                 "--param", "min_steps=10", "--param", "batch_size=16",
                 "--runs-dir", str(tmp_path / "runs"), "--json", str(out)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "finished" in captured.out and "checkpoint:" in captured.out
    assert "step 10/10" in captured.err
    data = json.loads(out.read_text())
    assert data["status"] == "finished" and data["config"]["classes"] == [8]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--synthesizer", "vae"], "unknown synthesizer"),
        (["--param", "d_steps=50"], "d_steps must be at most 10"),
        (["--param", "loss=hinge"], "loss must be one of"),
        (["--param", "oops"], "name=value"),
        (["--class", "12"], "class 12 does not exist"),
    ],
)
def test_cli_train_bad_input(args, message, tmp_path, capsys):
    code = main(["train", "--runs-dir", str(tmp_path), *args])
    err = capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err


def _chart_points(at: AppTest) -> int:
    charts = at.get("plotly_chart")
    if not charts:
        return 0
    spec = json.loads(charts[0].proto.spec)
    return sum(len(trace.get("x", [])) for trace in spec["data"])


def test_train_page_shows_new_points_between_reruns(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert any("press **Train**" in i.value for i in at.info)
    at.number_input(key="train-dcgan-epochs").set_value(3)
    at.number_input(key="train-dcgan-min_steps").set_value(4000)
    next(b for b in at.button if b.label == "Train").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    run_id = at.query_params["run"]
    run_id = run_id[0] if isinstance(run_id, list) else run_id
    store = RunStore(tmp_path / "runs")
    seen = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and len(seen) < 3:
        time.sleep(1.0)
        at.run()
        points = _chart_points(at)
        if points and (not seen or points > seen[-1]):
            seen.append(points)
    assert len(seen) >= 2, f"the chart never grew: {seen}"
    assert store.get_run(run_id).kind == RUN_KIND
    stop = next(b for b in at.button if b.label == "Stop")
    stop.click().run()
    run = wait_for_run(store, run_id, timeout=60)
    assert run.status in ("stopped", "finished")
    at.run()
    assert not at.exception


def test_grids_of_per_class_models_do_not_overwrite_each_other(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params=TINY, classes=(3, 8),
                                                    sample_every=6).to_dict())
    start_worker(store.root, run_id, JOB)
    assert wait_for_run(store, run_id, timeout=120).status == "finished"
    grids = store.artifacts(run_id, "grid")
    steps = [g.step for g in grids]
    assert steps == [1, 6, 12, 13, 18, 24]  # each model: its step 1, then every 6 steps
    assert all(g.path.exists() for g in grids)


def test_models_trained_at_once_number_each_grid_as_the_step_it_shows(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params={**TINY, "n_jobs": 2},
                                                    classes=(3, 8),
                                                    sample_every=6).to_dict())
    start_worker(store.root, run_id, JOB)
    run = wait_for_run(store, run_id, timeout=120)
    assert run.status == "finished", run.error
    events = store.events(run_id)
    assert sorted(e["class"] for e in events) == [3] * 12 + [8] * 12
    by_seq = {e["seq"]: e for e in events}
    grids = store.artifacts(run_id, "grid")
    # a grid is numbered as the event of its own step: each model's 1, 6 and 12
    shown = sorted((by_seq[g.step]["class"], by_seq[g.step]["step"]) for g in grids)
    assert shown == [(3, 1), (3, 6), (3, 12), (8, 1), (8, 6), (8, 12)]
    assert run.progress == 1.0 and run.summary["trained_classes"] == [3, 8]


def test_stopped_run_keeps_its_progress(tmp_path):
    store = RunStore(tmp_path)
    params = {**TINY, "min_steps": 100_000}
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params=params, classes=(3,)).to_dict())
    start_worker(store.root, run_id, JOB)
    deadline = time.monotonic() + 60
    while not store.events(run_id) and time.monotonic() < deadline:
        time.sleep(0.2)
    store.request_stop(run_id)
    run = wait_for_run(store, run_id, timeout=60)
    assert run.status == "stopped" and run.progress < 0.5
    assert run.summary["phase"] == "stopped"
    assert store.latest_artifact(run_id, "checkpoint") is not None


def test_finished_run_settings_go_to_compare(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    params = {**TINY, "lr_d": 1e-4, "d_steps": 2}
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params=params, classes=(3,)).to_dict())
    start_worker(store.root, run_id, JOB)
    assert wait_for_run(store, run_id, timeout=120).status == "finished"

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    overlay = next(m for m in at.multiselect if m.label == "Compare runs")
    charts_before = len(at.get("plotly_chart"))
    overlay.set_value([run_id]).run()
    assert not at.exception and len(at.get("plotly_chart")) == charts_before + 1
    next(b for b in at.button if b.label == "Use these settings in Compare").click().run()
    assert not at.exception
    assert at.multiselect[0].value == ["baseline", "smote", "dcgan"]
    assert at.number_input(key="param-dcgan-d_steps").value == 2
    assert at.number_input(key="param-dcgan-lr_d").value == pytest.approx(1e-4)
    assert any("retrains it for every seed" in i.value for i in at.info)


def test_job_logs_fid_every_n_steps(tmp_path):
    store = RunStore(tmp_path)
    params = {**TINY, "min_steps": 40}
    cfg = TrainJobConfig(params=params, classes=(3,), sample_every=10, quality_every=20)
    run_id = store.create_run(RUN_KIND, cfg.to_dict())
    start_worker(store.root, run_id, JOB)
    run = wait_for_run(store, run_id, timeout=180)
    assert run.status == "finished", run.error
    scored = [e for e in store.events(run_id) if "fid" in e]
    assert [e["step"] for e in scored] == [20, 40]
    assert all(e["fid"] >= 0 and e["class"] == 3 for e in scored)
    assert list((tmp_path / "feature-cache").glob("extractor-*.pt"))  # cached for next time
    with pytest.raises(ConfigError, match="quality_every"):
        TrainJobConfig(quality_every=-1).validate()


def test_train_page_few_image_settings_and_cgan_learns_every_class(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "**Few images**" in [m.value for m in at.markdown]
    assert at.selectbox(key="train-dcgan-augment").value == "auto"
    assert at.selectbox(key="train-dcgan-pretrain").value == "off"
    at.selectbox[0].set_value("cgan").run()
    assert not at.exception
    assert any("Learns every class at once" in c.value for c in at.caption)
    assert not [m for m in at.multiselect if m.label == "Classes to learn"]


def test_train_job_pretrains_then_fine_tunes(tmp_path):
    store = RunStore(tmp_path)
    cfg = TrainJobConfig(synthesizer="dcgan", classes=(3, 8), sample_every=5,
                      params={"epochs": 1, "min_steps": 4, "width": 8, "latent_dim": 8,
                              "pretrain": "all", "pretrain_steps": 6})
    run_id = store.create_run(RUN_KIND, cfg.to_dict())
    start_worker(store.root, run_id, JOB)
    run = wait_for_run(store, run_id, timeout=120)
    assert run.status == "finished", run.error
    events = store.events(run_id)
    assert [e.get("phase") for e in events[:6]] == ["pretrain"] * 6
    assert [e.get("class") for e in events[6:]] == [3] * 4 + [8] * 4
    assert run.progress == 1.0


@pytest.mark.parametrize("damage", ["corrupt", "truncated", "deleted"])
def test_a_damaged_or_missing_sample_grid_is_a_message(damage, tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    store = RunStore(tmp_path / "runs")
    run_id = store.create_run(RUN_KIND, TrainJobConfig(params=TINY, classes=(3,)).to_dict())
    start_worker(store.root, run_id, JOB)
    assert wait_for_run(store, run_id, timeout=120).status == "finished"
    grid = store.artifacts(run_id, "grid")[-1].path
    if damage == "corrupt":
        grid.write_bytes(b"this is not a PNG at all")
    elif damage == "truncated":
        grid.write_bytes(grid.read_bytes()[:60])
    else:
        grid.unlink()
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    warning = next(w.value for w in at.warning if "sample grid" in w.value)
    assert ("missing" if damage == "deleted" else "damaged") in warning
    assert len(at.get("plotly_chart")) >= 1          # the rest of the run is still shown
