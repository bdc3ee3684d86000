"""Helpers for AppTest-driven tests of the Streamlit app (the session itself: bench.harness)."""

from streamlit.testing.v1 import AppTest

from bench.harness import APP as _APP
from bench.harness import APPTEST_TIMEOUT as TIMEOUT
from bench.harness import fresh_app, widget

__all__ = ["APP", "TIMEOUT", "fresh_app", "metric_values", "widget"]
APP = str(_APP)


def metric_values(at: AppTest, label: str) -> list[str]:
    return [m.value for m in at.metric if m.label == label]
