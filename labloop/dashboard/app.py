"""The labloop dashboard: `labloop dashboard` runs `streamlit run` on this file. Pages live in views/ (a folder
named pages/ beside the script would switch Streamlit to its older automatic multipage mode for deep links)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

PAGES = Path(__file__).parent / "views"

st.set_page_config(page_title="labloop", page_icon=":material/science:", layout="wide")

navigation = st.navigation([
    st.Page(PAGES / "runs.py", title="Runs", icon=":material/monitoring:", default=True),
    st.Page(PAGES / "run_detail.py", title="Run detail", icon=":material/description:"),
    st.Page(PAGES / "compare.py", title="Compare runs", icon=":material/compare:"),
    st.Page(PAGES / "label.py", title="Label frames", icon=":material/label:"),
    st.Page(PAGES / "molecules.py", title="Molecules", icon=":material/hub:"),
    st.Page(PAGES / "training.py", title="Training", icon=":material/model_training:"),
    st.Page(PAGES / "chat.py", title="Chat", icon=":material/chat:"),
])
navigation.run()
