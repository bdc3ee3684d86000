"""Results shared by every session that asks the same question.

A class follows one lesson: sixteen students open Grad-CAM on the same shipped weights and the
same samples. Each result is computed once (Streamlit's cache holds a lock per key, so the others
wait for the first instead of computing it again) and every session gets its own copy, so nobody
can change what another sees.
"""

from __future__ import annotations

import hashlib
from typing import Callable, TypeVar

import streamlit as st
import torch
from PIL import Image

T = TypeVar("T")


def computed_once(key: tuple | None, compute: Callable[[], T]) -> T:
    """``compute()``, shared across sessions under ``key`` (``None``: this session's own)."""
    if key is None:
        return compute()
    return _shared(key, compute)


@st.cache_data(max_entries=512, show_spinner=False)
def _shared(key: tuple, _compute: Callable[[], T]) -> T:
    return _compute()


def digest(x: torch.Tensor) -> str:
    """A tensor's identity by value (dtype, shape and every element)."""
    data = x.detach().cpu().contiguous()
    return _hashed(f"{data.dtype}{tuple(data.shape)}", data.numpy().tobytes())


def image_digest(image: Image.Image) -> str:
    """A picture's identity by value (mode, size and every pixel)."""
    return _hashed(f"{image.mode}{image.size}", image.tobytes())


def _hashed(header: str, data: bytes) -> str:
    h = hashlib.blake2b(digest_size=16)
    h.update(header.encode())
    h.update(data)
    return h.hexdigest()
