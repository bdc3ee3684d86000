"""Benchmark: ``stage_table`` (meta-device trace, cached per spec) vs ``torchinfo.summary``.

Run with ``OMP_NUM_THREADS=1 python -m bench.bench_stage_table`` from the repository root.
It prints timings of one run and their ratios; compare ratios, not absolute seconds.
``--quick`` runs ResNet-18 at 32 and 64 px, twice each: a check that it runs, not a figure.

torchinfo runs on a real CPU ResNet-152 built by ``explorer.build`` (``verbose=0``, eval mode)
and on a throwaway meta-device copy. A real CPU summary at 1024 px and batch 64 would need a
forward over ~15 T mult-adds and tens of GB of activations, so on CPU it runs at 1024 px with
``--cpu-batch-1024`` images (default 1) and only the meta summary runs at batch 64.
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Callable

import torch
import torchinfo

from explorer import build, estimate, preset, stage_table
from explorer.nets.measure import _trace, meta_model


def best_of(fn: Callable[[], object], repeats: int, setup: Callable[[], object] = lambda: None
            ) -> float:
    """Median wall time of ``fn`` over ``repeats`` runs, ``setup`` untimed before each."""
    times = []
    for _ in range(repeats):
        setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torchinfo_meta(spec, batch: int) -> float:
    """torchinfo on a fresh meta copy (summary moves what it is given); build time excluded,
    whereas stage_table's cold time includes its own meta build (printed separately)."""
    times = []
    for _ in range(3):
        model = meta_model(spec)
        start = time.perf_counter()
        torchinfo.summary(model, input_size=(batch, 3, spec.image_size, spec.image_size),
                          device="meta", verbose=0, mode="eval")
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def torchinfo_cpu(model, spec, batch: int, repeats: int) -> float:
    size = (batch, 3, spec.image_size, spec.image_size)
    return best_of(lambda: torchinfo.summary(model, input_size=size, device="cpu", verbose=0,
                                             mode="eval"), repeats)


def row(label: str, seconds: float, reference: float) -> None:
    print(f"  {label:<44s} {seconds * 1e3:10.2f} ms   {seconds / reference:10.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cpu-batch-1024", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: ResNet-18 at 32 and 64 px, twice")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, torchinfo {getattr(torchinfo, '__version__', '?')}, "
          f"threads {torch.get_num_threads()}")

    name, cases = "resnet152", ((224, 1, 1), (1024, 64, args.cpu_batch_1024))
    if args.quick:
        name, cases, args.repeats = "resnet18", ((32, 1, 1), (64, 4, 1)), 2
    base = preset(name)
    cpu_model = build(base).eval()
    for image, batch, cpu_batch in cases:
        spec = base.replace(image_size=image)
        est = estimate(spec, batch)
        print(f"\n{name} at {image} px, batch {batch} "
              f"(estimated training activations {est.activation_bytes / 2**30:.1f} GiB)")
        cold = best_of(lambda: stage_table(spec, batch), args.repeats, _trace.cache_clear)
        stage_table(spec, batch)
        warm = best_of(lambda: stage_table(spec, batch), max(args.repeats, 50))
        build_only = best_of(lambda: meta_model(spec), args.repeats)
        meta = torchinfo_meta(spec, batch)
        cpu = torchinfo_cpu(cpu_model, spec, cpu_batch, 1 if image > cases[0][0] else args.repeats)
        print(f"  {'':<44s} {'time':>13s}   {'/ cold':>11s}")
        row("stage_table, cold (cache cleared)", cold, cold)
        row("stage_table, warm (lru_cache hit)", warm, cold)
        row("  (meta model build alone, part of cold)", build_only, cold)
        row(f"torchinfo.summary, meta device, batch {batch}", meta, cold)
        row(f"torchinfo.summary, real CPU model, batch {cpu_batch}", cpu, cold)
        print(f"  torchinfo CPU / stage_table: cold {cpu / cold:.1f}x, warm {cpu / warm:.0f}x; "
              f"torchinfo meta / stage_table: cold {meta / cold:.1f}x, warm {meta / warm:.0f}x")


if __name__ == "__main__":
    main()
