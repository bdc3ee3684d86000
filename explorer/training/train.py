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

from torch.utils.data import Dataset, default_collate

from explorer.devices import resolve_device
from explorer.nets.model import ResNet, build
from explorer.nets.preserved import preserved
from explorer.nets.spec import NetSpec
from explorer.training.config import TAIL_STEPS, TrainConfig


@dataclass(frozen=True)
class ProgressEvent:
    """What ``on_progress`` receives: after logged steps (``kind="step"``), before a held-out
    evaluation (``"evaluating"``), an early held-out estimate (``"estimate"``) and after a full
    epoch (``"epoch"``)."""

    kind: str  # "step", "evaluating", "estimate" or "epoch"
    variant: str  # "residual" or "plain"
    step: int  # steps done (per variant), 1-based
    total_steps: int
    epoch: int  # 1-based: the epoch this step belongs to
    epochs: int
    loss: float  # this step's loss, or the epoch's mean
    accuracy: float  # this batch's, or the epoch's running train accuracy
    lr: float
    images_per_s: float | None = None  # epoch events: this variant's own throughput
    val_accuracy: float | None = None  # epoch events with a val_dataset; estimates


@dataclass
class History:
    """One variant's record: ``steps`` rows (step, epoch, loss, accuracy, lr), ``epochs`` rows
    for *complete* epochs only (epoch, loss, train_accuracy, val_accuracy, images_per_s,
    seconds), and ``final``: where the run ended (steps, epochs done as a fraction, held-out
    accuracy there), also for a run stopped mid-epoch."""

    steps: list[dict] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    final: dict = field(default_factory=dict)


@dataclass
class TrainResult:
    """Trained models (in eval mode) and histories, keyed by variant name."""

    specs: dict[str, NetSpec]
    models: dict[str, ResNet]
    histories: dict[str, History]
    stopped: bool  # should_stop() ended the run early
    seconds: float
    config: TrainConfig
    steps_done: int = 0
    total_steps: int = 0
    device: str = "cpu"
    threads: int = 1

    @property
    def epochs_done(self) -> float:
        """Epochs done, as a fraction (1.35 for a run stopped a third into its second epoch)."""
        per_epoch = self.total_steps / max(1, self.config.epochs)
        return self.steps_done / per_epoch if per_epoch else 0.0

    def metadata(self) -> dict:
        """What a saved checkpoint records about the run that made it."""
        return {"config": self.config.to_dict(), "steps_done": self.steps_done,
                "total_steps": self.total_steps, "epochs_done": round(self.epochs_done, 3),
                "stopped_early": self.stopped, "seconds": round(self.seconds, 1),
                "device": self.device, "threads": self.threads}


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


def _autocast(device: torch.device, amp: bool = True):
    if device.type != "cuda" or not amp:
        return nullcontext()
    dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    return torch.autocast("cuda", dtype=dtype)


def _to_device(x: torch.Tensor, device: torch.device, amp: bool = False) -> torch.Tensor:
    if amp:
        return x.to(device, non_blocking=True, memory_format=torch.channels_last)
    return x.to(device)


def evaluate(model: nn.Module, dataset: Dataset, batch_size: int = 256,
             device: str | torch.device | None = None, limit: int | None = None) -> float:
    """Top-1 accuracy of ``model`` on ``dataset`` (in eval mode; the mode is restored after).

    Args:
        model: a classifier.
        dataset: yields (image, label), or has ``get_batch(indices)``.
        batch_size: images per forward pass.
        device: where to run; defaults to the model's device.
        limit: only the first ``limit`` images (an early estimate).
    """
    device = torch.device(device) if device else next(model.parameters()).device
    size = len(dataset) if limit is None else min(limit, len(dataset))
    correct = 0
    with preserved(model), torch.no_grad(), _autocast(device):
        model.eval()
        for start in range(0, size, batch_size):
            idx = torch.arange(start, min(size, start + batch_size))
            images, labels = fetch(dataset, idx)
            logits = model(images.to(device))
            correct += int((logits.argmax(1).cpu() == labels).sum())
    return correct / size


EARLY_IMAGES = 200  # held-out images of an early estimate, while an epoch is still running


def early_estimate_steps(config: TrainConfig) -> int:
    """Steps between early held-out estimates: four per epoch, at least 50 steps apart."""
    return max(50, config.steps_per_epoch // 4)


class _Variant:
    """One model with its optimiser, schedule, running sums and own clock."""

    def __init__(self, spec: NetSpec, config: TrainConfig, device: torch.device, amp: bool,
                 total: int, warmup: int) -> None:
        self.model = build(spec, config.seed, device)
        if amp:
            self.model = self.model.to(memory_format=torch.channels_last)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=config.lr,
                                         momentum=config.momentum,
                                         weight_decay=config.weight_decay)
        self.schedule = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda s: lr_factor(s, total, warmup))
        fp16 = amp and not torch.cuda.is_bf16_supported()
        self.scaler = torch.amp.GradScaler("cuda", enabled=fp16)
        self.history = History()
        self.pending: list[tuple[int, int, float, torch.Tensor, torch.Tensor, int]] = []
        self.seconds = 0.0  # this variant's own step time in the current epoch
        self.run_seconds, self.run_images = 0.0, 0  # ... and over the whole run, for its speed
        self.sums: list[torch.Tensor] = []

    def start_epoch(self, device: torch.device) -> None:
        self.seconds = 0.0
        self.sums = [torch.zeros((), device=device), torch.zeros((), device=device)]

    def step(self, images: torch.Tensor, labels: torch.Tensor, device: torch.device, amp: bool,
             step: int, epoch: int) -> None:
        began = time.perf_counter()
        with _autocast(device, amp):
            logits = self.model(images)
            loss = F.cross_entropy(logits.float(), labels)
        self.optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.step(self.optimizer)
        self.scaler.update()
        rate = self.optimizer.param_groups[0]["lr"]
        self.schedule.step()
        loss, correct = loss.detach(), (logits.argmax(1) == labels).sum()
        if device.type == "cuda":  # so that each variant's clock measures its own work
            torch.cuda.synchronize(device)
        spent = time.perf_counter() - began
        self.seconds += spent
        self.run_seconds += spent
        self.run_images += len(labels)
        self.sums[0] += loss * len(labels)
        self.sums[1] += correct
        self.pending.append((step, epoch, rate, loss, correct, len(labels)))

    def flush(self, name: str, on_progress, total: int, epochs: int) -> None:
        """Move pending step records to the history: one host sync for several steps."""
        if not self.pending:
            return
        values = torch.stack([torch.stack([p[3].float(), p[4].float()])
                              for p in self.pending]).tolist()
        for (step, epoch, rate, _, _, size), (loss, correct) in zip(self.pending, values):
            self.history.steps.append({"step": step, "epoch": epoch, "loss": loss,
                                       "accuracy": correct / size, "lr": rate})
        self.pending.clear()
        last = self.history.steps[-1]
        if on_progress is not None:
            on_progress(ProgressEvent("step", name, last["step"], total, last["epoch"], epochs,
                                      last["loss"], last["accuracy"], last["lr"]))

    def _evaluate(self, name: str, val_dataset, on_progress, where) -> float | None:
        if val_dataset is None:
            return None
        step, total, epochs = where
        if on_progress is not None:
            last = self.history.steps[-1]
            on_progress(ProgressEvent("evaluating", name, step, total, last["epoch"], epochs,
                                      last["loss"], last["accuracy"], last["lr"]))
        return evaluate(self.model, val_dataset)

    def early_estimate(self, name: str, val_dataset, on_progress,
                       where: tuple[int, int, int]) -> None:
        """Held-out accuracy on the first ``EARLY_IMAGES`` images, reported, not recorded."""
        step, total, epochs = where
        last = self.history.steps[-1]
        accuracy = evaluate(self.model, val_dataset, limit=EARLY_IMAGES)
        on_progress(ProgressEvent("estimate", name, step, total, last["epoch"], epochs,
                                  last["loss"], last["accuracy"], last["lr"],
                                  val_accuracy=accuracy))

    def end_epoch(self, name: str, epoch: int, seen: int, val_dataset, on_progress,
                  where: tuple[int, int, int]) -> None:
        row = {"epoch": epoch, "loss": float(self.sums[0]) / seen,
               "train_accuracy": float(self.sums[1]) / seen,
               "val_accuracy": self._evaluate(name, val_dataset, on_progress, where),
               "images_per_s": seen / max(self.seconds, 1e-9), "seconds": self.seconds}
        self.history.epochs.append(row)
        if on_progress is not None:
            step, total, epochs = where
            on_progress(ProgressEvent("epoch", name, step, total, epoch, epochs, row["loss"],
                                      row["train_accuracy"], self.history.steps[-1]["lr"],
                                      row["images_per_s"], row["val_accuracy"]))

    def finish(self, name: str, step: int, per_epoch: int, val_dataset, on_progress,
               where: tuple[int, int, int], already_evaluated: bool) -> None:
        """Record where the run ended; a run stopped mid-epoch is evaluated there."""
        tail = self.history.steps[-TAIL_STEPS:]
        if already_evaluated:
            val = self.history.epochs[-1]["val_accuracy"]
        else:
            val = self._evaluate(name, val_dataset, on_progress, where) if tail else None
        self.history.final = {
            "steps": step, "epochs_done": step / per_epoch, "val_accuracy": val,
            "train_loss": sum(s["loss"] for s in tail) / len(tail) if tail else None,
            "images_per_s": self.run_images / self.run_seconds if self.run_seconds else None,
        }


def train(spec: NetSpec, dataset: Dataset, config: TrainConfig = TrainConfig(), *,
          val_dataset: Dataset | None = None, device: str | torch.device | None = None,
          on_progress: Callable[[ProgressEvent], None] | None = None,
          should_stop: Callable[[], bool] | None = None,
          log_every: int | None = None, estimate_every: int | None = None) -> TrainResult:
    """Train ``spec`` (and with ``config.twin`` its plain counterpart) from ``build(spec, seed)``.

    Args:
        spec: the architecture; ``num_classes``/``image_size`` must suit the dataset.
        dataset: yields (image, label), or has ``get_batch(indices)`` (fast path). Its length,
            not ``config.train_size``, sets the epoch.
        config: the recipe (epochs, batch, SGD, schedule, seed, twin, device, AMP).
        val_dataset: evaluated after each complete epoch, and where a stopped run ends.
        device: overrides ``config.device``.
        on_progress: called with a ``ProgressEvent`` every ``log_every`` steps, before each
            held-out evaluation and per epoch.
        should_stop: polled before every step; returning True ends the run with what it has.
        log_every: steps between logged losses (each costs a GPU sync); default 1 on CPU, 20 on
            CUDA.
        estimate_every: steps between early held-out estimates on ``EARLY_IMAGES`` images
            (``"estimate"`` events), within an epoch; ``None``: none (a live page asks for them
            so that its first minutes are not an empty panel).

    Returns:
        A ``TrainResult``; with ``stopped`` True when ``should_stop`` cut the run short.
    """
    device = torch.device(device) if device is not None else resolve_device(config.device)
    amp = config.amp and device.type == "cuda"
    log_every = log_every or (20 if device.type == "cuda" else 1)
    n = len(dataset)
    per_epoch, total, warmup = config.schedule(n)
    variants = {name: _Variant(s, config, device, amp, total, warmup)
                for name, s in variant_specs(spec, config.twin).items()}
    gen = torch.Generator().manual_seed(config.seed)
    start, step, stopped = time.perf_counter(), 0, False
    for epoch in range(1, config.epochs + 1):
        order = torch.randperm(n, generator=gen)
        seen = 0
        for v in variants.values():
            v.start_epoch(device)
        for b in range(per_epoch):
            if should_stop is not None and should_stop():
                stopped = True
                break
            images, labels = fetch(dataset, order[b * config.batch_size:(b + 1) * config.batch_size])
            images, labels = _to_device(images, device, amp), labels.to(device)
            step += 1
            seen += len(labels)
            for name, v in variants.items():
                v.step(images, labels, device, amp, step, epoch)
                if step % log_every == 0 or b == per_epoch - 1:
                    v.flush(name, on_progress, total, config.epochs)
            if (estimate_every and val_dataset is not None and on_progress is not None
                    and step % estimate_every == 0 and b < per_epoch - 1):
                for name, v in variants.items():
                    v.flush(name, on_progress, total, config.epochs)
                    v.early_estimate(name, val_dataset, on_progress, (step, total, config.epochs))
        for name, v in variants.items():
            v.flush(name, on_progress, total, config.epochs)
            if seen and not stopped:
                v.end_epoch(name, epoch, seen, val_dataset, on_progress, (step, total, config.epochs))
        if stopped:
            break
    for name, v in variants.items():
        v.finish(name, step, per_epoch, val_dataset, on_progress, (step, total, config.epochs),
                 already_evaluated=not stopped and step > 0)
        v.model.eval()
    return TrainResult(specs=variant_specs(spec, config.twin),
                       models={k: v.model for k, v in variants.items()},
                       histories={k: v.history for k, v in variants.items()},
                       stopped=stopped, seconds=time.perf_counter() - start, config=config,
                       steps_done=step, total_steps=total, device=str(device),
                       threads=torch.get_num_threads())
