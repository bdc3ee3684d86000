"""ResNet Explorer: the router. Draws the shared sidebar, then runs the chosen page."""

import streamlit as st

st.set_page_config(page_title="ResNet Explorer", page_icon=":material/layers:", layout="wide")

from pages.widgets import sidebar  # noqa: E402  (set_page_config must come first)

PAGES = [
    st.Page("pages/views/architecture.py", title="Architecture", icon=":material/account_tree:", default=True),
    st.Page("pages/views/gradient_flow.py", title="Gradient flow", icon=":material/show_chart:"),
    st.Page("pages/views/grad_cam.py", title="Grad-CAM", icon=":material/local_fire_department:"),
    st.Page("pages/views/training.py", title="Training", icon=":material/model_training:"),
]

navigation = st.navigation(PAGES)
sidebar.draw()
navigation.run()
