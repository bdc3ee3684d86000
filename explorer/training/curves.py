"""Training curves as plain data, from a live job's events or from a recorded history file.

A ``Curve`` is one net's run: the training loss and batch accuracy at every logged step, and the
held-out accuracy at the step where each complete epoch (or a stopped run) ended. The figures
draw curves; the verdicts read their ``Outcome``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

from explorer.training.config import TAIL_STEPS
from explorer.training.verdicts import Outcome



@dataclass
class Curve:
    run: str  # e.g. "resnet56"
    variant: str  # "residual" or "plain"
    depth: int
    classes: int
    steps: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    accuracies: list[float] = field(default_factory=list)
    val_steps: list[int] = field(default_factory=list)
    val_accuracies: list[float] = field(default_factory=list)
    # Early held-out estimates (`train.EARLY_IMAGES` images) while an epoch runs: live only.
    estimate_steps: list[int] = field(default_factory=list)
    estimate_accuracies: list[float] = field(default_factory=list)
    total_steps: int = 0
    steps_per_epoch: int = 0
    images_per_s: float | None = None

    @property
    def label(self) -> str:
        return f"{'ResNet' if self.variant == 'residual' else 'plain'}-{self.depth}"

    def outcome(self) -> Outcome:
        tail = self.losses[-TAIL_STEPS:]
        done = self.steps[-1] if self.steps else 0
        return Outcome(self.label, self.depth, self.variant == "residual",
                       sum(tail) / len(tail) if tail else None,
                       self.val_accuracies[-1] if self.val_accuracies else None, self.classes,
                       done / self.steps_per_epoch if self.steps_per_epoch else None,
                       self.total_steps / self.steps_per_epoch
                       if self.steps_per_epoch and self.total_steps else None)


def curves_from_events(events: Iterable, specs: dict, steps_per_epoch: int) -> list[Curve]:
    """Curves of a live job: ``events`` are ``RunEvent``s, ``specs`` run label → spec."""
    curves: dict[tuple[str, str], Curve] = {}
    for item in events:
        e = item.event
        key = (item.run, e.variant)
        if key not in curves:
            spec = specs[item.run]
            curves[key] = Curve(item.run, e.variant, spec.depth, spec.num_classes,
                                total_steps=e.total_steps, steps_per_epoch=steps_per_epoch)
        c = curves[key]
        if e.kind == "step":
            c.steps.append(e.step)
            c.losses.append(e.loss)
            c.accuracies.append(e.accuracy)
        elif e.kind == "estimate":
            c.estimate_steps.append(e.step)
            c.estimate_accuracies.append(e.val_accuracy)
        elif e.kind == "epoch":
            c.images_per_s = e.images_per_s
            if e.val_accuracy is not None:
                c.val_steps.append(e.step)
                c.val_accuracies.append(e.val_accuracy)
    return list(curves.values())


def curves_from_results(results: dict) -> list[Curve]:
    """Curves of finished runs (run label → ``TrainResult``), with where stopped runs ended."""
    curves = []
    for run, result in results.items():
        per_epoch = result.total_steps // max(1, result.config.epochs)
        for variant, history in result.histories.items():
            spec = result.specs[variant]
            c = Curve(run, variant, spec.depth, spec.num_classes, total_steps=result.total_steps,
                      steps_per_epoch=per_epoch)
            c.steps = [s["step"] for s in history.steps]
            c.losses = [s["loss"] for s in history.steps]
            c.accuracies = [s["accuracy"] for s in history.steps]
            for row in history.epochs:
                if row["val_accuracy"] is not None:
                    c.val_steps.append(row["epoch"] * per_epoch)
                    c.val_accuracies.append(row["val_accuracy"])
            final = history.final
            if final.get("val_accuracy") is not None and final["steps"] not in c.val_steps:
                c.val_steps.append(final["steps"])
                c.val_accuracies.append(final["val_accuracy"])
            if history.epochs:
                c.images_per_s = history.epochs[-1]["images_per_s"]
            curves.append(c)
    return curves
