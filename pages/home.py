"""Home: what the workbench does and where each step lives."""

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
    st.markdown("#### 2 · Train a synthesizer")
    st.markdown("SMOTE-family methods need no training; GANs (MLP GAN, DCGAN, conditional "
                "GAN, MAD-GAN) and the three-player ADSO / AMO do. Watch them learn live: "
                "losses, gradients, samples, FID and plain warnings when training goes wrong.")
    st.page_link("pages/train.py", label="Train", icon=":material/model_training:")
with c3, st.container(border=True):
    st.markdown("#### 3 · Compare")
    st.markdown("Retrain the same CNN on every balanced set and compare confusion matrices "
                "and imbalance-aware metrics (ACSA, G-mean, minority recall…) against the "
                "baseline over several seeds, with intervals, sample quality and a gallery.")
    st.page_link("pages/compare.py", label="Run a comparison", icon=":material/compare_arrows:")

d1, d2 = st.columns(2)
with d1, st.container(border=True):
    st.markdown("#### Pareto explorer")
    st.markdown("Dual response surface optimisation: fit mean and standard-deviation "
                "surfaces, run NSGA-II, SPEA2, NPGA and the epsilon-constraint method, explore "
                "the mean-variance fronts and pick the solution you prefer by clicking it.")
    st.page_link("pages/pareto.py", label="Explore fronts", icon=":material/scatter_plot:")
with d2, st.container(border=True):
    st.markdown("#### Study replays")
    st.markdown("Rerun the source studies (AM defects, the MNIST GAN sensitivity study, "
                "MAD-GAN, the long-tail benchmark, the Pareto study) and see the published "
                "numbers beside ours, with what matched and what did not.")
    st.page_link("pages/replays.py", label="Replay a study", icon=":material/history:")

st.info("New here? Go straight to **Compare** and press *Run*: it uses the built-in "
        "`digits` data with classes 3 and 8 reduced to a tenth of the others.", icon="💡")
st.caption("Everything here is also scriptable: `python -m gda_core --help` (compare, "
           "train, drso, drso-study, replay).")
