"""What the benchmarks and the tests share to drive the app, in one module both import.

- **A server**: ``Server`` is ``streamlit run app.py`` in its own process on a free localhost
  port (file watcher off, headless); ``running_app`` wraps it for a ``with`` block that yields the
  URL once the server answers and has had its first visit; ``answers_health`` is the one
  health-check wait (through a proxy too).
- **Watching it from outside**, read-only: RSS and CPU seconds from ``/proc``, Python thread
  names (``py-spy dump``), and ``RssSampler`` for the peak.
- **Clients**: Debian's chromium for playwright (``CHROMIUM``, ``CHROMIUM_FLAGS``; never
  ``playwright install``), and ``fresh_app`` for an AppTest session.
- **Statistics**: the one ``percentile`` every report uses.

Run the benchmarks as modules from the repository root (``python -m bench.classroom``); the tests
import this module as ``bench.harness`` (the root is on pytest's ``pythonpath``). Nothing here
imports ``explorer``, and streamlit only where an AppTest or a protocol visit needs it.
"""

from __future__ import annotations

import math
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]
# torch's first import and a first build exceed AppTest's default 3 s.
APPTEST_TIMEOUT = 120


# -- the server ---------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def streamlit_command(port: int) -> list[str]:
    """``streamlit run app.py`` headless on ``127.0.0.1:port``, file watcher and telemetry off."""
    return [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]


def answers_health(url: str, seconds: float, proc: subprocess.Popen | None = None,
                   poll: float = 0.3) -> bool:
    """Whether ``url``'s Streamlit health check (through a proxy too) says ok within ``seconds``
    while ``proc``, the process behind it (if given), is still running; asks every ``poll`` s."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and (proc is None or proc.poll() is None):
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.read() == b"ok":
                    return True
        except OSError:
            pass
        time.sleep(poll)
    return False


class Server:
    """``streamlit run app.py`` in its own process, on a free localhost port.

    ``env`` is added to this process's environment; ``base_path`` serves the app under
    ``/<base_path>/`` (Streamlit's ``server.baseUrlPath``; ``url`` includes it); ``app_dir`` is
    the checkout served; the server's output goes to ``log`` (default: a file in ``$TMPDIR``).
    The process starts at once; ``wait_healthy`` (or entering the ``with`` block) waits for it.
    """

    def __init__(self, env: dict[str, str] | None = None, log: Path | None = None,
                 port: int | None = None, app_dir: Path = ROOT, base_path: str = ""):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}" + (f"/{base_path}" if base_path else "")
        self.log_path = log or Path(os.environ.get("TMPDIR", "/tmp")) / f"streamlit-{self.port}.log"
        self._log = open(self.log_path, "w")
        env = {**os.environ, **(env or {}), "STREAMLIT_SERVER_BASE_URL_PATH": base_path}
        self.proc = subprocess.Popen(streamlit_command(self.port), cwd=app_dir, stdout=self._log,
                                     stderr=subprocess.STDOUT, env=env)
        self.pid = self.proc.pid

    def wait_healthy(self, timeout: float = 300.0) -> None:
        if not answers_health(self.url, timeout, self.proc):
            why = "exited" if self.proc.poll() is not None else f"did not answer in {timeout:.0f} s"
            raise RuntimeError(f"the server {why}; see {self.log_path}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def __enter__(self) -> "Server":
        try:
            self.wait_healthy()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@contextmanager
def serving(extra_env: dict[str, str] | None = None, base_path: str = "",
            log_dir: Path | None = None, timeout: float = 90.0):
    """Yield a healthy ``Server`` that has had its first visit (see ``first_visit``); its log is
    ``log_dir/server-<port>.log`` (default: ``$TMPDIR``)."""
    port = free_port()
    log = None
    if log_dir is not None:
        Path(log_dir).mkdir(parents=True, exist_ok=True)
        log = Path(log_dir) / f"server-{port}.log"
    server = Server(extra_env, log=log, port=port, base_path=base_path)
    try:
        server.wait_healthy(timeout)
        first_visit(server.url)
        yield server
    finally:
        server.stop()


@contextmanager
def running_app(extra_env: dict[str, str] | None = None, base_path: str = "",
                log_dir: Path | None = None):
    """Yield the base URL of ``streamlit run app.py`` on a free localhost port (``serving``)."""
    with serving(extra_env, base_path, log_dir) as server:
        yield server.url


def first_visit(url: str) -> None:
    """One protocol-level visit before any browser comes.

    Streamlit decides at a server's first session whether ``pages/`` is a legacy pages directory
    (it runs that session's first script in that mode until ``st.navigation`` is called), so the
    very first visitor after a start who follows a deep link such as ``/training`` sees a "Page
    not found" dialog over the right page (a known limitation, README). Tests check what every
    later visitor sees.
    """
    import asyncio

    from bench.stclient import StreamlitSession

    async def visit() -> None:
        async with StreamlitSession(url, timeout=120) as session:
            await session.open("first visit")

    asyncio.run(visit())


# -- watching a process from outside ------------------------------------------------------------
def rss_mb(pid: int) -> float:
    """The process's resident set (VmRSS) in MiB, from /proc."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of all the process's threads so far (``/proc/<pid>/stat``)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load_average() -> float:
    """The machine's one-minute load average (other processes compete for the same cores)."""
    return os.getloadavg()[0]


def thread_names(pid: int) -> list[str]:
    """Names of the process's Python threads (``threading.Thread(name=...)``), read from outside.

    Python 3.11 does not give its threads OS names (every ``/proc/<pid>/task/*/comm`` reads
    "python"), so this asks ``py-spy dump --nonblocking`` (read-only; ``pip install py-spy``),
    and falls back to the OS names when py-spy is missing.
    """
    for _ in range(5):  # a dump can fail on a busy process: never read that as "no threads"
        try:
            out = subprocess.run(["py-spy", "dump", "--pid", str(pid), "--nonblocking"],
                                 capture_output=True, text=True, timeout=60).stdout
        except FileNotFoundError:
            return os_thread_names(pid)
        except subprocess.TimeoutExpired:
            continue
        names = re.findall(r'^Thread \S+ \([^)]*\): "(.*)"$', out, re.MULTILINE)
        if "MainThread" in names:
            return names
        time.sleep(1)
    raise RuntimeError(f"py-spy could not list the threads of {pid}")


def os_thread_names(pid: int) -> list[str]:
    """The OS names of the process's threads (``/proc/<pid>/task/*/comm``)."""
    names = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            names.append((task / "comm").read_text().strip())
        except OSError:
            pass  # the thread ended meanwhile
    return names


class RssSampler:
    """Samples the RSS of some processes every ``interval`` s in a thread; tracks the peak."""

    def __init__(self, pids: list[int], interval: float = 0.1):
        self.pids, self.interval = pids, interval
        self.peak = {pid: 0.0 for pid in pids}
        self.peak_total = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss-sampler")

    def now(self) -> dict[int, float]:
        return {pid: rss_mb(pid) for pid in self.pids}

    def reset_peak(self) -> None:
        self.peak = {pid: 0.0 for pid in self.pids}
        self.peak_total = 0.0

    def _run(self) -> None:
        while True:
            try:
                values = self.now()
            except (OSError, RuntimeError):
                values = {}
            for pid, value in values.items():
                self.peak[pid] = max(self.peak[pid], value)
            self.peak_total = max(self.peak_total, sum(values.values()))
            if self._stop.wait(self.interval):
                return

    def __enter__(self) -> "RssSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()


# -- an AppTest session -------------------------------------------------------------------------
def fresh_app(query: dict[str, str] | None = None):
    """A new AppTest session of the app, run once, with Streamlit's caches cleared (they outlive
    AppTest instances)."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=APPTEST_TIMEOUT)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    return at.run()


def widget(at, key: str):
    """The AppTest widget with this key, whatever its type."""
    for group in (at.text_input, at.selectbox, at.number_input, at.toggle, at.checkbox,
                  at.radio, at.slider, at.button, at.multiselect):
        for w in group:
            if w.key == key:
                return w
    raise KeyError(key)


# -- statistics ---------------------------------------------------------------------------------
def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0 ≤ q ≤ 1) of ``values``, interpolating linearly between the two
    closest ranks; NaN for no values.

    This is numpy's default (``numpy.percentile(values, 100 * q)``) and
    ``statistics.quantiles(method="inclusive")``, so a reader can recompute any figure; its p50
    is ``statistics.median``; and with the handful of samples a benchmark has (4-16 visitors) it
    moves smoothly with every sample instead of jumping from one to the next, as a nearest-rank
    percentile does. Every report here uses it, so their p95s can be compared.
    """
    if not values:
        return math.nan
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low, high = math.floor(pos), math.ceil(pos)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)
