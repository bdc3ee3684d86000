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
    found = [u for u in at.file_uploader if u.key == key]
    assert len(found) == 1, [u.key for u in at.file_uploader]
    return found[0]


def kept(at, key: str = "cam_uploads") -> list[str]:
    return [f.name for f in at.session_state[f"kept:{key}"]]


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
    assert kept(at) == ["my photo.png"] and not at.exception  # ... and still holds the photo
    widget(at, "cam_weights").select("shipped: resnet20").run()
    assert analysed(at) == ["`my photo.png`"]
    widget(at, "cam_grid").set_value(False).run()  # the next click anywhere
    assert analysed(at) == ["`my photo.png`"]


def test_a_second_file_is_added_and_a_removed_file_goes():
    at = grad_cam_with("first.png")
    # The browser's uploader holds both files once the second is added ...
    uploader(at, "cam_uploads").set_value([("first.png", png((200, 30, 30)), "image/png"),
                                           ("second.png", png((30, 200, 30)), "image/png")]).run()
    assert analysed(at) == ["`first.png`", "`second.png`"]
    # ... and its ✕ on the first leaves the second.
    uploader(at, "cam_uploads").set_value([("second.png", png((30, 200, 30)), "image/png")]).run()
    assert analysed(at) == ["`second.png`"]


def test_a_file_kept_from_before_a_remount_is_removed_with_its_own_button():
    at = grad_cam_with("photo.png")
    at.switch_page("pages/views/architecture.py").run()
    at.switch_page("pages/views/grad_cam.py").run()  # the uploader comes back empty
    assert analysed(at) == ["`photo.png`"]
    assert any("Still using `photo.png`" in c.value for c in at.caption)
    (remove,) = [b for b in at.button if b.key.startswith("cam_uploads:remove:")]
    remove.click().run()
    assert analysed(at) == [] and not at.exception


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
    assert kept(at) == ["photo.png"]  # still held, its uploader drawn under the error
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


def test_two_photos_with_the_same_name_are_both_analysed():
    # Phones call every photo image.jpg: the page keyed its downloads by name and crashed.
    at = grad_cam_with("image.png")
    uploader(at, "cam_uploads").set_value([("image.png", png((200, 30, 30)), "image/png"),
                                           ("image.png", png((30, 30, 200)), "image/png")]).run()
    assert not at.exception and analysed(at) == ["`image.png`", "`image.png`"]
