"""Training runs off the UI thread: start, poll, stop, collect.

A `TrainingJob` belongs to one session. It trains one or more labelled runs (each a spec and,
optionally, its plain twin) in a daemon thread, appending every progress event to a list the UI
polls. Work on a GPU holds `explorer.budget.gate`, so concurrent sessions queue instead of
running each other out of memory.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Callable

from torch.utils.data import Dataset

from explorer.budget import gate
from explorer.training.train import ProgressEvent, TrainResult, train
from explorer.nets.spec import NetSpec

@dataclass(frozen=True)
class RunEvent:
    run: str
    event: ProgressEvent


@dataclass
class TrainingJob:
    """Train ``runs`` (label → spec) one after the other in a background thread."""

    runs: dict[str, NetSpec]
    make_data: Callable[[NetSpec], tuple[Dataset, Dataset]]
    epochs: int
    batch_size: int
    lr: float
    seed: int
    device: str
    twin: bool = True
    events: list[RunEvent] = field(default_factory=list)
    results: dict[str, TrainResult] = field(default_factory=dict)
    error: str | None = None
    started: float = 0.0
    finished: float | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> "TrainingJob":
        self.started = time.time()
        self._thread = threading.Thread(target=self._work, daemon=True, name="training-job")
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

    def progress(self) -> tuple[float, float | None]:
        """Fraction done over all runs, and seconds left (None before the first event)."""
        if not self.events:
            return 0.0, None
        last = self.events[-1]
        runs = list(self.runs)
        done_runs = runs.index(last.run)
        fraction = (done_runs + last.event.step / last.event.total_steps) / len(runs)
        elapsed = time.time() - self.started
        eta = elapsed * (1 - fraction) / fraction if fraction > 0 else None
        return min(fraction, 1.0), eta

    def _work(self) -> None:
        try:
            with gate(self.device):
                for label, spec in self.runs.items():
                    if self._stop.is_set():
                        break
                    train_set, val_set = self.make_data(spec)
                    self.results[label] = train(
                        spec, train_set, self.epochs, self.batch_size, self.lr, self.seed,
                        self.device, twin=self.twin, val_dataset=val_set,
                        on_progress=lambda e, label=label: self.events.append(RunEvent(label, e)),
                        should_stop=self._stop.is_set,
                    )
        except Exception as exc:  # noqa: BLE001  (reported to the UI; the thread must not die silently)
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.finished = time.time()
