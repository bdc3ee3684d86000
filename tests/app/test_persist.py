"""Every page keeps what the user set on it when they visit another page and come back.

Streamlit drops the state of widgets that are not drawn (streamlit#5813); pages keep their inputs
with `pages.widgets.persist`. Each test sets values, switches away and back, and finds them kept.
"""

import pytest

from explorer import NetSpec

from apptest_util import fresh_app, widget

TINY = NetSpec(layers=(1, 1, 1), base_width=8, stem="cifar", shortcut="A", num_classes=10,
               image_size=32)


def open_page(page: str):
    at = fresh_app(TINY.to_query())
    at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def away_and_back(at, page: str, via: str = "training"):
    at.switch_page(f"pages/views/{via}.py").run()
    at.switch_page(f"pages/views/{page}.py").run()
    assert not at.exception, at.exception
    return at


def test_architecture_keeps_batch_and_expand():
    at = open_page("architecture")
    widget(at, "arch_batch").set_value(16).run()
    widget(at, "arch_expand").set_value(True).run()
    away_and_back(at, "architecture", via="gradient_flow")
    assert widget(at, "arch_batch").value == 16
    assert widget(at, "arch_expand").value is True
    assert any("batch of 16" in (m.help or "") for m in at.metric)  # used, not just shown


def test_gradient_flow_keeps_its_inputs_and_sweep_settings():
    at = open_page("gradient_flow")
    widget(at, "gf_batch").set_value(4).run()
    widget(at, "gf_loss").select("mse").run()
    widget(at, "gf_norm").set_value("none").run()
    widget(at, "sw_depths").input("8,14").run()
    widget(at, "sw_norms").set_value(["none"]).run()
    widget(at, "sw_size").set_value(8).run()
    before = at.info[0].value
    away_and_back(at, "gradient_flow")
    assert (widget(at, "gf_batch").value, widget(at, "gf_loss").value,
            widget(at, "gf_norm").value) == (4, "mse", "none")
    assert (widget(at, "sw_depths").value, widget(at, "sw_norms").value,
            widget(at, "sw_size").value) == ("8,14", ["none"], 8)
    assert at.info[0].value == before  # the same measurement, not the defaults'


def test_gradient_flow_data_source_is_kept():
    at = open_page("gradient_flow")
    widget(at, "gf_source").select("shapes").run()
    away_and_back(at, "gradient_flow", via="grad_cam")
    assert widget(at, "gf_source").value == "shapes"


def test_grad_cam_keeps_layer_samples_and_options():
    at = open_page("grad_cam")
    widget(at, "cam_layer").select("layer2.0").run()
    widget(at, "cam_samples").set_value(["photo: cat"]).run()
    widget(at, "cam_alpha").set_value(0.8).run()
    widget(at, "cam_grid").set_value(False).run()
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    away_and_back(at, "grad_cam")
    assert widget(at, "cam_weights").value == "random init of the sidebar's network"
    assert widget(at, "cam_layer").value == "layer2.0"
    assert widget(at, "cam_samples").value == ["photo: cat"]
    assert widget(at, "cam_alpha").value == pytest.approx(0.8)
    assert widget(at, "cam_grid").value is False


def test_a_kept_choice_that_no_longer_exists_falls_back_to_the_default():
    at = open_page("grad_cam")
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    widget(at, "cam_layer").select("layer3.0").run()
    widget(at, "w_layers").input("1,1").run()  # the sidebar's net loses layer3
    assert not at.exception
    assert widget(at, "cam_layer").value == "layer2"


def test_refused_page_value_is_explained_next_to_the_field_and_kept_in_it():
    at = open_page("architecture")
    widget(at, "arch_batch").set_value(8).run()
    widget(at, "arch_batch").set_value(100_000).run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The batch size must be between 1 and 4,096, not 100,000. Still using the last value "
        "that fit."]
    assert widget(at, "arch_batch").value == 100_000  # what the user typed stays in the field
    assert any("batch of 8" in (m.help or "") for m in at.metric)  # the last valid batch
