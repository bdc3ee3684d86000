"""ResNet Explorer: the router. Draws the shared sidebar, then runs the chosen page."""

import streamlit as st

st.set_page_config(page_title="ResNet Explorer", page_icon="🧱", layout="wide")

from pages.widgets import sidebar  # noqa: E402  (set_page_config must come first)
from pages.widgets import memory  # noqa: E402
from pages.widgets import persist  # noqa: E402

PAGES = [
    st.Page("pages/views/architecture.py", title="Architecture", icon="🧱", default=True),
    st.Page("pages/views/gradient_flow.py", title="Gradient flow", icon="🌊"),
    st.Page("pages/views/grad_cam.py", title="Grad-CAM", icon="🔥"),
    st.Page("pages/views/trust_map.py", title="Trust the map", icon="🧪"),
    st.Page("pages/views/training.py", title="Training", icon="📈"),
    st.Page("pages/views/why_skips.py", title="Why skips work", icon="🔬"),
    st.Page("pages/views/compare.py", title="Compare", icon="⚖️"),
]

navigation = st.navigation(PAGES)
persist.count_run()  # uploaders tell a browser's remount from a user's removal by it
sidebar.draw()
navigation.run()
memory.tune_once()
