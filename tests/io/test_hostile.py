"""Survive the public: hostile images, checkpoints, configs and URLs, each ending in a clear
message and an app that keeps working.

Uploads go through the real server and Debian's chromium (AppTest cannot drive
``st.file_uploader``): one server, one browser, two sessions (images, checkpoints). Configs and
URLs go through AppTest. The loader's unit-level battery lives in test_images.py and
test_checkpoints.py; only what they do not cover is here.
"""

from __future__ import annotations

import math
import re
import sys
import tomllib
import uuid
from pathlib import Path
from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect, sync_playwright

from explorer import PRESETS, NetSpec, estimate, stage_table
from explorer.budget import GiB
from explorer.io.checkpoints import load_checkpoint
from explorer.io.images import load_image
from explorer.units import format_count

import hostile_files as hf
from apptest_util import fresh_app, metric_values, widget
from browser_util import launch_browser, running_app, select_option, wait_idle

ROOT = Path(__file__).resolve().parents[2]
SPEC = NetSpec(layers=(1, 1), base_width=8, stem="cifar", num_classes=10, image_size=32)
DEFAULT_NET = format_count(stage_table(PRESETS["resnet20"]).total_params)  # the sidebar's default
ERROR = "[data-testid='stAlertContentError']"
# The browser tests' server gets a small memory budget: a batch of 8 of FLOW_SPEC fits, 24 not.
FLOW_SPEC = SPEC.replace(image_size=16)
BUDGET_GIB = estimate(FLOW_SPEC, 16).peak_bytes / GiB


# ---- images, unit level: header claims in every format we decode -------------------------
@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")
@pytest.mark.parametrize("make, width, height", [
    (hf.bmp_claiming, 60_000, 60_000), (hf.bmp_claiming, 8_000, 7_000),
    (hf.jpeg_claiming, 60_000, 60_000), (hf.jpeg_claiming, 8_000, 7_000),
    (hf.gif_claiming, 65_535, 65_535), (hf.gif_claiming, 8_000, 7_000),
    (hf.tiff_claiming, 100_000, 100_000), (hf.tiff_claiming, 8_000, 7_000),
])
def test_tiny_files_claiming_huge_sizes_are_refused_in_every_format(make, width, height):
    data = make(width, height)
    assert len(data) < 2000
    with pytest.raises(ValueError, match="megapixels"):
        load_image(data)


# ---- the real UI: one server, one browser --------------------------------------------
@pytest.fixture(scope="module")
def browser():
    with running_app({"RESNET_EXPLORER_BUDGET_GB": repr(BUDGET_GIB)}) as url, \
            sync_playwright() as p:
        browser = launch_browser(p)
        browser.app_url = url
        warm = browser.new_page()  # a fresh server's first run takes the legacy v1 path
        warm.goto(url)
        wait_idle(warm)
        warm.close()
        yield browser
        browser.close()


def open_cam_page(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
    page.dialogs = []
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
    page.goto(f"{browser.app_url}/grad_cam?{urlencode(SPEC.to_query())}")
    wait_idle(page)
    return page


def uploader(page, label: str):
    box = page.locator("[data-testid='stFileUploader']").filter(has_text=label)
    return box, box.locator("input[type=file]")


def assert_healthy(page, title: str = "Grad-CAM") -> None:
    """No exception element, no traceback text, no script ran: the app is still the app."""
    expect(page.locator("[data-testid='stException']")).to_have_count(0)
    text = page.locator("body").inner_text()
    assert "Traceback" not in text and 'File "/' not in text
    expect(page.get_by_role("heading", name=title, exact=True)).to_be_visible()
    assert page.dialogs == []


def finish_run(page) -> None:
    """Wait for a script run in progress, if any, to end."""
    page.wait_for_selector("[data-testid='stStatusWidget']", state="detached", timeout=120_000)


def payload(name: str, data: bytes) -> dict:
    return {"name": name, "mimeType": "application/octet-stream", "buffer": data}


UID = uuid.uuid4().hex[:12]
TRAVERSAL_IMAGE = f"../../etc/passwd-{UID}.png"
HTML_NAME = "<img src=x onerror=alert(1)>.png"
MARKDOWN_NAME = "[x](javascript:alert(1)) ![i](http://127.0.0.1:9/p.png).png"


@pytest.fixture(scope="module")
def images_page(browser):
    """One session that uploaded every hostile and awkward image at once, plus good ones."""
    page = open_cam_page(browser)
    select_option(page, "Weights", "random init of the sidebar's network")
    good = hf.encode(hf.gradient(48, 40), "PNG")
    files = [payload(name, make()) for name, make, _ in hf.REFUSED_IMAGES.values()]
    files += [payload(name, make()) for name, make in hf.AWKWARD_IMAGES.values()]
    files.append(payload(hf.OVERSIZED_IMAGE[0], hf.OVERSIZED_IMAGE[1]()))
    files += [payload("good.png", good), payload(TRAVERSAL_IMAGE, good),
              payload(HTML_NAME, b"not an image"), payload(MARKDOWN_NAME, b"not an image")]
    uploader(page, "Your images")[1].set_input_files(files)
    expect(page.get_by_role("heading", name="good.png")).to_be_visible(timeout=180_000)
    wait_idle(page)
    yield page
    page.context.close()


@pytest.mark.browser
@pytest.mark.parametrize("case", list(hf.REFUSED_IMAGES))
def test_hostile_image_upload_is_refused_by_name_and_the_rest_still_shows(images_page, case):
    name, _, words = hf.REFUSED_IMAGES[case]
    alert = images_page.locator(ERROR).filter(has_text=f"{name}: ")
    expect(alert).to_have_count(1)
    expect(alert).to_contain_text(words)
    expect(images_page.get_by_role("heading", name=name, exact=True)).to_have_count(0)
    assert_healthy(images_page)


@pytest.mark.browser
def test_an_oversized_image_is_refused_by_the_uploader_by_name(images_page):
    # The widget's own limit (the same 20 MB as load_image's): the bytes never reach the server.
    name = hf.OVERSIZED_IMAGE[0]
    box, _ = uploader(images_page, "Your images")
    refusal = rf"{name}\s*21\.0\s?MB\s*Error: File must be 20\.0\s?MB or smaller"
    expect(box).to_contain_text(re.compile(refusal))
    expect(images_page.get_by_role("heading", name=name, exact=True)).to_have_count(0)
    assert_healthy(images_page)


@pytest.mark.browser
@pytest.mark.parametrize("case", list(hf.AWKWARD_IMAGES))
def test_awkward_but_legal_image_is_analysed(images_page, case):
    name = hf.AWKWARD_IMAGES[case][0]
    expect(images_page.get_by_role("heading", name=name, exact=True)).to_be_visible()
    expect(images_page.locator(ERROR).filter(has_text=f"{name}: ")).to_have_count(0)
    assert_healthy(images_page)


@pytest.mark.browser
def test_upload_names_are_never_paths(images_page):
    expect(images_page.get_by_role("heading", name=TRAVERSAL_IMAGE, exact=True)).to_be_visible()
    assert not Path(f"/etc/passwd-{UID}.png").exists()
    written = [p for p in ROOT.rglob(f"*{UID}*")] + list(Path("/tmp").glob(f"*{UID}*"))
    assert written == []


@pytest.mark.browser
def test_html_in_a_file_name_is_shown_as_text(images_page):
    alert = images_page.locator(ERROR).filter(has_text=f"{HTML_NAME}: ")
    expect(alert).to_have_count(1)  # the literal name, so no tag was rendered
    expect(alert.locator("img")).to_have_count(0)
    assert_healthy(images_page)  # includes: no alert() dialog opened


@pytest.mark.browser
def test_markdown_in_a_file_name_is_shown_as_text(images_page):
    # A name is not markup: it must not become a link or load an image from another server.
    expect(images_page.locator(ERROR).filter(has_text=f"{MARKDOWN_NAME}: ")).to_have_count(1)
    expect(images_page.locator(f"{ERROR} a")).to_have_count(0)
    expect(images_page.locator(f"{ERROR} img")).to_have_count(0)


@pytest.mark.browser
def test_after_the_hostile_uploads_the_next_interaction_works(images_page):
    samples = images_page.locator("[data-testid='stMultiSelect']").filter(
        has_text="Samples").get_by_text(re.compile(r"^(shapes #|photo: )")).count()
    accepted = len(hf.AWKWARD_IMAGES) + 2 + samples  # + good.png and the traversal name
    captions = images_page.locator("[data-testid='stImageCaption']").filter(has_text="this net:")
    expect(captions).to_have_count(accepted)
    images_page.get_by_text("Show every stage").click()
    wait_idle(images_page)
    expect(images_page.locator("[data-testid='stImageCaption']").filter(
        has_text="layer1")).to_have_count(0)  # the per-stage grid is gone
    expect(captions).to_have_count(accepted)
    expect(images_page.locator(ERROR)).to_have_count(len(hf.REFUSED_IMAGES) + 2)
    assert_healthy(images_page)


# ---- checkpoints through the Grad-CAM page ---------------------------------------------
@pytest.fixture(scope="module")
def ckpt_page(browser):
    page = open_cam_page(browser)
    select_option(page, "Weights", "upload a checkpoint")
    expect(page.get_by_text("Upload a checkpoint to continue")).to_be_visible()
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def marker(tmp_path_factory):
    return tmp_path_factory.mktemp("pickle") / "ran"


# Consecutive cases have different messages, so a stale message never passes for a new one.
CHECKPOINTS = {
    "pickle that runs code": ("evil.pt", None, "could run code"),
    "pickled nn.Module": ("module.pth", hf.pickled_module, "Python objects besides tensors"),
    "TorchScript archive": ("scripted.pt", hf.torchscript, "TorchScript"),
    "wrong keys": ("renamed.pt", lambda: hf.wrong_keys(SPEC), "unexpected)"),
    "wrong shapes": ("shapes.pt", lambda: hf.wrong_shapes(SPEC), "wrong shape"),
    "NaN in a .pt": ("nan.pt", lambda: hf.non_finite(SPEC, math.nan, "pt"),
                     "NaN or infinite values in fc.weight"),
    "Inf in a .safetensors": ("inf.safetensors",
                              lambda: hf.non_finite(SPEC, math.inf, "st", "conv1.weight"),
                              "NaN or infinite values in conv1.weight"),
    "truncated zip": ("cut.pt", lambda: hf.truncated_zip(SPEC), "damaged or truncated"),
    "0 bytes": ("empty.pth", lambda: b"", "empty"),
    "zip claiming 4 GB": ("bomb.pt", lambda: hf.zip_claiming_4gb(SPEC), "unpacks to more than"),
    "PNG renamed .pt": ("photo.pt", hf.one_pixel_png, "not a PyTorch checkpoint"),
    "garbage .safetensors": ("junk.safetensors", lambda: b"\x00" * 64, "not a safetensors"),
}


@pytest.mark.browser
@pytest.mark.parametrize("case", list(CHECKPOINTS))
def test_hostile_checkpoint_upload_shows_a_clear_message(ckpt_page, marker, case):
    name, make, words = CHECKPOINTS[case]
    data = hf.code_pickle(SPEC, marker) if make is None else make()
    alert = ckpt_page.locator(ERROR)
    for attempt in (1, 2):  # an upload that lands while a run redraws can be dropped (seen in CI)
        finish_run(ckpt_page)
        uploader(ckpt_page, "Checkpoint")[1].set_input_files(payload(name, data))
        try:
            expect(alert).to_contain_text(words, timeout=30_000)
            break
        except AssertionError:
            if attempt == 2:
                raise
    # A file that loads but does not fit is one sentence about the fit; the rest failed to load.
    mismatch = case in ("wrong keys", "wrong shapes")
    expect(alert).to_contain_text("do not fit the sidebar's network" if mismatch
                                  else "Loading the weights:")
    assert not marker.exists()  # the pickle's payload never ran on the server
    assert_healthy(ckpt_page)


@pytest.mark.browser
def test_checkpoint_over_the_upload_limit_is_refused_by_the_browser(ckpt_page, tmp_path):
    limit = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())["server"]["maxUploadSize"]
    big = tmp_path / "huge.pt"
    with open(big, "wb") as f:
        f.truncate((limit + 1) * 2**20)  # sparse: costs no disk
    box, files = uploader(ckpt_page, "Checkpoint")
    finish_run(ckpt_page)
    files.set_input_files(str(big))
    expect(box).to_contain_text(f"File must be {limit:.1f}MB or smaller")
    assert_healthy(ckpt_page)


@pytest.mark.browser
def test_good_checkpoint_after_hostile_ones_loads_and_its_name_is_no_path(ckpt_page, marker):
    name = f"../../tmp/ckpt-{UID}.pt"
    finish_run(ckpt_page)
    uploader(ckpt_page, "Checkpoint")[1].set_input_files(
        payload(name, hf.good_checkpoint(SPEC)))
    expect(ckpt_page.get_by_text("Using your uploaded checkpoint")).to_be_visible(timeout=60_000)
    expect(ckpt_page.locator("[data-testid='stImageCaption']").filter(
        has_text="this net:").first).to_be_visible(timeout=60_000)
    expect(ckpt_page.locator(ERROR)).to_have_count(0)
    assert not Path(f"/tmp/ckpt-{UID}.pt").exists() and not marker.exists()
    assert_healthy(ckpt_page)


@pytest.mark.browser
def test_uploaded_images_are_the_gradient_flow_batch_and_are_budgeted(browser):
    page = browser.new_context(viewport={"width": 1400, "height": 2400}).new_page()
    page.dialogs = []
    page.goto(f"{browser.app_url}/gradient_flow?{urlencode(FLOW_SPEC.to_query())}")
    summary = page.locator("[data-testid='stAlertContentInfo']").filter(has_text="At conv1")
    expect(summary).to_be_visible(timeout=60_000)  # a batch of 8 fits the budget
    select_option(page, "Data", "your uploaded images")
    pictures = [payload(f"p{i}.png", hf.encode(hf.gradient(20 + i, 20), "PNG")) for i in range(24)]
    uploader(page, "Images")[1].set_input_files(pictures)
    alert = page.locator(ERROR).filter(has_text="Gradient flow: This needs about")
    expect(alert).to_contain_text("(batch 24, 16 px)", timeout=60_000)
    select_option(page, "Data", "seeded random noise")  # the next interaction works
    expect(summary).to_be_visible(timeout=60_000)
    assert_healthy(page, "Gradient flow")
    page.context.close()


# ---- the upload name is never opened, at the unit level ----------------------------------
def test_loading_an_upload_opens_no_file_named_after_it():
    """Audit every open() while a checkpoint and an image load: none may use the upload name."""
    opened, active = [], [True]

    def audit(event, args):
        if active[0] and event == "open":
            opened.append(str(args[0]))

    sys.addaudithook(audit)  # hooks cannot be removed; `active` switches this one off
    try:
        name = f"../../tmp/upload-{UID}"
        load_checkpoint(hf.good_checkpoint(SPEC), SPEC, name + ".pt")
        load_checkpoint(hf.good_checkpoint(SPEC, "st"), SPEC, name + ".safetensors")
        load_image(hf.one_pixel_png())
    finally:
        active[0] = False
    assert not [path for path in opened if UID in path]


# ---- server settings ---------------------------------------------------------------------
def test_security_settings_are_kept():
    config = tomllib.loads((ROOT / ".streamlit/config.toml").read_text())
    assert config["server"]["enableXsrfProtection"] is True
    assert config["server"]["fileWatcherType"] == "none"
    assert config["client"]["showErrorDetails"] == "none"
    assert config["server"].get("enableCORS", True) is True
    assert config["server"].get("enableAgentApi", False) is False
    assert 0 < config["server"]["maxUploadSize"] <= 200


# ---- configs and URLs (AppTest) ----------------------------------------------------------
URLS = {
    "width 10^5 (base)": ({"base_width": "100000"}, "between 1 and 8,192"),
    "width 10^5 (per stage)": ({"widths": "100000,64,64,64"}, "'Widths' (stage 1)"),
    "7 stages": ({"layers": "2,2,2,2,2,2,2"}, "1 to 6 stages"),
    "negative blocks": ({"layers": "-1,2"}, "between 0 and 128"),
    "zero blocks": ({"layers": "0,0,0,0"}, "at least one block"),
    "image 1 px": ({"image_size": "1"}, "too small"),
    "image 10^5 px": ({"image_size": "100000"}, "between 1 and 4,096"),
    "image 0 px": ({"image_size": "0"}, "between 1 and 4,096"),
    "zero classes": ({"num_classes": "0"}, "between 1 and 100,000"),
    "negative channels": ({"in_channels": "-3"}, "between 1 and 64"),
    "non-integer size": ({"image_size": "3.5"}, "whole number"),
    "nan channels": ({"in_channels": "nan"}, "whole number"),
    "seed 1e400": ({"seed": "1e400"}, "whole number"),
    "unknown shortcut": ({"shortcut": "Z"}, "'Shortcut option' must be one of"),
    "unknown stem": ({"stem": "vit"}, "'Stem' must be one of"),
    "unknown norm": ({"norm": "layer"}, "'Normalisation' must be one of"),
    "zero-init without BN": ({"zero_init_residual": "1", "norm": "none"}, "'Normalisation' set to batch"),
    "HTML as block": ({"block": "<script>alert(1)</script>"}, "'Block' must be one of"),
}


@pytest.mark.parametrize("case", list(URLS))
def test_hostile_url_shows_an_error_and_the_next_change_works(case):
    query, words = URLS[case]
    at = fresh_app(query)
    assert not at.exception
    assert at.error and "not valid" in at.error[0].value and words in at.error[0].value
    assert metric_values(at, "Parameters")[0] == DEFAULT_NET
    widget(at, "w_skip").set_value(False).run()  # the next interaction works and clears it
    assert not at.exception and not at.error
    assert metric_values(at, "Parameters")[0] == format_count(
        stage_table(PRESETS["resnet20"].replace(skip=False)).total_params)


def test_a_5000_digit_url_value_gives_a_short_error():
    at = fresh_app({"layers": "9" * 5000})
    assert not at.exception
    assert at.error and "not valid" in at.error[0].value
    assert len(at.error[0].value) < 400
    assert metric_values(at, "Parameters")[0] == DEFAULT_NET


def test_unknown_url_parameters_and_presets_are_ignored():
    at = fresh_app({"preset": "resnet9000", "x" * 3000: "y", "cam_weights": "../../etc"})
    assert not at.exception and not at.error
    assert metric_values(at, "Parameters")[0] == DEFAULT_NET
    assert widget(at, "w_preset").value == "resnet20"


def test_legal_but_enormous_network_is_described_not_built():
    query = {"layers": "64,64", "widths": "8192,8192", "image_size": "4096", "stem": "cifar"}
    at = fresh_app(query)
    assert not at.exception
    spec = NetSpec.from_query(query)
    assert metric_values(at, "Parameters")[0] == format_count(stage_table(spec).total_params)
    widget(at, "arch_build_live").click().run()  # the live build is on demand
    assert any("Could not build the network: This needs about" in e.value and " GB" in e.value
               for e in at.error)


SIDEBAR = {
    "depth 10^4": ("w_layers", "10000", "between 0 and 128"),
    "width 10^5": ("w_widths", "100000,1,1", "'Widths' (stage 1)"),
    "7 stages": ("w_layers", "1,1,1,1,1,1,1", "1 to 6 stages"),
    "negative blocks": ("w_layers", "-1,2", "between 0 and 128"),
    "all zero": ("w_layers", "0,0", "at least one block"),
    "empty": ("w_layers", "", "is empty"),
    "fraction": ("w_layers", "2.5", "whole numbers"),
    "5000 digits": ("w_layers", "9" * 5000, "must be"),
    "image 1 px": ("w_image_size", 1, "too small"),
    "image 10^5 px (past the widget's max)": ("w_image_size", 100_000, "between 1 and 4,096"),
}


@pytest.mark.parametrize("case", list(SIDEBAR))
def test_hostile_sidebar_value_shows_an_error_and_keeps_the_last_network(case):
    key, value, words = SIDEBAR[case]
    at = fresh_app()
    box = widget(at, key)
    (box.input(value) if isinstance(value, str) else box.set_value(value)).run()
    assert not at.exception
    assert at.error and words in at.error[0].value and len(at.error[0].value) < 400
    assert metric_values(at, "Parameters")[0] == DEFAULT_NET  # the last valid network
    widget(at, "w_preset").select("resnet18").run()  # the next change works and clears it
    assert not at.exception and not at.error
    assert metric_values(at, "Parameters")[0] == format_count(
        stage_table(PRESETS["resnet18"]).total_params)


SWEEPS = {
    "depth 10^6": ("1000000", "not of that form"),
    "too many depths": (",".join(["8"] * 500), "at most"),
    "letters": ("eight", "whole numbers"),
    "nothing": (" , ", "is empty"),
}


@pytest.fixture(scope="module")
def flow_page():
    at = fresh_app({**SPEC.replace(image_size=16).to_query()})
    at.switch_page("pages/views/gradient_flow.py").run()
    assert not at.exception
    return at


@pytest.mark.parametrize("case", list(SWEEPS))
def test_hostile_depth_sweep_input_is_explained(flow_page, case):
    text, words = SWEEPS[case]
    widget(flow_page, "sw_depths").input(text).run()
    if not flow_page.error:  # unparseable depths are refused before the button is drawn
        widget(flow_page, "sw_run").click().run()
    assert not flow_page.exception
    assert any(e.value.startswith("Depth sweep:") and words in e.value for e in flow_page.error)
    assert flow_page.info and flow_page.info[0].value.startswith("At conv1")  # the page still works
