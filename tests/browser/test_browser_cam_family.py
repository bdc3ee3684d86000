"""End to end: the Grad-CAM page's CAM family in headless Debian chromium: Score-CAM picked, the
deletion curve turned on for the first sample, its figure, table and sentences on screen."""

import re

import pytest
from playwright.sync_api import expect, sync_playwright

from browser_util import ARTIFACTS, launch_browser, running_app, select_option, wait_idle

pytestmark = pytest.mark.browser

TINY_QUERY = "?layers=1,1,1&base_width=8&stem=cifar&shortcut=A&num_classes=10&image_size=32"
LOADED = 180_000  # ms: a loaded two-core machine runs Score-CAM and redraws slowly


def test_score_cam_and_its_deletion_curve_in_the_browser():
    # One torch thread: two threads fighting other processes for two cores crawl.
    with running_app({"OMP_NUM_THREADS": "1"}) as url, sync_playwright() as p:
        browser = launch_browser(p)
        first = browser.new_context().new_page()  # a fresh server's first run: load "/" first
        first.goto(url, timeout=LOADED)
        wait_idle(first, timeout_ms=LOADED)
        first.context.close()
        page = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
        page.goto(f"{url}/grad_cam{TINY_QUERY}", timeout=LOADED)
        wait_idle(page, timeout_ms=LOADED)
        expect(page.get_by_text("this net: Grad-CAM at layer3").first).to_be_visible(
            timeout=LOADED)

        select_option(page, "Method", "Score-CAM")
        wait_idle(page, timeout_ms=LOADED)
        expect(page.get_by_text("this net: Score-CAM at layer3").first).to_be_visible(
            timeout=LOADED)
        expect(page.get_by_text("plain twin: Score-CAM at layer3").first).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "grad-cam-score-cam.png"))  # the pickers and maps

        switch = page.get_by_role("switch", name="Deletion curve").first
        expect(switch).not_to_be_checked()  # off until asked for
        page.get_by_text("Deletion curve", exact=True).first.click()  # the label, as a user does
        wait_idle(page, timeout_ms=LOADED)
        expect(switch).to_be_checked()
        chart = page.locator(".js-plotly-plot").filter(has_text="Deletion curves")
        expect(chart).to_be_visible(timeout=LOADED)
        expect(chart).to_contain_text("random order")
        expect(chart).to_contain_text("Score-CAM")
        expect(page.get_by_text(re.compile(r"^For this net, ")).first).to_be_visible()
        expect(page.get_by_text(re.compile(r"^At layer3 of this net the Grad-CAM")).first) \
            .to_be_visible()
        pictures = page.locator("[data-testid='stImage'] img")
        assert pictures.evaluate_all("all => all.every(i => i.complete && i.naturalWidth > 0)")

        # The switch, the four maps, the curves, the table and the sentences in one view.
        page.get_by_text("Deletion curve", exact=True).first.evaluate(
            "label => label.scrollIntoView({block: 'center'})")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(ARTIFACTS / "grad-cam-score-cam-deletion.png"))
        browser.close()
