"""The ResNet family (issue 20): every new preset exact against torchvision, timm or the paper,
the new blocks checked by hand, old specs still loading, and a fuzz over the new fields."""

from __future__ import annotations

import copy
import json

import pytest
import timm
import torch
import torch.nn.functional as F
import torchinfo
import torchvision
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch import nn

from explorer import PRESETS, NetSpec, build, stage_table
from explorer.nets.attention import SqueezeExcite, make_divisible
from explorer.nets.model import ResNet
from explorer.nets.presets import FAMILIES, PRESET_HELP
from explorer.nets.windows import windows

TORCHVISION = ["resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
               "wide_resnet101_2"]
TIMM = ["resnet18d", "resnet50d", "seresnet18", "seresnet50", "resnetv2_50"]


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def reference(name: str) -> nn.Module:
    if name in TORCHVISION:
        return getattr(torchvision.models, name)(weights=None)
    return timm.create_model(name, pretrained=False)


def randomise_norms(model: nn.Module, seed: int = 0) -> None:
    """BatchNorm statistics and affines away from 1/0, so that a wrong order shows."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


# ---- the exactness table ----------------------------------------------------------------
def _torchinfo_mult_adds(model: nn.Module, size: int) -> int:
    stats = torchinfo.summary(model, input_size=(1, 3, size, size), device="meta", mode="eval",
                              verbose=0)
    # torchinfo totals leaf layers only; timm's BatchNormAct2d (a BatchNorm with its ReLU as a
    # child) is not a leaf, so its own count is added back: our BN and ReLU are two leaves.
    return stats.total_mult_adds + sum(info.macs for info in stats.summary_list
                                       if info.class_name == "BatchNormAct2d")


@pytest.mark.parametrize("name", TORCHVISION + TIMM)
def test_params_and_mult_adds_equal_the_reference(name):
    with torch.device("meta"):
        ref = reference(name)
    for size in (64, 97):  # 97 px: odd maps, where ResNet-D's ceil-mode pool matters
        table = stage_table(PRESETS[name].replace(image_size=size))
        assert table.total_params == n_params(ref)
        assert table.total_mult_adds == _torchinfo_mult_adds(ref, size), size


def swap_weights(ours: nn.Module, ref: nn.Module, to_ref, to_ours) -> None:
    """Each model takes the other's tensors (strict loads both ways, no copies: big models)."""
    mine, theirs = ours.state_dict(), ref.state_dict()
    shapes = {k: v.shape for k, v in theirs.items()}
    ref.load_state_dict({to_ref(k): v.reshape(shapes[to_ref(k)]) for k, v in mine.items()},
                        strict=True, assign=True)
    ours.load_state_dict({to_ours(k): v.reshape(mine[to_ours(k)].shape)
                          for k, v in theirs.items()}, strict=True, assign=True)


def same(key: str) -> str:
    return key


def assert_same_logits_both_ways(ours: nn.Module, ref: nn.Module, x: torch.Tensor,
                                 to_ref=same, to_ours=same) -> None:
    with torch.no_grad():
        ours_logits, ref_logits = ours(x), ref(x)
        assert not torch.allclose(ours_logits, ref_logits)  # two different sets of weights
        swap_weights(ours, ref, to_ref, to_ours)
        torch.testing.assert_close(ref(x), ours_logits)
        torch.testing.assert_close(ours(x), ref_logits)


@pytest.mark.parametrize("name", TORCHVISION)
def test_torchvision_state_dicts_load_both_ways_with_equal_logits(name):
    tv = reference(name).eval()
    ours = build(PRESETS[name], seed=0).eval()
    assert [k for k, _ in ours.named_parameters()] == [k for k, _ in tv.named_parameters()]
    assert_same_logits_both_ways(ours, tv, randn(1, 3, 16, 16))


def timm_to_ours(key: str) -> str:
    """timm's ResNetV2 names to ours (its ResNet names are ours already)."""
    if key.startswith("stem.conv."):
        return "conv1." + key[len("stem.conv."):]
    if key.startswith("stages."):
        _, stage, _, block, rest = key.split(".", 4)
        rest = rest.replace("downsample.conv.", "downsample.0.")
        for k in "123":
            rest = rest.replace(f"norm{k}.", f"bn{k}.")
        return f"layer{int(stage) + 1}.{block}.{rest}"
    return key.replace("head.fc.", "fc.").replace("norm.", "final_norm.")


@pytest.mark.parametrize("name", TIMM)
def test_timm_state_dicts_load_both_ways_with_equal_logits(name):
    ref = reference(name).eval()
    randomise_norms(ref)  # timm's SE biases are not zero either
    ours = build(PRESETS[name], seed=0).eval()
    randomise_norms(ours, seed=1)
    to_ref = {timm_to_ours(k): k for k in ref.state_dict()}
    assert set(to_ref) == set(ours.state_dict())
    assert_same_logits_both_ways(ours, ref, randn(1, 3, 45, 45), to_ref.__getitem__,
                                 timm_to_ours)


# ---- He et al. 2016's CIFAR-10 nets -----------------------------------------------------
def preact_cifar_params(n: int, bottleneck: bool) -> int:
    """Counted from KaimingHe/resnet-1k-layers' resnet-pre-act.lua (bottlenecks) and the 2015
    CIFAR net (basic blocks, option A): bias-free convs, BN (gamma, beta) before each conv and
    once before the pool, 1x1 projections without BN on the pre-activated input."""
    total = 9 * 3 * 16  # the stem: one 3x3 conv, no BN
    cin = 16
    for width in (16, 32, 64):
        cout = 4 * width if bottleneck else width
        for _ in range(n):
            if bottleneck:
                total += 2 * cin + cin * width + 2 * width + 9 * width * width \
                    + 2 * width + width * cout
                total += cin * cout if cin != cout else 0
            else:
                total += 2 * cin + 9 * cin * width + 2 * width + 9 * width * width
            cin = cout
    return total + 2 * cin + cin * 10 + 10


@pytest.mark.parametrize("name, n, bottleneck, paper", [
    ("preact_resnet110", 18, False, "1.7"), ("preact_resnet164", 18, True, "1.7"),
    ("preact_resnet1001", 111, True, "10.2")])
def test_preact_cifar_nets_match_the_paper(name, n, bottleneck, paper):
    spec = PRESETS[name]
    assert spec.depth == int(name.split("resnet")[1])
    with torch.device("meta"):
        model = ResNet(spec)
    assert n_params(model) == preact_cifar_params(n, bottleneck)
    assert stage_table(spec).total_params == n_params(model)
    # Table 3 counts the weights of convs and fc: with BN's gammas and betas ResNet-1001 has
    # 10.33 M (10,327,706), without them 10.18 M, printed 10.2 M.
    weights = n_params(model) - sum(n_params(m) for m in model.modules()
                                    if isinstance(m, nn.BatchNorm2d))
    assert f"{weights / 1e6:.1f}" == paper


@pytest.mark.parametrize("name", ["preact_resnet110", "preact_resnet164"])
def test_preact_cifar_stage_table_equals_torchinfo(name):
    spec = PRESETS[name]
    with torch.device("meta"):
        model = ResNet(spec)
    stats = torchinfo.summary(model, input_size=(1, 3, 32, 32), device="meta", mode="eval",
                              verbose=0)
    table = stage_table(spec)
    assert (table.total_params, table.total_mult_adds) == (stats.total_params,
                                                           stats.total_mult_adds)


# ---- blocks by hand ---------------------------------------------------------------------
def bn(x: torch.Tensor, m: nn.BatchNorm2d) -> torch.Tensor:
    return F.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias, False, 0.0, m.eps)


def test_preact_basic_block_is_bn_relu_conv_by_hand():
    spec = NetSpec(order="pre", layers=(2,), base_width=4, stem="cifar", image_size=8)
    model = build(spec).eval()
    randomise_norms(model)
    block = model.layer1[1]
    assert block.plan == ("bn1", "relu", "conv1", "bn2", "relu", "conv2")
    x = randn(2, 4, 8, 8)
    h = F.conv2d(F.relu(bn(x, block.bn1)), block.conv1.weight, padding=1)
    h = F.conv2d(F.relu(bn(h, block.bn2)), block.conv2.weight, padding=1)
    with torch.no_grad():
        torch.testing.assert_close(block(x), h + x)  # nothing after the addition


def test_preact_bottleneck_shortcut_reads_the_preactivation_by_hand():
    spec = NetSpec(block="bottleneck", order="pre", layers=(1, 1), base_width=4, stem="cifar",
                   stride_on="1x1", image_size=8)
    model = build(spec).eval()
    randomise_norms(model)
    block = model.layer2[0]  # 16 -> 32 channels, stride 2 on the first 1x1
    assert [type(m) for m in block.downsample] == [nn.Conv2d]  # no BN after the projection
    x = randn(2, 16, 8, 8)
    p = F.relu(bn(x, block.bn1))
    h = F.conv2d(p, block.conv1.weight, stride=2)
    h = F.conv2d(F.relu(bn(h, block.bn2)), block.conv2.weight, padding=1)
    h = F.conv2d(F.relu(bn(h, block.bn3)), block.conv3.weight)
    shortcut = F.conv2d(p, block.downsample[0].weight, stride=2)
    with torch.no_grad():
        torch.testing.assert_close(block(x), h + shortcut)
        torch.testing.assert_close(block.shortcut(x), shortcut)
        torch.testing.assert_close(block.branch(x), h)


def test_preact_net_has_a_bare_stem_and_bn_relu_before_the_pool():
    spec = NetSpec(order="pre", layers=(1, 1), base_width=4, stem="cifar", image_size=8,
                   num_classes=3)
    model = build(spec).eval()
    randomise_norms(model)
    assert isinstance(model.bn1, nn.Identity) and isinstance(model.relu, nn.Identity)
    x = randn(2, 3, 8, 8)
    h = model.layer2(model.layer1(model.conv1(x)))
    h = F.relu(bn(h, model.final_norm)).mean((2, 3))
    with torch.no_grad():
        torch.testing.assert_close(model(x), model.fc(h))


def test_squeeze_excite_by_hand_and_timm_reduction():
    se = SqueezeExcite(32)
    with torch.no_grad():
        for p in se.parameters():
            p.copy_(randn(*p.shape, seed=p.numel()))
    x = randn(2, 32, 5, 5)
    s = x.mean((2, 3))
    w1, b1 = se.fc1.weight.flatten(1), se.fc1.bias
    w2, b2 = se.fc2.weight.flatten(1), se.fc2.bias
    gate = torch.sigmoid(F.relu(s @ w1.T + b1) @ w2.T + b2)
    with torch.no_grad():
        torch.testing.assert_close(se(x), x * gate[:, :, None, None])
    from timm.layers import SEModule
    from timm.layers import make_divisible as timm_make_divisible

    for channels in (*range(1, 300), 512, 1000, 1024, 2048, 4096):
        assert make_divisible(channels / 16) == timm_make_divisible(channels / 16, 8,
                                                                    round_limit=0.0)
    for channels in (16, 64, 100, 256, 2048):
        assert SqueezeExcite(channels).fc1.out_channels == SEModule(channels).fc1.out_channels


def test_se_sits_at_the_end_of_the_branch_before_the_addition():
    spec = NetSpec(attention="se", layers=(1,), base_width=8, stem="cifar", image_size=8)
    model = build(spec).eval()
    randomise_norms(model)
    block = model.layer1[0]
    assert block.plan[-2:] == ("bn2", "se") and block.last_layer is block.se
    x = randn(2, 8, 8, 8)
    h = F.relu(bn(F.conv2d(x, block.conv1.weight, padding=1), block.bn1))
    h = block.se(bn(F.conv2d(h, block.conv2.weight, padding=1), block.bn2))
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(h + x))


def test_groups_and_width_per_group_follow_torchvision():
    spec = NetSpec(block="bottleneck", layers=(1, 1), widths=(64, 128), groups=8,
                   width_per_group=6, stem="cifar", image_size=8)
    model = build(spec)
    for blk, width in ((model.layer1[0], 64), (model.layer2[0], 128)):
        inner = int(width * 6 / 64) * 8
        assert blk.conv2.groups == 8 and blk.conv1.out_channels == inner
        assert blk.conv3.out_channels == 4 * width
    ref = torchvision.models.resnet.Bottleneck(64, 64, groups=8, base_width=6)
    assert n_params(model.layer1[0].conv2) == n_params(ref.conv2)


def test_resnet_d_pools_before_projecting_and_keeps_odd_maps_aligned():
    spec = NetSpec(block="bottleneck", layers=(1, 1, 1), base_width=4, shortcut="D",
                   stem="deep", image_size=45)
    model = build(spec).eval()
    first, second = model.layer1[0].downsample, model.layer2[0].downsample
    assert isinstance(first[0], nn.Identity)  # stage 1 only widens: nothing to pool
    pool = second[0]
    assert isinstance(pool, nn.AvgPool2d) and pool.ceil_mode and not pool.count_include_pad
    assert [type(m) for m in second][1:] == [nn.Conv2d, nn.BatchNorm2d]
    assert second[1].stride == (1, 1)
    assert model(randn(1, 3, 45, 45)).shape == (1, 1000)


def test_deep_stem_is_three_convs_and_its_window():
    spec = NetSpec(stem="deep", layers=(1,), base_width=8, image_size=32)
    stem = build(spec).conv1
    convs = [m for m in stem if isinstance(m, nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride[0]) for c in convs] == [
        (3, 4, 2), (4, 4, 1), (4, 8, 1)]
    # 3x3/2, 3x3, 3x3, then the 3x3/2 max-pool: 1 + 2 + 2·2 + 2·2 + 2·2 = 15, jump 4.
    found = windows(spec)
    assert (found["stem"].size, found["stem"].jump) == (15, 4)
    assert (windows(spec.replace(stem="imagenet"))["stem"].size) == 11
    assert not found["layer1"].whole_image
    assert windows(spec.replace(attention="se"))["layer1"].whole_image


# ---- the plain twin ---------------------------------------------------------------------
TWINS = [
    NetSpec(order="pre", layers=(1, 2), base_width=4, stem="cifar", image_size=8),
    NetSpec(block="bottleneck", order="pre", layers=(1, 1), base_width=4, stem="cifar",
            shortcut="D", image_size=8),
    NetSpec(attention="se", layers=(1, 1), base_width=8, stem="deep", shortcut="C",
            image_size=16),
    NetSpec(block="bottleneck", groups=2, width_per_group=16, attention="se", order="pre",
            layers=(1, 1), base_width=8, stem="cifar", image_size=8),
]


@pytest.mark.parametrize("spec", TWINS, ids=["pre", "pre-D", "se-deep-C", "pre-se-groups"])
def test_plain_twin_shares_every_common_weight_and_is_the_branch_alone(spec):
    residual = build(spec, seed=3)
    plain = build(spec.replace(skip=False), seed=3)
    res_sd, plain_sd = residual.state_dict(), plain.state_dict()
    assert set(plain_sd) <= set(res_sd)
    for key, tensor in plain_sd.items():
        assert torch.equal(tensor, res_sd[key]), key
    plain.eval()
    x = randn(2, spec.stem_width, 8, 8)
    for _, block in plain.blocks():
        with torch.no_grad():
            expected = block.branch(x)
            if spec.order == "post":
                expected = F.relu(expected)
            torch.testing.assert_close(block(x), expected)
        x = block(x).detach()


# ---- validation and old specs -----------------------------------------------------------
BAD = [
    ({"groups": 32}, r"'Groups \(cardinality\)' applies to the Bottleneck block only"),
    ({"block": "d2l", "width_per_group": 4}, r"'Width per group' applies to the Bottleneck"),
    ({"block": "d2l", "order": "pre"}, r"d2l block is the book's Residual.*'Activation order'"),
    ({"block": "d2l", "attention": "se"}, r"d2l block.*'Attention' must stay none"),
    ({"block": "bottleneck", "width_per_group": 1, "base_width": 8},
     r"Stage 1 would have no channels per group"),
    ({"block": "bottleneck", "groups": 8192, "width_per_group": 64},
     r"grouped 3×3 conv would have"),
    ({"order": "middle"}, r"'Activation order' must be one of 'post', 'bn_after_add', "
                          r"'relu_before_add', 'relu_preact', 'pre'"),
    ({"attention": "cbam"}, r"'Attention' must be one of 'none', 'se'"),
    ({"stem": "tiered"}, r"'Stem' must be one of 'imagenet', 'cifar', 'deep'"),
    ({"block": "bottleneck", "groups": 0}, r"'Groups \(cardinality\)' must be between 1"),
]


@pytest.mark.parametrize("fields, message", BAD, ids=[str(f) for f, _ in BAD])
def test_invalid_combinations_say_why_in_the_sidebars_words(fields, message):
    with pytest.raises(ValueError, match=message) as info:
        NetSpec(**fields)
    assert "\n" not in str(info.value)


OLD_JSON = """{"block": "bottleneck", "layers": [3, 4, 6, 3], "widths": null, "base_width": 64,
 "stem": "imagenet", "skip": false, "shortcut": "B", "stride_on": "1x1", "norm": "batch",
 "in_channels": 3, "num_classes": 10, "image_size": 64, "zero_init_residual": false}"""


def test_old_specs_links_and_weights_keep_loading():
    spec = NetSpec.from_json(OLD_JSON)
    assert (spec.groups, spec.width_per_group, spec.order, spec.attention) == (1, 64, "post",
                                                                                "none")
    assert spec.to_query() == {"block": "bottleneck", "layers": "3,4,6,3", "skip": "0",
                               "stride_on": "1x1", "num_classes": "10", "image_size": "64"}
    assert NetSpec.from_query(spec.to_query()) == spec
    assert NetSpec.from_query({"layers": "3,4,6,3", "page": "x"}) == NetSpec(layers=(3, 4, 6, 3))
    old_keys = set(json.loads(OLD_JSON))
    assert set(NetSpec().to_dict()) - old_keys == {"groups", "width_per_group", "order",
                                                   "attention", "skip_design", "skip_scale",
                                                   "gate_bias"}
    assert (spec.skip_design, spec.skip_scale, spec.gate_bias) == ("identity", 0.5, -6.0)
    # A post-activation block keeps torchvision's names, so old checkpoints load.
    keys = set(build(spec.replace(skip=True)).state_dict())
    assert keys == set(torchvision.models.resnet50(num_classes=10).state_dict())


@pytest.mark.parametrize("name", [n for n in PRESETS if n not in ("resnet18",)])
def test_presets_round_trip_and_have_a_family_and_help(name):
    spec = PRESETS[name]
    assert NetSpec.from_dict(spec.to_dict()) == spec
    assert NetSpec.from_query(spec.to_query()) == spec
    assert sum(name in names for names in FAMILIES.values()) == 1
    assert PRESET_HELP[name] and "\n" not in PRESET_HELP[name]


def test_families_are_the_sidebars_groups():
    assert list(FAMILIES) == ["torchvision", "He 2015 CIFAR", "He 2016 pre-activation",
                              "Bag of Tricks", "squeeze-and-excitation", "d2l"]
    assert [n for names in FAMILIES.values() for n in names] == list(PRESETS)


# ---- fuzz -------------------------------------------------------------------------------
@st.composite
def spec_fields(draw) -> dict:
    block = draw(st.sampled_from(["basic", "bottleneck", "d2l"]))
    stages = draw(st.integers(1, 3))
    fields = dict(
        block=block,
        layers=(draw(st.integers(0, 2)) or 1,
                *draw(st.lists(st.integers(0, 2), min_size=stages - 1, max_size=stages - 1))),
        base_width=draw(st.sampled_from([2, 4, 8])),
        stem=draw(st.sampled_from(["cifar", "imagenet", "deep"])),
        shortcut=draw(st.sampled_from(["A", "B", "C", "D"])),
        stride_on=draw(st.sampled_from(["3x3", "1x1"])),
        norm=draw(st.sampled_from(["batch", "batch", "none"])),
        skip=draw(st.booleans()),
        order=draw(st.sampled_from(["post", "bn_after_add", "relu_before_add", "relu_preact",
                                    "pre"])),
        skip_design=draw(st.sampled_from(["identity", "scaled", "exclusive_gate",
                                          "shortcut_gate", "conv", "dropout"])),
        attention=draw(st.sampled_from(["none", "se"])),
        in_channels=draw(st.sampled_from([1, 3])),
        num_classes=draw(st.integers(1, 4)),
        image_size=draw(st.integers(4, 40)),
    )
    # Mostly consistent choices, so that most draws build; the rest check the refusals.
    if block == "bottleneck" or draw(st.integers(0, 5)) == 0:
        fields["groups"] = draw(st.sampled_from([1, 2, 4]))
        fields["width_per_group"] = draw(st.sampled_from([16, 32, 64, 128]))
    if block == "d2l" and draw(st.integers(0, 3)):
        fields["order"], fields["attention"] = "post", "none"
    # The design's own number; now and then on another design, where it is refused. (A scale
    # of 1 zeroes every branch, so no gradient shows the branch's window: not drawn.)
    if fields["skip_design"] == "scaled" or draw(st.integers(0, 9)) == 0:
        fields["skip_scale"] = draw(st.sampled_from([0.0, 0.3, 0.5, 0.9]))
    if fields["skip_design"] in ("exclusive_gate", "shortcut_gate") or draw(st.integers(0, 9)) == 0:
        fields["gate_bias"] = draw(st.sampled_from([-7.0, -6.0, -2.0, 0.0, 3.0]))
    return fields


def _gradient_extent(model: nn.Module, spec: NetSpec) -> tuple[tuple[int, int], ...]:
    """First and last input row and column with a gradient from the last stage's centre unit."""
    x = torch.randn(1, spec.in_channels, spec.image_size, spec.image_size, dtype=torch.float64,
                    requires_grad=True)
    outputs = {}
    handle = getattr(model, model.stage_names[-1]).register_forward_hook(
        lambda m, i, o: outputs.update(o=o))
    model(x)
    handle.remove()
    out = outputs["o"]
    out[0, :, out.shape[-2] // 2, out.shape[-1] // 2].sum().backward()
    rows, cols = torch.nonzero(x.grad.abs().sum((0, 1)), as_tuple=True)
    if not len(rows):
        return ()  # every path through a ReLU is closed for this input
    return (int(rows.min()), int(rows.max())), (int(cols.min()), int(cols.max()))


def _check_window(model: nn.Module, spec: NetSpec) -> None:
    """The theoretical window of the last stage is exactly where its centre unit's gradient can
    reach: the real net's gradient stays inside it, and a linear copy (no ReLU, max-pool as an
    average: every path open) fills it up to the image's edges."""
    window = windows(spec)[model.stage_names[-1]]
    out_side = stage_table(spec).row(model.stage_names[-1]).output_shape[-1]
    centre = window.start + (out_side // 2) * window.jump
    half = (window.size - 1) / 2
    expected = (max(0, int(-(-(centre - half) // 1))), min(spec.image_size - 1,
                                                         int((centre + half) // 1)))
    model = model.double()
    for lo, hi in _gradient_extent(model, spec):
        assert expected[0] <= lo and hi <= expected[1]
    linear = copy.deepcopy(model)
    for name, module in list(linear.named_modules()):
        parent = linear.get_submodule(name.rsplit(".", 1)[0]) if "." in name else linear
        child = name.rsplit(".", 1)[-1]
        if isinstance(module, nn.ReLU):
            setattr(parent, child, nn.Identity())
        elif isinstance(module, nn.MaxPool2d):
            setattr(parent, child, nn.AvgPool2d(3, 2, 1))
    assert _gradient_extent(linear, spec) == (expected, expected)


@settings(max_examples=70, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(spec_fields())
def test_fuzz_stage_table_equals_a_real_model_and_torchinfo(fields):
    try:
        spec = NetSpec(**fields)
    except ValueError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    model = build(spec, seed=1).eval()
    table = stage_table(spec)
    shape = (1, spec.in_channels, spec.image_size, spec.image_size)
    stats = torchinfo.summary(model, input_size=shape, device="cpu", mode="eval", verbose=0)
    assert table.total_params == n_params(model) == stats.total_params
    assert table.total_mult_adds == stats.total_mult_adds
    assert table.rows[-1].output_shape == (1, spec.num_classes)
    plain = build(spec.replace(skip=False), seed=1).state_dict()
    residual = model.state_dict()
    assert all(torch.equal(v, residual[k]) for k, v in plain.items())
    if spec.attention == "none":  # with SE every unit sees the whole image
        _check_window(model, spec)
