"""The live view of a training run: charts (colours, legends, axis titles, smoothing, log
scale), the grid slider and GIF export, and the time-left estimate."""

from __future__ import annotations

import io
import json
import math
import os

import numpy as np
import pytest
from conftest import REPO
from PIL import Image
from streamlit.runtime.media_file_manager import MediaFileManager
from streamlit.testing.v1 import AppTest

from gda_core.experiments.train import RUN_KIND, TrainJobConfig, TrainProgress
from gda_core.runs import RunStore
from gda_core.viz import grid_label, grids_gif, png_bytes, smooth_ema, training_figure
from gda_core.viz.training import SERIES_COLOURS


def _events(classes=(None,), steps=40, seed=0):
    """Per-step events as the Train job logs them (``seq`` = overall step)."""
    rng = np.random.default_rng(seed)
    out = []
    for c in classes:
        for s in range(1, steps + 1):
            e = {"seq": len(out) + 1, "step": s, "d_loss": 1.0 + 0.1 * rng.random(),
                 "g_loss": 0.5 + s / steps, "g_grad_norm": 3.0 * rng.random() + 0.1,
                 "d_real": 0.7, "d_fake": 0.3, "q_loss": 0.9, "q_val_acc": 0.5}
            if s % 10 == 0:
                e["diversity"] = 0.5
            if c is not None:
                e["class"] = c
            out.append(e)
    return out


# ------------------------------------------------------------------------------- figure

def test_every_series_has_its_own_colour_legend_per_chart_and_axis_titles():
    fig = training_figure(_events())
    colours = {t.name: t.line.color for t in fig.data}
    assert colours["D loss"] == SERIES_COLOURS["d_loss"]
    assert len(set(colours.values())) == len(colours) == 8  # no two series share one
    legends = {t.legend or "legend" for t in fig.data}
    assert legends == {"legend", "legend2", "legend3", "legend4"}   # one per chart
    for axis in ("yaxis", "yaxis2", "yaxis3", "yaxis4"):
        assert fig.layout[axis].title.text
    assert fig.layout.xaxis4.title.text == "generator step"
    assert fig.layout.yaxis.type != "log"


def test_per_class_models_share_colours_and_differ_in_line_style():
    fig = training_figure(_events(classes=(3, 8)))
    d = [t for t in fig.data if t.name.startswith("D loss")]
    assert [t.name for t in d] == ["D loss · class 3", "D loss · class 8"]
    assert d[0].line.color == d[1].line.color and d[0].line.dash != d[1].line.dash
    assert "each class's model" in fig.layout.xaxis4.title.text


def test_models_trained_at_once_are_listed_in_training_order_whatever_came_first():
    events = _events(classes=(8, 3))  # class 8's worker sent its steps first
    pre = [{**e, "phase": "pretrain"} for e in _events(steps=5)]
    fig = training_figure(events + pre)
    d = [t for t in fig.data if t.name.startswith("D loss")]
    assert [t.name for t in d] == ["D loss · pretraining", "D loss · class 3",
                                   "D loss · class 8"]
    in_turn = training_figure(pre + _events(classes=(3, 8)))  # one after the other
    assert [t.line.dash for t in d] == [t.line.dash for t in in_turn.data
                                        if t.name.startswith("D loss")]


def test_smoothing_is_an_ema_with_the_raw_series_faint_behind():
    weight = 0.6
    events = _events(steps=5)
    raw = [e["g_grad_norm"] for e in events]
    acc, expected = 0.0, []
    for i, v in enumerate(raw, start=1):       # by hand: a_i = w a_(i-1) + (1 - w) v_i
        acc = weight * acc + (1 - weight) * v
        expected.append(acc / (1 - weight**i))  # debiased like TensorBoard's
    assert smooth_ema(raw, weight) == pytest.approx(expected)
    assert expected[0] == pytest.approx(raw[0])

    fig = training_figure(events, smoothing=weight)
    grad = [t for t in fig.data if t.legendgroup == "g_grad_norm"]
    faint, line = grad
    assert faint.showlegend is False and faint.opacity < 0.5 and list(faint.y) == raw
    assert list(line.y) == pytest.approx(expected)
    assert math.isnan(smooth_ema([1.0, math.nan, 3.0], 0.5)[1])   # a gap stays a gap
    with pytest.raises(ValueError):
        training_figure(events, smoothing=1.0)


def test_log_scale_applies_to_losses_and_gradient_norm_only():
    fig = training_figure(_events(), log_y=True)
    assert fig.layout.yaxis.type == "log" and fig.layout.yaxis2.type == "log"
    assert fig.layout.yaxis3.type != "log" and fig.layout.yaxis4.type != "log"
    wgan = [{**e, "d_loss": -abs(e["d_loss"])} for e in _events()]  # a critic's loss
    assert "≤ 0" in training_figure(wgan, log_y=True).layout.yaxis.title.text


def test_long_runs_are_thinned_after_smoothing():
    fig = training_figure(_events(steps=500), max_points=100, smoothing=0.9)
    line = next(t for t in fig.data if t.name == "G loss")
    assert len(line.x) == 100
    full = smooth_ema([e["g_loss"] for e in _events(steps=500)], 0.9)
    assert list(line.y) == pytest.approx(full[::5])


# ---------------------------------------------------------------------------------- GIF

def test_gif_of_grids_has_a_frame_per_grid_enlarged_and_captioned():
    rng = np.random.default_rng(0)
    frames = [png_bytes(rng.integers(0, 256, (17, 35), dtype=np.uint8)) for _ in range(5)]
    gif = grids_gif(frames, labels=[f"step {25 * i}" for i in range(1, 6)], min_width=100)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.format == "GIF" and im.n_frames == 5
        width, height = im.size
        assert width == 35 * 3 and height > 17 * 3      # x3 to reach 100 px, plus a strip
        assert im.info.get("loop") == 0


def test_gif_mixes_sizes_and_colours_and_thins_long_runs():
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 256, (8 + i % 3, 10, 3), dtype=np.uint8) for i in range(40)]
    frames[0] = frames[0][..., 0]                      # a grey one among colour ones
    gif = grids_gif(frames, min_width=10, max_frames=12)
    with Image.open(io.BytesIO(gif)) as im:
        assert im.n_frames == 12 and im.size == (10, 10)
    with pytest.raises(ValueError):
        grids_gif([])


def test_grid_label_names_the_model_of_per_class_runs():
    events = _events(classes=(3, 8), steps=30)
    assert grid_label(25, events) == "step 25 · class 3, its step 25"
    assert grid_label(55, events) == "step 55 · class 8, its step 25"
    assert grid_label(25, _events()) == "step 25"
    assert grid_label(999, events) == "step 999"      # not logged yet


# ----------------------------------------------------------------------- time estimate

class _Ctx:
    """Records what the Train job reports."""

    def __init__(self):
        self.reports = []

    def progress(self, fraction, summary):
        self.reports.append((fraction, summary))


def test_time_left_uses_the_recent_step_rate_not_the_start_up():
    """60 s of start-up (data, FID feature extractor), then 1,000 steps of about 0.1 s."""
    rng = np.random.default_rng(0)
    now = [0.0]
    ctx = _Ctx()
    report = TrainProgress(ctx, clock=lambda: now[0])
    report.setup({"phase": "loading data"})
    now[0] = 40.0
    report.setup({"phase": "training the FID feature extractor"})
    now[0] = 60.0
    durations = rng.uniform(0.07, 0.13, 1000)             # steady, jittery steps
    finish = now[0] + durations.sum()
    checked = 0
    for k in range(1, 1001):
        now[0] += durations[k - 1]
        fraction = k / 1000
        report.step(fraction, {"phase": "training", "class": None}, model=None)
        eta = ctx.reports[-1][1]["eta_s"]
        truth = finish - now[0]
        old = now[0] * (1 - fraction) / fraction      # the page's old average since start
        if now[0] - (60.0 + durations[0]) < 3.0:   # the pace starts at step 1
            assert eta is None                          # "estimating…"
        elif k < 990:                                   # the last second: too few steps left
            assert eta == pytest.approx(truth, rel=0.2), (k, eta, truth)
            checked += 1
        if k == 100:
            assert old > 5 * truth                      # the old estimate, 6x off here
    assert checked > 900
    assert all(s["eta_s"] is None for f, s in ctx.reports[:2])


def test_time_left_is_measured_afresh_for_each_class():
    now = [0.0]
    ctx = _Ctx()
    report = TrainProgress(ctx, clock=lambda: now[0])
    for model, seconds in ((3, 0.1), (8, 0.4)):         # class 8: 4x slower steps
        for k in range(1, 201):
            now[0] += seconds
            done = 0 if model == 3 else 1
            report.step((done + k / 200) / 2, {}, model=model)
            eta = ctx.reports[-1][1]["eta_s"]
            if model == 8 and k <= 8:                   # 3 s of its steps
                assert eta is None                      # a new pace: estimating…
            if model == 8 and k == 100:
                assert eta == pytest.approx(100 * 0.4, rel=0.05)


# --------------------------------------------------------------------------- the page

def _finished_run(root, n_grids=4, classes=(3, 8), status="finished"):
    store = RunStore(root)
    run_id = store.create_run(RUN_KIND, TrainJobConfig(classes=classes).to_dict(), name="fake")
    store.set_status(run_id, "running")
    store.set_worker(run_id, os.getpid())
    store.set_progress(run_id, 0.0, {"phase": "loading data", "eta_s": None})
    store.append_events(run_id, _events(classes=classes, steps=50))
    rng = np.random.default_rng(0)
    for i in range(1, n_grids + 1):
        _add_grid(store, run_id, 25 * i, rng)
    if status == "finished":
        store.set_progress(run_id, 1.0, {"phase": "finished"})
        store.finish_run(run_id)
    return store, run_id


def _add_grid(store, run_id, step, rng):
    grid = rng.integers(0, 256, (17, 71), dtype=np.uint8)
    store.save_artifact(run_id, "grid", png_bytes(grid), step=step)


def _open(run_id) -> AppTest:
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=120)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("pages/train.py").run()
    assert not at.exception, at.exception
    return at


def _caption(at) -> str:
    return at.get("image")[0].proto.imgs[0].caption


def _grid_slider(at):
    return next(s for s in at.select_slider if s.label == "Sample grid at step")


def test_page_scrubs_grids_and_toggles_log_scale_of_a_finished_run(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    store, run_id = _finished_run(tmp_path / "runs")
    store.artifacts(run_id, "grid")[1].path.write_bytes(b"damaged")   # step 50
    downloads = {}                       # what the download button builds when clicked
    add_deferred = MediaFileManager.add_deferred

    def keep(self, data_callable, *args, **kwargs):
        downloads[kwargs.get("file_name") or args[2]] = data_callable
        return add_deferred(self, data_callable, *args, **kwargs)

    monkeypatch.setattr(MediaFileManager, "add_deferred", keep)
    at = _open(run_id)
    slider = _grid_slider(at)
    assert slider.value == 100 and "step 100 · class 8, its step 50" in _caption(at)
    slider.set_value(25).run()
    assert not at.exception
    assert "step 25 · class 3, its step 25" in _caption(at)
    at.toggle(key="train-log-y").set_value(True).run()
    at.slider(key="train-smoothing").set_value(0.8).run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["yaxis"]["type"] == "log"
    assert _grid_slider(at).value == 25                 # settings kept across reruns
    assert any("grids as GIF" in b.proto.label for b in at.get("download_button"))
    assert "finished · 100%" in at.get("progress")[0].proto.text
    _grid_slider(at).set_value(50).run()
    assert not at.exception
    assert any("grid of step 50 cannot be shown" in w.value for w in at.warning)
    with Image.open(io.BytesIO(downloads[f"{run_id}-grids.gif"]())) as gif:
        assert gif.n_frames == 3                        # the damaged grid is left out


def test_live_grid_slider_follows_new_grids_until_moved(tmp_path, monkeypatch):
    monkeypatch.setenv("GDA_RUNS_DIR", str(tmp_path / "runs"))
    store, run_id = _finished_run(tmp_path / "runs", n_grids=2, status="running")
    rng = np.random.default_rng(1)
    at = _open(run_id)
    assert "elapsed · loading data" in at.get("progress")[0].proto.text   # no estimate
    store.set_progress(run_id, 0.3, {"phase": "training", "class": 8, "eta_s": None})
    at.run()
    assert "estimating time left…" in at.get("progress")[0].proto.text
    assert _grid_slider(at).value == 50
    _add_grid(store, run_id, 75, rng)
    store.set_progress(run_id, 0.5, {"phase": "training", "class": 8, "eta_s": 42.0})
    at.run()
    assert _grid_slider(at).value == 75                 # follows the new grid
    assert "about 42 s left" in at.get("progress")[0].proto.text
    _grid_slider(at).set_value(25).run()
    _add_grid(store, run_id, 100, rng)
    at.run()
    assert _grid_slider(at).value == 25                 # moved by the user: stays
    _grid_slider(at).set_value(100).run()               # back at the end: follows again
    _add_grid(store, run_id, 125, rng)
    at.run()
    assert _grid_slider(at).value == 125 and not at.exception
    store.request_stop(run_id)
    store.finish_run(run_id)
