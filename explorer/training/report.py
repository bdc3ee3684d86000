"""What a finished training job measured, as a table (one row per run and variant)."""

from __future__ import annotations

import pandas as pd

from explorer.training.train import TrainResult
from explorer.units import pct


def results_table(results: dict[str, TrainResult]) -> pd.DataFrame:
    """Depth, epochs done (a fraction when stopped), final training loss (mean of the last
    steps), held-out accuracy where the run ended, and each variant's own images/s."""
    rows = []
    for run, result in results.items():
        for variant, history in result.histories.items():
            final = history.final
            last = history.epochs[-1] if history.epochs else {}
            rows.append({
                "run": run, "net": variant, "depth": result.specs[variant].depth,
                "epochs done": round(result.epochs_done, 2),
                "final training loss": final.get("train_loss"),
                "held-out accuracy": None if final.get("val_accuracy") is None
                else pct(final["val_accuracy"]),
                "images/s": _speed(final.get("images_per_s") or last.get("images_per_s")),
                "stopped early": result.stopped,
            })
    return pd.DataFrame(rows)


def _speed(images_per_s: float | None) -> float:
    """Images per second over the run; NaN (an empty cell) for a run stopped before a step."""
    return round(images_per_s, 1) if images_per_s else float("nan")
