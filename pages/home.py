"""Home: what the workbench does and a three-step quick start."""

import streamlit as st

from pages._common import ensure_shell

ensure_shell()

st.title("GDA Workbench")
st.markdown(
    "Generative data augmentation for **imbalanced image classification**. "
    "Few defect images against many normal ones? Find out which synthesizer actually "
    "helps your classifier, and see why."
)
c1, c2, c3 = st.columns(3)
with c1, st.container(border=True):
    st.markdown("#### 1 · Data")
    st.markdown("Pick a dataset (built-in digits, MNIST, Fashion-MNIST, CIFAR-10 or your own "
                "folder / zip of class folders) and make it imbalanced with a ratio, "
                "per-class counts or a preset from the literature.")
    st.page_link("pages/data.py", label="Choose data", icon=":material/dataset:")
with c2, st.container(border=True):
    st.markdown("#### 2 · Oversample")
    st.markdown("Balance the minority classes with SMOTE, Borderline-SMOTE, ADASYN, random "
                "oversampling or traditional augmentation, each with its own settings.")
with c3, st.container(border=True):
    st.markdown("#### 3 · Compare")
    st.markdown("Retrain the same CNN on every balanced set and compare confusion matrices "
                "and imbalance-aware metrics (ACSA, G-mean, minority recall…) against the "
                "baseline, over several seeds.")
    st.page_link("pages/compare.py", label="Run a comparison", icon=":material/compare_arrows:")

st.info("New here? Go straight to **Compare** and press *Run*: it uses the built-in "
        "`digits` data with classes 3 and 8 reduced to a tenth of the others.", icon="💡")
st.caption("Everything here is also scriptable: `python -m gda_core compare --help`.")
