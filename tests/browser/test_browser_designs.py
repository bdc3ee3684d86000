"""End to end: "Compare skip designs" on the Gradient flow page in headless Debian chromium, with
its defaults (all six designs on ResNet-110), its sentences, figure and CSV download."""

import pytest
from playwright.sync_api import expect, sync_playwright

from browser_util import ARTIFACTS, launch_browser, running_app, wait_idle

pytestmark = pytest.mark.browser

TINY_QUERY = "?layers=1,1,1&base_width=8&stem=cifar&shortcut=A&num_classes=10&image_size=32"


def test_compare_skip_designs_in_the_browser():
    # One torch thread: two threads fighting other processes for two cores crawl.
    with running_app({"OMP_NUM_THREADS": "1"}) as url, sync_playwright() as p:
        browser = launch_browser(p)
        first = browser.new_context().new_page()  # a fresh server's first run: load "/" first
        first.goto(url, timeout=180_000)
        wait_idle(first)
        first.context.close()
        page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
        page.goto(f"{url}/gradient_flow{TINY_QUERY}", timeout=180_000)
        wait_idle(page)
        heading = page.get_by_role("heading", name="Compare skip designs")
        heading.scroll_into_view_if_needed()
        expect(page.get_by_text("6 variant(s) of 110 layers")).to_be_visible(timeout=60_000)
        page.get_by_text("What the paper found").click()
        expect(page.get_by_text("8.70 % (gate bias −6)")).to_be_visible()
        page.get_by_role("button", name="Compare designs").click()
        expect(page.get_by_text("With constant scaling the gradient reaching layer1.0")).to_be_visible(
            timeout=400_000)
        wait_idle(page, timeout_ms=400_000)
        expect(page.get_by_text("Which skip? Gradient and branch response")).to_be_visible()
        with page.expect_download(timeout=180_000) as download:  # written on click, loaded CPU
            page.get_by_text("Download the comparison (.csv)").click()
        text = open(download.value.path(), encoding="utf-8").read()
        assert download.value.suggested_filename == "skip-designs-110-layers-seed0.csv"
        assert "skip_design=dropout" in text and '# spec: {"block": "basic"' in text
        ARTIFACTS.mkdir(exist_ok=True)
        # The sentences, the figure and the table in one view, from the button down.
        page.get_by_role("button", name="Compare designs").evaluate(
            "button => button.scrollIntoView({block: 'start'})")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "gradient-flow-skip-designs.png"))
        browser.close()
