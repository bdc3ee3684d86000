"""NetSpec: plain, frozen, hashable data that validates loudly and round-trips exactly."""

from __future__ import annotations

import dataclasses
import json
from urllib.parse import parse_qs, urlencode

import pytest

from explorer.nets.spec import NetSpec
from explorer.nets.presets import PRESETS, preset

CUSTOM = [
    NetSpec(),
    NetSpec(block="bottleneck", layers=(1, 0, 2), widths=(8, 16, 24), stem="cifar",
            stride_on="1x1", shortcut="C", image_size=40, num_classes=7),
    NetSpec(block="d2l", layers=(1,), base_width=5, in_channels=1, image_size=8, skip=False),
    NetSpec(layers=(1, 1, 1, 1, 1, 1), base_width=2, stem="cifar", norm="none", image_size=32),
    NetSpec(layers=(3, 3), zero_init_residual=True, shortcut="A", image_size=64),
]
ALL_SPECS = list(PRESETS.values()) + CUSTOM
SPEC_IDS = list(PRESETS) + [f"custom{i}" for i in range(len(CUSTOM))]


# ---- plain data -------------------------------------------------------------------------
def test_spec_is_frozen_and_hashable():
    a = NetSpec(layers=[1, 2], stem="cifar", image_size=32)  # lists are stored as tuples
    b = NetSpec(layers=(1, 2), stem="cifar", image_size=32)
    assert a.layers == (1, 2) and isinstance(a.layers, tuple)
    assert hash(a) == hash(b) and a == b and len({a, b}) == 1
    assert a != b.replace(skip=False)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.skip = False  # type: ignore[misc]
    assert NetSpec(widths=[8, 16], layers=(1, 1), image_size=64).widths == (8, 16)


def test_presets_have_the_published_shapes():
    expected = {
        "resnet18": ("basic", (2, 2, 2, 2)), "resnet34": ("basic", (3, 4, 6, 3)),
        "resnet50": ("bottleneck", (3, 4, 6, 3)), "resnet101": ("bottleneck", (3, 4, 23, 3)),
        "resnet152": ("bottleneck", (3, 8, 36, 3)),
    }
    for name, (block, layers) in expected.items():
        spec = preset(name)
        assert (spec.block, spec.layers, spec.stem, spec.stage_widths) == (
            block, layers, "imagenet", (64, 128, 256, 512))
    for n, name in [(3, "resnet20"), (5, "resnet32"), (7, "resnet44"), (9, "resnet56"),
                    (18, "resnet110")]:
        spec = preset(name)
        assert spec.layers == (n, n, n) and spec.stage_widths == (16, 32, 64)
        assert (spec.shortcut, spec.stem, spec.num_classes) == ("A", "cifar", 10)
        assert spec.depth == 6 * n + 2 == int(name[6:])
    d2l = preset("d2l-resnet18")
    assert (d2l.block, d2l.in_channels, d2l.num_classes, d2l.image_size) == ("d2l", 1, 10, 96)
    with pytest.raises(ValueError, match="Unknown preset 'resnet19'"):
        preset("resnet19")


# ---- validation -------------------------------------------------------------------------
BAD_FIELDS = [
    ({"block": "dense"}, r"'Block' must be one of"),
    ({"stem": "vit"}, r"'Stem' must be one of"),
    ({"shortcut": "E"}, r"'Shortcut option' must be one of"),
    ({"stride_on": "5x5"}, r"'Bottleneck stride on' must be one of"),
    ({"norm": "layer"}, r"'Normalisation' must be one of"),
    ({"layers": ()}, r"1 to 6 stages; got 0"),
    ({"layers": (1,) * 7}, r"1 to 6 stages; got 7"),
    ({"layers": (2, 129)}, r"'Blocks per stage' \(stage 2\) must be between 0 and 128, got 129"),
    ({"layers": (2, -1)}, r"between 0 and 128, got -1"),
    ({"layers": (0, 0, 0)}, r"at least one block"),
    ({"layers": "2,2"}, r"'Blocks per stage' must be a list"),
    ({"layers": 4}, r"'Blocks per stage' must be a list"),
    ({"layers": (2.0, 2)}, r"'Blocks per stage' must contain whole numbers"),
    ({"layers": (True, 2)}, r"'Blocks per stage' must contain whole numbers"),
    ({"base_width": -4}, r"'Base width' must be between"),
    ({"base_width": 0}, r"'Base width' must be between"),
    ({"base_width": True}, r"'Base width' must be a whole number"),
    ({"widths": (64, -128, 256, 512)}, r"'Widths' \(stage 2\) must be between"),
    ({"widths": (64, 128)}, r"one value per stage: 4 stages but 2 widths"),
    ({"image_size": 31}, r"31 px is too small.*total stride is 32"),
    ({"image_size": 0}, r"'Image size' must be between"),
    ({"image_size": 10**9}, r"'Image size' must be between"),
    ({"image_size": 224.0}, r"'Image size' must be a whole number"),
    ({"in_channels": 0}, r"'Input channels' must be between"),
    ({"num_classes": 0}, r"'Classes' must be between"),
    ({"skip": 1}, r"'Skip connections' must be on or off"),
    ({"skip": "yes"}, r"'Skip connections' must be on or off"),
    ({"zero_init_residual": 0}, r"'Zero-init last BN' must be on or off"),
    ({"zero_init_residual": True, "norm": "none"}, r"'Zero-init last BN' zeroes a BatchNorm layer, so it needs 'Normalisation' set to batch"),
    ({"shortcut": "A", "widths": (64, 32, 64, 128)}, r"option A.*stage 2 has 32 channels after 64"),
]


@pytest.mark.parametrize("fields, message", BAD_FIELDS,
                         ids=[f"{k}={v!r}" for f, _ in BAD_FIELDS for k, v in list(f.items())[:1]])
def test_bad_fields_raise_a_readable_value_error(fields, message):
    with pytest.raises(ValueError, match=message) as info:
        NetSpec(**fields)
    text = str(info.value)
    assert "\n" not in text and (text[0].isupper() or text[0] == "'")
    # replace() re-validates too, so a valid spec cannot be edited into an invalid one.
    with pytest.raises(ValueError, match=message):
        NetSpec().replace(**fields)


def test_limits_themselves_are_accepted():
    NetSpec(layers=(64,), stem="cifar", base_width=1, image_size=1)
    NetSpec(layers=(1,) * 6, stem="cifar", base_width=1, image_size=32)
    NetSpec(layers=(0, 1), stem="cifar", image_size=2)  # stage 1 empty: only stage 2's stride
    NetSpec(image_size=32)  # exactly the total stride


def test_option_a_may_narrow_only_without_skip_and_widen_freely():
    narrowing = {"shortcut": "A", "widths": (64, 32, 64, 128)}
    assert not NetSpec(**narrowing, skip=False).skip  # the plain net has no shortcut to pad
    NetSpec(shortcut="A", block="bottleneck")  # 64 -> 256 channels widen: fine
    NetSpec(shortcut="A", widths=(64, 32, 64, 128), layers=(2, 0, 2, 2))  # empty stage skipped


def test_total_stride_ignores_empty_stages():
    assert NetSpec().total_stride == 32
    assert NetSpec(layers=(2, 0, 2, 2)).total_stride == 16
    assert NetSpec(layers=(2, 2, 2, 2), stem="cifar").total_stride == 8


# ---- serialisation ----------------------------------------------------------------------
@pytest.mark.parametrize("spec", ALL_SPECS, ids=SPEC_IDS)
def test_round_trips(spec):
    assert NetSpec.from_dict(spec.to_dict()) == spec
    assert NetSpec.from_json(spec.to_json()) == spec
    assert json.loads(spec.to_json()) == spec.to_dict()
    query = spec.to_query()
    assert all(isinstance(v, str) for v in query.values())
    assert NetSpec.from_query(query) == spec
    # Through a real URL, where every value arrives as a list (as parse_qs and browsers give).
    assert NetSpec.from_query(parse_qs(urlencode(query))) == spec
    assert NetSpec.from_query({**query, "page": "gradcam"}) == spec  # other params share the URL


def test_to_query_writes_only_what_differs_from_the_default():
    assert NetSpec().to_query() == {}
    assert preset("resnet18").to_query() == {}
    assert NetSpec(layers=(3, 4, 6, 3), skip=False).to_query() == {"layers": "3,4,6,3", "skip": "0"}


def test_from_dict_rejects_unknown_fields_and_non_objects():
    with pytest.raises(ValueError, match="Unknown spec field.*depth"):
        NetSpec.from_dict({"depth": 18})
    with pytest.raises(ValueError, match="JSON object"):
        NetSpec.from_json("[1, 2]")
    with pytest.raises(ValueError, match="not valid JSON"):
        NetSpec.from_json("{layers: 2}")


GARBAGE_QUERIES = [
    {"layers": "2,x"},
    {"layers": ""},
    {"layers": "1,1,1,1,1,1,1"},
    {"widths": "64,,abc"},
    {"skip": "maybe"},
    {"zero_init_residual": "2"},
    {"image_size": "1e9"},
    {"image_size": "999999999"},
    {"image_size": "-5"},
    {"block": "transformer"},
    {"base_width": "wide"},
    {"layers": "2,2", "widths": "64"},
]


@pytest.mark.parametrize("params", GARBAGE_QUERIES, ids=[str(q) for q in GARBAGE_QUERIES])
def test_from_query_rejects_garbage_with_value_error(params):
    with pytest.raises(ValueError) as info:
        NetSpec.from_query(params)
    assert "\n" not in str(info.value)


def test_from_query_accepts_common_spellings():
    spec = NetSpec.from_query({"skip": "false", "zero_init_residual": "yes", "layers": " 1, 2 ",
                               "image_size": " 64 "})
    assert (spec.skip, spec.zero_init_residual, spec.layers, spec.image_size) == (
        False, True, (1, 2), 64)
    assert NetSpec.from_query({"widths": "none"}).widths is None


def test_python_call_rebuilds_the_same_spec():
    for spec in CUSTOM:
        code = spec.python_call()
        assert code.startswith("from explorer import NetSpec, build\n")
        call = code.split("build(", 1)[1].rsplit(", seed=0)", 1)[0]
        assert eval(call, {"NetSpec": NetSpec}) == spec  # noqa: S307 - our generated code
