"""Figures and image grids."""

import numpy as np
import pytest

from gda_core.viz import class_counts_figure, confusion_figure, image_grid, metric_bars_figure


def test_image_grid_gray_and_rgb_layout():
    imgs = np.arange(5 * 2 * 2, dtype=np.uint8).reshape(5, 1, 2, 2)
    grid = image_grid(imgs, ncols=3, pad=1)
    assert grid.shape == (2 * 2 + 1, 3 * 2 + 2)
    assert np.array_equal(grid[0:2, 3:5], imgs[1, 0])     # second image, first row
    assert np.array_equal(grid[3:5, 0:2], imgs[3, 0])     # fourth image, second row
    assert (grid[3:5, 6:] == 255).all()                   # empty slot stays padding
    rgb = image_grid(np.zeros((2, 3, 4, 4), np.uint8), ncols=2, pad=0, scale=2)
    assert rgb.shape == (8, 16, 3)


def test_image_grid_rejects_empty():
    with pytest.raises(ValueError):
        image_grid(np.zeros((0, 1, 2, 2), np.uint8))


def test_confusion_figure_counts_and_row_percent():
    cm = np.array([[8, 2], [1, 3]])
    fig = confusion_figure(cm, ["a", "b"], title="SMOTE", minority=[1])
    heat = fig.data[0]
    assert list(heat.x) == ["a", "b*"]
    assert heat.text[0][0] == "8<br>80%" and heat.text[1][0] == "1<br>25%"
    assert fig.layout.title.text == "SMOTE"


def test_confusion_figure_many_classes_shows_counts_only():
    cm = np.eye(8, dtype=int) * 5
    heat = confusion_figure(cm, [str(i) for i in range(8)]).data[0]
    assert heat.text[0][0] == "5" and heat.customdata[0][0] == "5<br>100%"
    assert heat.texttemplate == "%{text}"  # heatmaps fill texttemplate from text only


def test_confusion_figure_empty_row_is_zero_percent():
    fig = confusion_figure(np.array([[0, 0], [1, 1]]), ["a", "b"])
    assert fig.data[0].text[0][0] == "0<br>0%"


def test_class_counts_figure_colours_minorities():
    rows = [{"class": "0", "role": "majority", "train": 100, "test": 10},
            {"class": "1", "role": "minority", "train": 5, "test": 10}]
    fig = class_counts_figure(rows)
    assert list(fig.data[0].y) == [100, 5]
    assert fig.data[0].marker.color[0] != fig.data[0].marker.color[1]


def test_metric_bars_has_baseline_line():
    fig = metric_bars_figure({"baseline": 0.5, "smote": 0.6}, {"smote": 0.02}, baseline=0.5)
    assert list(fig.data[0].y) == [0.5, 0.6]
    assert fig.layout.shapes


def test_runs_figure_one_line_per_run_and_class():
    from gda_core.viz import runs_figure

    a = [{"step": s, "g_loss": 1.0 / s, "class": c} for c in (3, 8) for s in (1, 2, 3)]
    b = [{"step": s, "g_loss": 2.0} for s in (1, 2)]
    fig = runs_figure({"run a": a, "run b": b}, "g_loss")
    assert [t.name for t in fig.data] == ["run a · class 3", "run a · class 8", "run b"]
    assert list(fig.data[2].y) == [2.0, 2.0]
