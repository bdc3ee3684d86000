"""Heavy work takes turns: compute slots shared by every session of the server, first come first
served (the memory check before a job is `explorer.budget`).

On a GPU, heavy jobs (training, gradient flow, the analyses) share ``GPU_SLOTS``; on the CPU the
heavy analyses share ``CPU_SLOTS`` and trainings queue apart through ``TRAINING_SLOTS``.
"""

from __future__ import annotations

import collections
import os
import threading
from typing import Callable

import torch


def _slots(name: str, default: int) -> int:
    text = os.environ.get(name)
    try:
        slots = int(text) if text else default
    except ValueError:
        slots = 0
    if slots < 1:
        raise ValueError(f"{name} must be a whole number ≥ 1, got {text!r}.")
    return slots


class FairSlots:
    """A counting semaphore that serves its waiters in arrival order (first come, first served).

    A released slot is handed straight to the oldest waiter, so a newcomer can never overtake
    the sessions already queued (``threading.Semaphore`` lets it).
    """

    def __init__(self, slots: int) -> None:
        self._free = slots
        self._lock = threading.Lock()
        self._waiters: collections.deque[threading.Event] = collections.deque()

    def acquire(self, blocking: bool = True,
                give_up: Callable[[], bool] | None = None, poll_s: float = 0.5) -> bool:
        """Take a slot; False when not ``blocking`` and none is free, or once ``give_up()``
        answers True while waiting (asked every ``poll_s`` seconds)."""
        with self._lock:
            if self._free and not self._waiters:
                self._free -= 1
                return True
            if not blocking:
                return False
            turn = threading.Event()
            self._waiters.append(turn)
        while True:
            handed = turn.wait(poll_s if give_up else None)
            if give_up is not None and give_up():
                with self._lock:
                    if not turn.is_set():
                        self._waiters.remove(turn)
                        return False
                self.release()  # handed over as it gave up: pass it on
                return False
            if handed:
                return True

    def release(self) -> None:
        with self._lock:
            if self._waiters:
                self._waiters.popleft().set()  # the slot passes on without being free
            else:
                self._free += 1

    @property
    def waiting(self) -> int:
        return len(self._waiters)


# Heavy GPU jobs (training, gradient flow, the analyses) running at once across all sessions;
# the rest wait their turn. Two by default: one long training never blocks everyone else.
GPU_SLOTS = _slots("RESNET_EXPLORER_GPU_SLOTS", 2)
# On the CPU, heavy analyses take turns too: sixteen of them at once, each with torch's own
# threads, thrash the cores (bench/CLASSROOM.md); one after another each runs at full speed.
CPU_SLOTS = _slots("RESNET_EXPLORER_CPU_SLOTS",
                   max(1, (os.cpu_count() or 1) // torch.get_num_threads()))
# Trainings on the CPU at once, across all sessions; the others queue. A queued training whose
# session has gone ends at once instead of slowing every other one down (bench/CLASSROOM.md).
TRAINING_SLOTS = _slots("RESNET_EXPLORER_TRAINING_SLOTS", 4)
_gpu_gate = FairSlots(GPU_SLOTS)
_cpu_gate = FairSlots(CPU_SLOTS)
_training_gate = FairSlots(TRAINING_SLOTS)


class training_slot:
    """What a training run holds while it trains: a GPU slot on CUDA, a training slot on the CPU.

    ``with training_slot(device, give_up) as taken``: ``taken`` is False when ``give_up()``
    answered True while the run waited (a stopped or orphaned job); nothing is held then.
    """

    def __init__(self, device: str | torch.device, give_up: Callable[[], bool]) -> None:
        self.slots = _gpu_gate if torch.device(device).type == "cuda" else _training_gate
        self.give_up = give_up
        self.taken = False

    def __enter__(self) -> bool:
        self.taken = self.slots.acquire(give_up=self.give_up)
        return self.taken

    def __exit__(self, *exc) -> None:
        if self.taken:
            self.slots.release()
            self.taken = False


class gate:
    """Hold a compute slot for the duration of a heavy job, first come first served.

    On a GPU one of ``GPU_SLOTS``, on the CPU one of ``CPU_SLOTS`` (trainings queue apart, see
    ``training_slot``). Short page reruns take no slot, so they never queue behind an analysis.
    """

    def __init__(self, device: str | torch.device) -> None:
        self.slots = _gpu_gate if torch.device(device).type == "cuda" else _cpu_gate
        self.taken = False

    def __enter__(self) -> "gate":
        # A thread that already holds a slot of this kind keeps using it: a heavy job calling
        # another one must not wait for itself (with one CPU slot that would never end).
        held = _held.__dict__.setdefault("slots", set())
        if self.slots not in held:
            self.slots.acquire()
            held.add(self.slots)
            self.taken = True
        return self

    def __exit__(self, *exc) -> None:
        if self.taken:
            _held.slots.discard(self.slots)
            self.slots.release()
            self.taken = False


_held = threading.local()
