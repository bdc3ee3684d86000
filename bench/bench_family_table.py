"""The stage table of a ResNet-family preset vs torchinfo's summary of the same network.

From the repository root:

    OMP_NUM_THREADS=1 python -m bench.bench_family_table         # resnext101_32x8d, 224 px
    python -m bench.bench_family_table --preset seresnet50
    python -m bench.bench_family_table --quick                   # resnet18 at 32 px: a check

``stage_table`` runs cold (its per-spec trace cache cleared before each call, so its own meta
build is inside the time); torchinfo's ``summary`` runs on a fresh meta-device copy built outside
the time (the copy the Architecture page's per-layer summary uses; summary moves what it is given)
and on a real CPU model in eval mode, batch 1. After one untimed summary of each kind, rounds
interleave the three; medians are reported.
Goal (issue 20): the stage table in at most half of torchinfo's meta-device summary time.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torchinfo

from bench.harness import load_average
from explorer import build, preset, stage_table
from explorer.nets.measure import _trace, meta_model

GOAL = 0.5


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="resnext101_32x8d")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: resnet18 at 32 px, 2 rounds")
    args = parser.parse_args()
    if args.quick:
        args.preset, args.image_size, args.rounds = "resnet18", 32, 2
    spec = preset(args.preset).replace(image_size=args.image_size)
    size = (1, spec.in_channels, spec.image_size, spec.image_size)
    print(f"torch {torch.__version__}, torchinfo {getattr(torchinfo, '__version__', '?')}, "
          f"{torch.get_num_threads()} threads, load average {load_average():.1f}")

    _trace.cache_clear()
    first = timed(lambda: stage_table(spec, 1))  # the process's first: one-time costs included
    cpu_model = build(spec).eval()
    for model, device in ((meta_model(spec), "meta"), (cpu_model, "cpu")):  # warm-up, untimed
        torchinfo.summary(model, input_size=size, device=device, verbose=0, mode="eval")
    times: dict[str, list[float]] = {"stage_table, cold": [], "torchinfo, meta": [],
                                     "torchinfo, real CPU model": []}
    for _ in range(args.rounds):
        _trace.cache_clear()
        times["stage_table, cold"].append(timed(lambda: stage_table(spec, 1)))
        copy = meta_model(spec)
        times["torchinfo, meta"].append(timed(lambda: torchinfo.summary(
            copy, input_size=size, device="meta", verbose=0, mode="eval")))
        times["torchinfo, real CPU model"].append(timed(lambda: torchinfo.summary(
            cpu_model, input_size=size, device="cpu", verbose=0, mode="eval")))
    median = {name: statistics.median(values) for name, values in times.items()}

    print(f"{args.preset} at {spec.image_size} px, batch 1, median of {args.rounds} rounds")
    print(f"  {'stage_table, first call in the process':<40s} {first * 1e3:10.1f} ms")
    for name, seconds in median.items():
        print(f"  {name:<40s} {seconds * 1e3:10.1f} ms")
    meta = median["stage_table, cold"] / median["torchinfo, meta"]
    cpu = median["stage_table, cold"] / median["torchinfo, real CPU model"]
    print(f"  stage_table / torchinfo: {meta:.2f}× (meta), {cpu:.3f}× (real CPU model)")
    print(f"goal stage_table ≤ {GOAL}× torchinfo's summary (meta): {meta:.2f}× "
          f"({'met' if meta <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
