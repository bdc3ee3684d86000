"""AppTest of the "Why skips work" page: it shows exactly what explorer computes."""

import pytest

from explorer import NetSpec
from explorer.analysis.feature_maps import skip_parts
from explorer.data.heldout import heldout_shapes
from explorer.analysis.landscape import loss_landscape
from explorer.analysis.lesion import lesion_study
from explorer.analysis.receptive_field import effective_receptive_field
from explorer.analysis.why_report import (erf_sentences, landscape_sentences, lesion_sentences,
                                          skip_sentence)
from explorer.io.weights import load_shipped

from apptest_util import fresh_app, widget

PAGE = "pages/views/why_skips.py"
TINY = NetSpec(layers=(1, 1), base_width=4, stem="cifar", shortcut="A", num_classes=8,
               image_size=16)


@pytest.fixture(scope="module")
def shipped():
    return {"residual": load_shipped("resnet20")[0], "plain": load_shipped("resnet20-plain")[0]}


def open_page(query=None):
    at = fresh_app(query)
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def infos(at):
    return [i.value for i in at.info]


def test_opens_on_the_shipped_pair_and_keeps_inputs_across_pages():
    at = open_page()
    assert at.title[0].value == "Why skips work"
    assert "checkpoints/resnet20, checkpoints/resnet20-plain" in at.caption[0].value
    assert [t.label for t in at.tabs] == ["Lesion study", "Loss landscape", "Receptive fields",
                                          "Feature maps"]
    widget(at, "why_les_images").set_value(40).run()
    widget(at, "why_land_steps").set_value(5).run()
    at.switch_page("pages/views/architecture.py").run()
    at.switch_page(PAGE).run()
    assert widget(at, "why_les_images").value == 40 and widget(at, "why_land_steps").value == 5


def test_lesion_study_sentences_are_explorers(shipped):
    at = open_page()
    widget(at, "why_les_images").set_value(40).run()
    widget(at, "why_les_draws").set_value(1).run()
    widget(at, "why_les_run").click().run()
    assert not at.exception
    images, labels = heldout_shapes(40)
    want = {n: lesion_study(m, (images, labels), draws=1) for n, m in shipped.items()}
    assert "\n\n".join(lesion_sentences(want["residual"], want["plain"])) in infos(at)
    runs = sum(result.evaluations for result in want.values())  # counted by the study itself
    assert any(c.value.startswith(f"{runs} evaluations of 40 images over 2 nets: **about ")
               for c in at.caption)
    assert len(at.get("plotly_chart")) >= 2


def test_landscape_sentences_are_explorers(shipped):
    at = open_page()
    widget(at, "why_land_dims").set_value(1).run()
    widget(at, "why_land_steps").set_value(3).run()
    widget(at, "why_land_images").set_value(8).run()
    widget(at, "why_land_run").click().run()
    assert not at.exception
    data = heldout_shapes(8)
    want = {n: loss_landscape(m, data, steps=3, dims=1) for n, m in shipped.items()}
    assert "\n\n".join(landscape_sentences(want["residual"], want["plain"], 8)) in infos(at)


def test_receptive_fields_with_random_init_contrast(shipped):
    at = open_page()
    widget(at, "why_erf_layer").set_value("layer1").run()
    widget(at, "why_erf_images").set_value(2).run()
    widget(at, "why_erf_run").click().run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table["net"]) == ["residual", "plain", "residual (init)", "plain (init)"]
    assert set(table["theoretical px"]) == {15}
    data = heldout_shapes(2)
    residual = effective_receptive_field(shipped["residual"], data, "layer1")
    assert table["95% mass side px"][0] == residual.mass_side()
    assert infos(at)[0].startswith(erf_sentences(residual, None, 32)[0])


def test_feature_maps_take_a_block_apart(shipped):
    at = open_page()
    widget(at, "why_fm_block").set_value("layer2.1").run()
    assert not at.exception
    x = heldout_shapes(8)[0][:1]
    want = [skip_sentence(skip_parts(m, x, "layer2.1")) for m in shipped.values()]
    assert "\n\n".join(want) in infos(at)
    assert explains_the_mean(at)
    widget(at, "why_fm_channel").set_value("channel 3").run()
    assert not at.exception and not explains_the_mean(at)


def explains_the_mean(at) -> bool:
    """The caption on why a mean over channels can hide F(x) is shown with that mean."""
    return any("cancel" in c.value for c in at.caption)


def test_random_init_of_the_sidebar_network():
    at = open_page(TINY.to_query())
    widget(at, "why_weights").set_value("random init of the sidebar's network").run()
    assert not at.exception
    assert "random weights" in at.caption[0].value
    widget(at, "why_les_images").set_value(16).run()
    widget(at, "why_les_random").set_value(False).run()
    widget(at, "why_les_run").click().run()
    assert not at.exception and any("has not learned" in i or "costs" in i for i in infos(at))


def test_over_budget_is_a_sentence_not_a_crash(monkeypatch):
    monkeypatch.setenv("RESNET_EXPLORER_BUDGET_GB", "0.0000001")
    at = open_page()
    assert not at.exception
    assert any("budget" in e.value for e in at.error)


def test_the_page_follows_the_sidebar_to_a_shipped_pair_of_its_network():
    # Issue 19: with ResNet-56 in the sidebar the page opened on the 20-layer pair.
    at = open_page({"layers": "9,9,9", "base_width": "16", "stem": "cifar", "shortcut": "A",
                    "num_classes": "10", "image_size": "32"})  # the resnet56 preset
    assert widget(at, "why_weights").value.startswith("shipped: resnet56")
    widget(at, "w_preset").set_value("resnet20").run()  # the sidebar changes: the page follows
    assert widget(at, "why_weights").value.startswith("shipped: resnet20")


def test_without_a_pair_of_its_network_the_page_names_the_pair_that_shows_each_effect():
    at = open_page({"layers": "2,2,2,2"})  # resnet18: no shipped pair
    (advice,) = [i for i in infos(at) if "No trained pair of the sidebar's network" in i]
    assert "Veit et al.'s lesion contrast shows best on the resnet56 pair" in advice
    widget(at, "why_use_resnet56").click().run()
    assert widget(at, "why_weights").value.startswith("shipped: resnet56")
