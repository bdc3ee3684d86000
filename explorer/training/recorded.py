"""Recorded experiments shipped with the app: drawn at once, labelled as recorded.

``checkpoints/figure1/history.json`` holds He et al.'s Fig. 1 on the synthetic shapes: ResNet-20,
plain-20, ResNet-56 and plain-56, one recipe, the same number of steps, each pair from identical
initial weights; every step's training loss and batch accuracy, every epoch's row, the test
accuracies, and the command, device and threads that produced them.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from explorer.training.curves import Curve

FIGURE1_RECORD = Path(__file__).resolve().parents[2] / "checkpoints" / "figure1" / "history.json"


@dataclass(frozen=True)
class Recorded:
    """A recorded experiment: its curves and how it was made."""

    title: str
    command: str
    device: str
    threads: int
    minutes: float
    curves: list[Curve]
    test_accuracy: dict[str, float]  # curve label → accuracy on the test split
    config: dict
    conditions: str = ""


def load_recorded(path: str | Path) -> Recorded:
    """Read a recorded experiment file (``checkpoints/figure1/history.json``)."""
    data = json.loads(Path(path).read_text())
    curves, tests = [], {}
    for run, entry in data["runs"].items():
        for variant, rec in entry["variants"].items():
            n = len(rec["loss"])
            c = Curve(run, variant, entry["depth"], data["classes"], list(range(1, n + 1)),
                      rec["loss"], rec["accuracy"],
                      [row["epoch"] * data["steps_per_epoch"] for row in rec["epochs"]],
                      [row["val_accuracy"] for row in rec["epochs"]],
                      total_steps=n, steps_per_epoch=data["steps_per_epoch"],
                      images_per_s=rec["epochs"][-1]["images_per_s"])
            curves.append(c)
            tests[c.label] = rec["test_accuracy"]
    return Recorded(data["title"], data["command"], data["device"], data["threads"],
                    data["minutes"], curves, tests, data["config"], data.get("conditions", ""))


@functools.lru_cache(maxsize=1)
def recorded_figure1() -> Recorded | None:
    """The shipped Fig. 1 record, or None when it is missing."""
    return load_recorded(FIGURE1_RECORD) if FIGURE1_RECORD.exists() else None
