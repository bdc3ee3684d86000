"""Helpers for AppTest-driven tests of the Streamlit app."""

from pathlib import Path

import streamlit as st
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
# torch's first import and a first build exceed AppTest's default 3 s.
TIMEOUT = 120


def fresh_app(query: dict[str, str] | None = None) -> AppTest:
    """A new session of the app, with caches cleared (they outlive AppTest instances)."""
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def metric_values(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]


def widget(at: AppTest, key: str):
    """The widget with this key, whatever its type."""
    for group in (at.text_input, at.selectbox, at.number_input, at.toggle, at.checkbox,
                  at.radio, at.slider, at.button, at.multiselect):
        for w in group:
            if w.key == key:
                return w
    raise KeyError(key)
