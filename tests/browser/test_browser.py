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
        # A fresh server's first run goes through Streamlit's legacy pages-folder mode, which
        # answers a deep link with "Page not found" (see pages/__init__.py): load "/" first.
        open_page(browser, url).context.close()
        yield browser
        browser.close()


def open_page(browser, url: str):
    """A page in a fresh browser context: a new visitor with a new Streamlit session."""
    page = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
    page.goto(url, timeout=180_000)  # a loaded machine needs more than 30 s for torch
    wait_idle(page)
    expect(page.get_by_text("Page not found")).to_have_count(0)  # deep links resolve
    return page


@pytest.fixture(scope="module")
def page(browser):
    return open_page(browser, browser.app_url)


def test_architecture_preset_and_skip_toggle(page):
    expect(page.get_by_role("heading", name="Architecture")).to_be_visible()
    expect(metric_value(page, "Parameters")).to_have_text(
        format_count(stage_table(PRESETS["resnet20"]).total_params))  # the default preset
    screenshot(page, "architecture-resnet20")

    select_option(page, "Preset", "resnet50 · torchvision")
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

    # Files are written when their button is clicked (deferred downloads), for this network.
    with page.expect_download() as download:
        page.get_by_text("Stage table (.csv)").click()
    assert download.value.suggested_filename.endswith(".csv")
    text = open(download.value.path(), encoding="utf-8").read()
    assert "layer4" in text and str(stage_table(plain).total_params) in text


def test_url_restores_network_in_a_new_browser(browser, page):
    fresh = open_page(browser, page.url)
    plain = PRESETS["resnet50"].replace(skip=False)
    # A new session's first run can start after open_page's idle check: a margin, not 5 s.
    expect(metric_value(fresh, "Parameters")).to_have_text(
        format_count(stage_table(plain).total_params), timeout=60_000)
    fresh.context.close()


TINY_QUERY = "?layers=1,1,1&base_width=8&stem=cifar&shortcut=A&num_classes=10&image_size=32"


def test_gradient_flow_page(browser):
    page = open_page(browser, f"{browser.app_url}/gradient_flow{TINY_QUERY}")
    expect(page.get_by_text("At conv1 the plain twin").first).to_be_visible(timeout=60_000)
    expect(page.locator(".js-plotly-plot").first).to_be_visible()
    depths = page.locator("[data-testid='stTextInput']").filter(has_text="Depths").locator("input")
    depths.fill("8,14,20")
    depths.press("Enter")
    wait_idle(page)
    page.get_by_role("button", name="Run depth sweep").click()
    expect(page.get_by_text("With BatchNorm: from 8 to 20 layers")).to_be_visible(timeout=120_000)
    screenshot(page, "gradient-flow")
    page.context.close()


def test_grad_cam_page_uploads_an_image(browser, tmp_path):
    from PIL import Image

    picture = tmp_path / "my red square.png"
    image = Image.new("RGB", (64, 64), (30, 30, 30))
    image.paste((220, 30, 30), (20, 20, 44, 44))
    image.save(picture)
    page = open_page(browser, f"{browser.app_url}/grad_cam{TINY_QUERY}")
    page.locator("[data-testid='stFileUploader']").filter(has_text="Your images") \
        .locator("input[type='file']").set_input_files(str(picture))
    wait_idle(page)
    expect(page.get_by_role("heading", name="my red square.png")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Overlay (.png)").first).to_be_visible()
    screenshot(page, "grad-cam")
    pictures = page.locator("[data-testid='stImage'] img")
    assert pictures.count() >= 2 + 2 * (1 + 3)  # previews; both nets: overlay and stages
    assert pictures.evaluate_all("all => all.every(i => i.complete && i.naturalWidth > 0)")
    with page.expect_download() as download:
        page.get_by_text("Overlay (.png)").first.click()
    assert open(download.value.path(), "rb").read(8) == b"\x89PNG\r\n\x1a\n"
    page.context.close()


def test_grad_cam_keeps_uploads_through_a_weights_switch_and_adds_a_second(browser, tmp_path):
    """Issue 19's steps: upload, weights to "upload a checkpoint" and back, click elsewhere,
    add a second file: both photos stay until removed."""
    from PIL import Image

    files = []
    for name, colour in (("first photo.png", (220, 30, 30)), ("second photo.png", (30, 30, 220))):
        files.append(tmp_path / name)
        Image.new("RGB", (48, 48), colour).save(files[-1])
    page = open_page(browser, f"{browser.app_url}/grad_cam{TINY_QUERY}")
    box = page.locator("[data-testid='stFileUploader']").filter(has_text="Your images")
    box.locator("input[type='file']").set_input_files(str(files[0]))
    wait_idle(page)
    expect(page.get_by_role("heading", name="first photo.png")).to_be_visible(timeout=60_000)
    select_option(page, "Weights", "upload a checkpoint")
    select_option(page, "Weights", "shipped: resnet20")
    page.get_by_text("Show every stage").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="first photo.png")).to_be_visible(timeout=60_000)
    box.locator("input[type='file']").set_input_files(str(files[1]))
    wait_idle(page)
    expect(page.get_by_role("heading", name="second photo.png")).to_be_visible(timeout=60_000)
    expect(page.get_by_role("heading", name="first photo.png")).to_be_visible()
    screenshot(page, "grad-cam-two-uploads")
    page.context.close()


def test_training_page_starts_and_stops_a_run(browser):
    page = open_page(browser, f"{browser.app_url}/training{TINY_QUERY}")
    # A small epoch: the first batch of a shuffled epoch renders the whole shapes set, which
    # takes minutes for 12,000 images on a loaded 2-core machine.
    for label, value in (("Training images", "640"), ("Epochs", "50")):
        field = page.locator("[data-testid='stNumberInput']").filter(has_text=label) \
            .locator("input")
        field.fill(value)
        field.press("Enter")
        wait_idle(page)
    page.get_by_role("button", name="Start training").click()
    expect(page.get_by_role("progressbar")).to_be_visible(timeout=120_000)
    expect(page.get_by_text(re.compile(r"Training on cpu: \d+%"))).to_be_visible(timeout=120_000)
    # While the fragment redraws, Streamlit keeps the previous chart as a zero-height stale
    # element for a moment; a user sees one chart, so the test counts the visible ones.
    chart = page.locator(".js-plotly-plot:visible").filter(has_text="Training loss (smoothed)")
    expect(chart).to_be_visible(timeout=120_000)  # the live chart, redrawn while the run goes on
    expect(chart).to_contain_text("plain")
    screenshot(page, "training-running")
    page.get_by_role("button", name="Stop").click()
    expect(page.get_by_text("Training stopped")).to_be_visible(timeout=60_000)
    screenshot(page, "training-stopped")
    page.context.close()


def number_input(page, label: str):
    return page.locator("[data-testid='stNumberInput']").filter(has_text=label).locator("input")


def test_training_page_keeps_its_settings_across_pages_and_shows_figure1(browser):
    page = open_page(browser, f"{browser.app_url}/training")
    page.get_by_text("He et al. Fig. 1: 20 vs 56 layers").click()
    wait_idle(page)
    expect(page.get_by_text("Recorded, not live").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Which skip? He et al. 2016 Tables 1–2, recorded")).to_be_visible()
    expect(number_input(page, "Epochs")).to_have_value("8")  # the recorded recipe is loaded
    for label, value in (("Epochs", "2"), ("Training images", "500")):
        number_input(page, label).fill(value)
        number_input(page, label).press("Enter")
        wait_idle(page)
    expect(page.locator(".js-plotly-plot").first).to_be_visible(timeout=60_000)
    screenshot(page, "training-figure1-recorded")
    page.get_by_role("link", name="Architecture").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Architecture")).to_be_visible(timeout=60_000)
    page.get_by_role("link", name="Training").click()
    wait_idle(page)
    expect(number_input(page, "Epochs")).to_have_value("2", timeout=60_000)
    expect(number_input(page, "Training images")).to_have_value("500")
    expect(page.get_by_text("Recorded, not live").first).to_be_visible()
    page.context.close()
