"""Compare: retrain the same classifier on the baseline and on each oversampled training set."""

from dataclasses import replace

import streamlit as st

from gda_core.classifiers import ARCHITECTURE_LABELS, ARCHITECTURES
from gda_core.classifiers.losses import CLASSIFIER_LOSSES, LOSS_LABELS
from gda_core.datasets import SOURCES
from gda_core.errors import GDAError
from gda_core.experiments import BASELINE, ClassifierConfig, CompareConfig
from gda_core.experiments.compare import split_for_unit
from gda_core.experiments.config import MAX_FOLDS, PROTOCOLS
from gda_core.experiments.jobs import start_comparison
from gda_core.experiments.protocol import DEFAULT_REPEATS
from gda_core.metrics import METRIC_LABELS
from gda_core.metrics.stats import PRIMARY_METRICS
from gda_core.oversampling import OVERSAMPLERS
from pages._common import (
    PREFILL_KEY,
    RESULT_KEY,
    cost_estimate,
    current_data,
    data_dir,
    ensure_shell,
    get_store,
    load_config,
    param_widgets,
    plain,
    protocol_plan,
    standby_workers,
)
from pages._compare_history import PARTIAL_KEY, RESULT_ID_KEY, comparison_name, render_history
from pages._compare_job import (
    JOB_KEY,
    adopt_ended_comparison,
    executor_settings,
    follow_comparison,
    partial_text,
    run_record,
    show_note,
)
from pages._compare_sweep import render_sweep
from pages._jobs import current_job, is_running
from pages._results import method_label, render_recommendation, render_result

TAB_KEY = "compare_tab"
TABS = ("Results", "Real : synthetic ratio sweep", "Past comparisons")
ensure_shell()

st.title("Compare")
cfg, spec, _ = current_data()
desc = (f"ratio {spec.ratio:g}, minority classes {list(spec.minority_classes)}"
        if spec.mode == "ratio" else f"{spec.name}: counts " + ", ".join(
            f"{c}={'all' if n is None else n}" for c, n in (spec.counts or {}).items()))
st.caption(f"Data: **{SOURCES[cfg.source].label}** · {desc}. Change it on the Data page; "
           "what the classifiers are tested on is below.")

prefill = st.session_state.get(PREFILL_KEY, {})
if prefill.get("note"):
    st.info(prefill["note"], icon="🔁")

choices = [BASELINE, *OVERSAMPLERS]
methods = st.multiselect("Methods", choices, format_func=method_label, default=prefill.get(
    "methods", [BASELINE, "smote", "borderline-smote", "adasyn"]))

with st.container(border=True):
    st.markdown("**How the classifiers are tested**")
    p1, p2, p3, p4 = st.columns([2, 1, 1, 2])
    protocol = p1.selectbox(
        "Protocol", list(PROTOCOLS), key="compare_protocol",
        format_func={"auto": "Automatic", "cv": "Cross-validation",
                     "holdout": "Held-out test set"}.get,
        help="Cross-validation (repeated stratified k-fold) tests every real image once per "
             "repeat and trains on the others: with few images per class it is the only "
             "way to test on more than a handful. Automatic: cross-validation when the data "
             "have no test split of their own and a class has fewer than 100 images.")
    folds = p2.number_input("Folds", 2, MAX_FOLDS, 5, key="compare_folds",
                            disabled=protocol == "holdout",
                            help="Folds of the cross-validation: each fold's images are "
                                 "tested once, by a classifier (and a synthesizer) that "
                                 "never saw them.")
    plan, class_names = protocol_plan(cfg, spec, protocol, int(folds))
    is_cv = plan is not None and plan.kind == "cv"
    n_seeds = p3.number_input(
        "Repeats" if is_cv else "Seeds", 1, 10, DEFAULT_REPEATS if is_cv else 1,
        key="compare_seeds",
        help=("Repeats of the cross-validation, each a new shuffle of the folds (seeds "
              "0..n-1, which also seed the oversamplers and classifiers)." if is_cv else
              "Seeds 0..n-1; each seeds the split, the oversampler and the classifier "
              "together. 3 or more give 95% intervals and a test of the primary metric."))
    primary = p4.selectbox(
        "Primary metric", PRIMARY_METRICS, key="compare_primary",
        format_func=lambda k: METRIC_LABELS.get(k, k),
        help="The one metric tested against the baseline (Holm-corrected over the methods) "
             "and the recommendation is made on; chosen before the run. The others are "
             "shown with intervals, without tests.")
    if plan is not None:
        plan = replace(plan, repeats=int(n_seeds))
        st.caption(":material/fact_check: " + plain(plan.describe(class_names)),
                   help="What a unit tests on; the results say the same.")

with st.container(border=True):
    st.markdown("**Classifier** (retrained from scratch for every method and seed)")
    own_q = [m for m in methods if getattr(OVERSAMPLERS.get(m), "uses_own_classifier", False)]
    if own_q:
        st.caption(f"{', '.join(method_label(m) for m in own_q)} evaluate(s) the three-player "
                   "model's own classifier Q instead of this CNN.")
    a1, a2, a3, a4 = st.columns(4)
    arch = a1.selectbox("Architecture", ARCHITECTURES, format_func=ARCHITECTURE_LABELS.get)
    loss = a2.selectbox("Loss", CLASSIFIER_LOSSES, format_func=LOSS_LABELS.get,
                        help="Class-weighted cross-entropy and focal loss put more weight on "
                             "rare or hard examples (the FER report's comparison).")
    spare = iter((a3, a4))  # the options that apply fill the free columns in order
    ensemble_size = (next(spare).number_input(
        "Ensemble size", 2, 10, 3, help="CNNs averaged by soft voting, seeded seed, seed+1, ...")
        if arch == "ensemble" else 3)
    focal_gamma = (next(spare).number_input(
        "Focal γ", 0.0, 5.0, 2.0, 0.5,
        help="0 = cross-entropy; larger values down-weight well-classified examples.")
        if loss == "focal" else 2.0)
    b1, b2, b3, b4 = st.columns(4)
    epochs = b1.number_input("Epochs (max)", 1, 200, 15, help="Early stopping on a "
                             "validation split may stop sooner.")
    batch = b2.selectbox("Batch size", [16, 32, 64, 128, 256], index=2)
    lr = b3.selectbox("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3], index=2)
    width = b4.select_slider("CNN width (first block)", [8, 16, 32, 64], 16,
                             disabled=arch == "resnet18",
                             help="Channels of the AM-study CNN's first block (not used by "
                                  "ResNet-18).")
    fast = st.toggle("Fast path", value=True, key="compare_fast_classifier",
                     help="The layout (channels_last or not) and bfloat16 autocast or float32, "
                          "whichever a few timed steps found fastest on this machine (once "
                          "per model shape), and a fused Adam. Off: the float32 reference "
                          "path, e.g. to check that a result does not hinge on bfloat16 "
                          "rounding.")
    if arch == "resnet18":
        st.caption(":material/speed: ResNet-18 is slow on a CPU: about 0.8 s per batch of 64 "
                   "at 8×8 pixels, more for larger images. Use a GPU, or few epochs.")
    elif arch == "ensemble":
        st.caption(f"An ensemble trains {int(ensemble_size)} CNNs per method and seed: "
                   f"about {int(ensemble_size)}× the time of one.")

quality = st.checkbox(
    "Quality gate with image features (FID beside real-vs-real FID, coverage, precision/recall)",
    value=True, key="compare_quality",
    help="Scores every oversampler's synthesized images per class against real ones, each "
         "score beside what real images score at the same count, on the features of a CNN "
         "trained once per dataset on its full training data (cached). Off, the gate still "
         "checks the pixels (noise, copies, near-identical images).")
params: dict[str, dict] = {}
with st.expander("Method settings"):
    for name, cls in OVERSAMPLERS.items():
        if not cls.params:
            continue
        st.markdown(f"**{cls.label}**")
        params[name] = param_widgets(cls.params, prefix=f"param-{name}",
                                     values=prefill.get("params", {}).get(name))


def build_config() -> CompareConfig:
    """The comparison settings chosen above."""
    return CompareConfig(
        data=cfg, imbalance=spec, methods=tuple(methods),
        method_params={m: params[m] for m in methods if m in params},
        seeds=tuple(range(int(n_seeds))),
        classifier=ClassifierConfig(epochs=int(epochs), batch_size=int(batch), lr=float(lr),
                                    width=int(width), architecture=arch, loss=loss,
                                    focal_gamma=float(focal_gamma),
                                    ensemble_size=int(ensemble_size), fast=bool(fast)),
        sample_quality=bool(quality), quality_cache_dir=str(data_dir() / "features"),
        protocol=protocol, folds=int(plan.folds) if is_cv else int(folds),
        primary_metric=primary,
    )


def method_advice(config: CompareConfig) -> list[str]:
    """Each chosen method's advice for each minority class's count of real training images
    (seed 0's split, after the validation hold-out), before anything runs."""
    try:
        fold = 0 if plan is not None and plan.kind == "cv" else None
        split = split_for_unit(config, load_config(cfg), config.seeds[0], fold)
    except GDAError:
        return []  # the run itself reports why the data cannot be used
    counts, names = split.fit.counts(), split.data.class_names
    out = []
    for m in config.methods:
        if m == BASELINE:
            continue
        for c in split.data.minority_classes:
            text = OVERSAMPLERS[m].advice(counts[c], config.method_params.get(m, {}))
            if text:
                out.append(f"Class **{plain(names[c])}**: {plain(text)}")
    return out


for advice in method_advice(build_config()):
    st.caption(f":material/lightbulb: {advice}")

executor = executor_settings()
store = get_store()
if (standby := standby_workers()) is not None:
    standby.prepare()  # a worker importing torch before the button is pressed
job = current_job(store, JOB_KEY, "comparison")
running = job is not None and is_running(store, job)
row = st.container(horizontal=True, vertical_alignment="center", gap="medium")
run = row.button("Run comparison", type="primary", key="compare_run", disabled=running,
                 help="A comparison is running; stop it or wait for it to finish."
                 if running else None)
estimate = cost_estimate(store, build_config(), plan,
                         tuple(load_config(cfg).train.images.shape[1:])) if methods else ""
if is_cv:
    n_train = len(methods) * int(n_seeds) * int(plan.folds)
    row.caption(f"{len(methods)} method(s) × {int(plan.folds)} folds × {int(n_seeds)} "
                f"repeat(s) = {n_train} trainings" + (f" · {estimate}" if estimate else ""))
else:
    n_train = len(methods) * int(n_seeds)
    row.caption(f"{len(methods)} method(s) × {int(n_seeds)} seed(s) = {n_train} trainings"
                + ("" if n_seeds >= 3 else " · use 3 or more seeds for 95% intervals and "
                   "a test of the primary metric") + (f" · {estimate}" if estimate else ""))

if run:
    st.session_state[TAB_KEY] = TABS[0]
    config = build_config()
    try:
        job = start_comparison(store, config, executor=executor,
                               name=comparison_name(config), standby=standby_workers())
    except GDAError as exc:
        st.error(f"The comparison could not start: {plain(exc)}")
    else:
        st.session_state[JOB_KEY] = job
        st.rerun()  # redraw with the button disabled and the job's progress
if job is not None and not running:
    adopt_ended_comparison(store, job)
    job = None

results_tab, sweep_tab, history_tab = st.tabs(list(TABS), key=TAB_KEY, on_change="rerun")
with results_tab:
    if results_tab.open:
        result = st.session_state.get(RESULT_KEY)
        partial = st.session_state.get(PARTIAL_KEY)
        if result is not None and job is None:
            render_recommendation(result)  # the answer first
        show_note()
        if job is not None:
            st.fragment(follow_comparison, run_every=1.0)(store, job)
        if result is None and job is None:
            st.info("Choose methods and press **Run comparison**. With the defaults (digits, 4 "
                    "methods, 1 seed) it takes well under a minute on 2 CPU cores.")
        elif result is not None:
            run_id = st.session_state.get(RESULT_ID_KEY)
            if job is not None:
                st.divider()
                st.caption("The last comparison, until the running one finishes:")
            if result is partial:
                st.warning(partial_text(result, run_record(store, run_id)), icon="⏹️")
            if run_id:
                st.caption(f"Saved in the run store as **{run_id}**; reopen it any time from "
                           "*Past comparisons*.")
            render_result(result, answer=job is not None)
with sweep_tab:
    if sweep_tab.open:
        render_sweep(build_config, list(methods), store, executor)
with history_tab:
    if history_tab.open:
        render_history(store, result_key=RESULT_KEY, tab_key=TAB_KEY, tab_label=TABS[0],
                       job_key=JOB_KEY)
