"""Comparisons and ratio sweeps running as background jobs: where they run, start, follow.

The Compare page starts a job (:func:`gda_core.experiments.jobs.start_comparison`) and
follows it here: progress with the time left, Stop, and the runs that finished so far.
A reload or a new tab finds the running job in the run store and follows it again; when
it ends, its result becomes the page's result.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from gda_core.errors import GDAError
from gda_core.experiments import ComparisonResult, load_comparison
from gda_core.experiments.persist import load_sweep
from gda_core.metrics import METRIC_LABELS
from gda_core.runs import RunStore
from gda_core.runs.eta import format_duration
from gda_core.runs.executors import EXECUTORS, ExecutorConfig
from gda_core.runs.records import RunRecord
from pages._common import RESULT_KEY, plain
from pages._compare_history import PARTIAL_KEY, RESULT_ID_KEY
from pages._compare_labels import method_label
from pages._jobs import follow_run

JOB_KEY = "compare_job"
"""Session key: id of the comparison job this session follows."""
SWEEP_JOB_KEY = "compare_sweep_job"
"""Session key: id of the ratio-sweep job this session follows."""
NOTE_KEY = "compare_job_note"
"""Session key: (level, text) about the job that just ended, shown once."""
SWEEP_KEY = "compare_sweep"
"""Session key of the last :class:`~gda_core.experiments.RatioSweep` shown."""
_TABLE_KEY = "compare_job_table"


def executor_settings() -> ExecutorConfig:
    """Where the comparison (and a sweep) runs: this machine, or a Ray cluster."""
    with st.expander("Where it runs"):
        kind = st.radio(
            "Run on", list(EXECUTORS), key="compare_executor", horizontal=True,
            format_func={"local": "This machine (a background worker process)",
                         "ray": "Ray (units in parallel)"}.get,
            help="Either way the comparison runs in the background: reload or close the "
                 "tab and it goes on. Ray runs every method × seed as its own task; the same "
                 "seeds give the same numbers as on this machine.")
        if kind != "ray":
            return ExecutorConfig()
        c1, c2 = st.columns([3, 1])
        address = c1.text_input(
            "Ray cluster address", key="compare_ray_address", placeholder="auto, HOST:6379 or "
            "ray://HOST:10001", help="Empty: start a private Ray instance on this machine "
            "for the run. Needs pip install -r requirements-ray.txt here and on the cluster.")
        cpus = c2.number_input(
            "CPUs per task", 1, 256, None, 1, key="compare_ray_cpus", placeholder="as here",
            help="CPUs Ray reserves per method × seed, and torch threads it uses. Empty: as "
                 "many as here, so the numbers equal a run on this machine; fewer run more "
                 "tasks at once, and a GAN's numbers then differ slightly.")
        token = ""
        if address.strip():
            token = st.text_input(
                "Token file", key="compare_ray_token_file", placeholder="none",
                help="A file holding the cluster's authentication token, when it uses "
                     "Ray's token authentication (on its head node `ray get-auth-token` "
                     "prints it). The path is kept with the run, never the token.")
        return ExecutorConfig("ray", address.strip() or None,
                              None if cpus is None else int(cpus), token.strip() or None)


def _load_ended(store: RunStore, run_id: str, load, what: str, note_key: str):
    """``(record, result)`` of a job that ended, or None after noting why it has no result
    (``session_state[note_key]``, shown once)."""
    try:
        return store.get_run(run_id), load(store, run_id)
    except (GDAError, OSError, ValueError, KeyError) as exc:
        record = run_record(store, run_id)
        error = record.error if record is not None else None
        if record is not None and record.status == "finished":
            text = f"The {what} finished, but its result cannot be shown: {exc}"
        else:
            text = f"The {what} could not run: {error or exc}"
        st.session_state[note_key] = ("error", text)
        return None


def adopt_ended_comparison(store: RunStore, run_id: str) -> None:
    """A comparison job ended: make its result the page's, with a note on how it ended."""
    st.session_state.pop(JOB_KEY, None)
    st.session_state.pop(_TABLE_KEY, None)
    loaded = _load_ended(store, run_id, load_comparison, "comparison", NOTE_KEY)
    if loaded is None:
        return
    record, result = loaded
    st.session_state[RESULT_KEY] = result
    st.session_state[RESULT_ID_KEY] = run_id
    st.session_state.pop(PARTIAL_KEY, None)
    if record.status == "finished" and result.is_complete():
        st.session_state[NOTE_KEY] = ("success", f"Done in {format_duration(result.seconds)}"
                                      + (f" (predicted before it started: "
                                         f"{format_duration(result.predicted_seconds)})"
                                         if math.isfinite(result.predicted_seconds) else "")
                                      + (f"; peak memory {result.peak_memory_mb / 1024:.2f} GiB"
                                         if math.isfinite(result.peak_memory_mb) else "")
                                      + ".")
    else:
        st.session_state[PARTIAL_KEY] = result


def run_record(store: RunStore, run_id: str | None) -> RunRecord | None:
    """The run's record, or None when there is no such run (or the store cannot be read)."""
    if not run_id:
        return None
    try:
        return store.get_run(run_id)
    except (GDAError, OSError):
        return None


def partial_text(result: ComparisonResult, record: RunRecord | None) -> str:
    """Why a comparison's result holds only some of its runs."""
    done, missing = len(result.runs), len(result.missing_runs())
    how = "did not finish"
    if record is not None:
        how = ("was stopped" if record.status == "stopped" else
               f"failed ({record.error})" if record.status == "failed" and record.error else
               f"is {record.status}" if record.is_active else "did not finish")
    return (f"This comparison {how}; showing the {done} of {done + missing} method × seed "
            "runs that finished.")


def show_note() -> None:
    """The note about the job that just ended (once)."""
    note = st.session_state.pop(NOTE_KEY, None)
    if note:
        getattr(st, note[0])(plain(note[1]))


MINORITY_COLUMN = METRIC_LABELS["minority_recall"]


def runs_so_far(result: ComparisonResult) -> pd.DataFrame:
    """One row per finished run: method, seed, macro F1, R_min (mean over minority
    classes), warnings."""
    rows = []
    for r in result.runs:
        codes = sorted({w.get("code", "") for w in r.warnings} - {""})
        rows.append({"Method": method_label(r.method), "Seed": r.seed,
                     "Macro F1": r.metrics.get("f1_macro", math.nan),
                     MINORITY_COLUMN: r.metrics.get("minority_recall", math.nan),
                     "Warnings": "failed: " + r.error if r.error else ", ".join(codes)})
    return pd.DataFrame(rows, columns=["Method", "Seed", "Macro F1", MINORITY_COLUMN,
                                       "Warnings"])


def _partial(store: RunStore, record: RunRecord) -> ComparisonResult | None:
    """The saved partial result, re-read only when another run has finished."""
    done = int((record.summary or {}).get("runs_done", 0))
    cached = st.session_state.get(_TABLE_KEY)
    if cached and cached[0] == record.id and cached[1] == done:
        return cached[2]
    try:
        result = load_comparison(store, record.id) if done else None
    except (GDAError, OSError, ValueError, KeyError):
        result = None
    st.session_state[_TABLE_KEY] = (record.id, done, result)
    return result


def follow_comparison(store: RunStore, run_id: str) -> None:
    """Progress, Stop and the finished runs of a running comparison (rerun every second as
    a fragment); when it ends, the whole page reruns to show the result."""

    def finished_runs(record: RunRecord) -> None:
        partial = _partial(store, record)
        if partial is not None and partial.runs:
            fmt = st.column_config.NumberColumn(format="%.3f")
            st.dataframe(runs_so_far(partial), hide_index=True, width="stretch",
                         column_config={"Macro F1": fmt, MINORITY_COLUMN: fmt})

    follow_run(store, run_id, JOB_KEY, "compare_stop", "comparison", keeps_partial=True,
               details=finished_runs,
               note="reload or close this tab and it goes on (it is listed under *Past "
                    "comparisons*). Each method × seed appears above when it finishes; the "
                    "full report follows at the end, or after **Stop** with what finished.")


def adopt_ended_sweep(store: RunStore, run_id: str) -> None:
    """A sweep job ended: make its result the tab's, with a note on how it ended."""
    st.session_state.pop(SWEEP_JOB_KEY, None)
    loaded = _load_ended(store, run_id, load_sweep, "sweep", NOTE_KEY + "_sweep")
    if loaded is None:
        return
    record, sweep = loaded
    st.session_state[SWEEP_KEY] = sweep
    if record.status != "finished":
        st.session_state[NOTE_KEY + "_sweep"] = (
            "warning", f"The sweep {record.status}; showing the seeds that finished.")


def show_sweep_note() -> None:
    note = st.session_state.pop(NOTE_KEY + "_sweep", None)
    if note:
        getattr(st, note[0])(plain(note[1]))
