"""compare_designs (six skip designs) vs six bare forward+backward passes of those models.

From the repository root:

    OMP_NUM_THREADS=1 python -m bench.bench_designs --repeats 5   # resnet110, 32 px, batch 8
    python -m bench.bench_designs --device cuda --repeats 5
    python -m bench.bench_designs --quick      # resnet20, batch 2: a check, not a figure

The goal is compare_designs ≤ 1.15× the bare passes of the six models, built beforehand, on the
same batch. compare_designs builds each model itself (that is in its time) and reads every
block's output gradient and branch response; it computes no weight gradient, which the bare
passes do. Rounds are interleaved; wall and process-CPU time, per-round ratios and the ratio of
the fastest rounds are printed (on a shared machine the last two are the steadier figures).
"""

from __future__ import annotations

import argparse
import os
import statistics

import torch
import torch.nn.functional as F

from bench.bench_gradflow import timed
from explorer import build, preset
from explorer.analysis.designs import DESIGNS, compare_designs, variants_of
from explorer.analysis.gradflow import random_batch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="resnet110")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--repeats", type=int, default=1, help="timed rounds")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: resnet20, batch 2, one round")
    args = parser.parse_args()
    if args.quick:
        args.preset, args.batch, args.repeats = "resnet20", 2, 1
    spec = preset(args.preset)
    x, y = random_batch(spec, args.batch, seed=0)
    x, y = x.to(args.device), y.to(args.device)
    models = [build(variant, seed=0, device=args.device)
              for _, variant in variants_of(spec, DESIGNS)]

    def bare() -> None:
        for model in models:
            model.zero_grad(set_to_none=True)
            F.cross_entropy(model(x), y).backward()

    def compare() -> None:
        compare_designs(spec, designs=DESIGNS, seed=0, device=args.device, inputs=x, targets=y)

    bare()  # warm-up: allocator, kernels, thread pool
    compare()
    bare_s, compare_s = [], []
    for _ in range(args.repeats):  # interleaved, so that load changes hit both alike
        bare_s.append(timed(bare, args.device))
        compare_s.append(timed(compare, args.device))
    threads = os.environ.get("OMP_NUM_THREADS", "unset")
    print(f"{args.preset} @ {spec.image_size}px, batch {args.batch}, {args.device}, six designs, "
          f"torch threads {torch.get_num_threads()} (OMP_NUM_THREADS={threads}), "
          f"{args.repeats} round(s)")
    for i, clock in enumerate(("wall", "CPU")):
        b = statistics.median(t[i] for t in bare_s)
        c = statistics.median(t[i] for t in compare_s)
        paired = [co[i] / ba[i] for co, ba in zip(compare_s, bare_s)]
        fastest = min(t[i] for t in compare_s) / min(t[i] for t in bare_s)
        print(f"[{clock}] six bare fwd+bwd {b:.3f} s, compare_designs {c:.3f} s (medians)")
        print(f"[{clock}] ratio compare_designs / bare passes {c / b:.3f}; per round "
              f"{[round(r, 3) for r in paired]}, median {statistics.median(paired):.3f}; "
              f"fastest / fastest {fastest:.3f}")
    print("goal compare_designs ≤ 1.15× six bare passes")


if __name__ == "__main__":
    main()
