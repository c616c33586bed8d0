"""Train: fit a GAN synthesizer in a worker process and watch it learn, live."""

from dataclasses import asdict

import streamlit as st

from gda_core.datasets import SOURCES, make_imbalanced
from gda_core.errors import GDAError
from gda_core.experiments.train import JOB, RUN_KIND, TrainJobConfig, training_cost
from gda_core.oversampling.registry import SYNTHESIZERS
from gda_core.runs import reap_orphans, start_worker
from gda_core.runs.eta import format_duration, time_text
from gda_core.runs.records import ArtifactRecord
from gda_core.synthesizers.diagnostics import diagnose
from gda_core.viz import enlarged_png, grid_label, grids_gif, runs_figure, training_figure
from gda_core.viz.diagnostics import warning_figure
from pages._common import (
    PREFILL_KEY,
    current_data,
    ensure_shell,
    get_store,
    load_config,
    param_widgets,
    plain,
    read_png,
    standby_workers,
)
from pages._jobs import is_running

ensure_shell()
GROUPS = {
    "Training": ("epochs", "min_steps", "batch_size", "d_steps", "loss", "gan_type", "gp_gamma",
                 "label_smoothing", "q_fake_weight"),
    "Few images": ("augment", "spectral_norm", "pretrain", "pretrain_steps"),
    "Autoencoder prior": ("ae_epochs", "lr_ae"),
    "Optimiser": ("lr_d", "lr_g", "lr_q", "beta1", "beta2"),
    "Speed": ("fast", "device", "n_jobs"),
}
ORDER = ("Training", "Few images", "Model", "Autoencoder prior", "Optimiser", "Speed")
OVERLAY_METRICS = ["g_loss", "d_loss", "g_grad_norm", "d_real", "d_fake", "diversity", "q_loss",
                   "q_val_acc"]
EVENTS_KEY = "train_events"
SMOOTHING_KEY = "train-smoothing"  # chart settings: kept for the session, for every run
LOG_KEY = "train-log-y"
# Seconds between refreshes until the run's first sample grid (then 1 s); a comment, not a
# docstring: Streamlit would draw a bare string on the page.  Chosen with bench/first_grid.py's
# page mode (3 rounds each, before the warm worker and OpenMP changes): first grid on the page
# after 3.5 s at 0.5, 4.5 s at 1.0 and 4.4 s at 0.25, whose refreshes slowed the server (the
# Stop button took 3 s instead of 1.5 s).  At 0.5 it now comes 2.2 s after the click (median;
# README, Benchmarks).
FIRST_GRID_POLL = 0.5

st.title("Train a synthesizer")
store = get_store()
if (standby := standby_workers()) is not None:
    standby.prepare()  # a worker importing torch before the button is pressed
reap_orphans(store)
cfg, spec, split_seed = current_data()
try:
    data = make_imbalanced(load_config(cfg), spec, random_state=split_seed)
except GDAError as exc:
    st.error(f"The data chosen on the Data page cannot be used: {plain(exc)}")
    st.stop()

# ------------------------------------------------------------------ settings
with st.expander("New training run", expanded="run" not in st.query_params):
    st.caption(f"Data: **{SOURCES[cfg.source].label}** · training counts "
               f"{list(data.train.counts().values())} (change it on the Data page)")
    names = list(SYNTHESIZERS)
    synth_name = st.selectbox("Synthesizer", names, index=names.index("dcgan"),
                              format_func=lambda n: SYNTHESIZERS[n].label)
    cls = SYNTHESIZERS[synth_name]
    st.caption(cls.description)
    with st.form("train"):
        label = {i: f"{i}: {n}" for i, n in enumerate(data.class_names)}
        if getattr(cls, "provides_classifier", False):
            st.caption("Learns every class at once: its classifier Q must tell all of them "
                       "apart, and G synthesizes the minority classes.")
            classes = list(label)
        elif cls.conditional:
            st.caption("Learns every class at once (as in a comparison), drawing each class "
                       "equally often: the minority classes borrow what it learns from the "
                       "majority.")
            classes = list(label)
        else:
            classes = st.multiselect("Classes to learn", list(label), format_func=label.get,
                                     default=list(data.minority_classes))
        s1, s2 = st.columns(2)
        seed = s1.number_input("Seed", 0, 10**6, 0)
        quality_every = s2.number_input(
            "FID every N steps (0 = off)", 0, 100_000, 0, step=25,
            help="Scores the fixed-noise samples against the class's real images with FID on "
                 "features of our own CNN trained on the full data (trained once per dataset "
                 "and cached). With 64 samples it is noisy, but it shows the trend.")
        params = {}
        by_name = {p.name: p for p in cls.params}
        grouped = {g: tuple(by_name[n] for n in names_ if n in by_name)
                   for g, names_ in GROUPS.items()}
        placed = {p.name for specs in grouped.values() for p in specs}
        grouped["Model"] = tuple(p for p in cls.params if p.name not in placed)
        for group in ORDER:
            if grouped[group]:
                st.markdown(f"**{group}**")
                params.update(param_widgets(grouped[group], prefix=f"train-{synth_name}"))
        buttons = st.container(horizontal=True)
        start = buttons.form_submit_button("Train", type="primary")
        estimate = buttons.form_submit_button(
            "Estimate time", help="How long this training would take on this machine: its "
            "steps times one step timed here (a few seconds the first time).")

if start or estimate:
    config = TrainJobConfig(data=cfg, imbalance=spec, split_seed=split_seed,
                         synthesizer=synth_name, params=params, classes=tuple(classes),
                         seed=int(seed), quality_every=int(quality_every))
if estimate and not start:
    try:
        if not classes:
            raise GDAError("choose at least one class to learn")
        config.validate()
        with st.spinner("Timing a training step on this machine…"):
            cost = training_cost(config, data)
        st.info(f"This training would take {cost.text()}.", icon=":material/timer:")
    except GDAError as exc:
        st.info(f"No estimate: {plain(exc)}", icon=":material/timer:")
if start:
    try:
        if not classes:
            raise GDAError("choose at least one class to learn")
        config.validate()
        run_id = store.create_run(RUN_KIND, config.to_dict(),
                                  name=f"{cls.label} · {cfg.source} · classes {classes}")
        standby = standby_workers()
        if standby is None:
            start_worker(store.root, run_id, JOB)
        else:
            standby.start(store.root, run_id, JOB)  # a worker whose imports are done
    except GDAError as exc:
        st.error(f"Training could not start: {plain(exc)}")
    else:
        # no st.rerun(): the rest of this run shows the new run at once (a rerun cost about
        # a second before the first progress); the page reruns at its first grid
        st.query_params["run"] = run_id

# ---------------------------------------------------------------- past runs
runs = store.list_runs(kind=RUN_KIND, limit=50)
if runs:
    with st.expander(f"Runs ({len(runs)})", expanded=False):
        rows = [{"run": r.id, "name": r.name, "status": r.status,
                 "progress": round(100 * (r.progress or 0)), "seconds": round(r.seconds or 0)}
                for r in runs]
        picked = st.dataframe(rows, hide_index=True, on_select="rerun",
                              selection_mode="single-row", key="runs-table",
                              column_config={"progress": st.column_config.ProgressColumn(
                                  min_value=0, max_value=100, format="%d%%")})
        if picked.selection.rows:
            chosen = rows[picked.selection.rows[0]]["run"]
            if chosen != st.query_params.get("run"):
                st.query_params["run"] = chosen
                st.rerun()
        st.caption("Select a row to open that run, or overlay several runs below.")
        names = {r.id: f"{r.name} ({r.id})" for r in runs}
        overlay = st.multiselect("Compare runs", list(names), format_func=names.get,
                                 max_selections=6)
        if overlay:
            metric = st.selectbox("Metric", OVERLAY_METRICS, key="overlay-metric")
            st.plotly_chart(runs_figure({names[r]: store.events(r) for r in overlay},
                                        metric), width="stretch", key="overlay-chart")

run_id = st.query_params.get("run") or (runs[0].id if runs else None)
if run_id is None:
    st.info("Choose a synthesizer and press **Train**. The default DCGAN learns the two "
            "minority digits in well under a minute; the charts and samples refresh live.")
    st.stop()


def load_events(rid: str) -> list[dict]:
    """Events of ``rid``, fetched incrementally across reruns."""
    cache = st.session_state.get(EVENTS_KEY)
    if not cache or cache["run"] != rid:
        cache = {"run": rid, "seq": 0, "events": []}
    new = store.events(rid, after_seq=cache["seq"])
    if new:
        cache["events"].extend(new)
        cache["seq"] = new[-1]["seq"]
    st.session_state[EVENTS_KEY] = cache
    return cache["events"]


def show_run(rid: str, first_grid: bool = False) -> None:
    """The run's progress, warnings, charts and sample grids.  ``first_grid``: the
    fragment polls fast until the first grid is there, then the page reruns at the
    normal pace."""
    try:
        run = store.get_run(rid)
        if run.is_active and not is_running(store, rid):
            st.rerun()  # its worker died (now marked failed): redraw the page without the timer
    except GDAError as exc:
        st.error(str(exc))
        return
    grids = store.artifacts(rid, "grid")  # first: the job logs a step before its grid
    events = load_events(rid)
    summary = run.summary or {}
    head, stop_col = st.columns([5, 1])
    head.subheader(run.name or run.id)
    if run.is_active and stop_col.button("Stop", type="secondary", key=f"stop-{rid}"):
        store.request_stop(rid)
    progress = run.progress or 0.0
    text = f"{run.status} · {progress:.0%}"
    phase = summary.get("phase")
    when = time_text(run.seconds, summary.get("eta_s"), running=run.status == "running",
                     estimating=phase in ("training", "pretraining"))
    text += f" · {when}" if when else ""
    if summary.get("predicted_s") is not None and not run.is_active and run.seconds:
        text += f" (predicted before it started: {format_duration(summary['predicted_s'])})"
    if phase == "pretraining" and run.is_active:
        text += " · pretraining on the training images"
    elif len(summary.get("learning") or ()) > 1 and phase == "training" and run.is_active:
        text += f" · learning classes {', '.join(str(c) for c in summary['learning'])} at once"
    elif summary.get("class") is not None and phase == "training" and run.is_active:
        text += f" · learning class {summary['class']}"
    elif phase and phase != "training" and run.is_active:
        text += f" · {plain(phase)}"  # loading data, checking the images, …
    st.progress(min(max(progress, 0.0), 1.0), text=text)
    if run.error:
        st.error(f"The run failed: {run.error}")
    if run.status == "finished" and st.button("Use these settings in Compare",
                                              key=f"to-compare-{rid}"):
        name = run.config["synthesizer"]
        st.session_state[PREFILL_KEY] = {
            "methods": ["baseline", "smote", name],
            "params": {name: dict(run.config.get("params", {}))},
            "note": f"{SYNTHESIZERS[name].label} with the settings of run {rid} is selected "
                    "below; Compare retrains it for every seed so that seeds stay "
                    "comparable.",
        }
        st.switch_page("pages/compare.py")
    warnings_box = st.container()  # filled last: the grid reaches the browser first
    left, right = st.columns([3, 2])
    with right:
        if grids:
            show_grids(rid, grids, events)
    with left:
        if events:
            smooth_col, log_col = st.columns([3, 1], vertical_alignment="bottom")
            smoothing = smooth_col.slider(
                "Smoothing", 0.0, 0.99, 0.0, 0.01, key=SMOOTHING_KEY, persist_state="session",
                help="Exponential moving average of every series, as TensorBoard's: each "
                     "point is this weight times the average so far plus the rest times the "
                     "new value. The raw series stays behind, faint.")
            log_y = log_col.toggle("Log scale", key=LOG_KEY, persist_state="session",
                                   help="Of the losses and the gradient norm (values ≤ 0, "
                                        "e.g. a WGAN critic's loss, cannot be drawn on it).")
            st.plotly_chart(training_figure(events, smoothing=smoothing, log_y=log_y),
                            width="stretch", key=f"chart-{rid}")
        else:
            st.caption("Waiting for the first training step…")
        if any("fid" in e for e in events):
            st.plotly_chart(runs_figure({"FID": events}, "fid"), width="stretch",
                            key=f"fid-{rid}")
            st.caption("FID of the fixed-noise samples against the real images (lower is "
                       "closer); features of our own CNN, 64 samples: a trend, not a score.")
    with warnings_box:
        show_warnings(rid, run, summary, events)
    if first_grid and (grids or not run.is_active):
        st.rerun()  # the grid is shown (or will never come): the normal pace from now on


def pin_grid(key: str, state_key: str, latest: int) -> None:
    """The grid slider moved: keep that grid, or follow new ones again at the latest."""
    state = st.session_state[state_key]
    value = st.session_state[key]
    state["pinned"] = None if value == latest else value
    state["gen"] += 1


def show_grids(rid: str, grids: list[ArtifactRecord], events: list[dict]) -> None:
    """The sample grid chosen on a slider over every saved grid (the latest, following new
    ones, until the slider is moved), and a GIF of them all."""
    steps = [g.step for g in grids]
    state_key = f"grid-{rid}"
    state = st.session_state.setdefault(state_key, {"pinned": None, "gen": 0})
    step = state["pinned"] if state["pinned"] in steps else steps[-1]
    if len(steps) > 1:
        # the page never sets a shown slider's value (a live page's next rerun could send
        # the old one back, as if moved): a new slider for each new grid while following
        tail = "pinned" if state["pinned"] in steps else f"latest-{steps[-1]}"
        key = f"grid-{rid}-{state['gen']}-{tail}"
        st.select_slider("Sample grid at step", steps, value=step, key=key, on_change=pin_grid,
                         args=(key, state_key, steps[-1]),
                         help="Every grid the run saved; at the right end it follows new "
                              "grids while the run goes on.")
    grid = grids[steps.index(step)]
    image, problem = read_png(grid.path)
    if image is not None:
        st.image(enlarged_png(image), width="stretch", output_format="PNG",  # not JPEG
                 caption=f"Samples from fixed noise · {grid_label(step, events)}")
    else:
        st.warning(f"The sample grid of step {step} cannot be shown: {plain(problem)}.",
                   icon="🖼️")
    if len(steps) > 1:
        def gif() -> bytes:  # built on click only (in a thread of its own)
            frames = [(read_png(g.path)[0], grid_label(g.step, events)) for g in grids]
            frames = [(f, label) for f, label in frames if f is not None]
            if not frames:
                return b""
            return grids_gif([f for f, _ in frames], labels=[label for _, label in frames])

        st.download_button(f"Download all {len(steps)} grids as GIF", gif,
                           file_name=f"{rid}-grids.gif", mime="image/gif", on_click="ignore",
                           key=f"gif-{rid}", icon=":material/download:")


def show_warnings(rid: str, run, summary: dict, events: list[dict]) -> None:
    """The run's warnings, each with the signals it was judged on: while it trains, the
    checks of its history so far; once it ended, those and the checks of its images
    against the real ones (stored in the summary)."""
    if run.is_active or "warnings" not in summary:
        found = [asdict(w) for w in diagnose(events)]
    else:
        found = list(summary["warnings"])
    names = list(summary.get("class_names") or [])
    for i, w in enumerate(found):
        cls = w.get("class_label")
        where = ("" if cls is None else f", class '{names[cls]}'" if 0 <= cls < len(names)
                 else f", class {cls}")
        st.warning(f"**{w['code']}** (step {w['step']}{plain(where)}): {plain(w['message'])}",
                   icon="⚠️")
        figure = warning_figure(events, w)
        if figure is not None:
            with st.expander(f"What {w['code']} was judged on"):
                st.plotly_chart(figure, width="stretch", key=f"warning-{rid}-{i}")


try:
    active = store.get_run(run_id).is_active
except GDAError as exc:
    st.error(f"Run {plain(run_id)} cannot be shown: {plain(exc)}")
    st.stop()
if active:  # only this part reruns every second; the settings above stay put
    # faster until the first sample grid (a warm worker has it within a second)
    waiting = not store.artifacts(run_id, "grid")
    st.fragment(show_run, run_every=FIRST_GRID_POLL if waiting else 1.0)(run_id, waiting)
else:
    show_run(run_id)
