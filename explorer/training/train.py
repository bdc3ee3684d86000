"""Training a spec (and, optionally, its plain twin) on a dataset; evaluation.

Recipe: SGD with momentum and weight decay, cross-entropy, a per-step learning-rate schedule of
linear warm-up (the first epoch, at most a fifth of the run) then cosine decay to zero, as in
He et al.'s CIFAR runs with the step schedule smoothed. No augmentation: the synthetic set never
repeats an image within a split's size, and torchvision datasets carry their own transforms.

Everything is local to the call: the shuffling generator, the models, the optimisers. Nothing
touches torch's global seed, so several sessions can train at once in threads. On CUDA the step
runs under autocast (bf16 where supported, else fp16 with a GradScaler) in channels_last.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from explorer.nets.preserved import preserved
from torch.utils.data import Dataset, default_collate

from explorer.nets.model import ResNet, build
from explorer.nets.spec import NetSpec


@dataclass(frozen=True)
class ProgressEvent:
    """What ``on_progress`` receives after a logged step (``kind="step"``) or an epoch."""

    kind: str  # "step" or "epoch"
    variant: str  # "residual" or "plain"
    step: int  # steps done (per variant), 1-based
    total_steps: int
    epoch: int  # 1-based
    epochs: int
    loss: float  # this step's loss, or the epoch's mean
    accuracy: float  # this batch's, or the epoch's running train accuracy
    lr: float
    eta_s: float  # estimated seconds left for the whole run
    images_per_s: float | None = None  # epoch events only
    val_accuracy: float | None = None  # epoch events with a val_dataset


@dataclass
class History:
    """One variant's record: ``steps`` rows (step, epoch, loss, accuracy, lr) and ``epochs``
    rows (epoch, loss, train_accuracy, val_accuracy, images_per_s, seconds)."""

    steps: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)


@dataclass
class TrainResult:
    """Trained models (in eval mode) and histories, keyed by variant name."""

    specs: dict[str, NetSpec]
    models: dict[str, ResNet]
    histories: dict[str, History]
    stopped: bool  # should_stop() ended the run early
    seconds: float
    config: dict


def variant_specs(spec: NetSpec, twin: bool) -> dict[str, NetSpec]:
    """``{"residual": ..., "plain": ...}`` for a twin run, else the one variant ``spec`` is."""
    if twin:
        return {"residual": spec.replace(skip=True), "plain": spec.replace(skip=False)}
    return {"residual" if spec.skip else "plain": spec}


def lr_factor(step: int, total: int, warmup: int) -> float:
    """Learning-rate multiplier at ``step`` (0-based): linear warm-up, then cosine to zero."""
    if step < warmup:
        return (step + 1) / warmup
    return 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))


def fetch(dataset: Dataset, indices: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of (images, labels): ``get_batch`` when the dataset has it, else item by item."""
    if hasattr(dataset, "get_batch"):
        return dataset.get_batch(indices)
    images, labels = default_collate([dataset[i] for i in indices.tolist()])
    return images, torch.as_tensor(labels)


def _autocast(device: torch.device):
    if device.type != "cuda":
        return nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def _to_device(x: torch.Tensor, device: torch.device) -> torch.Tensor:
    if device.type == "cuda":
        return x.to(device, non_blocking=True, memory_format=torch.channels_last)
    return x.to(device)


def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256,
             device: str | torch.device | None = None) -> float:
    """Top-1 accuracy of ``model`` on ``dataset`` (in eval mode; the mode is restored after).

    Args:
        model: a classifier.
        dataset: yields (image, label), or has ``get_batch(indices)``.
        batch_size: images per forward pass.
        device: where to run; defaults to the model's device.
    """
    device = torch.device(device) if device else next(model.parameters()).device
    correct = 0
    with preserved(model), torch.no_grad(), _autocast(device):
        model.eval()
        for start in range(0, len(dataset), batch_size):
            idx = torch.arange(start, min(len(dataset), start + batch_size))
            images, labels = fetch(dataset, idx)
            logits = model(_to_device(images, device))
            correct += int((logits.argmax(1).cpu() == labels).sum())
    return correct / len(dataset)


class _Variant:
    """One model with its optimiser, schedule and running sums."""

    def __init__(self, spec: NetSpec, seed: int, device: torch.device, lr: float, momentum: float,
                 weight_decay: float, total: int, warmup: int) -> None:
        self.model = build(spec, seed, device)
        if device.type == "cuda":
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=momentum,
                                         weight_decay=weight_decay)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, total, warmup))
        fp16 = device.type == "cuda" and not torch.cuda.is_bf16_supported()
        self.scaler = torch.amp.GradScaler("cuda", enabled=fp16)
        self.history = History()
        self.pending: list[tuple[int, int, float, torch.Tensor, torch.Tensor, int]] = []

    def step(self, images: torch.Tensor, labels: torch.Tensor, device: torch.device):
        with _autocast(device):
            logits = self.model(images)
            loss = F.cross_entropy(logits.float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        lr = self.optimizer.param_groups[0]["lr"]
        self.schedule.step()
        return loss.detach(), (logits.argmax(1) == labels).sum(), lr


def train(spec: NetSpec, dataset: Dataset, epochs: int, batch_size: int = 128, lr: float = 0.1,
          seed: int = 0, device: str | torch.device = "cpu",
          on_progress: Callable[[ProgressEvent], None] | None = None,
          should_stop: Callable[[], bool] | None = None, val_dataset: Dataset | None = None,
          twin: bool = False, weight_decay: float = 5e-4, momentum: float = 0.9,
          log_every: int | None = None) -> TrainResult:
    """Train ``spec`` (and with ``twin`` its plain counterpart) from ``build(spec, seed)``.

    Args:
        spec: the architecture; ``num_classes``/``image_size`` must suit the dataset.
        dataset: yields (image, label), or has ``get_batch(indices)`` (fast path).
        epochs: passes over the dataset; each uses ``len(dataset) // batch_size`` full batches.
        batch_size, lr, weight_decay, momentum: the SGD recipe (``lr`` is the peak rate).
        seed: initial weights (``build``) and shuffling (a local ``torch.Generator``).
        device: ``cpu`` or ``cuda``.
        on_progress: called with a ``ProgressEvent`` every ``log_every`` steps and per epoch.
        should_stop: polled before every step; returning True ends the run with what it has.
        val_dataset: evaluated after each epoch.
        twin: also train the plain twin (``skip=False``) from identical initial weights, on the
            same batches in the same order, interleaved step by step.
        log_every: steps between logged losses (each costs a GPU sync); default 1 on CPU, 20 on
            CUDA.

    Returns:
        A ``TrainResult``; with ``stopped`` True when ``should_stop`` cut the run short.
    """
    device = torch.device(device)
    log_every = log_every or (20 if device.type == "cuda" else 1)
    n = len(dataset)
    per_epoch = max(1, n // batch_size)
    total = epochs * per_epoch
    warmup = max(1, min(per_epoch, total // 5))
    variants = {name: _Variant(s, seed, device, lr, momentum, weight_decay, total, warmup)
                for name, s in variant_specs(spec, twin).items()}
    gen = torch.Generator().manual_seed(seed)
    start, step, stopped = time.perf_counter(), 0, False
    for epoch in range(1, epochs + 1):
        order = torch.randperm(n, generator=gen)
        epoch_start, seen = time.perf_counter(), 0
        sums = {name: [torch.zeros((), device=device), torch.zeros((), device=device)] for name in variants}
        for b in range(per_epoch):
            if should_stop is not None and should_stop():
                stopped = True
                break
            images, labels = fetch(dataset, order[b * batch_size:(b + 1) * batch_size])
            images, labels = _to_device(images, device), labels.to(device)
            step += 1
            seen += len(labels)
            for name, v in variants.items():
                loss, correct, rate = v.step(images, labels, device)
                sums[name][0] += loss * len(labels)
                sums[name][1] += correct
                v.pending.append((step, epoch, rate, loss, correct, len(labels)))
                if step % log_every == 0 or b == per_epoch - 1:
                    _flush(v, name, on_progress, total, epochs, _eta(start, step, total))
        if seen:
            seconds = time.perf_counter() - epoch_start
            for name, v in variants.items():
                _flush(v, name, on_progress, total, epochs, _eta(start, step, total))
                _end_epoch(v, name, epoch, sums[name], seen, seconds, val_dataset, on_progress,
                           (step, total, epochs, _eta(start, step, total)))
        if stopped:
            break
    for v in variants.values():
        v.model.eval()
    config = {"epochs": epochs, "batch_size": batch_size, "lr": lr, "seed": seed,
              "weight_decay": weight_decay, "momentum": momentum, "device": str(device),
              "schedule": f"linear warm-up {warmup} steps, cosine to 0 over {total} steps",
              "train_size": n, "steps_done": step}
    return TrainResult(specs=variant_specs(spec, twin),
                       models={k: v.model for k, v in variants.items()},
                       histories={k: v.history for k, v in variants.items()},
                       stopped=stopped, seconds=time.perf_counter() - start, config=config)


def _eta(start: float, step: int, total: int) -> float:
    return (time.perf_counter() - start) / max(1, step) * (total - step)


def _flush(v: _Variant, name: str, on_progress, total: int, epochs: int, eta: float) -> None:
    """Move pending step records to the history: one host sync for several steps."""
    if not v.pending:
        return
    values = torch.stack([torch.stack([p[3].float(), p[4].float()]) for p in v.pending]).tolist()
    for (step, epoch, rate, _, _, size), (loss, correct) in zip(v.pending, values):
        v.history.steps.append({"step": step, "epoch": epoch, "loss": loss,
                                "accuracy": correct / size, "lr": rate})
    last = v.history.steps[-1]
    v.pending.clear()
    if on_progress is not None:
        on_progress(ProgressEvent("step", name, last["step"], total, last["epoch"], epochs,
                                  last["loss"], last["accuracy"], last["lr"], eta))


def _end_epoch(v: _Variant, name: str, epoch: int, sums, seen: int, seconds: float,
               val_dataset, on_progress, where: tuple[int, int, int, float]) -> None:
    step, total, epochs, eta = where
    row = {"epoch": epoch, "loss": float(sums[0]) / seen, "train_accuracy": float(sums[1]) / seen,
           "val_accuracy": None, "images_per_s": seen / seconds, "seconds": seconds}
    if val_dataset is not None:
        row["val_accuracy"] = evaluate(v.model, val_dataset)
    v.history.epochs.append(row)
    if on_progress is not None:
        on_progress(ProgressEvent("epoch", name, step, total, epoch, epochs, row["loss"],
                                  row["train_accuracy"], v.history.steps[-1]["lr"], eta,
                                  row["images_per_s"], row["val_accuracy"]))
