"""Benchmark: ``explorer.training.train`` throughput vs a bare PyTorch training loop.

Run with ``OMP_NUM_THREADS=1 python bench/bench_train.py`` from the repository root
(``--device cuda`` on a GPU: both loops then use the same autocast + channels_last).

Both loops train the same ResNet-20 (``build`` with the same seed) on the same pre-rendered
shapes images, batch size, SGD optimiser and shuffling; the bare loop is zero_grad / forward /
cross-entropy / backward / step and nothing else, while ``train`` also runs its schedule,
records loss and accuracy, and calls a progress callback. Runs alternate (bare, train, bare,
train...) so a shared machine's load hits both alike; the ratio of the medians is reported.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from explorer import build, preset  # noqa: E402
from explorer.training.shapes import CLASSES, ShapesDataset  # noqa: E402
from explorer.training.train import _autocast, _to_device, train  # noqa: E402


def bare_loop(spec, data, steps: int, batch: int, device: torch.device) -> float:
    """Images per second of the plainest loop that does the same work."""
    model = build(spec, seed=0, device=device)
    if device.type == "cuda":
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    scaler = torch.amp.GradScaler("cuda", enabled=device.type == "cuda"
                                  and not torch.cuda.is_bf16_supported())
    order = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    start = time.perf_counter()
    for b in range(steps):
        images, labels = data.get_batch(order[b * batch:(b + 1) * batch])
        images, labels = _to_device(images, device), labels.to(device)
        with _autocast(device):
            loss = F.cross_entropy(model(images).float(), labels)
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.step(optimizer)
        scaler.update()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def ours(spec, data, steps: int, batch: int, device: torch.device) -> float:
    events = []
    start = time.perf_counter()
    train(spec, data, epochs=1, batch_size=batch, lr=0.05, seed=0, device=device,
          on_progress=events.append)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--steps", type=int, default=20, help="steps per timed run")
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
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
