"""Benchmark: server-side rerun time of the app, and building ResNet-152 vs torchvision.

Run from the repository root: ``OMP_NUM_THREADS=2 python -m bench.bench_app``
(``--quick``: three reruns and ResNet-18 once, a check that it runs rather than a figure).

1. A rerun after a widget change that needs no rebuild (the Architecture page's "Show every
   block" toggle; the model and the stage table are already cached), timed around AppTest's
   ``run()``: goal ≤ 50 ms. AppTest adds its own overhead, so this is an upper bound.
2. ``explorer.build(resnet152)`` vs ``torchvision.models.resnet152()`` construction on the CPU,
   interleaved, as a ratio.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torchvision

from bench.harness import fresh_app, widget
from explorer import PRESETS, build


def rerun_times(repeats: int = 15) -> list[float]:
    at = fresh_app()
    times = []
    for i in range(repeats):
        toggle = widget(at, "arch_expand")
        start = time.perf_counter()
        toggle.set_value(i % 2 == 0).run()
        times.append(time.perf_counter() - start)
        assert not at.exception
    return times


def build_times(repeats: int = 5, name: str = "resnet152") -> tuple[list[float], list[float]]:
    """Seconds of ``explorer.build`` and of torchvision's constructor for the same net."""
    ours, theirs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        build(PRESETS[name])
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        getattr(torchvision.models, name)()
        theirs.append(time.perf_counter() - start)
    return ours, theirs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: 3 reruns, ResNet-18 built once")
    args = parser.parse_args()
    reruns, builds, name = (3, 1, "resnet18") if args.quick else (15, 5, "resnet152")
    times = rerun_times(reruns)
    print(f"rerun after a no-rebuild widget change (AppTest): median "
          f"{statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms "
          f"over {len(times)} runs (goal ≤ 50 ms)")
    ours, theirs = build_times(builds, name)
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"{name} first build on CPU: explorer.build {o * 1000:.0f} ms, "
          f"torchvision.models.{name}() {t * 1000:.0f} ms, ratio {o / t:.2f}x")


if __name__ == "__main__":
    main()
