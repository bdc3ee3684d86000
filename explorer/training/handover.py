"""A finished training run handed to the analysis pages as `Twins`, with the facts of the
dataset *it* learned (not the one a page has selected since)."""

from __future__ import annotations

from explorer.data.registry import DATASETS
from explorer.io.twins import Twins
from explorer.training.train import TrainResult
from explorer.units import pct


def trained_twins(result: TrainResult, run: str) -> Twins:
    """The run's main net (the residual one when there is one) and its twin."""
    info = DATASETS[result.config.dataset]
    models = result.models
    main = "residual" if "residual" in models else next(iter(models))
    twin = models.get("plain") if main == "residual" else None
    accuracy = result.histories[main].final.get("val_accuracy")
    how = (f"stopped early after {result.epochs_done:.2f} epochs" if result.stopped
           else f"{result.epochs_done:.0f} epoch(s)")
    held_out = f", {pct(accuracy)} held-out accuracy" if accuracy is not None else ""
    return Twins(models[main], result.specs[main], "session",
                 f"the **{run}** net trained in this session on {info.title} ({how}{held_out})",
                 twin, info.normalization, info.classes, info.name, "trained in this session",
                 result.config.seed)
