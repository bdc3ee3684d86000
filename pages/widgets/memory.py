"""The server process's garbage collection, tuned for many sessions in one interpreter.

Streamlit's full ``gc.collect()`` after every script run is off (``.streamlit/config.toml``,
``postScriptGC``): it made sixteen students at once 1.5 × slower even with the imports frozen
(bench/CLASSROOM.md). Without it, what a closed tab held in reference cycles waits for a
generation-2 collection that an idle server never triggers (tests/bench/test_load.py saw 549 MB of
four visitors' models stay after they left). So a watcher collects once whenever a session or a
training thread ends.
"""

from __future__ import annotations

import gc
import threading
import time
from typing import Callable

from streamlit.runtime import Runtime, exists

from explorer.training.jobs import THREAD_NAME

POLL_S = 1.0
SETTLE_S = 5.0

_lock = threading.Lock()
_started = False


def tune_once() -> None:
    """Once per process, after the first run: freeze the import-time objects out of the
    collector's reach (they live as long as the process, so collections stay cheap) and start
    the watcher that collects when sessions end."""
    global _started
    with _lock:
        if _started:
            return
        _started = True
    gc.freeze()
    count = _session_counter()
    if count is not None:
        threading.Thread(target=_collect_when_sessions_end, args=(count,), daemon=True,
                         name="collect-after-sessions").start()


def _session_counter() -> Callable[[], int] | None:
    """How many sessions the server holds (connected or waiting out their TTL); None outside a
    server (bare AppTest runs), where sessions do not end."""
    if not exists():
        return None
    manager = getattr(Runtime.instance(), "_session_mgr", None)  # no public accessor
    return getattr(manager, "num_sessions", None)


def _collect_when_sessions_end(sessions: Callable[[], int]) -> None:
    def holders() -> int:
        # A training of a session that is already gone keeps its models until its thread ends.
        return sessions() + sum(t.name == THREAD_NAME for t in threading.enumerate())

    before, again_at = holders(), None
    while True:
        time.sleep(POLL_S)
        now = holders()
        if now < before:
            gc.collect()
            # Once more when things have settled: a session's last script run or a stopped
            # training can let go of its models a moment after it stopped being counted.
            again_at = time.monotonic() + SETTLE_S
        elif again_at is not None and time.monotonic() >= again_at:
            gc.collect()
            again_at = None
        before = now
