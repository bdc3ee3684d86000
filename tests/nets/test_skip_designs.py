"""He et al. 2016 ("Identity Mappings"): each skip design (Fig. 2) and activation order (Fig. 4)
checked by hand on tiny nets, the plain twin of every design, and the refusals in words."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from explorer import NetSpec, build, stage_table
from explorer.nets.skips import ShortcutDropout, SkipGate
from explorer.nets.spec import SkipDesign
from explorer.nets.windows import windows

DESIGNS = SkipDesign.__args__
TINY = NetSpec(layers=(3,), widths=(4,), stem="cifar", image_size=6, num_classes=2)


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


def randomise_norms(model: nn.Module, seed: int = 0) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.weight, m.bias, m.running_mean):
                    t.copy_(torch.randn(t.shape, generator=gen) * 0.5)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


def bn(x: torch.Tensor, m: nn.BatchNorm2d) -> torch.Tensor:
    return F.batch_norm(x, m.running_mean, m.running_var, m.weight, m.bias, False, 0.0, m.eps)


def conv3(x: torch.Tensor, m: nn.Conv2d) -> torch.Tensor:
    return F.conv2d(x, m.weight, stride=m.stride, padding=1)


def gate(x: torch.Tensor, g: SkipGate) -> torch.Tensor:
    return torch.sigmoid(F.conv2d(x, g.conv.weight, g.conv.bias, stride=g.conv.stride))


def post_branch(x: torch.Tensor, block: nn.Module) -> torch.Tensor:
    """F(x) of a post-activation BasicBlock: conv BN ReLU conv BN."""
    return bn(conv3(F.relu(bn(conv3(x, block.conv1), block.bn1)), block.conv2), block.bn2)


# ---- Fig. 2: the designs ---------------------------------------------------------------
@pytest.mark.parametrize("order", ["post", "pre"])
def test_constant_scaling_multiplies_a_stage_of_n_zeroed_blocks_by_half_to_the_n(order):
    spec = TINY.replace(skip_design="scaled", zero_init_residual=True, order=order)
    model = build(spec).eval()
    x = randn(2, 4, 6, 6).abs()  # after a post stem's ReLU: non-negative
    with torch.no_grad():
        torch.testing.assert_close(model.layer1(x), x * 0.5**3)
        # and 0.3 leaves 0.3³ of it: the shortcut's factor compounds over depth
        scaled = build(spec.replace(skip_scale=0.3)).eval()
        torch.testing.assert_close(scaled.layer1(x), x * 0.3**3)


def test_constant_scaling_weighs_branch_and_shortcut_by_hand():
    spec = TINY.replace(skip_design="scaled", skip_scale=0.3)
    block = build(spec).eval().layer1[0]
    randomise_norms(block)
    x = randn(2, 4, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(0.7 * post_branch(x, block) + 0.3 * x))


@pytest.mark.parametrize("design", ["exclusive_gate", "shortcut_gate"])
def test_a_gate_with_a_very_negative_bias_passes_the_shortcut_through(design):
    spec = TINY.replace(skip_design=design, gate_bias=-30.0, zero_init_residual=False)
    model = build(spec).eval()
    randomise_norms(model)
    x = randn(2, 4, 6, 6).abs()
    with torch.no_grad():
        if design == "exclusive_gate":  # g ≈ 0: the branch is shut out, the shortcut is x
            torch.testing.assert_close(model.layer1(x), x)
        else:  # 1 − g ≈ 1: an identity shortcut, so the block is the identity design's
            same = build(spec.replace(skip_design="identity", gate_bias=-6.0)).eval()
            randomise_norms(same)
            torch.testing.assert_close(model.layer1(x), same.layer1(x))


def test_exclusive_gate_is_one_minus_g_shortcut_plus_g_branch_by_hand():
    spec = TINY.replace(layers=(1, 1), widths=(4, 8), skip_design="exclusive_gate",
                        gate_bias=-1.0, shortcut="B")
    model = build(spec).eval()
    randomise_norms(model)
    for block, x in ((model.layer1[0], randn(2, 4, 6, 6)), (model.layer2[0], randn(2, 4, 6, 6))):
        assert isinstance(block.gate, SkipGate)
        assert block.gate.conv.kernel_size == (1, 1) and block.gate.conv.stride == (block.stride,) * 2
        shortcut = x if block.downsample is None else bn(
            F.conv2d(x, block.downsample[0].weight, stride=2), block.downsample[1])
        g = gate(x, block.gate)
        with torch.no_grad():
            torch.testing.assert_close(block(x), F.relu((1 - g) * shortcut
                                                        + g * post_branch(x, block)))


def test_shortcut_only_gate_is_one_minus_g_shortcut_plus_the_branch_by_hand():
    spec = TINY.replace(skip_design="shortcut_gate", gate_bias=0.5)
    block = build(spec).eval().layer1[0]
    randomise_norms(block)
    x = randn(2, 4, 6, 6)
    g = gate(x, block.gate)
    assert g.std() > 0.1  # gate values far from one constant: a wrong term would show
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu((1 - g) * x + post_branch(x, block)))


def test_gate_bias_starts_at_the_specs_value_and_the_weights_are_seeded_by_name():
    model = build(TINY.replace(skip_design="exclusive_gate", gate_bias=-7.0), seed=3)
    for _, block in model.blocks():
        assert torch.all(block.gate.conv.bias == -7.0)
    again = build(TINY.replace(skip_design="shortcut_gate"), seed=3)
    assert torch.equal(model.layer1[2].gate.conv.weight, again.layer1[2].gate.conv.weight)


@pytest.mark.parametrize("shortcut", ["A", "B"])
def test_conv_shortcut_is_a_1x1_conv_on_every_block_by_hand(shortcut):
    spec = TINY.replace(layers=(2, 1), widths=(4, 8), skip_design="conv", shortcut=shortcut)
    model = build(spec).eval()
    randomise_norms(model)
    x = randn(2, 4, 6, 6)
    for _, block in model.blocks():
        proj, norm = block.downsample
        assert isinstance(proj, nn.Conv2d) and proj.kernel_size == (1, 1)
        shortcut_x = bn(F.conv2d(x, proj.weight, stride=proj.stride), norm)
        with torch.no_grad():
            torch.testing.assert_close(block.shortcut(x), shortcut_x)
            torch.testing.assert_close(block(x), F.relu(post_branch(x, block) + shortcut_x))
            x = block(x)
    # Option C projects every block too: the conv design is the paper's option C.
    assert build(spec.replace(skip_design="identity", shortcut="C")).state_dict().keys() == \
        build(spec.replace(shortcut="B")).state_dict().keys()


def test_dropout_drops_the_shortcut_only_in_training_with_its_own_generator():
    spec = TINY.replace(skip_design="dropout")
    model = build(spec, seed=5)
    block = model.layer1[0]
    assert isinstance(block.shortcut_dropout, ShortcutDropout)
    x = randn(4, 4, 6, 6)
    with torch.no_grad():
        block.eval()
        torch.testing.assert_close(block.shortcut(x), x)  # eval: the identity
        torch.testing.assert_close(block(x), F.relu(post_branch(x, block) + x))
        block.train()
        state = torch.get_rng_state()
        kept = block.shortcut(x)
        assert torch.equal(torch.get_rng_state(), state)  # torch's global generator untouched
    dropped = kept == 0
    torch.testing.assert_close(kept[~dropped], 2 * x[~dropped])  # kept ones are scaled 1/(1-p)
    assert 0.35 < dropped.float().mean() < 0.65
    # The same seed drops the same elements; the next pass draws a new mask.
    twin = build(spec, seed=5).layer1[0]
    with torch.no_grad():
        assert torch.equal(twin.shortcut(x), kept)
        assert not torch.equal(twin.shortcut(x), kept)


@pytest.mark.parametrize("design", DESIGNS)
def test_every_design_gives_the_same_plain_twin_with_the_same_weights(design):
    spec = TINY.replace(layers=(1, 1), widths=(4, 8), skip_design=design, shortcut="B")
    residual = build(spec, seed=2).state_dict()
    plain = build(spec.replace(skip=False), seed=2).state_dict()
    reference = build(TINY.replace(layers=(1, 1), widths=(4, 8), skip=False), seed=2).state_dict()
    assert list(plain) == list(reference)
    for key, tensor in plain.items():
        assert torch.equal(tensor, residual[key]) and torch.equal(tensor, reference[key]), key


@pytest.mark.parametrize("design", DESIGNS)
def test_designs_share_every_common_weight_and_add_no_receptive_field(design):
    spec = TINY.replace(layers=(1, 1), widths=(4, 8), skip_design=design, shortcut="B")
    ours = build(spec, seed=4).state_dict()
    identity = build(spec.replace(skip_design="identity"), seed=4).state_dict()
    for key in set(ours) & set(identity):
        assert torch.equal(ours[key], identity[key]), key
    assert windows(spec) == windows(spec.replace(skip_design="identity"))


def test_what_a_deleted_block_passes_on_is_its_weighed_shortcut():
    x = randn(2, 4, 6, 6)
    scaled = build(TINY.replace(skip_design="scaled")).eval().layer1[0]
    gated = build(TINY.replace(skip_design="exclusive_gate", gate_bias=-1.0)).eval().layer1[0]
    with torch.no_grad():
        torch.testing.assert_close(scaled.shortcut(x), 0.5 * x)
        torch.testing.assert_close(gated.shortcut(x), (1 - gate(x, gated.gate)) * x)


def test_the_stage_table_counts_the_gates():
    spec = TINY.replace(layers=(1, 1), widths=(4, 8), skip_design="exclusive_gate")
    table, model = stage_table(spec), build(spec)
    assert table.total_params == sum(p.numel() for p in model.parameters())
    gates = sum(p.numel() for m in model.modules() if isinstance(m, SkipGate)
                for p in m.parameters())
    assert gates == (4 * 4 + 4) + (4 * 8 + 8)
    assert table.total_params - stage_table(spec.replace(skip_design="identity")).total_params \
        == gates


# ---- Fig. 4: the orders ----------------------------------------------------------------
def test_bn_after_addition_by_hand():
    spec = TINY.replace(order="bn_after_add")
    block = build(spec).eval().layer1[0]
    randomise_norms(block)
    assert block.plan == ("conv1", "bn1", "relu", "conv2") and block.after_add == ("bn_add",
                                                                                  "relu")
    assert block.last_norm is None
    x = randn(2, 4, 6, 6)
    h = conv3(F.relu(bn(conv3(x, block.conv1), block.bn1)), block.conv2)
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(bn(h + x, block.bn_add)))


def test_relu_before_addition_by_hand():
    block = build(TINY.replace(order="relu_before_add")).eval().layer1[0]
    randomise_norms(block)
    assert block.plan == ("conv1", "bn1", "relu", "conv2", "bn2", "relu")
    assert block.after_add == ()
    x = randn(2, 4, 6, 6)
    with torch.no_grad():
        torch.testing.assert_close(block(x), F.relu(post_branch(x, block)) + x)


def test_relu_only_preactivation_by_hand():
    spec = TINY.replace(order="relu_preact")
    model = build(spec).eval()
    randomise_norms(model)
    block = model.layer1[0]
    assert block.plan == ("relu", "conv1", "bn1", "relu", "conv2", "bn2")
    assert block.after_add == ()
    x = randn(2, 4, 6, 6)
    h = bn(conv3(F.relu(x), block.conv1), block.bn1)
    h = bn(conv3(F.relu(h), block.conv2), block.bn2)
    with torch.no_grad():
        torch.testing.assert_close(block(x), h + x)
    # The 2015 stem and head: conv → BN → ReLU first, nothing before the pool.
    assert isinstance(model.bn1, nn.BatchNorm2d) and not hasattr(model, "final_norm")


@pytest.mark.parametrize("order", ["bn_after_add", "relu_before_add", "relu_preact"])
def test_orders_keep_the_2015_projection_and_the_bottleneck_repeats_its_unit(order):
    spec = NetSpec(block="bottleneck", layers=(1,), widths=(4,), stem="cifar", image_size=6,
                   order=order)
    block = build(spec).layer1[0]
    assert [type(m) for m in block.downsample] == [nn.Conv2d, nn.BatchNorm2d]
    convs = [step for step in block.plan if step.startswith("conv")]
    assert convs == ["conv1", "conv2", "conv3"]
    assert block.bn2.num_features == 4 and block.conv3.out_channels == 16


# ---- refusals --------------------------------------------------------------------------
BAD = [
    ({"skip_design": "gated"}, r"'Skip design' must be one of 'identity', 'scaled'"),
    ({"skip_scale": 0.3}, r"'Skip scale' applies to the scaled 'Skip design' only"),
    ({"gate_bias": -3.0, "skip_design": "scaled"},
     r"'Gate bias' applies to the exclusive_gate and shortcut_gate 'Skip design' only"),
    ({"skip_design": "scaled", "skip_scale": 1.5}, r"'Skip scale' must be from 0 to 1"),
    ({"skip_design": "exclusive_gate", "gate_bias": -31.0}, r"'Gate bias' must be from -30"),
    ({"skip_design": "scaled", "skip_scale": "half"}, r"'Skip scale' must be a number"),
    ({"skip_design": "exclusive_gate", "gate_bias": float("inf")}, r"'Gate bias' must be a num"),
    ({"order": "bn_after_add", "zero_init_residual": True},
     r"'Zero-init last BN'.*bn_after_add 'Activation order'"),
    ({"block": "d2l", "order": "relu_preact"}, r"d2l block.*'Activation order' must stay post"),
]


@pytest.mark.parametrize("fields, message", BAD, ids=[str(f) for f, _ in BAD])
def test_refusals_say_why_in_the_sidebars_words(fields, message):
    with pytest.raises(ValueError, match=message) as info:
        NetSpec(**fields)
    assert "\n" not in str(info.value)


def test_numbers_round_trip_through_links_and_json():
    spec = TINY.replace(skip_design="scaled", skip_scale=0.25)
    assert spec.to_query()["skip_scale"] == "0.25"
    assert NetSpec.from_query(spec.to_query()) == spec == NetSpec.from_json(spec.to_json())
    gated = NetSpec(skip_design="exclusive_gate", gate_bias=-7)  # a whole number is a number
    assert gated.gate_bias == -7.0 and gated.to_query()["gate_bias"] == "-7"
    assert NetSpec.from_query({"skip_design": "shortcut_gate", "gate_bias": "-6"}) == NetSpec(
        skip_design="shortcut_gate")
    with pytest.raises(ValueError, match="'Gate bias' must be a number"):
        NetSpec.from_query({"skip_design": "shortcut_gate", "gate_bias": "closed"})
    # d2l's block takes every design (its projection has no BN).
    d2l = NetSpec(block="d2l", layers=(1, 1), base_width=4, skip_design="conv", image_size=16)
    assert [type(m) for m in build(d2l).layer1[0].downsample] == [nn.Conv2d]
