"""A training run from start to saved folders: the command line's ``train`` and the recorded
experiments use it, so what they save has one format.

A saved run folder (`explorer.io.runs`) holds the weights, the spec, ``metrics.json`` (test
accuracy, the reproducing command, the ``TrainConfig``, the dataset with its class names and
normalisation, where the run ended) and ``history.json`` (every step's loss, every epoch's row).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import torch
from torch.utils.data import Subset

from explorer.io.runs import save_run
from explorer.nets.spec import NetSpec
from explorer.nets.presets import preset
from explorer.training.config import TrainConfig
from explorer.data.registry import DATASETS
from explorer.training.train import ProgressEvent, TrainResult, evaluate, train

CHECK_SIZE = 500  # metrics.json also records accuracy on this many test images, for the tests


def spec_for(preset_name: str, config: TrainConfig, **changes) -> NetSpec:
    """A preset adapted to the config's dataset (`TrainConfig.fit`), with ``changes``
    (``None`` values ignored) applied."""
    return config.fit(preset(preset_name)).replace(
        **{k: v for k, v in changes.items() if v is not None})


def print_progress(event: ProgressEvent) -> None:
    if event.kind == "epoch":
        val = "" if event.val_accuracy is None else f", held-out {event.val_accuracy:.2%}"
        print(f"[{event.variant}] epoch {event.epoch}/{event.epochs}: loss {event.loss:.3f}, "
              f"train {event.accuracy:.2%}{val}, {event.images_per_s:.0f} images/s", flush=True)
    elif event.kind == "step" and event.step % 50 == 0:
        print(f"[{event.variant}] step {event.step}/{event.total_steps} loss {event.loss:.3f} "
              f"lr {event.lr:.4f}", flush=True)


def train_and_save(spec: NetSpec, config: TrainConfig, out: str | Path, command: str,
                   download: bool = False,
                   on_progress: Callable[[ProgressEvent], None] | None = None) -> dict[Path, dict]:
    """Train ``spec`` (and its twin) by ``config``, test, and save each variant's folder.

    The main net goes to ``out``; the twin to ``out-plain`` (or ``out-residual`` when the main
    net is the plain one).

    Returns:
        folder → the metrics written there.
    """
    train_set, val_set, test_set = config.splits(spec.image_size, download)
    started = time.time()
    result = train(spec, train_set, config, val_dataset=val_set, on_progress=on_progress)
    main_variant = "residual" if spec.skip else "plain"
    saved = {}
    for variant, model in result.models.items():
        folder = Path(out if variant == main_variant else f"{out}-{variant}")
        metrics = run_metrics(result, variant, command, test_set, time.time() - started)
        save_run(folder, model, result.specs[variant], metrics, result.histories[variant])
        saved[folder] = metrics
    return saved


def run_metrics(result: TrainResult, variant: str, command: str, test_set=None,
                seconds: float | None = None) -> dict:
    """What ``metrics.json`` records for one variant of a run (test numbers when given a
    test set)."""
    model, spec, config = result.models[variant], result.specs[variant], result.config
    info = DATASETS[config.dataset]
    history = result.histories[variant]
    metrics = {
        "variant": variant, "command": command, "dataset": config.dataset,
        "classes": list(info.classes), "normalization": [list(info.mean), list(info.std)],
        "image_size": spec.image_size, "depth": spec.depth,
        "params": sum(p.numel() for p in model.parameters()), "seed": config.seed,
        "val_accuracy": history.final.get("val_accuracy"),
        "final_train_loss": history.final.get("train_loss"),
        "final_train_accuracy": history.epochs[-1]["train_accuracy"] if history.epochs else None,
        "train_seconds": round(result.seconds if seconds is None else seconds, 1),
        "torch": torch.__version__, **result.metadata(),
    }
    if test_set is not None and len(test_set):
        check = Subset(test_set, range(min(CHECK_SIZE, len(test_set))))
        metrics.update({
            "test_accuracy": evaluate(model, test_set), "test_size": len(test_set),
            "test_split": f"{config.dataset} test split, seed {config.seed}",
            "check_accuracy": evaluate(model, check), "check_size": len(check)})
    return metrics
