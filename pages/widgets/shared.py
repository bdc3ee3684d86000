"""Results shared by every session that asks the same question.

A class follows one lesson: sixteen students open Grad-CAM on the same shipped weights and the
same samples. Each result is computed once (Streamlit's cache holds a lock per key, so the others
wait for the first instead of computing it again) and every session gets its own copy, so nobody
can change what another sees.
"""

from __future__ import annotations

from typing import Callable, TypeVar

import streamlit as st

T = TypeVar("T")


def computed_once(key: tuple | None, compute: Callable[[], T]) -> T:
    """``compute()``, shared across sessions under ``key`` (``None``: this session's own)."""
    if key is None:
        return compute()
    return _shared(key, compute)


@st.cache_data(max_entries=512, show_spinner=False)
def _shared(key: tuple, _compute: Callable[[], T]) -> T:
    return _compute()
