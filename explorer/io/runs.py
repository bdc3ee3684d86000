"""Run folders: a trained net as files, written by the command line, the Training page's
bundles and the recorded experiments alike.

A run folder holds ``model.safetensors`` and ``spec.json`` (`explorer.io.checkpoints`),
``metrics.json`` (what the run measured and how to rerun it) and ``history.json`` (every step's
loss, every epoch's row, and where the run ended).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

import torch

from explorer.io.checkpoints import save_checkpoint
from explorer.nets.spec import NetSpec

METRICS_FILE = "metrics.json"
HISTORY_FILE = "history.json"


class HistoryLike(Protocol):
    steps: list
    epochs: list
    final: dict


def save_run(folder: Path, model: torch.nn.Module, spec: NetSpec, metrics: dict,
             history: HistoryLike) -> Path:
    """Write a run folder: weights, spec, metrics and history."""
    save_checkpoint(model, spec, folder)
    (folder / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    (folder / HISTORY_FILE).write_text(json.dumps(
        {"steps": history.steps, "epochs": history.epochs, "final": history.final}) + "\n")
    return folder
