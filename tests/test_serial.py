"""Python-bound work takes turns: no two wrapped calls overlap, and a wrapped call may nest."""

import threading
import time

from explorer.serial import one_at_a_time


def test_wrapped_calls_from_many_threads_never_overlap_and_may_nest():
    inside, most, lock = [0], [0], threading.Lock()

    @one_at_a_time
    def inner():
        return "nested"

    @one_at_a_time
    def work():
        with lock:
            inside[0] += 1
            most[0] = max(most[0], inside[0])
        time.sleep(0.01)  # plenty of time for another thread to come in, were it let
        answer = inner()  # re-entrant: the same thread takes its turn again
        with lock:
            inside[0] -= 1
        return answer

    answers = []
    threads = [threading.Thread(target=lambda: answers.append(work())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=10)
    assert answers == ["nested"] * 8
    assert most[0] == 1
