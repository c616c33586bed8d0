"""Gallery view of a comparison: real images beside each method's synthesized ones, with the
nearest real training image and its distance under every synthesized image.

The synthesized images are those the result stores (a few per method and class, from
the first seed).  Their neighbours are searched among *all* real training images of the
class for that seed, rebuilt from the saved data and imbalance settings when the data
can be loaded here and the rebuild matches the stored real samples; otherwise among the
few real images stored in the result (and the page says so).
"""

from __future__ import annotations

import json

import numpy as np
import streamlit as st

from gda_core.errors import GDAError
from gda_core.experiments import BASELINE, CompareConfig, ComparisonResult
from gda_core.experiments.compare import split_for_unit
from gda_core.metrics.gate import gate_findings
from gda_core.metrics.memorisation import COPY_RATIO
from gda_core.viz.gallery import gallery_grid, gallery_rows
from pages._common import display_scale, load_config
from pages._compare_labels import short_label


@st.cache_data(show_spinner="Rebuilding the training split…", max_entries=4)
def _training_split(config: str, seed: int, fold: int | None = None
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The real images and labels the methods learned from in one unit (the training
    images less the validation hold-out), from the JSON-encoded comparison config."""
    cfg = CompareConfig.from_dict(json.loads(config))
    split = split_for_unit(cfg, load_config(cfg.data), seed, fold)
    return split.fit.images, split.fit.labels


def class_reference(result: ComparisonResult, cls: int) -> tuple[np.ndarray, bool]:
    """Real training images of class ``cls`` to search neighbours among.

    Returns
    -------
    (images, complete) : tuple
        Every training image of the class (``complete`` True) when the split can be
        rebuilt and matches the stored real samples, else the stored real samples.
    """
    stored = result.real_samples.get(cls, np.zeros((0, 1, 1, 1), np.uint8))
    cfg = result.config
    fold = 0 if result.protocol.get("kind") == "cv" else None
    try:
        images, labels = _training_split(json.dumps(cfg, sort_keys=True), int(cfg["seeds"][0]),
                                         fold)
    except (GDAError, OSError, KeyError, TypeError, ValueError):
        return stored, False
    own = images[labels == cls]
    if own.shape[1:] != stored.shape[1:] or not np.array_equal(own[:len(stored)], stored):
        return stored, False
    return own, True


def render_gallery(result: ComparisonResult, key: str) -> None:
    """Class select, then one image: real row, and per method synthesized + nearest real."""
    methods = [m for m in result.methods if m != BASELINE]
    with_samples = sorted({c for m in methods for c in result.synthetic_samples.get(m, {})})
    classes = with_samples or list(result.minority_classes)
    if not methods or not classes or not result.real_samples:
        st.caption("No oversampler ran, so there is nothing synthesized to show.")
        return
    cls = st.selectbox("Class", classes, key=f"{key}-gallery-class", width=320,
                       format_func=lambda c: f"{result.class_names[c]}"
                       + (" (minority)" if c in result.minority_classes else ""))
    reference, complete = class_reference(result, cls)
    fold = 0 if result.protocol.get("kind") == "cv" else None
    real = result.real_samples.get(cls)
    if real is None or not len(real):
        st.caption("No real image of this class is stored.")
        return
    synthesized = {short_label(m): result.synthetic_samples.get(m, {}).get(cls) for m in methods}
    rows = gallery_rows(real, synthesized, reference)
    verdicts = {short_label(m): gate_codes(result, m, cls) for m in methods}
    for row in rows[1:]:
        codes = verdicts.get(row.label, [])
        if codes:
            row.label = f"{row.label} ⚠ {', '.join(codes)}"
        row.mark_close = not {"noise", "unlike-real"} & set(codes)
    aligned = len(reference) >= 2
    grid = gallery_grid(rows, scale=display_scale(real.shape[-1], 56),
                        close=COPY_RATIO if aligned else None)
    st.image(grid)
    where = ("first fold of the first repeat" if fold is not None else
             f"seed {result.config['seeds'][0]}")
    source = (f"all {len(reference)} real training images of the class ({where})"
              if complete else
              f"only the {len(reference)} real images stored with the result (the data "
              "could not be reloaded here)")
    number = ("its copy ratio: the distance, after aligning flips and shifts of a few "
              "pixels, over that training image's distance to its nearest other training "
              f"image (a new real image: about 1; **copy** = identical, orange = below "
              f"{COPY_RATIO:g}, a near copy)" if aligned else
              "the L2 pixel distance (pixels in [0, 1]; **copy** = identical)")
    st.caption(
        f"First row: real training images. Under each method's synthesized images: the "
        f"nearest real image among {source} and {number}. Rows marked ⚠ failed the "
        "quality gate for this class; noisy or featureless images are never marked as near "
        "copies. SMOTE-family methods interpolate between real images, so some sit close "
        "to them by construction; random oversampling repeats them exactly. For a "
        "generative model, many near copies mean memorisation.")


def gate_codes(result: ComparisonResult, method: str, cls: int) -> list[str]:
    """The quality gate's verdicts on ``method``'s images of class ``cls`` (first seed that
    scored them)."""
    for run in result.runs_of(method):
        scores = run.quality.get(cls)
        if scores:
            return [f.code for f in gate_findings(scores)]
    return []

