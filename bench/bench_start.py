"""Benchmark: how fast the app and the command line answer from a cold start.

Run from the repository root: ``python bench/bench_start.py [--repeats 5]``.

1. Seconds from ``streamlit run app.py`` (a fresh server process, file watcher off, headless) to
   the Architecture page's stage table visible in Debian's chromium (the row ``layer4`` of the
   default ResNet-18 in the stage table): goal ≤ 6 s. The browser is started before the clock;
   the time at which the server first answers its health check is printed too.
2. Wall time of ``python -m explorer --help`` (goal ≤ 1 s) and of ``python -c "import explorer"``,
   next to ``python -c "pass"``, the interpreter's own start.

Medians over the repetitions. The load average is printed with the figures: on a shared 2-core
machine other processes change them a lot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests")]

from browser_util import CHROMIUM, CHROMIUM_FLAGS, free_port  # noqa: E402

STAGE_TABLE_ROW = "layer4"
# The stage table is an st.dataframe: its cells are drawn on a canvas, and the grid keeps an
# accessible copy of them in the DOM, which is what a screen reader (and this check) reads.
TABLE = "[data-testid='stDataFrame']"


def wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=1).read() == b"ok":
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise RuntimeError("the server did not answer its health check in time")


def app_cold_start(browser, timeout_s: float = 120) -> tuple[float, float]:
    """(seconds to the health check, seconds to the stage table) from ``streamlit run``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    context = browser.new_context(viewport={"width": 1400, "height": 1600})
    page = context.new_page()
    start = time.monotonic()
    server = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_healthy(url, start + timeout_s)
        healthy = time.monotonic() - start
        page.goto(url)
        page.locator(TABLE).filter(has_text=STAGE_TABLE_ROW).first.wait_for(
            state="visible", timeout=timeout_s * 1000)
        return healthy, time.monotonic() - start
    finally:
        context.close()
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()


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
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores")

    commands = {
        'python -c "pass"': [sys.executable, "-c", "pass"],
        'python -c "import explorer"': [sys.executable, "-c", "import explorer"],
        "python -m explorer --help": [sys.executable, "-m", "explorer", "--help"],
    }
    cli = {label: [] for label in commands}
    for _ in range(args.repeats):  # interleaved, so a burst of load hits every command alike
        for label, command in commands.items():
            cli[label].append(wall_time(command))

    app_health, app_table = [], []
    if not args.skip_app:
        from playwright.sync_api import sync_playwright

        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                for _ in range(args.repeats):
                    healthy, table = app_cold_start(browser)
                    app_health.append(healthy)
                    app_table.append(table)
                    print(f"  run: server healthy {healthy:.2f} s, stage table {table:.2f} s",
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
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
