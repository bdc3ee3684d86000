"""Compare page timings vs a bare ``torch.utils.benchmark`` timing of the same model and batch.

From the repository root:

    OMP_NUM_THREADS=1 python -m bench.bench_compare   # the four ResNet-50s, 224 px, batch 4
    python -m bench.bench_compare --device cuda --batch 32
    python -m bench.bench_compare --quick           # resnet20, resnet32 at 32 px: a check

For each network, in one process: ``explorer.analysis.compare.time_network`` (what the Compare
page runs: a fresh model, one warm-up pass, the median of its repeats) and
``torch.utils.benchmark.Timer.blocked_autorange`` on a model built once with the same spec and
seed, with the same batch, the same torch threads (Timer uses one thread unless told) and the same
modes: eval + ``inference_mode`` for the forward pass; train, ``zero_grad``, cross-entropy and
backward for a training step. Rounds alternate page and bare timings, so the drift of a shared
machine hits both; each round gives a page/bare ratio, and the median of those ratios is what is
judged (the columns of milliseconds are medians over rounds). Goal: every ratio within 10 %.

On a loaded two-core machine, two torch threads spin against the other processes and make every
timing (page and bare alike) erratic, up to ten times slower: run it with ``OMP_NUM_THREADS=1``
there, and compare ratios, not milliseconds.
"""

from __future__ import annotations

import argparse
import statistics

import torch
import torch.nn.functional as F
from torch.utils.benchmark import Timer

from bench.harness import load_average
from explorer import build, preset
from explorer.analysis.compare import random_batch, time_network

GOAL = 0.10
NETWORKS = ("resnet50", "resnext50_32x4d", "wide_resnet50_2", "seresnet50")
FORWARD = "with torch.inference_mode():\n    model(x)"
TRAIN = "model.zero_grad(set_to_none=True)\nF.cross_entropy(model(x), y).backward()"


def bare(spec, batch: int, device: str, min_run_time: float) -> tuple[float, float]:
    """Seconds per image of a forward pass and of a training step, timed by torch's Timer."""
    model = build(spec, seed=0, device=device)
    x, y = random_batch(spec, batch, 0, torch.device(device))
    found = []
    for train, stmt in ((False, FORWARD), (True, TRAIN)):
        model.train(train)
        timer = Timer(stmt, globals={"torch": torch, "F": F, "model": model, "x": x, "y": y},
                      num_threads=torch.get_num_threads())
        found.append(timer.blocked_autorange(min_run_time=min_run_time).median / batch)
    return found[0], found[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--networks", nargs="+", default=list(NETWORKS))
    parser.add_argument("--image-size", type=int, default=None, help="default: each one's own")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=5, help="the page's timed repeats")
    parser.add_argument("--rounds", type=int, default=5, help="alternating page/bare rounds")
    parser.add_argument("--min-run-time", type=float, default=1.0,
                        help="seconds Timer.blocked_autorange measures for")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: resnet20 and resnet32 at 32 px")
    args = parser.parse_args()
    if args.quick:
        args.networks, args.batch, args.repeats, args.rounds = ["resnet20", "resnet32"], 2, 2, 1
        args.min_run_time = 0.2
    where = (torch.cuda.get_device_name() if args.device.startswith("cuda")
             else f"cpu, {torch.get_num_threads()} threads")
    print(f"torch {torch.__version__}, {where}, batch {args.batch}, {args.repeats} page repeats, "
          f"{args.rounds} rounds, load average {load_average():.1f} at the start")
    print(f"  {'network':<18s} {'pass':<16s} {'page ms/img':>12s} {'bare ms/img':>12s} "
          f"{'page/bare':>10s}   rounds' ratios")
    worst = 0.0
    for name in args.networks:
        spec = preset(name)
        if args.image_size:
            spec = spec.replace(image_size=args.image_size)
        page: dict[str, list[float]] = {"forward": [], "forward+backward": []}
        reference: dict[str, list[float]] = {"forward": [], "forward+backward": []}
        for _ in range(args.rounds):
            timing = time_network(spec, args.batch, args.device, args.repeats)
            page["forward"].append(timing.forward_median)
            page["forward+backward"].append(timing.train_median)
            forward, train = bare(spec, args.batch, args.device, args.min_run_time)
            reference["forward"].append(forward)
            reference["forward+backward"].append(train)
        for kind in page:
            # Each round's page and bare timings ran back to back, under the same load: the
            # median of the rounds' ratios is steadier than the ratio of the medians.
            ratios = [ours / theirs for ours, theirs in zip(page[kind], reference[kind])]
            ratio = statistics.median(ratios)
            worst = max(worst, abs(ratio - 1))
            print(f"  {name:<18s} {kind:<16s} {statistics.median(page[kind]) * 1e3:12.3f} "
                  f"{statistics.median(reference[kind]) * 1e3:12.3f} {ratio:10.3f}   "
                  f"{min(ratios):.2f}–{max(ratios):.2f}")
    print(f"load average {load_average():.1f} at the end")
    print(f"goal every page/bare ratio within {GOAL:.0%}: worst {worst:.1%} off "
          f"({'met' if worst <= GOAL else 'NOT met'})")


if __name__ == "__main__":
    main()
