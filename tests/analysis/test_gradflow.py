"""Gradient flow (explorer.analysis.gradflow / sweep / gradflow_figures) against plain torch autograd."""

from __future__ import annotations

import math
import re

import pytest
import torch
import torch.nn.functional as F

from explorer import NetSpec, build, preset
from explorer.analysis import gradflow as gradflow_module
from explorer.analysis.gradflow import gradient_flow, measure_flow
from explorer.analysis.reductions import l2_norm, std
from explorer.figures.gradflow import (
    depth_sweep_figure,
    flow_figure,
    response_std_figure,
    weight_grad_heatmap,
)
from explorer.analysis.sweep import depth_sweep, sweep_spec

SEED = 4
PROJECTION_SPEC = NetSpec(  # option B: a projection shortcut where layer2 changes shape
    block="basic", layers=(1, 2), base_width=8, stem="cifar", num_classes=5, image_size=16
)
SPECS = [
    PROJECTION_SPEC,
    NetSpec(block="bottleneck", layers=(1, 1), base_width=4, shortcut="C", stride_on="1x1",
            norm="none", num_classes=7, image_size=32),
    NetSpec(block="d2l", layers=(1, 1), base_width=8, stem="cifar", in_channels=1,
            num_classes=3, image_size=16),
]


def batch(spec: NetSpec, n: int = 3, seed: int = 11) -> tuple[torch.Tensor, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(n, spec.in_channels, spec.image_size, spec.image_size, generator=gen)
    return x, torch.randint(0, spec.num_classes, (n,), generator=gen)


def manual(spec: NetSpec, x: torch.Tensor, y: torch.Tensor, skip: bool) -> dict:
    """The reference: one loss.backward() with retain_grad on every measured output."""
    model = build(spec.replace(skip=skip), seed=SEED)
    model.train()
    outputs, stds = {}, {}

    def keep(name):
        def hook(module, args, out):
            out.retain_grad()
            outputs[name] = out
        return hook

    def std(name):
        def hook(module, args, out):
            stds[name] = (args[0].std().item(), out.std().item())
        return hook

    model.conv1.register_forward_hook(keep("conv1"))
    model.fc.register_forward_hook(keep("fc"))
    for name, block in model.blocks():
        block.register_forward_hook(keep(name))
        block.last_norm.register_forward_hook(std(name))
    loss = F.cross_entropy(model(x), y)
    loss.backward()
    params = {}
    for full, p in model.named_parameters():
        parts = full.split(".")
        layer = ".".join(parts[:2]) if parts[0].startswith("layer") else (
            "fc" if parts[0] == "fc" else "conv1")
        pname = ".".join(parts[2:]) if layer.startswith("layer") else full
        params[(layer, pname)] = (p.grad.norm().item(), p.detach().norm().item())
    out_grads = {name: out.grad.norm().item() for name, out in outputs.items()}
    return dict(loss=loss.item(), params=params, out_grads=out_grads, stds=stds)


def test_twins_share_every_common_weight():
    spec = PROJECTION_SPEC
    res = dict(build(spec.replace(skip=True), seed=SEED).named_parameters())
    plain = dict(build(spec.replace(skip=False), seed=SEED).named_parameters())
    assert set(plain) < set(res)
    assert all("downsample" in name for name in set(res) - set(plain))
    for name, p in plain.items():
        assert torch.equal(p, res[name]), name
    flow = gradient_flow(spec, seed=SEED, batch_size=4)
    for r_layer, p_layer in zip(flow.residual.layers, flow.plain.layers):
        assert r_layer.name == p_layer.name
        r_norms = {p.name: p.weight_norm for p in r_layer.params}
        for p in p_layer.params:
            assert r_norms[p.name] == p.weight_norm


@pytest.mark.parametrize("spec", SPECS, ids=["basic-B", "bottleneck-C-nonorm", "d2l"])
def test_matches_manual_backward(spec):
    x, y = batch(spec)
    flow = gradient_flow(spec, seed=SEED, inputs=x, targets=y)
    frame = flow.to_frame()
    for skip, res in ((True, flow.residual), (False, flow.plain)):
        ref = manual(spec, x, y, skip)
        assert res.variant == ("residual" if skip else "plain")
        assert res.loss == pytest.approx(ref["loss"], rel=1e-6)
        assert res.conv1_grad_norm == pytest.approx(ref["params"][("conv1", "conv1.weight")][0],
                                                    rel=1e-5)
        measured = {(layer.name, p.name): (p.grad_norm, p.weight_norm)
                    for layer in res.layers for p in layer.params}
        assert set(measured) == set(ref["params"])
        for key, (grad, weight) in ref["params"].items():
            assert measured[key] == pytest.approx((grad, weight), rel=1e-5, abs=1e-12), key
        assert [layer.name for layer in res.layers] == list(ref["out_grads"])  # forward order
        for layer in res.layers:
            assert layer.output_grad_norm == pytest.approx(ref["out_grads"][layer.name], rel=1e-5)
        for block in res.blocks:
            pre, post = ref["stds"][block.name]
            assert (block.prenorm_std, block.response_std) == pytest.approx((pre, post), rel=1e-5)
        row = frame[(frame.variant == res.variant) & (frame.layer == "conv1")
                    & (frame.kind == "weight_grad_norm") & (frame.param == "conv1.weight")]
        assert row.value.item() == pytest.approx(ref["params"][("conv1", "conv1.weight")][0],
                                                 rel=1e-5)


def test_layers_in_depth_order_and_batchnorm_response_is_one():
    flow = gradient_flow(PROJECTION_SPEC, seed=SEED, batch_size=4)
    names = [layer.name for layer in flow.plain.layers]
    assert names == ["conv1", "layer1.0", "layer2.0", "layer2.1", "fc"]
    # Train-mode BatchNorm with gamma=1, beta=0 normalises each channel: std ≈ 1 by construction.
    for block in flow.residual.blocks + flow.plain.blocks:
        assert block.response_std == pytest.approx(1.0, abs=1e-3)


def test_default_batch_is_seeded_normal_and_uniform_labels():
    spec = PROJECTION_SPEC
    gen = torch.Generator().manual_seed(7)
    x = torch.randn(5, 3, 16, 16, generator=gen)
    y = torch.randint(0, 5, (5,), generator=gen)
    default = gradient_flow(spec, seed=7, batch_size=5)
    explicit = gradient_flow(spec, seed=7, inputs=x, targets=y)
    assert default.to_frame().equals(explicit.to_frame())  # also: same inputs, same numbers


def test_caller_targets_are_used_and_inputs_untouched():
    spec = PROJECTION_SPEC
    x, y = batch(spec, n=4)
    x.requires_grad_(True)
    before = x.detach().clone()
    first = gradient_flow(spec, seed=SEED, inputs=x, targets=y)
    other = gradient_flow(spec, seed=SEED, inputs=x, targets=(y + 1) % spec.num_classes)
    assert first.plain.loss != other.plain.loss
    assert first.residual.conv1_grad_norm != other.residual.conv1_grad_norm
    assert x.grad is None and torch.equal(x.detach(), before)
    ref = manual(spec, x.detach(), (y + 1) % spec.num_classes, skip=False)
    assert other.plain.loss == pytest.approx(ref["loss"], rel=1e-6)


def test_mse_loss_matches_torch():
    spec = PROJECTION_SPEC
    x, y = batch(spec)
    flow = gradient_flow(spec, seed=SEED, inputs=x, targets=y, loss="mse")
    model = build(spec, seed=SEED)
    expected = F.mse_loss(model(x), F.one_hot(y, spec.num_classes).float())
    assert flow.residual.loss == pytest.approx(expected.item(), rel=1e-6)


def test_bad_arguments_are_refused():
    spec = PROJECTION_SPEC
    x, y = batch(spec)
    with pytest.raises(ValueError, match="loss"):
        gradient_flow(spec, loss="hinge")
    with pytest.raises(ValueError, match="targets"):
        gradient_flow(spec, inputs=x, targets=y[:2])
    with pytest.raises(ValueError, match="targets"):
        gradient_flow(spec, inputs=x, targets=torch.full_like(y, spec.num_classes))
    with pytest.raises(ValueError, match="inputs"):
        gradient_flow(spec, inputs=x[:, :1], targets=y)
    with pytest.raises(ValueError, match="6n\\+2"):
        sweep_spec("basic", 21)


def _hook_free(model) -> bool:
    return all(
        not m._forward_hooks and not m._forward_pre_hooks and not m._backward_hooks
        and not m._backward_pre_hooks for m in model.modules()
    ) and all(p._backward_hooks is None or not p._backward_hooks for p in model.parameters())


def test_handed_model_is_left_as_found():
    spec = PROJECTION_SPEC
    model = build(spec, seed=SEED)
    model.eval()
    model.layer2.train()  # mixed modes must survive too
    modes = {name: m.training for name, m in model.named_modules()}
    state = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = batch(spec)
    res = measure_flow(model, x, y)
    assert res.variant == "residual"
    assert _hook_free(model)
    assert all(p.grad is None for p in model.parameters())
    assert {name: m.training for name, m in model.named_modules()} == modes
    for key, value in model.state_dict().items():  # BatchNorm running stats included
        assert torch.equal(value, state[key]), key


def test_models_gradient_flow_builds_are_unhooked(monkeypatch):
    built = []

    def spy(make):
        def wrapper(*args, **kwargs):
            built.append(make(*args, **kwargs))
            return built[-1]
        return wrapper

    monkeypatch.setattr(gradflow_module, "build", spy(gradflow_module.build))
    monkeypatch.setattr(gradflow_module, "plain_twin", spy(gradflow_module.plain_twin))
    gradient_flow(PROJECTION_SPEC, seed=SEED, batch_size=2)
    assert [m.spec.skip for m in built] == [True, False]
    plain = dict(built[1].named_parameters())  # the twin shares the residual net's weights...
    reference = dict(build(PROJECTION_SPEC.replace(skip=False), seed=SEED).named_parameters())
    assert plain.keys() == reference.keys()
    assert all(torch.equal(p, reference[name]) for name, p in plain.items())  # ...as build's
    assert all(_hook_free(m) for m in built)
    assert all(p.grad is None for m in built for p in m.parameters())


def stated_ratio(text: str) -> float:
    """The plain/residual ratio a summary states ("4.2×10⁴ times" or "1/83 of"), as a float."""
    found = re.search(r"weight-gradient norm is (1/)?([0-9.]+)(?:×10([⁻⁰¹²³⁴⁵⁶⁷⁸⁹]+))? (times|of)",
                      text)
    assert found, text
    value = float(found[2])
    if found[3]:
        value *= 10 ** int(found[3].translate(str.maketrans("⁻⁰¹²³⁴⁵⁶⁷⁸⁹", "-0123456789")))
    return 1 / value if found[1] else value


@pytest.mark.parametrize("norm, depth", [("none", 20), ("batch", 110)])
def test_summary_states_the_measured_ratio(norm, depth):
    spec = sweep_spec("basic", depth, norm=norm, image_size=16)
    x, y = batch(spec, n=4)
    refs = {skip: manual(spec, x, y, skip) for skip in (True, False)}
    ratio = refs[False]["params"][("conv1", "conv1.weight")][0] / refs[True]["params"][
        ("conv1", "conv1.weight")][0]
    assert ratio < 0.1 if norm == "none" else ratio > 1000  # far from 1: scientific format
    text = gradient_flow(spec, seed=SEED, inputs=x, targets=y).summary()
    assert stated_ratio(text) == pytest.approx(ratio, rel=0.05)
    plain = {k: v for k, v in refs[False]["out_grads"].items() if k != "fc"}
    assert f"largest at {max(plain, key=plain.get)} " in text
    assert f"smallest at {min(plain, key=plain.get)} " in text


def test_sweep_spec_matches_presets():
    assert sweep_spec("basic", 20) == preset("resnet20")
    assert sweep_spec("basic", 110) == preset("resnet110")
    assert sweep_spec("bottleneck", 50, stem="imagenet", image_size=224) == preset("resnet50")
    assert sweep_spec("bottleneck", 152, stem="imagenet", image_size=224) == preset("resnet152")
    assert sweep_spec("basic", 26, stem="imagenet").layers == (3, 3, 4, 2)  # 12 blocks, 3:4:6:3
    assert sweep_spec("bottleneck", 29).layers == (3, 3, 3)  # 9n+2


def test_depth_sweep_trends_with_and_without_batchnorm():
    depths = [8, 14, 20, 32]
    frame = depth_sweep("basic", depths, norm=("batch", "none"), image_size=16, seed=SEED)
    batchnorm = frame[frame.norm == "batch"].ratio.tolist()
    no_norm = frame[frame.norm == "none"].ratio.tolist()
    # With BatchNorm at init the plain net's first-layer gradient grows faster than the residual
    # net's (it explodes); without norm layers it shrinks relative to it.
    assert all(a < b for a, b in zip(batchnorm, batchnorm[1:])), batchnorm
    assert batchnorm[-1] > 5
    assert all(a > b for a, b in zip(no_norm, no_norm[1:])), no_norm
    assert no_norm[-1] < 1e-2
    # One entry against plain torch.
    spec = sweep_spec("basic", 14, norm="none", image_size=16)
    gen = torch.Generator().manual_seed(SEED)
    x = torch.randn(8, 3, 16, 16, generator=gen)
    y = torch.randint(0, 10, (8,), generator=gen)
    model = build(spec.replace(skip=False), seed=SEED)
    F.cross_entropy(model(x), y).backward()
    row = frame[(frame.norm == "none") & (frame.depth == 14)]
    assert row.plain.item() == pytest.approx(model.conv1.weight.grad.norm().item(), rel=1e-5)
    assert row.layers.item() == "2-2-2"


def test_depth_sweep_progress_and_cancel():
    calls = []
    polls = iter(range(100))
    frame = depth_sweep("basic", [8, 14, 20], image_size=8, batch_size=2,
                        on_progress=lambda *a: calls.append(a),
                        should_stop=lambda: next(polls) >= 3)
    assert [c[:2] for c in calls] == [(1, 6), (2, 6), (3, 6)]
    assert frame.depth.tolist() == [8, 14] and frame.attrs["complete"] is False
    assert math.isnan(frame.plain.iloc[1]) and not math.isnan(frame.residual.iloc[1])
    full = depth_sweep("basic", [8], skip=(False,), image_size=8, batch_size=2)
    assert full.attrs["complete"] is True and math.isnan(full.residual.item())


def test_figures_have_both_variants():
    flow = gradient_flow(PROJECTION_SPEC, seed=SEED, batch_size=4)
    for fig in (flow_figure(flow), response_std_figure(flow), response_std_figure(flow, "prenorm")):
        names = " ".join(t.name for t in fig.data)
        assert len(fig.data) == 2 and "residual" in names and "plain" in names
        assert fig.layout.title.text
    heat = weight_grad_heatmap(flow)
    assert [t.name for t in heat.data] == ["residual", "plain"]
    assert list(heat.data[0].x) == ["conv1", "layer1.0", "layer2.0", "layer2.1", "fc"]
    row = list(heat.data[0].y).index("downsample.0.weight")
    assert heat.data[0].z[row][2] is not None and heat.data[1].z[row][2] is None
    assert flow_figure(flow).layout.yaxis.type == "log"
    sweep = depth_sweep("basic", [8, 14], norm=("batch", "none"), image_size=8, batch_size=2)
    fig = depth_sweep_figure(sweep)
    assert len(fig.data) == 4 and fig.layout.yaxis.type == "log"
    assert {t.name for t in fig.data} == {"residual, norm=batch", "plain, norm=batch",
                                          "residual, norm=none", "plain, norm=none"}


@pytest.mark.parametrize("scale, shift", [(1.0, 0.0), (1e25, 0.0), (1e-25, 0.0), (1.0, 1e4),
                                          (3e-12, 0.0), (0.0, 0.0)])
def test_norm_and_std_survive_exploding_and_vanishing_values(scale, shift):
    gen = torch.Generator().manual_seed(0)
    t = torch.randn(10_000, generator=gen) * scale + shift
    exact = t.double()
    assert l2_norm(t).item() == pytest.approx(exact.norm().item(), rel=1e-5, abs=0)
    assert std(t).item() == pytest.approx(exact.std().item(), rel=1e-5, abs=0)


def test_a_narrow_log_axis_writes_its_ticks_in_full():
    import plotly.graph_objects as go

    from explorer.figures.gradflow import _log_axis

    fig = go.Figure(go.Scatter(y=[0.0238, 0.05, 0.267]))
    _log_axis(fig, [0.0238, 0.05, 0.267])
    axis = fig.layout.yaxis
    assert list(axis.tickvals) == [0.02, 0.05, 0.1, 0.2, 0.5]
    assert list(axis.ticktext) == ["0.02", "0.05", "0.1", "0.2", "0.5"]  # not "2", "5"


def test_a_log_axis_spanning_under_three_decades_keeps_several_ticks():
    import plotly.graph_objects as go

    from explorer.figures.gradflow import _log_axis

    values = [0.0031, 0.04, 0.62]  # 2.3 decades: whole decades alone would label 0.01 and 0.1
    fig = go.Figure(go.Scatter(y=values))
    _log_axis(fig, values)
    assert list(fig.layout.yaxis.ticktext) == ["0.002", "0.005", "0.01", "0.02", "0.05", "0.1",
                                               "0.2", "0.5", "1"]
