"""Benchmark: ``explorer.training.train`` throughput vs a bare PyTorch training loop.

Run with ``OMP_NUM_THREADS=1 python -m bench.bench_train`` from the repository root
(``--device cuda`` on a GPU: both loops then use the same autocast + channels_last; ``--quick``:
two steps of 16 images, one round, a check that it runs rather than a figure).

Both loops train the same ResNet-20 (``build`` with the same seed) on the same pre-rendered
shapes images, batch size, SGD optimiser and shuffling; the bare loop is zero_grad / forward /
cross-entropy / backward / step and nothing else, while ``train`` (one net, no twin, settings in
a ``TrainConfig``) also runs its schedule, records loss and accuracy, and calls a progress
callback. Runs alternate (bare, train, bare, train...) so a shared machine's load hits both
alike; the ratio of the medians is reported.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from explorer import CLASSES, ShapesDataset, build, preset, train
from explorer.training.config import TrainConfig
from explorer.training.train import _autocast, _to_device


def bare_loop(spec, data, steps: int, batch: int, device: torch.device) -> float:
    """Images per second of the plainest loop that does the same work."""
    amp = device.type == "cuda"  # as train() does: autocast + channels_last on CUDA only
    model = build(spec, seed=0, device=device)
    if amp:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=amp and not torch.cuda.is_bf16_supported())
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for b in range(steps):
        images, labels = data.get_batch(order[b * batch:(b + 1) * batch])
        images, labels = _to_device(images, device, amp), labels.to(device)
        with _autocast(device, amp):
            loss = F.cross_entropy(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def ours(spec, data, steps: int, batch: int, device: torch.device) -> float:
    """Images per second of ``explorer.train`` on the same work (one epoch of ``steps`` steps)."""
    config = TrainConfig(train_size=len(data), epochs=1, batch_size=batch, lr=0.05, seed=0,
                         twin=False, device=device.type, amp=True)
    events = []
    start = time.perf_counter()
    train(spec, data, config, device=device, on_progress=events.append)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--steps", type=int, default=20, help="steps per timed run")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: 2 steps of 16 images, 1 round")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.batch_size, args.rounds = 2, 16, 1
    device = torch.device(args.device)
    spec = preset("resnet20").replace(num_classes=len(CLASSES))
    data = ShapesDataset(args.steps * args.batch_size, 32, seed=0)
    data.get_batch(range(len(data)))  # render every image up front: time training, not drawing
    bare_loop(spec, data, 2, args.batch_size, device)  # warm-up (allocator, kernels)
    bare, mine = [], []
    for _ in range(args.rounds):
        bare.append(bare_loop(spec, data, args.steps, args.batch_size, device))
        mine.append(ours(spec, data, args.steps, args.batch_size, device))
    print(f"device {device}, threads {torch.get_num_threads()}, ResNet-20, batch {args.batch_size},"
          f" {args.steps} steps x {args.rounds} rounds")
    print(f"bare loop        {statistics.median(bare):8.1f} img/s  (runs: "
          f"{', '.join(f'{v:.0f}' for v in bare)})")
    print(f"explorer.training.train   {statistics.median(mine):8.1f} img/s  (runs: "
          f"{', '.join(f'{v:.0f}' for v in mine)})")
    print(f"ratio train/bare {statistics.median(mine) / statistics.median(bare):8.3f}")


if __name__ == "__main__":
    main()
