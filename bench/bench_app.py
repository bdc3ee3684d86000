"""Benchmark: server-side rerun time of the app, and building ResNet-152 vs torchvision.

Run from the repository root: ``OMP_NUM_THREADS=2 python bench/bench_app.py``.

1. A rerun after a widget change that needs no rebuild (the Architecture page's "Show every
   block" toggle; the model and the stage table are already cached), timed around AppTest's
   ``run()``: goal ≤ 50 ms. AppTest adds its own overhead, so this is an upper bound.
2. ``explorer.build(resnet152)`` vs ``torchvision.models.resnet152()`` construction on the CPU,
   interleaved, as a ratio.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

import torchvision  # noqa: E402

from apptest_util import fresh_app, widget  # noqa: E402
from explorer import PRESETS, build  # noqa: E402


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


def build_times(repeats: int = 5) -> tuple[list[float], list[float]]:
    ours, theirs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        build(PRESETS["resnet152"])
        ours.append(time.perf_counter() - start)
        start = time.perf_counter()
        torchvision.models.resnet152()
        theirs.append(time.perf_counter() - start)
    return ours, theirs


def main() -> None:
    times = rerun_times()
    print(f"rerun after a no-rebuild widget change (AppTest): median "
          f"{statistics.median(times) * 1000:.1f} ms, min {min(times) * 1000:.1f} ms "
          f"over {len(times)} runs (goal ≤ 50 ms)")
    ours, theirs = build_times()
    o, t = statistics.median(ours), statistics.median(theirs)
    print(f"ResNet-152 first build on CPU: explorer.build {o * 1000:.0f} ms, "
          f"torchvision.models.resnet152() {t * 1000:.0f} ms, ratio {o / t:.2f}x")


if __name__ == "__main__":
    main()
