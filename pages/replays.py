"""Replays page: rerun each source study at a CPU-friendly scale, published numbers beside ours."""

from __future__ import annotations

import streamlit as st

from gda_core.errors import GDAError
from gda_core.replays import REPLAYS, ReplayOptions, ReplayResult
from gda_core.replays.job import RUN_KIND, load_replay, start_replay
from gda_core.viz.training import training_figure
from pages._common import ensure_shell, get_store, plain
from pages._jobs import current_job, ended_result, follow_run, is_running
from pages._results import render_result

ensure_shell()
RESULTS_KEY = "replay_results"
JOB_KEY = "replay_job"
NEEDS_ROOT = ("gan-sensitivity", "gan-contrast", "gan-diversity", "lt-benchmark")
SCALE_HELP = ("smoke: seconds, only checks that it runs (numbers meaningless, no verdicts); "
              "quick: minutes on 2 CPU cores; full: the study's own sizes where feasible "
              "(long).")

st.title("Study replays")
st.caption("Each replay reruns an experiment from a source study, puts the published numbers "
           "beside ours, and states which claims matched and which did not.")

names = list(REPLAYS)
name = st.selectbox("Replay", names, format_func=lambda n: REPLAYS[n].title, key="replay_name")
replay = REPLAYS[name]
st.markdown(f"**Source:** {replay.source}. {replay.description}  \n**Data:** {replay.needs}.")

with st.form("replay_form"):
    c1, c2, c3 = st.columns(3)
    scale = c1.selectbox("Scale", ("smoke", "quick", "full"), index=1, help=SCALE_HELP)
    seed = c2.number_input("First seed", 0, 10_000, 0)
    dataset = (c3.selectbox("GAN data", ("mnist", "fashion-mnist"))
               if name == "gan-diversity" else "mnist")
    root, download, path = "", False, ""
    if name in NEEDS_ROOT:
        root = st.text_input("MNIST / Fashion-MNIST folder", "",
                             placeholder="e.g. data/mnist (or the folder holding mnist/ and "
                                         "fashion-mnist/); empty: the built-in digits stand in")
        download = st.checkbox("Let torchvision download MNIST / Fashion-MNIST into that "
                               "folder")
    if name == "am-table2":
        path = st.text_input("AM image folder or zip", "",
                             placeholder="three class folders, normal first; empty: the "
                                         "built-in stand-in")
    run = st.form_submit_button("Run replay", type="primary")

results: dict[str, ReplayResult] = st.session_state.setdefault(RESULTS_KEY, {})
store = get_store()
job = current_job(store, JOB_KEY, RUN_KIND)
if run and job is not None and is_running(store, job):
    st.warning("A replay is already running; stop it or wait for it to finish.")
elif run:
    try:
        options = ReplayOptions(scale=scale, root=root.strip() or None,
                                path=path.strip() or None, dataset=dataset, seed=int(seed),
                                download=download)
        st.session_state[JOB_KEY] = job = start_replay(store, name, options)
    except GDAError as exc:
        st.error(f"The replay could not start: {plain(exc)}")
if job is not None and not is_running(store, job):
    finished = ended_result(store, job, JOB_KEY, load_replay, "replay")
    if finished is not None:
        results[finished.name] = finished
    job = None
if job is not None:
    st.fragment(follow_run, run_every=1.0)(store, job, JOB_KEY, "replay_stop", "replay")
    st.stop()

result = results.get(name)
if result is None:
    st.info("Press **Run replay**. The Pareto study at quick scale takes about 15 s; the GAN "
            "replays take a few minutes at quick scale (seconds at smoke scale).")
    st.stop()

st.subheader(result.title)
if result.checks and result.n_verdicts == 0:
    st.metric("Claims matched", "no verdict")
    st.info(f"{result.summary().capitalize()}: the numbers below come from models "
            "trained for seconds, so they neither support nor refute the study's claims. "
            "Run the quick or full scale for verdicts.")
else:
    st.metric("Claims matched", result.summary())
st.caption("Each check states its rule: the evidence and thresholds behind its verdict. "
           "\"Our expectation\" marks a claim the source study does not make.")
st.dataframe(result.checks_frame(), hide_index=True, width="stretch")
left, right = st.columns(2)
left.markdown("**Published**")
if len(result.published):
    left.dataframe(result.published, hide_index=True, width="stretch")
else:
    left.caption("The source reports no numbers for this experiment.")
right.markdown("**Ours**")
right.dataframe(result.ours, hide_index=True, width="stretch")
for note in result.notes:
    st.caption(note)
st.download_button("Download the report (text)", result.report(), f"{result.name}.txt",
                   mime="text/plain")
st.download_button("Download our table (CSV)", result.ours.to_csv(index=False),
                   f"{result.name}.csv", mime="text/csv")

samples = result.extra.get("samples")
if samples:
    st.markdown("**The images the verdicts were judged on** (a sample of each model)")
    columns = st.columns(3)
    for i, (label, png) in enumerate(samples.items()):
        columns[i % 3].image(png, caption=label)
histories = result.extra.get("histories")
if histories:
    st.markdown("**Training diagnostics per setting** (the same charts as the Train page)")
    for tab, (label, history) in zip(st.tabs(list(histories)), histories.items(),
                                     strict=True):
        tab.plotly_chart(training_figure(history), key=f"replay_hist_{label}")
comparison = result.extra.get("comparison")
if comparison is not None:
    with st.expander("The full comparison (confusion matrices, samples)"):
        render_result(comparison)
