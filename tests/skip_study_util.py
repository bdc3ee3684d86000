"""Hand-made skip-design study folders: run folders as `python -m explorer train` writes them,
with the numbers a test chooses (no weights: the study reads spec, metrics and history only)."""

from __future__ import annotations

import json
from pathlib import Path

from explorer.nets.presets import preset

STEPS, EPOCHS, CLASSES = 40, 4, 8


def write_run(study: Path, variant: str, test_accuracy: float, final_loss: float,
              val_accuracies: tuple[float, ...] | None = None) -> Path:
    """``study/<variant>/`` with a ResNet-56 of that design or order, a loss falling linearly
    to ``final_loss``, and the given test accuracy."""
    field, value = (("order", variant.removeprefix("order-")) if variant.startswith("order-")
                    else ("skip_design", variant))
    spec = preset("resnet56").replace(num_classes=CLASSES, **{field: value})
    folder = study / variant
    folder.mkdir(parents=True)
    (folder / "spec.json").write_text(spec.to_json())
    per_epoch = STEPS // EPOCHS
    start = 2.1
    steps = [{"step": s, "epoch": (s - 1) // per_epoch + 1,
              "loss": start + (final_loss - start) * s / STEPS, "accuracy": 0.5, "lr": 0.02}
             for s in range(1, STEPS + 1)]
    vals = val_accuracies or tuple(test_accuracy * (e + 1) / EPOCHS for e in range(EPOCHS))
    epochs = [{"epoch": e + 1, "loss": 1.0, "train_accuracy": 0.5, "val_accuracy": v,
               "images_per_s": 90.0, "seconds": 10.0 * (e + 1)} for e, v in enumerate(vals)]
    (folder / "metrics.json").write_text(json.dumps({
        "variant": "residual", "command": f"python -m explorer train --made-up {variant}",
        "test_accuracy": test_accuracy, "test_size": 2000, "final_train_loss": final_loss,
        "train_seconds": 123.0, "total_steps": STEPS}))
    (folder / "history.json").write_text(json.dumps({
        "steps": steps, "epochs": epochs,
        "final": {"steps": STEPS, "epochs_done": EPOCHS, "train_loss": final_loss}}))
    return folder
