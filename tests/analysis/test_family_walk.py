"""The ResNet family's presets (ResNeXt, Wide, ResNet-D, SE, pre-activation) walked through every
analysis, at tiny widths and depths: each one works and agrees with a reference computed here
(plain autograd, captum, hand-written torch.nn.functional), or refuses with a ValueError, and
hands the model back exactly as it was.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from captum.attr import LayerGradCam
from torch import nn

from explorer import build
from explorer.analysis.feature_maps import skip_parts, stage_feature_maps
from explorer.analysis.gradcam import grad_cam_grid
from explorer.analysis.gradflow import gradient_flow
from explorer.analysis.landscape import loss_landscape
from explorer.analysis.lesion import deleted, is_deletable, lesion_study
from explorer.analysis.receptive_field import effective_receptive_field
from explorer.analysis.sweep import depth_sweep, sweep_spec, valid_depths
from explorer.nets.presets import PRESETS
from explorer.nets.spec import NetSpec
from explorer.nets.windows import theoretical_window

from why_util import assert_unchanged, snapshot

FAMILY = ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
          "wide_resnet101_2", "resnet18d", "resnet50d", "seresnet18", "seresnet50",
          "resnetv2_50", "preact_resnet110", "preact_resnet164", "preact_resnet1001")
SEED = 3
DEEPER = {"preact_resnet1001": (4, 4, 4)}  # still 38 layers of pre-activation bottlenecks


def small(name: str) -> NetSpec:
    """The preset with every feature kept (block, order, stem, shortcut, attention, a grouped or
    widened 3x3) at base width 8, two blocks in the first stage and one in the others, 16 px
    (32 px through a stride-32 ImageNet stem)."""
    spec = PRESETS[name]
    layers = DEEPER.get(name, (2,) + (1,) * (len(spec.layers) - 1))
    changes = dict(layers=layers, base_width=8, num_classes=6,
                   image_size=16 if spec.stem == "cifar" else 32)
    if spec.groups > 1:  # 8 channels cannot hold 32 groups: 4, as many times wider as before
        changes.update(groups=4, width_per_group=spec.inner_width(64) // 4)
    return spec.replace(**changes)


# Presets whose tiny nets are the same (ResNeXt-101 32x8d and 64x4d, the two Wide ResNets)
# are walked once, under both names.
_BY_SPEC: dict[NetSpec, list[str]] = {}
for _name in FAMILY:
    _BY_SPEC.setdefault(small(_name), []).append(_name)
WALK = [names[0] for names in _BY_SPEC.values()]
WALK_IDS = ["+".join(names) for names in _BY_SPEC.values()]
PRE = tuple(name for name in WALK if PRESETS[name].order == "pre")


def batch(spec: NetSpec, n: int = 4, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, spec.in_channels, spec.image_size, spec.image_size, generator=gen)
    return x, torch.randint(0, spec.num_classes, (n,), generator=gen)


def handed_over(spec: NetSpec) -> nn.Module:
    """A model as a caller hands it over: eval mode with trained-looking BatchNorm statistics,
    one frozen parameter and a stale ``.grad`` (both must come back untouched)."""
    model = build(spec, seed=SEED)
    with torch.no_grad():
        model.train()
        model(batch(spec, n=8, seed=9)[0])
    model.eval()
    model.fc.bias.requires_grad_(False)
    model.fc.weight.grad = torch.ones_like(model.fc.weight)
    return model


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    return next((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d))


def last_conv(block: nn.Module) -> nn.Conv2d:
    """The highest-numbered ``convK`` child: the branch's last conv, whatever the order."""
    convs = {n: m for n, m in block.named_children() if n.startswith("conv")}
    return convs[max(convs, key=lambda n: int(n[4:]))]


def test_the_walk_covers_every_new_preset_and_keeps_its_features():
    assert set(FAMILY) <= set(PRESETS)
    for name in FAMILY:
        spec, tiny = PRESETS[name], small(name)
        for field in ("block", "order", "stem", "shortcut", "attention", "stride_on"):
            assert getattr(tiny, field) == getattr(spec, field), (name, field)
        assert (tiny.groups > 1) == (spec.groups > 1), name
        assert tiny.inner_width(8) / 8 == spec.inner_width(64) / 64, name  # as wide, relatively


# ---- gradient flow: residual vs plain twin, against one plain loss.backward() each ---------
def reference_flow(spec: NetSpec, x: torch.Tensor, y: torch.Tensor, skip: bool) -> dict:
    model = build(spec.replace(skip=skip), seed=SEED).train()
    outputs, inputs, prenorm = {}, {}, {}

    def keep(name):
        def hook(module, args, out):
            out.retain_grad()
            outputs[name] = out
        return hook

    model.conv1.register_forward_hook(keep("conv1"))
    model.fc.register_forward_hook(keep("fc"))
    for name, block in model.blocks():
        block.register_forward_hook(keep(name))
        block.register_forward_pre_hook(lambda m, args, name=name: inputs.__setitem__(name, args[0]))
        last_conv(block).register_forward_hook(
            lambda m, args, out, name=name: prenorm.__setitem__(name, out.std().item()))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    params = {}
    for full, p in model.named_parameters():
        parts = full.split(".")
        if parts[0].startswith("layer"):
            key = (".".join(parts[:2]), ".".join(parts[2:]))
        else:  # the stem's convs and norms; the head: a pre-activation net's final norm and fc
            key = ("fc" if parts[0] in ("fc", "final_norm") else "conv1", full)
        params[key] = (p.grad.norm().item(), p.detach().norm().item())
    with torch.no_grad():  # F(x) from each block's own input, again in train mode: batch stats
        response = {name: block.branch(inputs[name]).std().item() for name, block in model.blocks()}
    conv_name, conv = first_conv(model)
    return dict(loss=loss.item(), params=params, response=response, prenorm=prenorm,
                out_grads={name: out.grad.norm().item() for name, out in outputs.items()},
                first=(f"{conv_name}.weight", conv.weight.grad.norm().item()))


@pytest.mark.parametrize("name", WALK, ids=WALK_IDS)
def test_gradient_flow_equals_an_independent_backward(name):
    spec = small(name)
    x, y = batch(spec)
    flow = gradient_flow(spec, seed=SEED, inputs=x, targets=y)
    for skip, res in ((True, flow.residual), (False, flow.plain)):
        ref = reference_flow(spec, x, y, skip)
        assert res.loss == pytest.approx(ref["loss"], rel=1e-5)
        weight, grad = ref["first"]
        assert weight == ("conv1.0.weight" if spec.stem == "deep" else "conv1.weight")
        assert res.conv1_grad_norm == pytest.approx(grad, rel=1e-4)
        measured = {(layer.name, p.name): (p.grad_norm, p.weight_norm)
                    for layer in res.layers for p in layer.params}
        assert set(measured) == set(ref["params"])  # every parameter, once
        for key, want in ref["params"].items():
            assert measured[key] == pytest.approx(want, rel=1e-4, abs=1e-9), key
        assert [layer.name for layer in res.layers] == list(ref["out_grads"])
        for layer in res.layers:
            assert layer.output_grad_norm == pytest.approx(ref["out_grads"][layer.name], rel=1e-4)
        for block in res.blocks:
            assert block.response_std == pytest.approx(ref["response"][block.name], rel=1e-4)
            assert block.prenorm_std == pytest.approx(ref["prenorm"][block.name], rel=1e-4)
            if spec.order == "post" and spec.attention == "none":  # BatchNorm's output: ≈ 1
                assert block.response_std == pytest.approx(1.0, abs=1e-2)
    assert "conv1" in flow.summary()


# ---- the depth sweep: each new stem, order and attention once ------------------------------
# (A sweep builds nets of its own at the paper's widths, so groups and widths do not carry over:
# ResNeXt and Wide ResNet sweep as the Bottleneck; the ImageNet-width nets cost the most here.)
SWEEPS = [("basic", "deep", "post", "none"), ("basic", "imagenet", "post", "se"),
          ("basic", "cifar", "pre", "none"), ("bottleneck", "cifar", "pre", "none")]


@pytest.mark.parametrize("block,stem,order,attention", SWEEPS,
                         ids=["-".join(combo) for combo in SWEEPS])
def test_depth_sweep_of_each_family_equals_an_independent_backward(block, stem, order, attention):
    depth = valid_depths(block, count=1, stem=stem)[0]
    size = 16 if stem == "cifar" else 32
    frame = depth_sweep(block, [depth], image_size=size, batch_size=2, seed=SEED, stem=stem,
                        order=order, attention=attention)
    spec = sweep_spec(block, depth, stem=stem, image_size=size, order=order, attention=attention)
    assert (spec.stem, spec.order, spec.attention, spec.depth) == (stem, order, attention, depth)
    gen = torch.Generator().manual_seed(SEED)  # gradflow.random_batch's draw, written out
    x = torch.randn(2, 3, size, size, generator=gen)
    y = torch.randint(0, spec.num_classes, (2,), generator=gen)
    for skip, column in ((True, "residual"), (False, "plain")):
        model = build(spec.replace(skip=skip), seed=SEED).train()
        F.cross_entropy(model(x), y).backward()
        want = first_conv(model)[1].weight.grad.norm().item()
        assert frame[column].item() == pytest.approx(want, rel=1e-4)


def test_sweeps_refuse_what_they_cannot_build_with_a_value_error():
    with pytest.raises(ValueError, match="stem"):
        depth_sweep("basic", [8], stem="tiny")
    with pytest.raises(ValueError, match="d2l"):
        depth_sweep("d2l", [8], order="pre")


# ---- Grad-CAM against captum itself -------------------------------------------------------
@pytest.mark.parametrize("name", WALK, ids=WALK_IDS)
def test_grad_cam_at_every_stage_equals_captum(name):
    spec = small(name)
    model = handed_over(spec)
    x = batch(spec, n=1)[0]
    before = snapshot(model)
    results = grad_cam_grid(model, x)
    assert_unchanged(model, before)
    reference = copy.deepcopy(model).eval()
    for result in results:
        want = LayerGradCam(reference, reference.get_submodule(result.layer)).attribute(
            x, target=result.target)
        assert torch.allclose(result.raw, want[0, 0], rtol=1e-4, atol=1e-7), result.layer
        assert result.heatmap.shape == (spec.image_size, spec.image_size)
        assert 0.0 <= float(result.heatmap.min()) and float(result.heatmap.max()) <= 1.0
    assert [r.layer for r in results] == [f"layer{i}" for i in range(1, len(spec.layers) + 1)]


# ---- the lesion study ----------------------------------------------------------------------
@pytest.mark.parametrize("name", WALK, ids=WALK_IDS)
def test_lesion_study_deletes_every_residual_block_and_only_shape_keeping_plain_ones(name):
    spec = small(name)
    for skip in (True, False):
        model = handed_over(spec.replace(skip=skip))
        x, y = batch(spec, n=6)
        before = snapshot(model)
        result = lesion_study(model, (x, y), draws=1, random_k=False)
        assert_unchanged(model, before)
        for (block_name, block), lesion in zip(model.blocks(), result.blocks):
            keeps_shape = block.stride == 1 and block.conv1.in_channels == \
                last_conv(block).out_channels
            assert lesion.deletable == (skip or keeps_shape) == is_deletable(block), block_name
            assert (lesion.accuracy is None) == (not lesion.deletable)
        with deleted(model, ["layer1.1"]), torch.no_grad():
            want = float((model(x).argmax(1) == y).float().mean())
        assert result.block("layer1.1").accuracy == pytest.approx(want)


def bn(x: torch.Tensor, norm: nn.BatchNorm2d) -> torch.Tensor:
    return F.batch_norm(x, norm.running_mean, norm.running_var, norm.weight, norm.bias,
                        training=False, eps=norm.eps)


def deleted_output(model: nn.Module, name: str, x: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """The block's input and output in a forward where it is deleted."""
    seen = {}
    block = model.get_submodule(name)
    handle = block.register_forward_hook(lambda m, args, out: seen.update(i=args[0], o=out))
    try:
        with deleted(model, [name]), torch.no_grad():
            model(x)
    finally:
        handle.remove()
    return seen["i"], seen["o"]


@pytest.mark.parametrize("name", PRE)
def test_a_deleted_pre_activation_block_is_its_shortcut_by_hand(name):
    spec = small(name)
    model = handed_over(spec)
    x = batch(spec, n=2)[0]
    inp, out = deleted_output(model, "layer1.1", x)  # shape kept: the identity, nothing after
    assert torch.equal(out, inp)
    inp, out = deleted_output(model, "layer2.0", x)  # stride 2, twice the channels
    block = model.layer2[0]
    preact = F.relu(bn(inp, block.bn1))  # the shortcut reads the block's leading BN -> ReLU
    if spec.shortcut == "A":  # subsample, then zero channels
        want = F.pad(preact[:, :, ::2, ::2], (0, 0, 0, 0, 0, out.shape[1] - inp.shape[1]))
    else:  # a bare 1x1/2 projection: no norm after it, no ReLU after the addition
        (projection,) = list(block.downsample)
        want = F.conv2d(preact, projection.weight, stride=2)
        assert (want < 0).any()  # so a ReLU after the addition would show
    assert torch.allclose(out, want, atol=1e-5)


def test_a_deleted_resnet_d_block_is_its_pooled_projection_then_relu_by_hand():
    spec = small("resnet18d")
    model = handed_over(spec)
    inp, out = deleted_output(model, "layer2.0", batch(spec, n=2)[0])
    pool, projection, norm = model.layer2[0].downsample
    pooled = F.avg_pool2d(inp, 2, 2, ceil_mode=True, count_include_pad=False)
    want = F.relu(bn(F.conv2d(pooled, projection.weight), norm))
    assert torch.allclose(out, want, atol=1e-5)


# ---- the loss landscape ----------------------------------------------------------------------
@pytest.mark.parametrize("name", WALK, ids=WALK_IDS)
def test_loss_landscape_centre_is_the_models_own_loss(name):
    spec = small(name)
    model = handed_over(spec)
    x, y = batch(spec, n=6)
    with torch.no_grad():
        want = F.cross_entropy(model(x), y).item()
    before = snapshot(model)
    result = loss_landscape(model, (x, y), steps=3, span=0.5, dims=1)
    assert_unchanged(model, before)
    assert result.center_loss == pytest.approx(want, rel=1e-5)
    assert result.loss[1] == pytest.approx(want, rel=1e-5)  # the odd grid's middle point
    assert all(math.isfinite(v) for v in result.loss)


# ---- the effective receptive field -----------------------------------------------------------
@pytest.mark.parametrize("name", WALK, ids=WALK_IDS)
def test_effective_receptive_field_equals_autograd_and_stays_in_its_window(name):
    spec = small(name)
    model = handed_over(spec)
    x, y = batch(spec, n=3)
    before = snapshot(model)
    result = effective_receptive_field(model, (x, y), "layer2")
    assert_unchanged(model, before)
    reference = copy.deepcopy(model).eval()
    caught = []
    reference.layer2.register_forward_hook(lambda m, args, out: caught.append(out))
    pixels = x.clone().requires_grad_(True)
    reference(pixels)
    out = caught[0]
    h, w = out.shape[-2:]
    (grad,) = torch.autograd.grad(out[:, :, h // 2, w // 2].sum(), pixels)
    assert torch.allclose(result.erf, grad.abs().sum(1).mean(0), rtol=1e-4, atol=1e-9)
    window = theoretical_window(spec, "layer2")
    assert result.whole_image == window.whole_image == (spec.attention == "se")
    if not window.whole_image:  # no gradient from outside the theoretical window
        rows, cols = torch.nonzero(result.erf > 0, as_tuple=True)
        half = window.size / 2
        for got, centre in ((rows, result.centre[0]), (cols, result.centre[1])):
            assert centre - half <= float(got.min()) and float(got.max()) <= centre + half


# ---- feature maps and a block's parts --------------------------------------------------------
@pytest.mark.parametrize("name", WALK, ids=WALK_IDS)
def test_skip_parts_add_up_to_the_block_output(name):
    spec = small(name)
    for skip in (True, False):
        model = handed_over(spec.replace(skip=skip))
        x = batch(spec, n=1)[0]
        before = snapshot(model)
        maps = stage_feature_maps(model, x, top_k=3)
        parts = {block: skip_parts(model, x, block) for block in ("layer1.1", "layer2.0")}
        assert_unchanged(model, before)
        assert [m.stage for m in maps] == [f"layer{i}" for i in range(1, len(spec.layers) + 1)]
        for block_name, got in parts.items():
            block = model.get_submodule(block_name)
            inputs = got.inputs[None]
            with torch.no_grad():
                branch = block.branch(inputs)[0]
                finish = F.relu if spec.order == "post" else (lambda t: t)
                assert torch.allclose(got.branch, branch, atol=1e-5), block_name
                if skip:
                    assert torch.allclose(got.shortcut, block.shortcut(inputs)[0], atol=1e-5)
                    assert torch.allclose(got.summed, got.branch + got.shortcut, atol=1e-5)
                    assert torch.allclose(got.output, finish(got.summed), atol=1e-5)
                else:
                    assert got.shortcut is None and got.summed is None
                    assert torch.allclose(got.output, finish(got.branch), atol=1e-5)
