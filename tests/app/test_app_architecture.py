"""AppTest of the entry point, the shared sidebar and the Architecture page."""

import pytest
import torch

from explorer import PRESETS, NetSpec, stage_frame, stage_table
from explorer.units import format_count
from pages.widgets.state import Choice

from apptest_util import fresh_app, metric_values, widget


def params_shown(at) -> list[str]:
    return metric_values(at, "Parameters")


def expected(spec: NetSpec) -> str:
    return format_count(stage_table(spec).total_params)


@pytest.fixture(scope="module")
def app():
    return fresh_app()


def test_default_page_shows_the_papers_resnet20(app):
    assert not app.exception
    assert params_shown(app)[0] == expected(PRESETS["resnet20"]) == "269.72 k"
    # Option A shortcuts have no weights: the plain twin has exactly as many.
    assert params_shown(app)[1] == expected(PRESETS["resnet20"].replace(skip=False))
    assert any("He et al. 2015, Table 6): 0.27 M parameters" in info.value for info in app.info)


def test_resnet18_shows_torchvisions_reference():
    at = fresh_app()
    widget(at, "w_preset").select("resnet18").run()
    assert params_shown(at)[0] == expected(PRESETS["resnet18"]) == "11.69 M"
    # The skip-off twin's row: resnet18 minus its three projection shortcuts.
    assert params_shown(at)[1] == expected(PRESETS["resnet18"].replace(skip=False))
    assert any("11,689,512" in info.value for info in at.info)  # torchvision's reference


def test_changing_preset_depth_block_and_skip_updates_numbers():
    at = fresh_app()
    widget(at, "w_preset").select("resnet50").run()
    assert not at.exception
    assert params_shown(at)[0] == expected(PRESETS["resnet50"])
    assert at.query_params["block"] == "bottleneck"

    widget(at, "w_layers").input("3,4,23,3").run()
    assert params_shown(at)[0] == expected(PRESETS["resnet101"])
    assert widget(at, "w_preset").value == "resnet101"

    widget(at, "w_block").select("basic").run()
    spec = NetSpec(block="basic", layers=(3, 4, 23, 3))
    assert params_shown(at)[0] == expected(spec)

    widget(at, "w_skip").set_value(False).run()
    assert params_shown(at)[0] == expected(spec.replace(skip=False))
    assert params_shown(at)[1] == expected(spec)
    assert at.query_params["skip"] == "0"
    assert not at.exception
    assert not any("plain twin" in c.value for c in at.sidebar.caption)  # not a preset's


def test_a_presets_plain_twin_is_named_after_it():
    at = fresh_app()
    widget(at, "w_preset").select("resnet56").run()
    widget(at, "w_skip").set_value(False).run()
    assert widget(at, "w_preset").value == "custom"
    assert any(c.value.startswith("= resnet56 with its skips off")
               for c in at.sidebar.caption)
    at.switch_page("pages/views/gradient_flow.py").run()  # the sidebar is drawn anew there
    assert not at.exception
    assert any(c.value.startswith("= resnet56 with its skips off") for c in at.sidebar.caption)
    name = Choice(PRESETS["resnet56"].replace(skip=False), 0, torch.device("cpu"), None).name
    assert name == "resnet56-plain"


def test_stage_table_matches_explorer():
    at = fresh_app()
    widget(at, "w_preset").select("resnet20").run()
    frame = at.dataframe[0].value
    want = stage_frame(stage_table(PRESETS["resnet20"]))
    assert list(frame["params"]) == list(want["params"])
    assert list(frame["mult-adds"]) == list(want["mult-adds"])
    # hand-computed in test_receptive_field_table; numbers stay numbers, the notes say the rest
    assert list(frame["receptive field"][:4]) == [3, 15, 37, 81]  # 32 px images
    assert frame["receptive field"][4:].isna().all()
    assert list(frame["cumulative stride"][:4]) == [1, 1, 2, 4]
    assert list(frame["note"]) == ["", "", "field ≥ image: a central unit sees all of it",
                                   "field ≥ image: a central unit sees all of it",
                                   "global pool: sees the whole image", ""]


def test_bad_config_shows_error_and_keeps_working():
    at = fresh_app()
    widget(at, "w_layers").input("2,x").run()
    assert not at.exception
    assert at.error and "whole numbers" in at.error[0].value
    assert params_shown(at)[0] == expected(PRESETS["resnet20"])  # last valid net still shown

    widget(at, "w_layers").input("1,1").run()  # a valid change clears the error
    assert not at.error
    widget(at, "w_image_size").set_value(1).run()  # total stride is 2
    assert not at.exception
    assert any("too small" in e.value for e in at.error)

    widget(at, "w_image_size").set_value(64).run()
    assert not at.error
    assert params_shown(at)[0] == expected(PRESETS["resnet20"].replace(layers=(1, 1),
                                                                        image_size=64))


def test_url_restores_the_same_network():
    spec = NetSpec(block="bottleneck", layers=(1, 2), base_width=32, skip=False, shortcut="C",
                   stem="cifar", image_size=32, num_classes=10)
    at = fresh_app(spec.to_query())
    assert not at.exception
    assert params_shown(at)[0] == expected(spec)
    assert widget(at, "w_layers").value == "1,2"
    assert widget(at, "w_skip").value is False


@pytest.mark.parametrize("query", [
    {"layers": "2,x"}, {"image_size": "1e9"}, {"block": "transformer"}, {"skip": "maybe"},
    {"layers": "10000"}, {"seed": "-3"},
])
def test_garbage_url_shows_error_and_default(query):
    at = fresh_app(query)
    assert not at.exception
    assert at.error and "not valid" in at.error[0].value
    assert params_shown(at)[0] == expected(PRESETS["resnet20"])


def test_the_bare_address_opens_resnet20_and_a_resnet18_link_opens_resnet18():
    at = fresh_app()
    assert widget(at, "w_preset").value == "resnet20"
    widget(at, "w_preset").select("resnet18").run()
    link = {key: at.query_params[key] for key in at.query_params}
    assert link == {"layers": "2,2,2,2"}  # NetSpec() spelled out, not an empty query
    again = fresh_app(link)
    assert widget(again, "w_preset").value == "resnet18"
    assert params_shown(again)[0] == expected(PRESETS["resnet18"])
