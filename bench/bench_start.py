"""Benchmark: how fast the app and the command line answer from a cold start.

Run from the repository root: ``python -m bench.bench_start [--repeats 5]`` (``--quick``: once
each, a check that it runs rather than a figure).

1. Seconds from ``streamlit run app.py`` (a fresh server process, file watcher off, headless) to
   the Architecture page's stage table visible in Debian's chromium (the row ``layer3`` of the
   default ResNet-20 in the stage table): goal ≤ 6 s. The browser is started before the clock;
   the time at which the server first answers its health check is printed too.
2. Wall time of ``python -m explorer --help`` (goal ≤ 1 s), of ``python -c "import explorer"``
   (lazy: no torch) and of ``from explorer import build`` (torch), next to ``python -c "pass"``,
   the interpreter's own start.

Medians over the repetitions. The load average is printed with the figures: on a shared 2-core
machine other processes change them a lot. So are the CPU seconds that the server and chromium
used until the table showed: their sum over the 2 cores bounds what a quiet machine can do.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.harness import CHROMIUM, CHROMIUM_FLAGS, ROOT, Server, answers_health

STAGE_TABLE_ROW = "layer3"
# The stage table is an st.dataframe: its cells are drawn on a canvas, and the grid keeps an
# accessible copy of them in the DOM, which is what a screen reader (and this check) reads.
TABLE = "[data-testid='stDataFrame']"


def _processes() -> dict[int, tuple[int, float]]:
    """pid → (parent pid, CPU seconds used so far) for every process we can read."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(entry)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return out


def cpu_of_trees(roots: set[int], exclude: set[int] = frozenset()) -> float:
    """CPU seconds used so far by the live processes under ``roots`` (not under ``exclude``)."""
    procs = _processes()
    total = 0.0
    for pid, (_, cpu) in procs.items():
        p = pid
        while p in procs and p not in roots and p not in exclude and p > 1:
            p = procs[p][0]
        if p in roots:
            total += cpu
    return total


def app_cold_start(browser, timeout_s: float = 120) -> tuple[float, float, float, float]:
    """Seconds from ``streamlit run`` to the health check and to the stage table, and the CPU
    seconds the server and the browser used until then (a figure that load changes less)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    me = {os.getpid()}
    browser_cpu = cpu_of_trees(me)
    start = time.monotonic()
    server = Server(log=Path(os.devnull))
    try:
        if not answers_health(server.url, timeout_s, server.proc, poll=0.02):
            raise RuntimeError("the server did not answer its health check in time")
        healthy = time.monotonic() - start
        page.goto(server.url)
        page.locator(TABLE).filter(has_text=STAGE_TABLE_ROW).first.wait_for(
            state="visible", timeout=timeout_s * 1000)
        table = time.monotonic() - start
        server_cpu = cpu_of_trees({server.pid})
        browser_cpu = cpu_of_trees(me, exclude={server.pid}) - browser_cpu
        return healthy, table, server_cpu, browser_cpu
    finally:
        context.close()
        server.stop()


def wall_time(args: list[str]) -> float:
    start = time.monotonic()
    subprocess.run(args, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return time.monotonic() - start


def describe(label: str, times: list[float], goal: float | None = None) -> str:
    line = (f"{label:<44} median {statistics.median(times):6.2f} s   "
            f"min {min(times):6.2f}  max {max(times):6.2f}   n={len(times)}")
    return line + (f"   (goal ≤ {goal:g} s)" if goal is not None else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-app", action="store_true", help="only the command-line timings")
    parser.add_argument("--timeout", type=float, default=300,
                        help="seconds one cold start may take before it counts as timed out")
    parser.add_argument("--quick", action="store_true",
                        help="a check that the benchmark runs: every timing once")
    args = parser.parse_args()
    if args.quick:
        args.repeats = 1
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")

    commands = {
        'python -c "pass"': [sys.executable, "-c", "pass"],
        'python -c "import explorer"': [sys.executable, "-c", "import explorer"],
        'python -c "from explorer import build"': [sys.executable, "-c",
                                                   "from explorer import build"],
        "python -m explorer --help": [sys.executable, "-m", "explorer", "--help"],
    }
    cli = {label: [] for label in commands}
    for _ in range(args.repeats):  # interleaved, so a burst of load hits every command alike
        for label, command in commands.items():
            cli[label].append(wall_time(command))

    app_health, app_table, server_cpu, browser_cpu = [], [], [], []
    if not args.skip_app:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                for _ in range(args.repeats):
                    try:
                        healthy, table, s_cpu, b_cpu = app_cold_start(browser, args.timeout)
                    except Exception as exc:  # noqa: BLE001  (playwright's TimeoutError)
                        print(f"  run: no stage table within {args.timeout:g} s "
                              f"({type(exc).__name__})", flush=True)
                        continue
                    app_health.append(healthy)
                    app_table.append(table)
                    server_cpu.append(s_cpu)
                    browser_cpu.append(b_cpu)
                    print(f"  run: server healthy {healthy:.2f} s, stage table {table:.2f} s; "
                          f"CPU used by then: server {s_cpu:.2f} s, browser {b_cpu:.2f} s",
                          flush=True)
            finally:
                browser.close()

    print()
    for label, times in cli.items():
        goal = 1.0 if "--help" in label else None
        print(describe(label, times, goal))
    if app_table:
        print(describe("streamlit run → server health check", app_health))
        print(describe("streamlit run → stage table in chromium", app_table, 6.0))
        print(describe("  CPU used by the server until then", server_cpu))
        print(describe("  CPU used by chromium until then", browser_cpu))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
