"""Lesion study, loss landscape and ERF against the bare passes they are made of, in one run.

From the repository root:

    OMP_NUM_THREADS=2 python -m bench.bench_analyses                    # the issue's sizes, CPU
    python -m bench.bench_analyses --device cuda
    python -m bench.bench_analyses --net resnet20 --images 200 --draws 1 --grid 11 --batch 32
    python -m bench.bench_analyses --quick       # resnet20, tiny sizes: a check, not a figure

Targets (ratios, from one run):
- lesion study ≤ 1.1 × (number of evaluations × one evaluation pass over the same images);
- a steps × steps landscape ≤ 1.1 × steps² forward passes over the batch (no per-point copies);
- ERF over N images ≤ 1.2 × N grad-enabled forward+backward passes of one image to the stage.

The network is a shipped checkpoint when one is called ``--net`` (e.g. ``resnet56`` once it
ships), else that preset's architecture at random init with 8 classes (timing does not depend on
the weights). Wall and process-CPU times are both printed: on a shared machine CPU time is the
steadier figure (``ratio_cpu``; with OMP_NUM_THREADS=1 it is the compute itself), and on an
overloaded machine the only meaningful one.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch
import torch.nn.functional as F

from explorer import build, preset
from explorer.analysis.landscape import loss_landscape
from explorer.analysis.lesion import lesion_study
from explorer.analysis.receptive_field import effective_receptive_field, forward_until
from explorer.data.heldout import EVAL_BATCH, heldout_shapes
from explorer.io.weights import load_shipped, shipped_checkpoints


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> tuple[float, float, object]:
    """(wall seconds, process CPU seconds, result)."""
    sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    sync(device)
    return time.perf_counter() - start, time.process_time() - cpu, out


def medians(pairs: list[tuple[float, float]]) -> tuple[float, float]:
    return statistics.median(p[0] for p in pairs), statistics.median(p[1] for p in pairs)


def model_for(name: str, device: str) -> torch.nn.Module:
    if name in shipped_checkpoints():
        return load_shipped(name, device)[0]
    return build(preset(name).replace(num_classes=8), seed=0, device=device).eval()


def bench_lesion(model, data, draws: int, device: str, repeats: int) -> dict:
    images, labels = data
    chunks = [(images[i:i + EVAL_BATCH].to(device), labels[i:i + EVAL_BATCH].to(device))
              for i in range(0, len(images), EVAL_BATCH)]

    @torch.no_grad()
    def one_pass():
        return sum(int((model(x).argmax(1) == y).sum()) for x, y in chunks)

    one_pass()  # warm-up
    one, one_cpu = medians([timed(one_pass, device)[:2] for _ in range(repeats)])
    wall, cpu, result = timed(lambda: lesion_study(model, data, draws=draws), device)
    n = result.evaluations
    return {"evaluations": n, "one_pass_s": one, "one_pass_cpu_s": one_cpu, "lesion_s": wall,
            "lesion_cpu_s": cpu, "ratio": wall / (n * one), "ratio_cpu": cpu / (n * one_cpu),
            "target": 1.1}


def bench_landscape(model, data, steps: int, device: str, repeats: int) -> dict:
    x, y = (t.to(device) for t in data)

    @torch.no_grad()
    def one_pass():
        return float(F.cross_entropy(model(x), y))

    one_pass()
    one, one_cpu = medians([timed(one_pass, device)[:2] for _ in range(repeats)])
    wall, cpu, _ = timed(lambda: loss_landscape(model, data, steps=steps, dims=2), device)
    n = steps * steps
    return {"points": n, "one_pass_s": one, "one_pass_cpu_s": one_cpu, "landscape_s": wall,
            "landscape_cpu_s": cpu, "ratio": wall / (n * one), "ratio_cpu": cpu / (n * one_cpu),
            "target": 1.1}


def bench_erf(model, data, layer: str, device: str) -> dict:
    images = data[0].to(device)

    def naive():  # one image at a time, weights' gradients on, as a plain autograd user would
        for i in range(len(images)):
            x = images[i:i + 1].clone().requires_grad_(True)
            out = forward_until(model, layer, x)
            h, w = out.shape[-2:]
            out[:, :, h // 2, w // 2].sum().backward()
        model.zero_grad(set_to_none=True)

    naive_wall, naive_cpu, _ = timed(naive, device)
    wall, cpu, _ = timed(lambda: effective_receptive_field(model, data, layer), device)
    return {"images": len(images), "per_image_passes_s": naive_wall,
            "per_image_passes_cpu_s": naive_cpu, "erf_s": wall, "erf_cpu_s": cpu,
            "ratio": wall / naive_wall, "ratio_cpu": cpu / naive_cpu, "target": 1.2}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--net", default="resnet56")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--images", type=int, default=1000, help="lesion study's images")
    parser.add_argument("--draws", type=int, default=5)
    parser.add_argument("--grid", type=int, default=21, help="landscape steps per axis")
    parser.add_argument("--batch", type=int, default=256, help="landscape batch")
    parser.add_argument("--erf-images", type=int, default=64)
    parser.add_argument("--layer", default="layer2")
    parser.add_argument("--repeats", type=int, default=3, help="timed single passes (median)")
    parser.add_argument("--only", choices=("lesion", "landscape", "erf"))
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs, in seconds: resnet20, 32 images, "
                             "1 draw, a 3 × 3 grid, 4 ERF images")
    args = parser.parse_args()
    if args.quick:
        args.net, args.images, args.draws, args.grid = "resnet20", 32, 1, 3
        args.batch, args.erf_images, args.repeats = 16, 4, 1

    model = model_for(args.net, args.device)
    data = heldout_shapes(max(args.images, args.batch, args.erf_images))
    report = {"net": args.net, "device": args.device, "threads": torch.get_num_threads()}
    if args.only in (None, "lesion"):
        report["lesion"] = bench_lesion(model, (data[0][:args.images], data[1][:args.images]),
                                        args.draws, args.device, args.repeats)
    if args.only in (None, "landscape"):
        report["landscape"] = bench_landscape(model, (data[0][:args.batch], data[1][:args.batch]),
                                              args.grid, args.device, args.repeats)
    if args.only in (None, "erf"):
        report["erf"] = bench_erf(model, (data[0][:args.erf_images], data[1][:args.erf_images]),
                                  args.layer, args.device)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
