"""End to end: the "Why skips work" page in headless Debian chromium, on the shipped pair."""

import pytest
from playwright.sync_api import expect, sync_playwright

expect.set_options(timeout=60_000)  # two busy CPU cores redraw slowly

from browser_util import launch_browser, running_app, screenshot, set_number, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page():
    with running_app() as url, sync_playwright() as p:
        browser = launch_browser(p)
        # A fresh server's first run answers a deep link with "Page not found": load "/" first.
        first = browser.new_page()
        first.goto(url)
        wait_idle(first, timeout_ms=400_000)
        first.close()
        tab = browser.new_context(viewport={"width": 1400, "height": 2200}).new_page()
        tab.goto(f"{url}/why_skips")
        wait_idle(tab, timeout_ms=400_000)
        yield tab
        browser.close()


def open_tab(page, name: str) -> None:
    page.get_by_role("tab", name=name).click(timeout=300_000)
    wait_idle(page, timeout_ms=400_000)  # a busy shared CPU redraws slowly


def test_lesion_study(page):
    expect(page.get_by_role("heading", name="Why skips work")).to_be_visible()
    expect(page.get_by_text("checkpoints/resnet20, checkpoints/resnet20-plain")).to_be_visible()
    set_number(page, "Held-out images", 100)
    set_number(page, "Draws per k", 2)
    page.get_by_role("button", name="Run the lesion study").click(timeout=300_000)
    expect(page.get_by_text("Deleting one block of the residual net").first).to_be_visible(
        timeout=300_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    expect(page.get_by_text("Lesion results (.csv)")).to_be_visible()
    screenshot(page, "why-lesion")


def test_landscape_stop_then_run(page):
    open_tab(page, "Loss landscape")
    set_number(page, "Steps per axis", 41)
    page.get_by_role("button", name="Draw the landscape").click(timeout=300_000)
    expect(page.locator("[data-testid='stProgress']").first).to_be_visible(timeout=60_000)
    page.get_by_test_id("stTabs").get_by_role("button", name="Stop").click(timeout=300_000)
    wait_idle(page, timeout_ms=400_000)  # a busy shared CPU redraws slowly
    expect(page.get_by_text("Stopped. Run it again to start over.")).to_be_visible(
        timeout=60_000)
    set_number(page, "Steps per axis", 7)
    set_number(page, "Batch (images)", 16)
    page.get_by_role("button", name="Draw the landscape").click(timeout=300_000)
    expect(page.get_by_text("a step of 0.25 along the directions").first).to_be_visible(
        timeout=300_000)
    expect(page.get_by_text("Landscape (.json)")).to_be_visible()
    screenshot(page, "why-landscape")


def test_receptive_fields(page):
    open_tab(page, "Receptive fields")
    set_number(page, "Images", 8)
    page.get_by_role("button", name="Measure the receptive fields").click(timeout=300_000)
    expect(page.get_by_text("95% of the gradient from the centre").first).to_be_visible(
        timeout=300_000)
    expect(page.get_by_text("Maps (.json)")).to_be_visible()
    screenshot(page, "why-receptive-fields")


def test_feature_maps(page):
    open_tab(page, "Feature maps")
    expect(page.get_by_text("‖F(x)‖ is").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Feature summary (.json)")).to_be_visible()
    screenshot(page, "why-feature-maps")
