"""End to end: the real server in headless Debian chromium, as a user clicks through it."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from explorer import PRESETS, stage_table
from explorer.units import format_count

from browser_util import (launch_browser, metric_value, running_app, screenshot, select_option,
                          wait_idle)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    with running_app() as url, sync_playwright() as p:
        browser = launch_browser(p)
        browser.app_url = url
        yield browser
        browser.close()


def open_page(browser, url: str):
    """A page in a fresh browser context: a new visitor with a new Streamlit session."""
    page = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
    page.goto(url)
    wait_idle(page)
    return page


@pytest.fixture(scope="module")
def page(browser):
    return open_page(browser, browser.app_url)


def test_architecture_preset_and_skip_toggle(page):
    expect(page.get_by_role("heading", name="Architecture")).to_be_visible()
    expect(metric_value(page, "Parameters")).to_have_text("11.69 M")
    screenshot(page, "architecture-resnet18")

    select_option(page, "Preset", "resnet50")
    expect(metric_value(page, "Parameters")).to_have_text(
        format_count(stage_table(PRESETS["resnet50"]).total_params))
    expect(page.get_by_text("25,557,032 parameters").first).to_be_visible()
    assert "block=bottleneck" in page.url

    page.locator("[data-testid='stSidebar']").get_by_text("Skip connections").click()
    wait_idle(page)
    plain = PRESETS["resnet50"].replace(skip=False)
    expect(metric_value(page, "Parameters")).to_have_text(
        format_count(stage_table(plain).total_params))
    assert re.search(r"skip=0", page.url)
    screenshot(page, "architecture-resnet50-plain")


def test_url_restores_network_in_a_new_browser(browser, page):
    fresh = open_page(browser, page.url)
    plain = PRESETS["resnet50"].replace(skip=False)
    expect(metric_value(fresh, "Parameters")).to_have_text(
        format_count(stage_table(plain).total_params))
    fresh.context.close()
