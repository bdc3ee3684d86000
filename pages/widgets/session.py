"""This session's identity, for work that must end when the session does."""

from __future__ import annotations

from typing import Callable

from streamlit.runtime import Runtime, exists
from streamlit.runtime.scriptrunner import get_script_run_ctx


def session_alive() -> Callable[[], bool] | None:
    """A thread-safe "is this browser session still connected?" for background jobs, or None
    outside a Streamlit server (bare AppTest runs), where nothing can disconnect."""
    ctx = get_script_run_ctx()
    if ctx is None or not exists():
        return None
    runtime, session_id = Runtime.instance(), ctx.session_id
    return lambda: runtime.is_active_session(session_id)
