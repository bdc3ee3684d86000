"""Turn failures into one clear sentence on the page; the app and the session keep working."""

from __future__ import annotations

import logging
from contextlib import contextmanager

import streamlit as st
import torch  # only for its exception types

from explorer.devices import free_memory

log = logging.getLogger("resnet_explorer")


def is_out_of_memory(exc: BaseException | str) -> bool:
    """True for torch's OutOfMemoryError, or a message from an allocator that ran out."""
    text = str(exc).lower()
    return isinstance(exc, torch.OutOfMemoryError) or "out of memory" in text \
        or "can't allocate memory" in text


@contextmanager
def user_errors(what: str):
    """Show ``ValueError``s as they are and out-of-memory as advice; log anything else."""
    try:
        yield
    except ValueError as exc:
        st.error(f"{what}: {exc}")
    except (RuntimeError, MemoryError) as exc:
        if not is_out_of_memory(exc) and not isinstance(exc, MemoryError):
            log.exception("%s failed", what)
            st.error(f"{what} failed unexpectedly; the details are in the server log.")
            return
        free_memory()
        st.error(f"{what}: the device ran out of memory. Try a smaller batch or image size, "
                 f"or the CPU.")


def int_list(label: str, text: str) -> tuple[int, ...]:
    """``"8, 14,20"`` → ``(8, 14, 20)``, or a ``ValueError`` naming the field."""
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"'{label}' must be whole numbers separated by commas.") from None
    if not values:
        raise ValueError(f"'{label}' is empty.")
    return values
