"""What the user reads: field names as the sidebar shows them, one sentence per problem, sentences
that state only what the numbers show, and downloads that say where they came from."""

import io
import json

import pandas as pd
import pytest
import torch
from torchvision import models

from explorer import PRESETS, NetSpec, build
from explorer.analysis.flow_result import FlowResult, GradientFlow, LayerFlow, ParamFlow
from explorer.analysis.sweep import check_depths, sweep_spec, valid_depths
from explorer.io.checkpoints import headline, looks_like, validate_state_dict
from explorer.nets.spec import LABELS
from pages.widgets import downloads

from apptest_util import fresh_app, metric_values, widget

INTERNAL = ("layers[", "zero_init_residual", "norm=", "base_width", "num_classes", "image_size",
            "in_channels", "stride_on")
BAD = [
    {"layers": (2, 129)}, {"zero_init_residual": True, "norm": "none"}, {"norm": "layer"},
    {"base_width": 0}, {"num_classes": 0}, {"image_size": 10**9}, {"in_channels": 0},
    {"stride_on": "5x5"}, {"widths": (64, 128)}, {"skip": "yes"}, {"groups": 32},
    {"order": "middle"}, {"attention": "se", "block": "d2l"},
]


@pytest.mark.parametrize("fields", BAD, ids=[next(iter(f)) for f in BAD])
def test_spec_errors_name_fields_by_their_labels(fields):
    with pytest.raises(ValueError) as info:
        NetSpec(**fields)
    text = str(info.value)
    assert not any(name in text for name in INTERNAL), text
    assert any(f"'{label}'" in text for label in LABELS.values()), text


def test_every_label_in_messages_is_a_label_the_sidebar_shows():
    at = fresh_app()
    shown = [w.label for group in (at.sidebar.text_input, at.sidebar.selectbox,
                                   at.sidebar.number_input, at.sidebar.toggle,
                                   at.sidebar.checkbox, at.sidebar.radio) for w in group]
    for field, label in LABELS.items():
        assert any(s.startswith(label) for s in shown), (label, shown)


def test_out_of_range_sidebar_number_is_refused_next_to_the_field_in_words():
    at = fresh_app()
    widget(at, "w_base_width").set_value(9000).run()
    assert not at.exception
    (error,) = at.sidebar.error
    assert error.value.startswith("'Base width' must be between 1 and 8,192, got 9,000.")
    assert widget(at, "w_base_width").value == 9000  # nothing the user typed is lost
    assert metric_values(at, "Parameters")[0] == "269.72 k"  # still the last valid network (ResNet-20)
    widget(at, "w_base_width").set_value(32).run()
    assert not at.sidebar.error


# ---- checkpoints -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["resnet18", "resnet50"])
def test_torchvision_weights_are_recognised(name):
    state_dict = getattr(models, name)(weights=None).state_dict()  # the trusted reference
    assert looks_like(state_dict) == name


def test_wrong_checkpoint_is_one_sentence_naming_what_it_looks_like():
    state_dict = models.resnet18(weights=None).state_dict()
    report = validate_state_dict(state_dict, PRESETS["resnet50"])
    assert len(report.missing) > 100  # the wall of names the page no longer shows
    text = headline(report, state_dict)
    assert "\n" not in text and "layer1.0" not in text
    assert text.startswith("These weights do not fit the sidebar's network (")
    assert "they look like a resnet18. Load them into the resnet18 preset." in text


def test_fine_tuned_checkpoint_names_its_classes_and_unknown_ones_are_not_guessed():
    state_dict = models.resnet34(weights=None, num_classes=10).state_dict()
    text = headline(validate_state_dict(state_dict, PRESETS["resnet18"]), state_dict)
    assert text.endswith("they look like a resnet34 with 10 classes. Load them into the resnet34 "
                         "preset with 'Classes' set to 10.")
    odd = {"conv.weight": torch.zeros(3, 3)}
    report = validate_state_dict(odd, PRESETS["resnet18"])
    assert headline(report, odd) == (f"These weights do not fit the sidebar's network "
                                     f"({len(report.missing)} missing, 1 unexpected).")
    assert looks_like(odd) is None


# ---- depth sweep -----------------------------------------------------------------------
@pytest.mark.parametrize("block", ["basic", "bottleneck", "d2l"])
def test_offered_sweep_depths_build_nets_of_that_depth(block):
    for depth in valid_depths(block):
        assert sweep_spec(block, depth).depth == depth  # NetSpec counts layers as the paper
    check_depths(block, valid_depths(block))


def test_invalid_sweep_depths_are_all_named_with_valid_ones_offered():
    with pytest.raises(ValueError) as info:
        check_depths("bottleneck", [8, 14, 20, 32, 56])
    assert str(info.value) == ("Bottleneck nets in a sweep have 9n+2 layers (11, 20, 29, 47, 83, "
                               "…); 8, 14, 32 are not of that form.")


# ---- sentences from numbers (fabricated measurements, one per branch) --------------------
def fake_flow(plain_conv1: float, residual_conv1: float) -> GradientFlow:
    spec = PRESETS["resnet20"]

    def result(variant, g):
        conv1 = LayerFlow("conv1", "stem", g, (ParamFlow("conv1.weight", g, 1.0),))
        block = LayerFlow("layer1.0", "block", g / 2, ())
        return FlowResult(variant, spec, 1.0, (conv1, block))
    return GradientFlow(spec, 0, 8, result("residual", residual_conv1),
                        result("plain", plain_conv1))


@pytest.mark.parametrize("plain, residual, words", [
    (4.2e4, 1.0, "is 4.2×10⁴ times the residual net's"),
    (1.0, 83.0, "is 1/83 of the residual net's"),
    (1.05, 1.0, "is about the same as the residual net's"),
    (0.0, 1.0, "exactly zero in the plain twin"),
])
def test_conv1_sentence_for_each_branch(plain, residual, words):
    assert words in fake_flow(plain, residual).summary()


# ---- downloads -------------------------------------------------------------------------
def test_python_code_builds_exactly_the_pages_model_with_its_seed():
    spec = NetSpec(block="bottleneck", layers=(1, 2), stem="cifar", num_classes=7, image_size=16)
    code = downloads.python_code(spec, 42)
    assert "pip install ." in code and "seed=42" in code
    scope: dict = {}
    exec(code, scope)  # noqa: S102 - our generated code
    want = build(spec, seed=42).state_dict()  # the page builds with build(spec, seed)
    got = scope["model"].state_dict()
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_architecture_page_code_uses_the_sidebar_seed():
    at = fresh_app({"seed": "42", "layers": "1,1", "stem": "cifar", "image_size": "16"})
    # The plain-PyTorch file (the "Python code" download), then the snippet for a clone.
    standalone, repo = at.code[-2].value, at.code[-1].value
    assert "SEED = 42" in standalone and "from explorer" not in standalone
    assert "seed=42" in repo and "seed=0" not in repo
    # The model the page builds live (pages/widgets/state.build_live) for its spec and seed.
    page_model = build(at.session_state["spec"], seed=at.session_state["seed"])
    want = page_model.state_dict()
    for code, make in ((standalone, lambda scope: scope["build_model"]()),
                       (repo, lambda scope: scope["model"])):
        scope: dict = {"__name__": "downloaded"}  # not __main__: the file's example stays off
        exec(code, scope)  # noqa: S102
        got = make(scope).state_dict()
        assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)


def test_csv_and_json_downloads_carry_spec_seed_batch_and_weights():
    spec = PRESETS["resnet20"]
    facts = downloads.provenance(spec, 7, 16, "shipped checkpoint resnet20")
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 0.25]})
    text = downloads.csv_text(frame, facts)
    pd.testing.assert_frame_equal(pd.read_csv(io.StringIO(text), comment="#"), frame)
    header = dict(line[2:].split(": ", 1) for line in text.splitlines() if line.startswith("#"))
    assert NetSpec.from_dict(json.loads(header["spec"])) == spec
    assert (json.loads(header["seed"]), json.loads(header["batch"])) == (7, 16)
    assert json.loads(header["weights"]) == "shipped checkpoint resnet20"
    data = json.loads(downloads.json_text(spec.to_dict(), facts))
    assert NetSpec.from_dict(data["data"]) == spec and data["seed"] == 7


# ---- page messages ---------------------------------------------------------------------
def test_grad_cam_says_one_class_and_explains_channels_as_an_image_problem():
    at = fresh_app({"layers": "1,1", "stem": "cifar", "image_size": "16", "num_classes": "1"})
    at.switch_page("pages/views/grad_cam.py").run()
    widget(at, "cam_weights").select("random init of the sidebar's network").run()
    assert any("1 class," in c.value for c in at.caption)
    assert not any("1 classes" in c.value for c in at.caption)
    widget(at, "w_in_channels").set_value(5).run()
    assert not at.exception and not at.error
    assert "takes 5 input channels, but a picture has 1 (grey) or 3 (colour)" in \
        at.warning[0].value and "'Input channels'" in at.warning[0].value


def test_grad_cam_warns_when_shape_weights_meet_a_photo():
    at = fresh_app()
    at.switch_page("pages/views/grad_cam.py").run()
    assert widget(at, "cam_weights").value.startswith("shipped:")
    assert not at.warning  # shapes on shape weights: nothing to warn about
    widget(at, "cam_samples").set_value(["photo: cat"]).run()
    assert "know only the synthetic shapes' classes" in at.warning[0].value
    assert "46.8 MB download" in at.warning[0].value


def test_gradient_flow_asks_for_uploads_instead_of_a_batch_error():
    at = fresh_app({"layers": "1,1", "stem": "cifar", "image_size": "16"})
    at.switch_page("pages/views/gradient_flow.py").run()
    widget(at, "gf_source").select("uploaded").run()
    assert not at.exception and not at.error
    assert at.info[0].value.startswith("Upload one or more images")
    assert widget(at, "gf_batch").disabled
