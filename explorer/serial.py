"""Python-bound work (meta traces, plotly figures) runs one call at a time per process.

Every session of a server is a thread of one Python process. Work that is pure Python holds the
interpreter lock, so threads doing it at once only interleave, and every hand-over of the lock
costs: sixteen new networks' traces and figures built at once took 1.8–2.2 × as long as one by
one, and 1.0–1.3 × when they took turns (bench/CLASSROOM.md). Taking turns also lets the first
ones finish early instead of all finishing late. Torch's heavy compute is not in here: it
releases the interpreter lock and has its own gates (``explorer.budget``).
"""

from __future__ import annotations

import functools
import threading
from typing import Callable, TypeVar

F = TypeVar("F", bound=Callable)

# Re-entrant: a figure builder may call the (also wrapped) meta trace. Nothing that waits on
# another lock or gate may run under it, so it cannot take part in a deadlock.
_turn = threading.RLock()


def one_at_a_time(fn: F) -> F:
    """``fn``, run while no other thread of this process runs Python-bound work."""
    @functools.wraps(fn)
    def in_turn(*args, **kwargs):
        with _turn:
            return fn(*args, **kwargs)
    return in_turn  # type: ignore[return-value]
