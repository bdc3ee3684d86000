"""A student's upload stays until they remove it, whatever else they change on the page
(issue 19: it was lost after a weights switch, a failed download, or a second file)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from apptest_util import fresh_app, widget


def png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 40), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def uploader(at, key: str):
    found = [u for u in at.file_uploader if (u.key or "").startswith(key + ":")]
    assert len(found) == 1, [u.key for u in at.file_uploader]
    return found[0]


def analysed(at) -> list[str]:
    """The images the Grad-CAM page explains now, by their headings."""
    return [s.value for s in at.subheader]


def grad_cam_with(name: str, colour=(200, 30, 30)):
    at = fresh_app()
    at.switch_page("pages/views/grad_cam.py").run()
    widget(at, "cam_samples").set_value([]).run()
    uploader(at, "cam_uploads").set_value((name, png(colour), "image/png")).run()
    assert not at.exception
    return at


def test_a_weights_switch_and_any_click_afterwards_keep_the_photo():
    at = grad_cam_with("my photo.png")
    assert analysed(at) == ["`my photo.png`"]
    widget(at, "cam_weights").select("upload a checkpoint").run()  # the page stops here
    assert any("my photo.png" in c.value for c in at.caption)  # ... and still lists the photo
    widget(at, "cam_weights").select("shipped: resnet20").run()
    assert analysed(at) == ["`my photo.png`"]
    widget(at, "cam_grid").set_value(False).run()  # the next click anywhere
    assert analysed(at) == ["`my photo.png`"]
    assert any("my photo.png" in c.value for c in at.caption)  # named under the uploader


def test_a_second_file_is_added_and_a_removed_file_goes():
    at = grad_cam_with("first.png")
    uploader(at, "cam_uploads").set_value(("second.png", png((30, 200, 30)), "image/png")).run()
    assert analysed(at) == ["`first.png`", "`second.png`"]
    remove = [b for b in at.button if b.key.startswith("cam_uploads:remove:")]
    assert len(remove) == 2
    remove[0].click().run()
    assert analysed(at) == ["`second.png`"]


def test_a_failed_pretrained_download_keeps_the_photo(monkeypatch):
    import explorer.io.twins as twins

    def offline(*args, **kwargs):
        raise ValueError("Could not download torchvision's resnet18 weights: no internet.")

    monkeypatch.setattr(twins, "pretrained_torchvision", offline)
    at = fresh_app({"layers": "2,2,2,2"})  # resnet18: torchvision has weights for it
    at.switch_page("pages/views/grad_cam.py").run()
    widget(at, "cam_samples").set_value([]).run()
    uploader(at, "cam_uploads").set_value(("photo.png", png((90, 90, 200)), "image/png")).run()
    pretrained = next(o for o in widget(at, "cam_weights").options if "torchvision" in o)
    widget(at, "cam_weights").select(pretrained).run()
    assert at.error and not at.exception
    assert any("photo.png" in c.value for c in at.caption)  # still listed, under the error
    widget(at, "cam_weights").select("shipped: resnet20").run()
    widget(at, "cam_grid").set_value(False).run()
    assert analysed(at) == ["`photo.png`"]


@pytest.mark.parametrize("page, key", [("gradient_flow", "gf_uploads")])
def test_other_pages_keep_uploads_across_page_switches(page, key):
    at = fresh_app()
    at.switch_page(f"pages/views/{page}.py").run()
    widget(at, "gf_source").select("uploaded").run()
    uploader(at, key).set_value([("a.png", png((1, 2, 3)), "image/png")]).run()
    at.switch_page("pages/views/architecture.py").run()
    at.switch_page(f"pages/views/{page}.py").run()
    assert any("a.png" in c.value for c in at.caption)
    assert not at.exception
