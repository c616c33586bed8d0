"""Compare: retrain the same CNN on the baseline and on each oversampled training set."""

import streamlit as st

from gda_core.datasets import SOURCES
from gda_core.errors import GDAError
from gda_core.experiments import BASELINE, ClassifierConfig, CompareConfig, run_comparison
from gda_core.oversampling import OVERSAMPLERS
from pages._common import (
    PREFILL_KEY,
    RESULT_KEY,
    current_data,
    ensure_shell,
    load_config,
    param_widgets,
)
from pages._results import method_label, render_result

PARTIAL_KEY = "compare_partial"
ensure_shell()

st.title("Compare")
cfg, spec, _ = current_data()
desc = (f"ratio {spec.ratio:g}, minority classes {list(spec.minority_classes)}"
        if spec.mode == "ratio" else f"{spec.name}: counts " + ", ".join(
            f"{c}={'all' if n is None else n}" for c, n in (spec.counts or {}).items()))
st.caption(f"Data: **{SOURCES[cfg.source].label}** · {desc} · {spec.test_per_class} test "
           "images per class. Change it on the Data page.")

prefill = st.session_state.get(PREFILL_KEY, {})
if prefill.get("note"):
    st.info(prefill["note"], icon="🔁")
with st.form("compare"):
    choices = [BASELINE, *OVERSAMPLERS]
    methods = st.multiselect("Methods", choices, format_func=method_label, default=prefill.get(
        "methods", [BASELINE, "smote", "borderline-smote", "adasyn"]))
    c1, c2, c3, c4 = st.columns(4)
    n_seeds = c1.number_input("Seeds", 1, 20, 1, help="Seeds 0..n-1; each seeds the split, "
                              "the oversampler and the classifier together.")
    epochs = c2.number_input("Epochs (max)", 1, 200, 15, help="Early stopping on a "
                             "validation split may stop sooner.")
    batch = c3.selectbox("Batch size", [16, 32, 64, 128, 256], index=2)
    lr = c4.selectbox("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3], index=2)
    width = st.select_slider("CNN width (channels of the first block)", [8, 16, 32, 64], 16)
    params: dict[str, dict] = {}
    with st.expander("Method settings"):
        for name, cls in OVERSAMPLERS.items():
            if not cls.params:
                continue
            st.markdown(f"**{cls.label}**")
            values = param_widgets(cls.params, prefix=f"param-{name}",
                                   values=prefill.get("params", {}).get(name))
            params[name] = values
    run = st.form_submit_button("Run comparison", type="primary")

if run:
    config = CompareConfig(
        data=cfg, imbalance=spec, methods=tuple(methods),
        method_params={m: params[m] for m in methods if m in params},
        seeds=tuple(range(int(n_seeds))),
        classifier=ClassifierConfig(epochs=int(epochs), batch_size=int(batch), lr=float(lr),
                                    width=int(width)),
    )
    bar = st.progress(0.0, text="Starting…")

    def keep_partial(run, partial):
        st.session_state[PARTIAL_KEY] = partial

    try:
        config.validate()
        splits = load_config(cfg)
        result = run_comparison(config, splits=splits, on_run=keep_partial,
                                progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0),
                                                                     text=msg))
    except GDAError as exc:
        bar.empty()
        st.error(f"The comparison could not run: {exc}")
    else:
        bar.empty()
        st.session_state[RESULT_KEY] = result
        st.session_state.pop(PARTIAL_KEY, None)
        st.success(f"Done in {result.seconds:.0f} s.")

result = st.session_state.get(RESULT_KEY)
partial = st.session_state.get(PARTIAL_KEY)
if partial is not None and (result is None or partial is not result):
    st.warning("The last comparison stopped before it finished; showing what it completed.")
    result = partial
if result is None:
    st.info("Choose methods and press **Run comparison**. With the defaults (digits, 4 "
            "methods, 1 seed) it takes well under a minute on 2 CPU cores.")
else:
    render_result(result)
