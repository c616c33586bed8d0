"""Past comparisons of the run store: saving, listing and reopening them on the Compare page."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from gda_core.errors import GDAError
from gda_core.experiments import CompareConfig, list_comparisons, load_comparison
from gda_core.runs import RunStore, reap_orphans
from gda_core.runs.records import RunRecord
from pages._common import plain
from pages._compare_labels import short_label

RESULT_ID_KEY = "compare_result_id"
"""Session key: run id of the comparison shown on the page (None when not saved)."""
PARTIAL_KEY = "compare_partial"
"""Session key of a comparison that stopped before it finished (shown instead of a result)."""


def comparison_name(config: CompareConfig) -> str:
    """Label of a comparison, e.g. "digits · Baseline, SMOTE · 3 seeds"."""
    seeds = len(config.seeds)
    methods = ", ".join(short_label(m) for m in config.methods)
    return f"{config.data.source} · {methods} · {seeds} seed{'s' if seeds != 1 else ''}"


STATUS_LABELS = {"queued": "queued", "running": "running", "stopping": "stopping",
                 "finished": "done", "stopped": "stopped (partial)",
                 "failed": "failed (partial)"}
"""How the list shows a comparison's run status."""


def history_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per comparison: date, status, dataset, methods, seeds, the best macro-F1
    method among those that passed the quality gate, and those that failed it."""
    rows = []
    for r in records:
        s = r.summary or {}
        best = s.get("best_f1_method")
        rows.append({
            "Date": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
            "Status": STATUS_LABELS.get(r.status, r.status) + (
                f" {r.progress:.0%}" if r.is_active and r.progress else ""),
            "Dataset": s.get("dataset") or r.config.get("data", {}).get("source", "?"),
            "Methods": ", ".join(short_label(m) for m in s.get("methods", [])),
            "Seeds": len(s.get("seeds", [])),
            "Best macro F1": short_label(best) if best else "–",
            "Failed the gate": ", ".join(short_label(m) for m in s.get("failed_gate", [])),
            "Sample quality": "yes" if s.get("sample_quality") else "",
            "Run": r.id,
        })
    return pd.DataFrame(rows, columns=["Date", "Status", "Dataset", "Methods", "Seeds",
                                       "Best macro F1",
                                       "Failed the gate", "Sample quality", "Run"])


def _open(store: RunStore, run_id: str, result_key: str, tab_key: str,
          tab_label: str, job_key: str) -> None:
    """Button callback: load the run as the current result (or follow it, while it runs)
    and switch to its tab."""
    try:
        if store.get_run(run_id).is_active:
            st.session_state[job_key] = run_id
            st.session_state[tab_key] = tab_label
            return
    except (GDAError, OSError) as exc:
        st.session_state["compare_open_error"] = f"Could not open {run_id}: {exc}"
        return
    try:
        result = load_comparison(store, run_id)
    except (GDAError, OSError, ValueError, KeyError) as exc:
        st.session_state["compare_open_error"] = f"Could not open {run_id}: {exc}"
        return
    st.session_state[result_key] = result
    if result.is_complete():
        st.session_state.pop(PARTIAL_KEY, None)
    else:
        st.session_state[PARTIAL_KEY] = result
    st.session_state[RESULT_ID_KEY] = run_id
    st.session_state[tab_key] = tab_label


def render_history(store: RunStore, *, result_key: str, tab_key: str, tab_label: str,
                   job_key: str) -> None:
    """Table of past comparisons (running, stopped and failed ones too), a select box and an
    Open button.

    Opening one makes it the page's current result (``session_state[result_key]``), or the
    followed job (``session_state[job_key]``) while it runs, and selects the tab
    ``tab_label`` of the tabs keyed ``tab_key``.  A stopped or failed comparison opens
    with the runs that finished.
    """
    error = st.session_state.pop("compare_open_error", None)
    if error:
        st.error(plain(error))
    try:
        reap_orphans(store)  # a killed worker's comparison shows as failed, with its runs
        records = list_comparisons(store)
    except (GDAError, OSError) as exc:
        st.error(f"Could not read the run store ({plain(store.root)}): {plain(exc)}")
        return
    if not records:
        st.info("No comparison yet: every comparison you run here is kept in the run store "
                f"({store.root}), as it runs.")
        return
    st.dataframe(history_frame(records), hide_index=True, width="stretch")
    by_id = {r.id: r for r in records}
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    run_id = c1.selectbox("Comparison", list(by_id), key="compare_history_pick",
                          format_func=lambda i: f"{i} · {by_id[i].name}")
    current = st.session_state.get(RESULT_ID_KEY)
    c2.button("Open", key="compare_history_open", type="primary",
              on_click=_open, args=(store, run_id, result_key, tab_key, tab_label, job_key),
              disabled=run_id == current,
              help="Show it as the current result" if run_id != current else
              "This comparison is the one shown")
    st.caption(f"{len(records)} comparison(s), newest first, in {store.root}. Stopped and "
               "failed ones keep the method × seed runs that finished.")
