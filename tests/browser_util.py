"""Start the real app and drive it in Debian's chromium with playwright (never `playwright install`)."""

from __future__ import annotations

from pathlib import Path

from bench.harness import (CHROMIUM, CHROMIUM_FLAGS, ROOT, answers_health, first_visit,
                           free_port)
from bench.harness import running_app as _running_app

__all__ = ["ARTIFACTS", "CHROMIUM", "CHROMIUM_FLAGS", "ROOT", "answers_health", "first_visit",
           "free_port", "launch_browser", "metric_value", "running_app", "screenshot",
           "select_option", "set_number", "wait_idle"]
ARTIFACTS = ROOT / "test-artifacts"


def running_app(extra_env: dict[str, str] | None = None, base_path: str = ""):
    """``bench.harness.running_app`` with the server's log under ``test-artifacts/``: a ``with``
    block yielding the base URL of ``streamlit run app.py`` on a free localhost port.

    ``base_path`` serves the app under ``/<base_path>/`` (Streamlit's ``server.baseUrlPath``).
    """
    return _running_app(extra_env, base_path, log_dir=ARTIFACTS)


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


def set_number(page, label: str, value: int) -> None:
    """Type ``value`` into the number field labelled exactly ``label`` and wait for the rerun
    ("Images" must not match "Held-out images"; a busy shared CPU redraws slowly)."""
    field = page.get_by_label(label, exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page, timeout_ms=400_000)
