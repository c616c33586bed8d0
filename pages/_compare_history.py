"""Past comparisons of the run store: saving, listing and reopening them on the Compare page."""

from __future__ import annotations

import time
from collections.abc import Sequence

import pandas as pd
import streamlit as st

from gda_core.errors import GDAError
from gda_core.experiments import (
    ComparisonResult,
    list_comparisons,
    load_comparison,
    save_comparison,
)
from gda_core.runs import RunStore
from gda_core.runs.records import RunRecord
from pages._compare_labels import short_label

RESULT_ID_KEY = "compare_result_id"
"""Session key: run id of the comparison shown on the page (None when not saved)."""
PARTIAL_KEY = "compare_partial"
"""Session key of a comparison that stopped before it finished (shown instead of a result)."""


def comparison_name(result: ComparisonResult) -> str:
    """Label of a saved comparison, e.g. "digits · Baseline, SMOTE · 3 seeds"."""
    seeds = len(result.config.get("seeds", []))
    source = result.config.get("data", {}).get("source", "?")
    methods = ", ".join(short_label(m) for m in result.methods)
    return f"{source} · {methods} · {seeds} seed{'s' if seeds != 1 else ''}"


def save_result(store: RunStore, result: ComparisonResult) -> str | None:
    """Save ``result`` as a run; its id, or None (with a warning) when saving failed."""
    try:
        return save_comparison(store, result, name=comparison_name(result))
    except (GDAError, OSError) as exc:
        st.warning(f"The comparison could not be saved to the run store ({store.root}): {exc}",
                   icon="⚠️")
        return None


def history_frame(records: Sequence[RunRecord]) -> pd.DataFrame:
    """One row per saved comparison: date, dataset, methods, seeds, the best macro-F1 method
    among those that passed the quality gate, and those that failed it."""
    rows = []
    for r in records:
        s = r.summary or {}
        best = s.get("best_f1_method")
        rows.append({
            "Date": time.strftime("%Y-%m-%d %H:%M", time.localtime(r.created)),
            "Dataset": s.get("dataset") or r.config.get("data", {}).get("source", "?"),
            "Methods": ", ".join(short_label(m) for m in s.get("methods", [])),
            "Seeds": len(s.get("seeds", [])),
            "Best macro F1": short_label(best) if best else "–",
            "Failed the gate": ", ".join(short_label(m) for m in s.get("failed_gate", [])),
            "Sample quality": "yes" if s.get("sample_quality") else "",
            "Run": r.id,
        })
    return pd.DataFrame(rows, columns=["Date", "Dataset", "Methods", "Seeds", "Best macro F1",
                                       "Failed the gate", "Sample quality", "Run"])


def _open(store: RunStore, run_id: str, result_key: str, tab_key: str,
          tab_label: str) -> None:
    """Button callback: load the run as the current result and switch to its tab."""
    try:
        result = load_comparison(store, run_id)
    except (GDAError, OSError, ValueError, KeyError) as exc:
        st.session_state["compare_open_error"] = f"Could not open {run_id}: {exc}"
        return
    st.session_state[result_key] = result
    st.session_state.pop(PARTIAL_KEY, None)
    st.session_state[RESULT_ID_KEY] = run_id
    st.session_state[tab_key] = tab_label


def render_history(store: RunStore, *, result_key: str, tab_key: str, tab_label: str) -> None:
    """Table of past comparisons, a select box and an Open button.

    Opening one makes it the page's current result (``session_state[result_key]``) and
    selects the tab ``tab_label`` of the tabs keyed ``tab_key``.
    """
    error = st.session_state.pop("compare_open_error", None)
    if error:
        st.error(error)
    try:
        records = list_comparisons(store)
    except (GDAError, OSError) as exc:
        st.error(f"Could not read the run store ({store.root}): {exc}")
        return
    if not records:
        st.info("No comparison saved yet: every comparison you run here is saved "
                f"automatically to the run store ({store.root}).")
        return
    st.dataframe(history_frame(records), hide_index=True, width="stretch")
    by_id = {r.id: r for r in records}
    c1, c2 = st.columns([4, 1], vertical_alignment="bottom")
    run_id = c1.selectbox("Comparison", list(by_id), key="compare_history_pick",
                          format_func=lambda i: f"{i} · {by_id[i].name}")
    current = st.session_state.get(RESULT_ID_KEY)
    c2.button("Open", key="compare_history_open", type="primary",
              on_click=_open, args=(store, run_id, result_key, tab_key, tab_label),
              disabled=run_id == current,
              help="Show it as the current result" if run_id != current else
              "This comparison is the one shown")
    st.caption(f"{len(records)} saved comparison(s), newest first, in {store.root}.")
