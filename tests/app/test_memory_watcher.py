"""The server's collector: when a session ends it collects at once, and once more after a pause."""

import threading
import time

from pages.widgets import memory


def test_a_session_ending_collects_now_and_once_more_when_settled(monkeypatch):
    collections = []
    monkeypatch.setattr(memory, "POLL_S", 0.02)
    monkeypatch.setattr(memory, "SETTLE_S", 0.2)
    monkeypatch.setattr(memory.gc, "collect", lambda: collections.append(time.monotonic()))
    sessions = [3]
    threading.Thread(target=memory._collect_when_sessions_end, args=(lambda: sessions[0],),
                     daemon=True).start()
    time.sleep(0.1)
    assert collections == []  # nothing ended yet
    sessions[0] = 2
    time.sleep(0.6)
    assert len(collections) == 2  # at once, then once more, then quiet
    assert collections[1] - collections[0] >= 0.2
    sessions[0] = 5  # a new visitor: nothing to collect
    time.sleep(0.3)
    assert len(collections) == 2
