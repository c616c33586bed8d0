"""GDA Workbench dashboard entry point: ``streamlit run app.py``."""

import streamlit as st

from gda_core._compat.threads import prefer_short_spinning

prefer_short_spinning()  # before torch is imported (see gda_core/_compat/threads.py)

# Pages check this flag: see pages/_common.py:ensure_shell for why.
st.session_state["_gda_shell"] = True
st.set_page_config(page_title="GDA Workbench", page_icon="assets/logo.png", layout="wide")

pages = [
    st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
    st.Page("pages/data.py", title="Data", icon=":material/dataset:"),
    st.Page("pages/train.py", title="Train", icon=":material/model_training:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("pages/pareto.py", title="Pareto", icon=":material/scatter_plot:"),
    st.Page("pages/replays.py", title="Replays", icon=":material/history:"),
]
st.navigation(pages, position="top").run()
