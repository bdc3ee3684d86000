"""gradient_flow vs two bare forward+backward passes of the same two models, in one run.

From the repository root:

    OMP_NUM_THREADS=2 python -m bench.bench_gradflow          # resnet50, 224 px, batch 8, CPU
    python -m bench.bench_gradflow --device cuda --repeats 5
    python -m bench.bench_gradflow --quick     # resnet20, 32 px, batch 2: a check, not a figure

The goal is gradient_flow ≤ 1.1× the bare passes. gradient_flow also builds the residual model
(the plain twin shares its tensors), so the ratio is printed against the bare passes and against
building both models + the bare passes. Wall and process-CPU time are both printed: on a shared
machine the CPU time is the steadier figure, and so are the per-round ratios (each round's two
timings are taken back to back) and the ratio of the fastest rounds (load only ever adds time).
On a loaded two-core machine run it with OMP_NUM_THREADS=1 as well: two threads that wait for
each other while another process holds a core make a round 2-5 times slower at random.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import torch
import torch.nn.functional as F

from explorer import build, gradient_flow, preset
from explorer.analysis.gradflow import random_batch


def sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def timed(fn, device: str) -> tuple[float, float]:
    """(wall seconds, process CPU seconds): CPU time is steadier on a shared machine."""
    sync(device)
    start, cpu = time.perf_counter(), time.process_time()
    fn()
    sync(device)
    return time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="resnet50")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1, help="timed rounds; medians reported")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: resnet20 at 32 px, batch 2")
    args = parser.parse_args()
    if args.quick:
        args.preset, args.image_size, args.batch, args.repeats = "resnet20", 32, 2, 1
    spec = preset(args.preset).replace(image_size=args.image_size)
    x, y = random_batch(spec, args.batch, seed=0)
    x, y = x.to(args.device), y.to(args.device)

    models = []

    def build_both() -> None:
        models[:] = [build(spec.replace(skip=s), seed=0, device=args.device) for s in (True, False)]

    def bare() -> None:
        for model in models:
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()

    def flow() -> None:
        gradient_flow(spec, seed=0, device=args.device, inputs=x, targets=y)

    build_s = timed(build_both, args.device)
    bare()  # warm-up: allocator, kernels, thread pool
    bare_s, flow_s = [], []
    for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
        bare_s.append(timed(bare, args.device))
        flow_s.append(timed(flow, args.device))
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"{args.preset} @ {args.image_size}px, batch {args.batch}, {args.device}, "
          f"torch threads {torch.get_num_threads()} (OMP_NUM_THREADS={threads}), "
          f"{args.repeats} round(s); medians")
    for i, clock in enumerate(("wall", "CPU")):
        b = statistics.median(t[i] for t in bare_s)
        f = statistics.median(t[i] for t in flow_s)
        print(f"[{clock}] build both {build_s[i]:.3f} s, bare fwd+bwd of both {b:.3f} s, "
              f"gradient_flow {f:.3f} s (all rounds: {[round(t[i], 3) for t in flow_s]})")
        print(f"[{clock}] ratio gradient_flow / bare passes           {f / b:.3f}")
        print(f"[{clock}] ratio gradient_flow / (build + bare passes) {f / (build_s[i] + b):.3f}")
        paired = [fl[i] / ba[i] for fl, ba in zip(flow_s, bare_s)]
        fastest = min(t[i] for t in flow_s) / min(t[i] for t in bare_s)
        print(f"[{clock}] per-round ratios (each round's flow / its own bare passes): "
              f"{[round(r, 3) for r in paired]}, median {statistics.median(paired):.3f}; "
              f"fastest / fastest {fastest:.3f}")


if __name__ == "__main__":
    main()
