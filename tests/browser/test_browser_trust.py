"""End to end: the "Trust the map" page in headless Debian chromium, on the shipped ResNet-20
pair: a small sanity check and a small localisation run, their charts and CSVs."""

import pytest
from playwright.sync_api import expect, sync_playwright

from browser_util import launch_browser, running_app, screenshot, wait_idle

pytestmark = pytest.mark.browser
RUN_MS = 180_000  # one run on a loaded CI machine
expect.set_options(timeout=60_000)  # two busy CPU cores redraw slowly


@pytest.fixture(scope="module")
def page():
    # One torch thread: two threads fighting other processes for two cores crawl.
    with running_app({"OMP_NUM_THREADS": "1"}) as url, sync_playwright() as p:
        browser = launch_browser(p)
        first = browser.new_page()  # a fresh server's first run: load "/" first
        first.goto(url, timeout=RUN_MS)
        wait_idle(first, timeout_ms=400_000)
        first.close()
        tab = browser.new_context(viewport={"width": 1400, "height": 2000}).new_page()
        tab.goto(f"{url}/trust_map", timeout=RUN_MS)
        wait_idle(tab, timeout_ms=400_000)
        yield tab
        browser.close()


def panel(page):
    """The tab panel on screen (both tabs' widgets are in the page; one is hidden)."""
    return page.locator("[data-testid='stTabs'] [role='tabpanel']:visible")


def keep_one_method(page, keep: str) -> None:
    """Remove every method but ``keep`` from the visible panel's multiselect."""
    box = panel(page).locator("[data-testid='stMultiSelect']")
    for name in ("Grad-CAM", "Grad-CAM++", "Layer-CAM", "Score-CAM"):
        if name != keep:
            box.get_by_role("button", name=f"Remove {name}", exact=True).click(timeout=RUN_MS)
            wait_idle(page, timeout_ms=400_000)
    expect(box.locator("[data-tag]")).to_have_count(1)
    expect(box.get_by_role("button", name=f"Remove {keep}", exact=True)).to_be_visible()


def set_images(page, value: int) -> None:
    field = panel(page).get_by_label("Images", exact=True)
    field.fill(str(value))
    field.press("Enter")
    wait_idle(page, timeout_ms=400_000)


def test_sanity_check(page):
    expect(page.get_by_role("heading", name="Trust the map")).to_be_visible()
    expect(page.get_by_text("checkpoints/resnet20, checkpoints/resnet20-plain")).to_be_visible()
    keep_one_method(page, "Grad-CAM")
    set_images(page, 2)
    expect(page.get_by_text("12 steps × 1 method × 2 nets on 2 images")).to_be_visible()
    page.get_by_role("button", name="Run the sanity check").click(timeout=RUN_MS)
    expect(page.get_by_text("Grad-CAM's map keeps a rank correlation of").first).to_be_visible(
        timeout=RUN_MS)
    wait_idle(page, timeout_ms=400_000)
    charts = panel(page).locator(".js-plotly-plot")
    expect(charts).to_have_count(2)
    expect(page.get_by_text("Grad-CAM at layer3: how alike the maps stay")).to_be_visible()
    expect(page.get_by_text("Sanity steps (.csv)")).to_be_visible()
    screenshot(page, "trust-sanity")


def test_localisation(page):
    page.get_by_role("tab", name="Localisation").click(timeout=RUN_MS)
    wait_idle(page, timeout_ms=400_000)
    keep_one_method(page, "Score-CAM")
    set_images(page, 8)
    page.get_by_role("button", name="Score the maps").click(timeout=RUN_MS)
    expect(page.get_by_text("Score-CAM at layer3: the map's peak falls").first).to_be_visible(
        timeout=RUN_MS)
    wait_idle(page, timeout_ms=400_000)
    expect(panel(page).locator(".js-plotly-plot")).to_have_count(1)
    expect(page.get_by_text("Do the maps point at the object?")).to_be_visible()
    expect(page.get_by_text("Localisation scores (.csv)")).to_be_visible()
    screenshot(page, "trust-localisation")
