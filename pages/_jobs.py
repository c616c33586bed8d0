"""Background jobs on the pages: find the one a session follows, show progress, Stop.

The jobs themselves run in the run store's worker processes
(:mod:`gda_core.runs.worker`); a page only reads their records.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import streamlit as st

from gda_core.errors import GDAError
from gda_core.runs import RunStore, reap_orphans
from gda_core.runs.eta import format_duration
from gda_core.runs.records import RunRecord
from pages._common import plain


def current_job(store: RunStore, key: str, kind: str) -> str | None:
    """The job this session follows (``session_state[key]``), else the newest active run of
    ``kind`` in the store (a reloaded or new tab picks up a job that is still running)."""
    run_id = st.session_state.get(key)
    if run_id:
        return run_id
    try:
        reap_orphans(store)
        active = [r for r in store.list_runs(kind, 20) if r.is_active]
    except (GDAError, OSError):
        return None
    if active:
        st.session_state[key] = active[0].id
        return active[0].id
    return None


def is_running(store: RunStore, run_id: str) -> bool:
    """Whether run ``run_id`` is still active (False when it ended or is gone; a run whose
    worker died is marked failed first)."""
    try:
        record = store.get_run(run_id)
        if record.is_active:
            reap_orphans(store)
            record = store.get_run(run_id)
    except (GDAError, OSError):
        return False
    return record.is_active


def progress_text(record: RunRecord) -> str:
    """``"running · 45% · seed 0 · dcgan: training … · 1 min elapsed · about 2 min left"``."""
    s = record.summary or {}
    parts = [record.status, f"{record.progress or 0.0:.0%}"]
    if s.get("message"):
        parts.append(str(s["message"]))
    if s.get("runs_total"):
        parts.append(f"{s.get('runs_done', 0)} of {s['runs_total']} runs done")
    if s.get("elapsed_s") is not None:
        parts.append(f"{format_duration(float(s['elapsed_s']))} elapsed")
    eta = s.get("eta_s")
    if record.status == "running" and eta is not None and math.isfinite(float(eta)):
        parts.append(f"about {format_duration(float(eta))} left")
    if record.status == "stopping":
        parts.append("stopping after the current step")
    return " · ".join(parts)


def progress_row(store: RunStore, record: RunRecord, key: str,
                 stop_help: str = "Stop after the current step; what finished is kept.") -> None:
    """The job's progress bar (:func:`progress_text`) and a Stop button keyed ``key``."""
    row = st.container(horizontal=True, vertical_alignment="center")
    row.progress(min(max(record.progress or 0.0, 0.0), 1.0), text=progress_text(record))
    if row.button("Stop", key=key, disabled=record.status == "stopping", help=stop_help):
        try:
            store.request_stop(record.id)
        except GDAError as exc:
            st.warning(str(exc))


def follow_run(store: RunStore, run_id: str, job_key: str, stop_key: str,
               what: str, keeps_partial: bool = False,
               details: Callable[[RunRecord], None] | None = None,
               note: str = "reload or close this tab and it goes on.") -> None:
    """Progress and Stop of a running job (the body of a fragment rerun every second); when
    the run has ended, the whole page reruns to take its result.  ``what`` names the job
    for people ("replay"); ``keeps_partial`` whether Stop keeps what finished;
    ``details(record)`` draws more below the progress (e.g. the runs finished so far);
    ``note`` ends the caption."""
    try:
        record = store.get_run(run_id)
    except (GDAError, OSError) as exc:
        st.session_state.pop(job_key, None)
        st.error(f"The {what} {run_id} cannot be followed: {plain(exc)}")
        return
    if not record.is_active:
        st.rerun()
    if record.name:
        st.markdown(f"**Running:** {plain(record.name)}")
    progress_row(store, record, stop_key,
                 "Stop after the current step; what finished is kept." if keeps_partial else
                 f"Stop now; a stopped {what} keeps nothing (its numbers only make sense "
                 "complete).")
    if details is not None:
        details(record)
    st.caption(f"Running in the background as run **{run_id}**: {note}")


def ended_result(store: RunStore, run_id: str, job_key: str, load, what: str):
    """The result of a job that ended (``load(store, run_id)``), or None after saying why
    there is none: a stopped job keeps nothing (its numbers only make sense complete), a
    failed one shows its error.  The session stops following it."""
    st.session_state.pop(job_key, None)
    try:
        return load(store, run_id)
    except (GDAError, OSError, ValueError, KeyError) as exc:
        try:
            record = store.get_run(run_id)
        except (GDAError, OSError):
            record = None
        if record is not None and record.status == "stopped":
            st.info(f"The {what} was stopped; its numbers only make sense complete, so "
                    "nothing was kept.")
        elif record is not None and record.status == "finished":
            st.error(f"The {what} finished, but its result cannot be shown: {plain(exc)}")
        else:
            st.error(f"The {what} could not run: "
                     f"{plain((record.error if record is not None else None) or exc)}")
        return None
