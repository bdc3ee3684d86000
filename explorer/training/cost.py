"""What a training job costs, in mult-adds, and how long this device will take for it.

A training step costs about three forward passes (forward, and a backward of twice that); each
epoch's held-out evaluation one forward per image. The time estimate divides the job's cost by
this device's measured training throughput (mult-adds per second), timed on a few steps of a
small reference network and kept for ten minutes, so an estimate usually costs nothing.
"""

from __future__ import annotations

import math
import time

from explorer.nets.spec import NetSpec
from explorer.training.config import TrainConfig

BACKWARD_FACTOR = 3  # forward + backward ≈ 3 forwards
REFERENCE = ("resnet20", 32)  # the calibration network and batch size


def _forward_mult_adds(spec: NetSpec) -> int:
    from explorer.nets.measure import stage_table

    return stage_table(spec, 1).total_mult_adds


def run_cost(spec: NetSpec, config: TrainConfig) -> float:
    """Mult-adds of one run (all its variants): training steps plus per-epoch evaluations."""
    variants = 2 if config.twin else 1
    per_image = _forward_mult_adds(spec)
    trained = config.total_steps * config.batch_size * BACKWARD_FACTOR
    evaluated = config.epochs * config.val_size
    return float(variants * per_image * (trained + evaluated))


MEASUREMENT_TTL_S = 600.0  # a speed measured while the machine was busy must not last forever
_measured: dict[str, tuple[float, float]] = {}  # device -> (when, mult-adds per second)
_measured_eval: dict[str, tuple[float, float]] = {}


def measured_throughput(device: str) -> float:
    """Training mult-adds per second on ``device``: three timed steps of ResNet-20 at batch 32
    (after one untimed), measured again when the last measurement is ``MEASUREMENT_TTL_S`` old
    (the load of a shared server changes: one taken under load said 2 min for a 7 s run)."""
    return _kept(_measured, device, _time_reference_steps)


def measured_eval_throughput(device: str) -> float:
    """Evaluation mult-adds per second on ``device`` (no gradients, in the lesion study's
    batches): faster per mult-add than training on a CPU, so timed on its own."""
    return _kept(_measured_eval, device, _time_reference_evaluation)


def _kept(store: dict[str, tuple[float, float]], device: str, measure) -> float:
    when, value = store.get(device, (-math.inf, 0.0))
    if time.monotonic() - when > MEASUREMENT_TTL_S:
        value = measure(device)
        store[device] = (time.monotonic(), value)
    return value


def _reference_model(device: str):
    from explorer.nets.model import build
    from explorer.nets.presets import preset

    spec = preset(REFERENCE[0]).replace(num_classes=8)
    return spec, build(spec, 0, device)


def _seconds_per_call(device: str, call, timed: int) -> float:
    """One untimed call (warm-up), then the mean time of ``timed`` calls (a GPU synchronised)."""
    import torch

    def synchronise() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    call()
    synchronise()
    began = time.perf_counter()
    for _ in range(timed):
        call()
    synchronise()
    return (time.perf_counter() - began) / timed


def _time_reference_steps(device: str) -> float:
    import torch
    import torch.nn.functional as F

    spec, model = _reference_model(device)
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(REFERENCE[1], 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 8, (REFERENCE[1],), generator=gen).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        F.cross_entropy(model(x), y).backward()
        optimizer.step()

    seconds = _seconds_per_call(device, step, timed=3)
    return _forward_mult_adds(spec) * REFERENCE[1] * BACKWARD_FACTOR / seconds


def _time_reference_evaluation(device: str) -> float:
    import torch

    from explorer.data.heldout import EVAL_BATCH

    spec, model = _reference_model(device)
    model.eval()
    x = torch.randn(EVAL_BATCH, 3, 32, 32, generator=torch.Generator().manual_seed(0)).to(device)
    with torch.no_grad():
        seconds = _seconds_per_call(device, lambda: model(x).argmax(1), timed=2)
    return _forward_mult_adds(spec) * EVAL_BATCH / seconds


def estimate_seconds(runs: dict[str, NetSpec] | list[NetSpec], config: TrainConfig,
                     device: str) -> float:
    """Seconds a job of these runs should take on ``device`` (an estimate, ± tens of %)."""
    specs = runs.values() if isinstance(runs, dict) else runs
    return sum(run_cost(s, config) for s in specs) / measured_throughput(device)


def forward_seconds(spec: NetSpec, images: int, device: str) -> float:
    """Seconds to evaluate ``images`` images with ``spec`` on ``device`` (an estimate)."""
    return _forward_mult_adds(spec) * images / measured_eval_throughput(device)
