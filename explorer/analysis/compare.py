"""Networks side by side: their totals, their published ImageNet top-1, and their measured speed.

Totals come from the meta-device counting (`explorer.nets.measure`), so they cost nothing. The
speed is measured for real: every network is timed the same way (``time_network``), after the
memory check (`explorer.budget.check_fits`) and inside a compute slot (`explorer.slots.gate`), so
no other heavy job of this server runs meanwhile (other processes still may).
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F

from explorer.budget import check_fits
from explorer.nets.measure import StageRow, estimate, stage_table
from explorer.nets.model import build
from explorer.nets.naming import matching_preset
from explorer.nets.reference import TORCHVISION_WEIGHTS, torchvision_meta
from explorer.nets.spec import NetSpec
from explorer.nets.windows import windows
from explorer.slots import gate
from explorer.units import format_number

MAX_NETWORKS = 4
WARMUP = 1  # untimed passes first: the first one allocates and picks kernels


@dataclass(frozen=True)
class Totals:
    """What one network costs, counted on the meta device (no memory, no compute)."""

    label: str
    spec: NetSpec
    batch: int  # the batch of ``train_bytes``
    params: int
    mult_adds: int  # per image, torchinfo's convention
    train_bytes: int  # one training step at ``batch``: explorer.nets.measure.estimate
    receptive_field: int | None  # theoretical window of the last stage's units, in pixels
    whole_image: bool  # a squeeze-and-excitation gate lets every unit see every pixel
    stages: tuple[StageRow, ...]  # at batch 1, head included


def totals(label: str, spec: NetSpec, batch: int = 1) -> Totals:
    """The totals the Compare page shows for one network.

    Args:
        label: the name to show (a preset name, or "sidebar: custom").
        spec: the architecture, at its own image size.
        batch: the batch of the training-step memory (mult-adds are per image).
    """
    table = stage_table(spec, 1)
    stages = [row for row in table.rows if row.name.startswith("layer")]
    last = stages[-1].name if stages else "stem"
    window = windows(spec).get(last)
    return Totals(label, spec, batch, table.total_params, table.total_mult_adds,
                  estimate(spec, batch).peak_bytes,
                  window.size if window else None, bool(window and window.whole_image),
                  table.rows)


@dataclass(frozen=True)
class Top1:
    """A published ImageNet-1K top-1 accuracy (a fraction) and where it comes from."""

    accuracy: float
    weights: str  # e.g. "ResNet50_Weights.IMAGENET1K_V1"
    recipe: str  # the training recipe's address, from the same metadata


def published_top1(spec: NetSpec) -> Top1 | None:
    """torchvision's ImageNet top-1 for a network equal to one of its presets, else ``None``.

    Read from the weights' metadata shipped with torchvision: nothing is downloaded. The accuracy
    belongs to the preset as published (224 px, 1000 classes), so any change of the spec (image
    size, classes, skips) means there is no published figure for it.
    """
    name = matching_preset(spec)
    if name not in TORCHVISION_WEIGHTS:
        return None
    # IMAGENET1K_V1: torchvision's original weights (resnext101_64x4d has only these, trained
    # with its 2022 recipe; ``recipe`` says which).
    meta = torchvision_meta(name)
    return Top1(meta["_metrics"]["ImageNet-1K"]["acc@1"] / 100,
                f"{TORCHVISION_WEIGHTS[name]}_Weights.IMAGENET1K_V1", meta.get("recipe", ""))


@dataclass(frozen=True)
class Timing:
    """Measured seconds per image, one value per timed repeat (warm-up passes left out)."""

    batch: int
    device: str
    threads: int  # torch's CPU threads during the timing
    forward: tuple[float, ...]  # eval mode, no autograd
    train: tuple[float, ...]  # train mode: forward, cross-entropy, backward

    @property
    def forward_median(self) -> float:
        return statistics.median(self.forward)

    @property
    def train_median(self) -> float:
        return statistics.median(self.train)


def check_timings_fit(specs: dict[str, NetSpec], batch: int,
                      device: str | torch.device = "cpu") -> None:
    """Refuse, before anything is allocated, a timing any of these networks cannot afford: a
    training step at ``batch`` must fit the memory budget (the sentence names the network)."""
    for label, spec in specs.items():
        try:
            check_fits(spec, batch, torch.device(device), training=True)
        except ValueError as exc:
            raise ValueError(f"{label}: {exc}") from None


def time_network(spec: NetSpec, batch: int, device: str | torch.device = "cpu",
                 repeats: int = 5,
                 on_progress: Callable[[int, int, str], None] | None = None,
                 seed: int = 0) -> Timing:
    """Time one forward and one forward+backward pass of ``spec`` per image on ``device``.

    Every network is timed by this function, so every one gets the same treatment: a fresh
    seeded model, one random batch, ``WARMUP`` untimed passes, then ``repeats`` timed ones of
    each kind (a CUDA device is synchronised around each). The memory check runs first, then
    the work waits for a compute slot.

    Args:
        spec: the network (at its own image size).
        batch: images per pass; the times returned are per image.
        device: where to run.
        repeats: timed passes of each kind (their spread is the measurement's noise).
        on_progress: called as ``on_progress(done, total, message)`` after every pass, outside
            the timed region (a page's Stop button ends the run there).
        seed: the weights' and the batch's seed.

    Raises:
        ValueError: when a training step at this batch would not fit the memory budget, or
            ``batch``/``repeats`` is below 1.
    """
    if batch < 1 or repeats < 1:
        raise ValueError(f"The batch and the repeats must be at least 1, got {batch} and "
                         f"{repeats}.")
    device = torch.device(device)
    _check_batch_norm(spec, batch)
    check_fits(spec, batch, device, training=True)
    report = on_progress or (lambda done, total, message: None)
    total, done = 2 * (WARMUP + repeats), 0
    with gate(device):
        model = build(spec, seed=seed, device=device)
        inputs, labels = random_batch(spec, batch, seed, device)
        times: dict[str, list[float]] = {"forward": [], "train": []}
        for kind, step in (("forward", _forward), ("train", _train_step)):
            model.train(kind == "train")
            for i in range(WARMUP + repeats):
                seconds = _timed(lambda: step(model, inputs, labels), device)
                if i >= WARMUP:
                    times[kind].append(seconds / batch)
                done += 1
                what = "forward" if kind == "forward" else "forward+backward"
                report(done, total, f"{what}, warm-up" if i < WARMUP
                       else f"{what} {i + 1 - WARMUP}/{repeats}")
        del model
    return Timing(batch, str(device), torch.get_num_threads(), tuple(times["forward"]),
                  tuple(times["train"]))


def _check_batch_norm(spec: NetSpec, batch: int) -> None:
    """BatchNorm in train mode needs more than one value per channel: at batch 1 a stage whose
    output is 1×1 has only one, and torch would refuse in the middle of the timing."""
    if spec.norm != "batch" or batch > 1:
        return
    smallest = min(row.output_shape[-1] * row.output_shape[-2]
                   for row in stage_table(spec, 1).rows if row.name != "head")
    if smallest == 1:
        raise ValueError(f"At {spec.image_size} px the last stage's maps are 1×1, so a training "
                         f"step at batch 1 leaves BatchNorm one value per channel, which it "
                         f"refuses. Use a batch of 2 or more, or a larger image.")


def random_batch(spec: NetSpec, batch: int, seed: int, device: torch.device
                 ) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of Gaussian images and random labels, from an explicit generator."""
    generator = torch.Generator().manual_seed(seed)
    inputs = torch.randn(batch, spec.in_channels, spec.image_size, spec.image_size,
                         generator=generator)
    labels = torch.randint(spec.num_classes, (batch,), generator=generator)
    return inputs.to(device), labels.to(device)


def _forward(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> None:
    with torch.inference_mode():
        model(inputs)


def _train_step(model: torch.nn.Module, inputs: torch.Tensor, labels: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    F.cross_entropy(model(inputs), labels).backward()


def _timed(work: Callable[[], None], device: torch.device) -> float:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    work()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


def totals_frame(rows: list[Totals]):
    """The totals as a table (pandas): one row per network, numbers kept numeric."""
    import pandas as pd

    records = []
    for t in rows:
        top1 = published_top1(t.spec)
        records.append({
            "network": t.label,
            "image px": t.spec.image_size,
            "params": t.params,
            "mult-adds / image": t.mult_adds,
            f"train-step MB (batch {t.batch})": t.train_bytes / 1e6,
            "receptive field px": t.receptive_field,
            "ImageNet top-1 %": None if top1 is None else 100 * top1.accuracy,
        })
    frame = pd.DataFrame.from_records(records)
    frame["receptive field px"] = frame["receptive field px"].astype("Int64")
    return frame


def speed_frame(rows: list[Totals], timings: dict[str, Timing]):
    """The measured times as a table (pandas): per image, the median and the range of the
    repeats, for the networks in ``timings`` (label → `Timing`)."""
    import pandas as pd

    records = []
    for t in rows:
        timing = timings.get(t.label)
        if timing is None:
            continue
        records.append({
            "network": t.label,
            "forward ms": 1e3 * timing.forward_median,
            "forward range ms": _range_ms(timing.forward),
            "fwd+bwd ms": 1e3 * timing.train_median,
            "fwd+bwd range ms": _range_ms(timing.train),
            "repeats": len(timing.forward),
            "batch": timing.batch,
            "threads": timing.threads,
        })
    return pd.DataFrame.from_records(records)


def _range_ms(values: tuple[float, ...]) -> str:
    return f"{format_number(1e3 * min(values))}–{format_number(1e3 * max(values))}"
