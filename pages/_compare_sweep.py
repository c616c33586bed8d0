"""Real : synthetic ratio sweep section of the Compare page (runs
:func:`gda_core.experiments.run_ratio_sweep` as a background job and draws its summary)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pandas as pd
import streamlit as st

from gda_core.errors import ConfigError, GDAError
from gda_core.experiments import (
    BASELINE,
    DEFAULT_RATIOS,
    SCALAR_METRICS,
    CompareConfig,
    RatioSweep,
)
from gda_core.experiments.jobs import start_sweep
from gda_core.metrics import METRIC_LABELS
from gda_core.oversampling import OVERSAMPLERS
from gda_core.runs import RunStore
from gda_core.runs.executors import ExecutorConfig
from gda_core.viz.comparison import ratio_sweep_figure
from pages._common import plain, standby_workers
from pages._compare_job import (
    SWEEP_JOB_KEY,
    SWEEP_KEY,
    adopt_ended_sweep,
    show_sweep_note,
)
from pages._compare_labels import method_label
from pages._jobs import current_job, follow_run, is_running


def parse_ratios(text: str) -> list[float]:
    """``"0, 0.5, 1"`` -> ``[0.0, 0.5, 1.0]`` (commas, semicolons or spaces).

    Raises
    ------
    ConfigError
        For an empty text or a value that is not a number.
    """
    parts = [p for p in re.split(r"[,;\s]+", text.strip()) if p]
    if not parts:
        raise ConfigError("give at least one ratio, e.g. 0, 0.5, 1, 2, 5")
    try:
        return [float(p) for p in parts]
    except ValueError:
        raise ConfigError(f"ratios must be numbers separated by commas, e.g. 0, 0.5, 1, 2, 5; "
                          f"got {text!r}") from None


def summary_frame(sweep: RatioSweep, metric: str) -> pd.DataFrame:
    """The sweep's summary for ``metric``, labelled for people."""
    s = sweep.summary(metric)
    interval = [f"[{lo:.3f}, {hi:.3f}]" if pd.notna(lo) else "–"
                for lo, hi in zip(s["ci_low"], s["ci_high"], strict=True)]
    return pd.DataFrame({
        "Synthesized : real": s["ratio"].map("{:g}".format),
        METRIC_LABELS.get(metric, metric): s["mean"].map("{:.3f}".format),
        "95% interval": interval,
        "Seeds": s["n"],
        "Synthesized images": s["n_generated"].round().astype("Int64"),
    })


def render_sweep(config: Callable[[], CompareConfig], methods: list[str],
                 store: RunStore, executor: ExecutorConfig | None = None) -> None:
    """Method, ratios and metric inputs, a Run button, the running job's progress and Stop,
    the chart and table.

    ``config`` builds the comparison settings chosen above on the page (seeds,
    classifier, method settings); ``methods`` are the methods chosen there; ``executor``
    where the sweep's seeds run.  The sweep runs as a background job
    (:func:`gda_core.experiments.jobs.start_sweep`), kept in the run store.
    """
    st.markdown(
        "How does a metric change with the amount of synthesized data? For a ratio *r*, "
        "every minority class gets *r* × its real count of synthesized images (0 = the "
        "baseline). It uses the data, seeds, classifier and method settings above.")
    oversamplers = [m for m in methods if m != BASELINE and not getattr(
        OVERSAMPLERS.get(m), "uses_own_classifier", False)]  # +Q methods have no share
    if not oversamplers:
        st.info("Choose at least one oversampler in **Methods** above to sweep it.")
        return
    c1, c2, c3 = st.columns([2, 2, 2])
    method = c1.selectbox("Method", oversamplers, format_func=method_label,
                          key="sweep_method")
    text = c2.text_input("Ratios (synthesized : real)",
                         ", ".join(f"{r:g}" for r in DEFAULT_RATIOS), key="sweep_ratios")
    metric = c3.selectbox("Metric", list(SCALAR_METRICS), key="sweep_metric",
                          index=list(SCALAR_METRICS).index("f1_macro"),
                          format_func=lambda m: METRIC_LABELS.get(m, m),
                          help="Every metric is kept: change it after the run to redraw.")
    try:
        ratios = parse_ratios(text)
    except ConfigError as exc:
        st.error(str(exc))
        return
    cfg = config()
    n_runs = len(ratios) * len(cfg.seeds)
    job = current_job(store, SWEEP_JOB_KEY, "ratio_sweep")
    running = job is not None and is_running(store, job)
    row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
    clicked = row.button("Run sweep", key="sweep_run", type="primary", disabled=running)
    row.caption(f"{len(ratios)} ratios × {len(cfg.seeds)} seed(s) = {n_runs} classifier "
                "trainings; the synthesizer is fitted once per seed")
    if clicked:
        try:
            st.session_state[SWEEP_JOB_KEY] = start_sweep(store, cfg, method, ratios, metric,
                                                          executor=executor,
                                                          standby=standby_workers())
        except GDAError as exc:
            st.error(f"The sweep could not start: {plain(exc)}")
        else:
            st.rerun()  # redraw with the button disabled and the job's progress
    if job is not None and not is_running(store, job):
        adopt_ended_sweep(store, job)
        job = None
    show_sweep_note()
    if job is not None:
        st.fragment(follow_run, run_every=1.0)(store, job, SWEEP_JOB_KEY, "sweep_stop",
                                                "sweep", keeps_partial=True)
    sweep = st.session_state.get(SWEEP_KEY)
    if sweep is None:
        return
    st.markdown(f"**{method_label(sweep.method)}**: "
                f"{METRIC_LABELS.get(metric, metric)} against the ratio "
                f"({len(sweep.config.get('seeds', []))} seed(s), {sweep.seconds:.0f} s)")
    errors = sweep.runs["error"].dropna()
    for err in dict.fromkeys(errors):
        st.warning(f"Some points failed: {err}", icon="⚠️")
    fig = ratio_sweep_figure(sweep.summary(metric), metric=METRIC_LABELS.get(metric, metric),
                             method=method_label(sweep.method))
    st.plotly_chart(fig, width="stretch", key="sweep_chart")
    st.dataframe(summary_frame(sweep, metric), hide_index=True, width="stretch")
    st.download_button("Download the sweep (CSV, one row per ratio and seed)",
                       lambda: sweep.runs.to_csv(index=False), file_name="gda-ratio-sweep.csv",
                       mime="text/csv", on_click="ignore", key="sweep_csv")
