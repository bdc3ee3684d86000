"""AppTest of the Grad-CAM page's CAM family: each method's map and stages, the deletion curves
(on a sample and on an uploaded photo), choices kept across pages, and refusals as sentences."""

from __future__ import annotations

import io
import json

import pytest
from PIL import Image

from explorer import NetSpec, estimate, stage_table
from explorer.analysis.deletion import DEFAULT_STEPS
from explorer.budget import GiB
from explorer.analysis.cam_methods import CAM_LABELS, CAM_METHODS
from explorer.analysis.deletion_report import deletion_sentences, halved_at, outline_caveat
from explorer.analysis.family_faithfulness import RANDOM_ORDER, family_deletion
from explorer.analysis.gradcam import grad_cam
from explorer.io.images import preprocess
from explorer.io.twins import shipped_twins
from explorer.units import format_bytes

from apptest_util import fresh_app, widget
from pages.widgets.samples import shape_samples
from pages.widgets.state import url_query

TINY = NetSpec(layers=(1, 1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=32)


def grad_cam_page(**query):
    at = fresh_app({**url_query(TINY), **query})
    at.switch_page("pages/views/grad_cam.py").run()
    assert not at.exception, at.exception
    return at


def images(at) -> dict[str, str]:
    """Every image on the page by its caption (the first of a repeated caption wins)."""
    found = {}
    for element in at.get("image"):
        for picture in element.proto.imgs:
            found.setdefault(picture.caption, picture.url)
    return found


def area_table(at):
    (table,) = [d.value for d in at.dataframe if "map" in d.value.columns]
    return table


def bullets(at) -> list[str]:
    return [m.value[2:] for m in at.markdown if m.value.startswith("- ")]


def test_each_method_draws_its_own_map_and_stages():
    at = grad_cam_page()
    assert widget(at, "cam_method").value == "gradcam"  # the default
    assert at.markdown[0].value.startswith(
        "This page shows Grad-CAM (Selvaraju et al. 2017) and its family")
    seen_maps, seen_stages = set(), set()
    for method in CAM_METHODS:
        widget(at, "cam_method").set_value(method).run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        shown = images(at)
        caption = f"this net: {CAM_LABELS[method]} at layer3, class “circle”"
        assert caption in shown, list(shown)
        assert f"plain twin: {CAM_LABELS[method]} at layer3, class “circle”" in shown
        seen_maps.add(shown[caption])
        seen_stages.add(shown["layer2"])
    # Four methods, four different maps and stage panels: the choice reached the computation.
    assert len(seen_maps) == len(seen_stages) == len(CAM_METHODS)


def test_the_help_names_each_paper_and_score_cams_cost():
    at = grad_cam_page()
    help_text = widget(at, "cam_method").help
    for paper in ("Selvaraju et al. 2017", "Chattopadhay et al. 2018", "Jiang et al. 2021",
                  "Wang et al. 2020"):
        assert paper in help_text
    assert "One forward pass per channel" in help_text
    channels = {row.name: row.output_shape[1]
                for row in stage_table(shipped_twins("resnet20").spec).rows}
    assert f"({channels['layer3']} masked images per net at layer3)" in widget(
        at, "cam_deletion_0").help
    widget(at, "cam_layer").set_value("layer2.0").run()  # a block counts its stage's channels
    assert f"({channels['layer2']} masked images per net at layer2.0)" in widget(
        at, "cam_deletion_0").help


def test_the_deletion_curve_shows_explorers_curves_and_sentences():
    at = grad_cam_page()
    widget(at, "cam_method").set_value("scorecam").run()
    assert not at.get("plotly_chart")  # off by default
    widget(at, "cam_deletion_0").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    # The same curves computed here, straight from explorer, for the first sample.
    twins = shipped_twins("resnet20")
    name, data = shape_samples(TINY.image_size, 0)[0]
    x = preprocess(Image.open(io.BytesIO(data)), twins.spec, twins.normalization)
    want = {}
    for net, model in (("this net", twins.model), ("plain twin", twins.twin)):
        maps = {m: grad_cam(model, x, "layer3", method=m) for m in CAM_METHODS}
        target = maps["gradcam"].target
        want[net] = family_deletion(model, x, {CAM_LABELS[m]: maps[m].heatmap
                                               for m in CAM_METHODS}, target)
    table = area_table(at)
    assert list(table["map"]) == [*(CAM_LABELS[m] for m in CAM_METHODS), RANDOM_ORDER]
    for net, curves in want.items():
        assert list(table[f"{net}: area"]) == pytest.approx([c.area for c in curves.values()],
                                                            abs=1e-6)
        assert list(table[f"{net}: halved at"]) == [
            "never" if halved_at(c) is None else f"{round(100 * halved_at(c))} %"
            for c in curves.values()]
    assert any(c.value.startswith("**Area under each deletion curve** (0 to 1): lower is more "
                                  "faithful") for c in at.caption)
    (chart,) = at.get("plotly_chart")
    figure = json.loads(chart.proto.spec)
    assert len(figure["data"]) == 2 * (len(CAM_METHODS) + 1)  # both nets: four maps and random
    assert figure["data"][3]["y"] == pytest.approx(want["this net"]["Score-CAM"].probabilities,
                                                   abs=1e-6)
    said = bullets(at)
    curves = want["this net"]
    for line in deletion_sentences("this net", "circle",
                                   {n: c for n, c in curves.items() if n != RANDOM_ORDER},
                                   curves[RANDOM_ORDER]):
        assert line in said
    # A shape sample: the outline caveat is said (once) exactly when some net's map loses.
    caveats = [outline_caveat({n: c for n, c in found.items() if n != RANDOM_ORDER},
                              found[RANDOM_ORDER]) for found in want.values()]
    caveat = next((c for c in caveats if c), None)
    assert caveat, "on the first circle (the default sample) the maps lose to the random order"
    assert [line for line in said if line.startswith("A caution")] == [caveat]
    for method in CAM_METHODS:  # methods by their labels only
        assert not any(method in line.replace(CAM_LABELS[method], "") for line in said)
    assert any(line.startswith("At layer3 of this net the Grad-CAM, Grad-CAM++ and Layer-CAM "
                               "maps") for line in said)
    # The second image keeps its own switch, off.
    assert widget(at, "cam_deletion_1").value is False


def test_method_and_deletion_switch_survive_a_page_switch():
    at = grad_cam_page()
    widget(at, "cam_method").set_value("layercam").run()
    widget(at, "cam_deletion_0").set_value(True).run()
    at.switch_page("pages/views/architecture.py").run()
    at.switch_page("pages/views/grad_cam.py").run()
    assert not at.exception
    assert widget(at, "cam_method").value == "layercam"
    assert widget(at, "cam_deletion_0").value is True
    assert at.get("plotly_chart")


def png(colour: tuple[int, int, int]) -> bytes:
    picture = Image.new("RGB", (48, 40), (30, 30, 30))
    picture.paste(colour, (12, 10, 36, 30))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def test_the_deletion_curve_works_on_an_uploaded_photo():
    at = grad_cam_page()
    widget(at, "cam_samples").set_value([]).run()
    (uploader,) = [u for u in at.file_uploader if u.key == "cam_uploads"]
    uploader.set_value(("my photo.png", png((220, 30, 30)), "image/png")).run()
    widget(at, "cam_twin").set_value(False).run()
    widget(at, "cam_deletion_0").set_value(True).run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [s.value for s in at.subheader] == ["`my photo.png`"]
    table = area_table(at)
    assert list(table.columns) == ["map", "this net: area", "this net: halved at"]  # no twin
    assert all(0 <= a <= 1 for a in table["this net: area"])
    assert any(line.startswith("For this net") for line in bullets(at))


def inference_bytes(spec: NetSpec, batch: int) -> int:
    """What `check_fits(..., training=False)` asks for: the weights and a quarter of the
    activations (no backward keeps them all)."""
    found = estimate(spec, batch)
    return found.param_bytes + found.activation_bytes // 4


def test_score_cam_and_the_curves_are_checked_at_their_batches(monkeypatch):
    spec = shipped_twins("resnet20").spec
    curves, score_cam = inference_bytes(spec, DEFAULT_STEPS + 1), inference_bytes(spec, 64)
    assert estimate(spec, 1).peak_bytes < curves < score_cam
    # Room for one image's forward and backward and for the curves' 17 images, not for
    # Score-CAM's 64 masked images at a time.
    monkeypatch.setenv("RESNET_EXPLORER_BUDGET_GB", repr((curves + score_cam) / 2 / GiB))
    at = grad_cam_page()
    assert not at.error
    widget(at, "cam_deletion_0").set_value(True).run()  # needs Score-CAM's batch too
    assert not at.exception
    (refusal,) = [e.value for e in at.error]
    assert refusal.startswith(f"Deletion curve: This needs about {format_bytes(score_cam)}")
    assert "(batch 64, 32 px)" in refusal
    assert "this net: Grad-CAM at layer3, class “circle”" in images(at)  # the maps stay
    widget(at, "cam_method").set_value("scorecam").run()
    assert not at.exception
    assert [e.value for e in at.error][0].startswith(
        f"Grad-CAM: This needs about {format_bytes(score_cam)}")
