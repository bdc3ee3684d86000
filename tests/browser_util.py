"""Start the real app and drive it in Debian's chromium with playwright (never `playwright install`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(extra_env: dict[str, str] | None = None, base_path: str = ""):
    """Yield the base URL of ``streamlit run app.py`` on a free localhost port.

    ``base_path`` serves the app under ``/<base_path>/`` (Streamlit's ``server.baseUrlPath``).
    """
    port = free_port()
    ARTIFACTS.mkdir(exist_ok=True)
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1",
           "--server.fileWatcherType", "none", "--browser.gatherUsageStats", "false"]
    log = open(ARTIFACTS / f"server-{port}.log", "w")
    env = {**os.environ, **(extra_env or {}), "STREAMLIT_SERVER_BASE_URL_PATH": base_path}
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}" + (f"/{base_path}" if base_path else "")
    try:
        if not answers_health(url, 90, proc):
            raise RuntimeError(f"the app did not start; see {log.name}")
        first_visit(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def answers_health(url: str, seconds: float, proc: subprocess.Popen) -> bool:
    """Whether ``url``'s Streamlit health check (through a proxy too) says ok within ``seconds``
    while ``proc``, the process behind it, is still running."""
    deadline = time.time() + seconds
    while time.time() < deadline and proc.poll() is None:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return True
        except OSError:
            time.sleep(0.3)
    return False


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


def launch_browser(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)


def wait_idle(page, timeout_ms: int = 120_000) -> None:
    """Wait until the script run finishes (Streamlit shows a 'Running' status meanwhile)."""
    status = "[data-testid='stStatusWidget']"
    try:  # the widget appears a moment after the rerun starts
        page.wait_for_selector(status, state="attached", timeout=1500)
    except Exception:  # noqa: BLE001  (playwright's TimeoutError: the run was already over)
        pass
    page.wait_for_selector(status, state="detached", timeout=timeout_ms)


def metric_value(page, label: str, index: int = 0):
    """The value locator of the ``index``-th metric labelled ``label``."""
    box = page.locator("[data-testid='stMetric']").filter(has_text=label).nth(index)
    return box.locator("[data-testid='stMetricValue']")


def select_option(page, label: str, option: str) -> None:
    """Pick ``option`` in the Streamlit selectbox labelled ``label``."""
    box = page.locator("[data-testid='stSelectbox']").filter(has_text=label).first
    box.locator("input").click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
