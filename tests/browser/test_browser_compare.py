"""End to end: the Compare page in headless Debian chromium, two presets timed at small settings."""

import pytest
from playwright.sync_api import expect, sync_playwright

expect.set_options(timeout=60_000)  # two busy CPU cores redraw slowly

from browser_util import launch_browser, running_app, screenshot, set_number, wait_idle

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page():
    with running_app() as url, sync_playwright() as p:
        browser = launch_browser(p)
        tab = browser.new_context(viewport={"width": 1400, "height": 3400}).new_page()
        tab.goto(f"{url}/compare?compare=resnet18,resnet34")
        wait_idle(tab, timeout_ms=400_000)
        yield tab
        browser.close()


def test_compare_two_presets_and_time_them(page):
    expect(page.get_by_role("heading", name="Compare")).to_be_visible()
    expect(page.get_by_text("resnet34 has 86 % more parameters than resnet18 and 2.02 times its "
                            "mult-adds")).to_be_visible()
    assert "compare=resnet18%2Cresnet34" in page.url or "compare=resnet18,resnet34" in page.url
    assert "layers=3%2C3%2C3" in page.url or "layers=3,3,3" in page.url  # the sidebar's own
    set_number(page, "Timed repeats", 20)  # long enough to be stopped
    page.get_by_role("button", name="Time them on CPU").click()
    expect(page.locator("[data-testid='stProgress']").first).to_be_visible()
    page.get_by_test_id("stMainBlockContainer").get_by_role("button", name="Stop").click()
    wait_idle(page, timeout_ms=400_000)
    expect(page.get_by_text("Stopped. The networks timed before the stop")).to_be_visible()
    set_number(page, "Batch (memory and timing)", 1)
    set_number(page, "Timed repeats", 2)
    page.get_by_role("button", name="Time them on CPU").click()
    expect(page.get_by_text("its training step (forward+backward)")).to_be_visible(
        timeout=300_000)
    expect(page.get_by_text("Forward, ms per image")).to_be_visible()
    expect(page.get_by_role("heading", name="Accuracy against cost")).to_be_visible()
    wait_idle(page)
    screenshot(page, "compare")


def test_leaving_the_page_drops_its_parameter_but_not_the_sidebars(page):
    page.get_by_role("link", name="Architecture").click()
    wait_idle(page, timeout_ms=400_000)
    expect(page.get_by_role("heading", name="Architecture")).to_be_visible()
    assert "compare=" not in page.url
    assert "layers=3%2C3%2C3" in page.url or "layers=3,3,3" in page.url
    page.get_by_role("link", name="Compare").click()  # the choice is kept for the session
    wait_idle(page, timeout_ms=400_000)
    expect(page.get_by_text("resnet34 has 86 % more parameters")).to_be_visible()
    assert "compare=resnet18%2Cresnet34" in page.url or "compare=resnet18,resnet34" in page.url
