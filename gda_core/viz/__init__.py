"""Figures and image mosaics shared by the dashboard, exports and reports (no Streamlit)."""

from gda_core.viz.figures import class_counts_figure, confusion_figure, metric_bars_figure
from gda_core.viz.grids import enlarged_png, grids_gif, image_grid, png_bytes
from gda_core.viz.training import grid_label, runs_figure, smooth_ema, training_figure

__all__ = [
    "class_counts_figure",
    "confusion_figure",
    "enlarged_png",
    "grid_label",
    "grids_gif",
    "image_grid",
    "metric_bars_figure",
    "png_bytes",
    "runs_figure",
    "smooth_ema",
    "training_figure",
]
