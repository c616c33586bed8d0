"""Session state of the Pareto page: the Streamlit side only.

The logic (runs, tables, picks, units) is in :mod:`gda_core.optimization.explorer`; this
module keeps what needs ``st.session_state`` or widgets: each case's
:class:`~gda_core.optimization.explorer.CaseState` lives in
``st.session_state[STATE_KEY][case_key(case)]``, the upload widgets remember the last file
that fitted, and a pick request (tests, deep links) is applied once.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import streamlit as st

from gda_core.errors import GDAError
from gda_core.optimization import DRSOCase, ExperimentFit, Front, FrontArchive
from gda_core.optimization.explorer import CaseState, case_key, fit_upload, pick_from_selection
from pages._common import plain

EXAMPLE_CSV = Path(__file__).resolve().parents[1] / "assets" / "printing_ink.csv"
STATE_KEY = "pareto_cases"  # case key -> CaseState
PICK_REQUEST_KEY = "pareto_pick_request"  # a selection dict to apply (tests, deep links)
UPLOAD_KEY = "pareto_upload"  # (name, bytes) of the CSV in use
UPLOAD_SEEN_KEY = "pareto_upload_seen"  # digest of the last file taken from the uploader
GOOD_FIT_KEY = "pareto_good_fit"  # (name, ExperimentFit) of the last CSV that fitted
CHART_KEY = "pareto-chart"


def case_state(case: DRSOCase) -> CaseState:
    """The state of ``case`` in this session, created on first use."""
    cases = st.session_state.setdefault(STATE_KEY, {})
    key = case_key(case)
    if key not in cases:
        cases[key] = CaseState(FrontArchive(case))
    return cases[key]


def clear_runs(case: DRSOCase) -> None:
    """Forget the runs, the pick and the study of ``case`` (the shortlist stays)."""
    case_state(case).clear_runs()


def example_bytes() -> bytes:
    """The example experiment (Box & Draper's printing ink) as CSV bytes."""
    return EXAMPLE_CSV.read_bytes()


def uploaded_fit() -> tuple[str, ExperimentFit] | None:
    """The upload widgets (file, "Use the example", example download, log(s) model, model
    reduction) and the fit in use.

    A file that cannot be fitted is reported with ``st.error`` and the last file that
    fitted stays in use (its name and fit are returned); None before any file fitted.
    """
    up_col, ex_col = st.columns([3, 1])
    upload = up_col.file_uploader("Experiment CSV: design columns x1, x2, … and replicate "
                                  "columns y1, y2, … (one row per run)", type=["csv"],
                                  key="pareto-upload")
    if ex_col.button("Use the example", help="Box & Draper's printing-ink experiment: 27 "
                     "runs of a 3³ design, 3 replicates each"):
        st.session_state[UPLOAD_KEY] = (EXAMPLE_CSV.name, example_bytes())
    ex_col.download_button("Download the example", example_bytes(),
                           file_name=EXAMPLE_CSV.name, mime="text/csv")
    o1, o2, o3 = st.columns([1, 1, 1])
    log_sd = o1.checkbox("log(s) model", key="pareto-log-sd",
                         help="Fit log(s) instead of s: the predicted sd is then positive "
                              "everywhere (every run's sd must be positive)")
    reduce = o2.checkbox("Drop insignificant terms", key="pareto-reduce",
                         help="Hierarchical backward elimination of both models")
    alpha = o3.number_input("Significance level α", 0.001, 0.5, 0.10, 0.01,
                            key="pareto-alpha", disabled=not reduce, format="%.3f")
    if upload is not None:  # a new file in the uploader replaces the one in use
        payload = upload.getvalue()
        digest = hashlib.sha1(payload).hexdigest()
        if st.session_state.get(UPLOAD_SEEN_KEY) != digest:
            st.session_state[UPLOAD_SEEN_KEY] = digest
            st.session_state[UPLOAD_KEY] = (upload.name, payload)
    current = st.session_state.get(UPLOAD_KEY)
    good = st.session_state.get(GOOD_FIT_KEY)
    if current is not None:
        try:
            fit = fit_upload(current[1], log_sd=log_sd, reduce=reduce, alpha=float(alpha))
        except GDAError as exc:
            st.error(f"{plain(current[0])} cannot be used: {plain(exc)}")
            if good is not None:
                st.caption(f"Still using the last file that fitted: **{good[0]}**.")
        else:
            good = st.session_state[GOOD_FIT_KEY] = (current[0], fit)
    return good


def apply_pick_request(cs: CaseState, best: Front) -> None:
    """Apply a selection put in ``st.session_state[PICK_REQUEST_KEY]`` (then drop it)."""
    request = st.session_state.pop(PICK_REQUEST_KEY, None)
    if request:
        pick_from_selection(cs, best, request.get("selection", request))
