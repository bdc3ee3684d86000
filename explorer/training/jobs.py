"""Training runs off the UI thread: start, poll, stop, collect — and end with their session.

A `TrainingJob` belongs to one session. It trains one or more labelled runs (each a spec and,
with ``config.twin``, its plain twin) one after the other in a daemon thread, logging progress
events the UI polls. Its life is bounded three ways:

- **Its session.** ``alive`` (a callable the page passes, e.g. "is my Streamlit session still
  connected?") is polled every few seconds; once it has answered False for ``ORPHAN_GRACE_S``
  seconds in a row (a reconnect within that time keeps the run), the job stops itself.
- **The machine.** It holds a slot only while it trains (one of ``explorer.slots.GPU_SLOTS`` on
  CUDA, of ``TRAINING_SLOTS`` on the CPU), takes it only once the run's data is ready (a download
  never holds a slot), and a job that is stopped or orphaned while queued ends at once.
- **Memory.** The event log is bounded: past ``MAX_EVENTS`` it drops every other step event (the
  loss curve keeps its shape; epoch and evaluation events are kept).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from explorer.slots import training_slot
from explorer.nets.spec import NetSpec
from explorer.training.config import TrainConfig
from explorer.training.cost import run_cost
from explorer.training.train import ProgressEvent, TrainResult, early_estimate_steps, train

ORPHAN_GRACE_S = 60.0
ETA_AFTER_FRACTION = 0.02
THREAD_NAME = "training-job"  # the server's memory watcher counts these (pages/widgets/memory.py)
ALIVE_POLL_S = 2.0
MAX_EVENTS = 20_000


@dataclass(frozen=True)
class RunEvent:
    run: str
    event: ProgressEvent


class EventLog:
    """Progress events, thinned (never truncated) to stay under ``limit``."""

    def __init__(self, limit: int = MAX_EVENTS) -> None:
        self.limit = limit
        self._events: list[RunEvent] = []
        self._lock = threading.Lock()

    def append(self, item: RunEvent) -> None:
        with self._lock:
            self._events.append(item)
            if len(self._events) > self.limit:
                steps = [i for i, e in enumerate(self._events) if e.event.kind == "step"]
                drop = set(steps[1:-1:2])  # keep the first and the latest step event
                self._events = [e for i, e in enumerate(self._events) if i not in drop]

    def snapshot(self) -> list[RunEvent]:
        with self._lock:
            return list(self._events)

    def last(self) -> RunEvent | None:
        with self._lock:
            return self._events[-1] if self._events else None

    def __len__(self) -> int:
        return len(self._events)


@dataclass
class TrainingJob:
    """Train ``runs`` (label → spec) with one ``config``, one after the other, in a thread.

    Args:
        runs: label → spec (each already adapted to the dataset's channels/classes/size).
        config: the recipe, shared by every run.
        make_data: spec → (train set, val set); called in the thread, outside the GPU slot.
        device: where to train (resolved; overrides ``config.device``).
        alive: polled every ``ALIVE_POLL_S``; the job ends once it has been False for
            ``ORPHAN_GRACE_S``. ``None``: never orphaned (scripts, tests).
    """

    runs: dict[str, NetSpec]
    config: TrainConfig
    make_data: Callable[[NetSpec], tuple]
    device: str = "cpu"
    alive: Callable[[], bool] | None = None
    events: EventLog = field(default_factory=EventLog)
    results: dict[str, TrainResult] = field(default_factory=dict)
    phase: str = "waiting"  # loading data, waiting for a free training slot, training, evaluating, done
    error: str | None = None
    orphaned: bool = False
    started: float = 0.0
    training_started: float | None = None  # when the first run got its slot
    finished: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _dead_since: float | None = None
    _last_poll: float = 0.0

    def start(self) -> "TrainingJob":
        self.started = time.time()
        self._thread = threading.Thread(target=self._work, daemon=True, name=THREAD_NAME)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def costs(self) -> dict[str, float]:
        """Each run's cost in mult-adds (training and held-out evaluation, all variants)."""
        return {label: run_cost(spec, self.config) for label, spec in self.runs.items()}

    def progress(self) -> tuple[float, float | None]:
        """Fraction of the whole job's cost done, and seconds left (None before any step)."""
        last = self.events.last()
        if last is None:
            return 0.0, None
        costs = self.costs()
        labels = list(self.runs)
        done_before = sum(costs[label] for label in labels[:labels.index(last.run)])
        fraction = (done_before + costs[last.run] * last.event.step / last.event.total_steps)
        fraction = min(1.0, fraction / sum(costs.values()))
        # Timed from the first training step, not from Start (a queue or a download is not
        # training speed), and only once a little is done (the first steps include warm-up).
        began = self.training_started or self.started
        if fraction < ETA_AFTER_FRACTION:
            return fraction, None
        return fraction, (time.time() - began) * (1 - fraction) / fraction

    def _should_stop(self) -> bool:
        if self._stop.is_set():
            return True
        now = time.monotonic()
        if self.alive is not None and now - self._last_poll >= ALIVE_POLL_S:
            self._last_poll = now
            if self.alive():
                self._dead_since = None
            else:
                self._dead_since = self._dead_since or now
                if now - self._dead_since >= ORPHAN_GRACE_S:
                    self.orphaned = True
                    self._stop.set()
        return self._stop.is_set()

    def _log(self, label: str):
        def record(event: ProgressEvent) -> None:
            self.phase = "evaluating" if event.kind == "evaluating" else "training"
            self.events.append(RunEvent(label, event))
        return record

    def _work(self) -> None:
        try:
            for label, spec in self.runs.items():
                if self._should_stop():
                    break
                self.phase = "loading data"
                train_set, val_set = self.make_data(spec)
                self.phase = "waiting for a free training slot"
                with training_slot(self.device, self._should_stop) as taken:
                    if not taken:
                        break
                    self.phase = "training"
                    self.training_started = self.training_started or time.time()
                    self.results[label] = train(
                        spec, train_set, self.config, val_dataset=val_set, device=self.device,
                        on_progress=self._log(label), should_stop=self._should_stop,
                        estimate_every=early_estimate_steps(self.config))
        except Exception as exc:  # noqa: BLE001  (reported to the UI; the thread must not die silently)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.phase = "done"
            self.finished = time.time()
