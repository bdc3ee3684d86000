"""stage_table / estimate / layer_summary against torchinfo and autograd on REAL CPU models."""

from __future__ import annotations

from collections import defaultdict

import pytest
import torch
import torchinfo
import torchvision
from torch import nn

from explorer.nets.model import build
from explorer.nets.spec import NetSpec
from explorer.nets.presets import preset
from explorer.nets.measure import estimate, stage_table
from explorer.analysis.tables import layer_summary, stage_frame

TOP_GROUP = {"conv1": "stem", "bn1": "stem", "relu": "stem", "maxpool": "stem",
             "avgpool": "head", "fc": "head"}

SPECS = {
    "resnet18@64": preset("resnet18").replace(image_size=64),
    "bottleneck-1x1": NetSpec(block="bottleneck", layers=(1, 2, 1, 1), base_width=8,
                              stride_on="1x1", image_size=64, num_classes=10),
    "d2l": NetSpec(block="d2l", layers=(1, 1, 1), base_width=8, in_channels=1, image_size=32,
                   num_classes=10),
    "resnet20": preset("resnet20"),
    "plain": NetSpec(layers=(2, 2), base_width=8, stem="cifar", skip=False, image_size=16),
    "no-norm-C": NetSpec(block="bottleneck", layers=(1, 1), base_width=4, stem="cifar",
                         norm="none", shortcut="C", image_size=16, num_classes=10),
    "empty-stage-A": NetSpec(layers=(1, 0, 2), base_width=8, stem="cifar", shortcut="A",
                             image_size=16, num_classes=10),
    # 32 px over a total stride of 32: the last stage is 1x1 (train-mode BatchNorm would refuse
    # that at batch 1, so the meta trace must not run in train mode).
    "six-stages": NetSpec(layers=(1,) * 6, base_width=2, stem="cifar", image_size=32,
                          num_classes=3),
    # He et al. 2016's skip designs and orders: a gate's 1x1 conv is counted, its products'
    # saved maps are in the estimate.
    "gate-bn-after-add": NetSpec(layers=(1, 1), base_width=8, stem="cifar", image_size=16,
                                 skip_design="exclusive_gate", order="bn_after_add",
                                 num_classes=10),
    "dropout-relu-preact-no-norm": NetSpec(layers=(1, 1), base_width=8, stem="cifar",
                                           image_size=16, skip_design="dropout",
                                           order="relu_preact", norm="none", num_classes=10),
}


def randn(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


def input_shape(spec: NetSpec, batch: int) -> tuple[int, ...]:
    return (batch, spec.in_channels, spec.image_size, spec.image_size)


def torchinfo_by_group(spec: NetSpec, batch: int):
    """torchinfo's leaf rows on a real CPU model, grouped by top-level module name."""
    stats = torchinfo.summary(build(spec), input_size=input_shape(spec, batch), depth=50,
                              verbose=0, mode="eval", device="cpu")
    params: dict[str, int] = defaultdict(int)
    macs: dict[str, int] = defaultdict(int)
    for info in stats.summary_list:
        if info.depth == 0 or not info.is_leaf_layer:
            continue
        top = info
        while top.depth > 1:
            top = top.parent_info
        group = TOP_GROUP.get(top.var_name, top.var_name)
        macs[group] += info.macs
        if not info.is_recursive:  # a module called twice (ReLU) owns its weights once
            params[group] += info.num_params
    return stats, params, macs


def real_stage_shapes(spec: NetSpec, batch: int) -> dict[str, tuple[int, ...]]:
    model = build(spec).eval()
    hook_points = {"stem": "maxpool", "head": "fc",
                   **{f"layer{i + 1}": f"layer{i + 1}" for i in range(len(spec.layers))}}
    shapes: dict[str, tuple[int, ...]] = {}
    handles = [model.get_submodule(target).register_forward_hook(
        lambda _m, _i, out, g=group: shapes.__setitem__(g, tuple(out.shape)))
        for group, target in hook_points.items()]
    try:
        with torch.no_grad():
            model(randn(*input_shape(spec, batch)))
    finally:
        for h in handles:
            h.remove()
    return shapes


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_stage_table_matches_torchinfo_and_a_real_forward(spec):
    batch = 2
    table = stage_table(spec, batch)
    stats, params, macs = torchinfo_by_group(spec, batch)
    names = [r.name for r in table.rows]
    assert names == ["stem"] + [f"layer{i + 1}" for i in range(len(spec.layers))] + ["head"]
    for row in table.rows:
        assert (row.params, row.mult_adds) == (params[row.name], macs[row.name]), row.name
    assert table.total_params == stats.total_params == sum(p.numel() for p in
                                                           build(spec).parameters())
    assert table.total_mult_adds == stats.total_mult_adds
    shapes = real_stage_shapes(spec, batch)
    assert {r.name: r.output_shape for r in table.rows} == shapes
    assert [r.blocks for r in table.rows] == [0, *spec.layers, 0]


def test_empty_stage_row_is_free_and_keeps_the_shape():
    table = stage_table(SPECS["empty-stage-A"], 3)
    empty = table.row("layer2")
    assert (empty.blocks, empty.params, empty.mult_adds, empty.activation_bytes) == (0, 0, 0, 0)
    assert empty.output_shape == table.row("layer1").output_shape == (3, 8, 16, 16)


@pytest.mark.parametrize("name", ["resnet18@64", "no-norm-C", "empty-stage-A"])
def test_stage_table_is_linear_in_the_batch_size(name):
    spec = SPECS[name]
    one = stage_table(spec, 1)
    for batch in (3, 64):
        many = stage_table(spec, batch)
        for a, b in zip(one.rows, many.rows):
            assert b.params == a.params
            assert b.mult_adds == batch * a.mult_adds
            assert b.activation_bytes == batch * a.activation_bytes
            assert b.output_shape == (batch, *a.output_shape[1:])
    assert one.row("head").output_shape == (1, spec.num_classes)


def test_resnet50_totals_match_torchvision_counts():
    table = stage_table(preset("resnet50"))
    assert table.total_params == sum(p.numel() for p in torchvision.models.resnet50().parameters())
    # torchvision documents ResNet-50 at 4.09 GFLOPS (mult-adds) for 224 px.
    assert round(table.total_mult_adds / 1e9, 2) == 4.09


def test_bad_sizes_raise_value_error():
    with pytest.raises(ValueError, match="too small"):
        NetSpec(image_size=16)  # total stride 32: caught when the spec is made
    for bad in (0, -1, 2.0, True):
        with pytest.raises(ValueError, match="batch size"):
            stage_table(preset("resnet20"), bad)


def test_frame_and_dict_agree_with_the_rows():
    table = stage_table(SPECS["resnet20"], 4)
    frame = stage_frame(table)
    assert list(frame["stage"]) == ["stem", "layer1", "layer2", "layer3", "head", "total"]
    assert frame["params"].iloc[-1] == table.total_params == frame["params"].iloc[:-1].sum()
    data = table.to_dict()
    assert data["total"]["mult_adds"] == table.total_mult_adds
    assert NetSpec.from_dict(data["spec"]) == table.spec and data["batch_size"] == 4


# ---- memory estimate --------------------------------------------------------------------
def saved_for_backward_bytes(spec: NetSpec, batch: int) -> int:
    """Bytes of the unique non-parameter, non-input tensors autograd saves in a real forward."""
    model = build(spec)
    x = randn(*input_shape(spec, batch))
    exclude = {t.untyped_storage().data_ptr() for t in [x, *model.parameters(), *model.buffers()]}
    storages: dict[int, int] = {}

    def pack(t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        if storage.data_ptr() not in exclude:
            storages[storage.data_ptr()] = storage.nbytes()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        out = model(x)  # keeps the graph, and so every saved storage, alive while we count
    assert out.requires_grad
    return sum(storages.values())


# Measured on 72 small nets (every block x stem x skip x norm x shortcut), estimate / saved:
# 1.31-1.71 with BatchNorm, 1.56-2.54 without norm layers (the estimate counts every layer's
# output; autograd keeps only those a backward needs, e.g. a ReLU keeps its output, not its
# input). So the estimate is an upper bound, within these factors.
BOUNDS = {"batch": 1.75, "none": 2.6}


@pytest.mark.parametrize("name", ["resnet18@64", "bottleneck-1x1", "d2l", "resnet20", "plain",
                                  "no-norm-C", "empty-stage-A", "gate-bn-after-add",
                                  "dropout-relu-preact-no-norm"])
def test_activation_estimate_bounds_what_autograd_saves(name):
    spec = SPECS[name]
    saved = saved_for_backward_bytes(spec, batch=2)
    ratio = estimate(spec, batch_size=2).activation_bytes / saved
    assert 1.0 <= ratio <= BOUNDS[spec.norm], ratio


def test_estimate_param_and_input_bytes_are_exact():
    spec = SPECS["d2l"]
    model = build(spec)
    params = sum(p.numel() * p.element_size() for p in model.parameters())
    est = estimate(spec, batch_size=5)
    assert est.param_bytes == est.grad_bytes == params
    assert est.input_bytes == randn(*input_shape(spec, 5)).nbytes
    assert est.peak_bytes == params * 2 + est.activation_bytes + est.input_bytes
    assert est.activation_bytes == stage_table(spec, 5).total_activation_bytes


# ---- layer summary ----------------------------------------------------------------------
def test_layer_summary_leaves_the_callers_model_alone():
    spec = preset("resnet18")
    model = build(spec).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    text = layer_summary(spec)
    expected = sum(p.numel() for p in torchvision.models.resnet18().parameters())
    assert f"Total params: {expected:,}" in text
    assert "layer4" in text and "Units." not in text
    assert not model.training
    after = model.state_dict()
    assert after.keys() == before.keys()
    for name, tensor in after.items():
        assert tensor.device.type == "cpu" and torch.equal(tensor, before[name]), name
    assert all(p.grad is None for p in model.parameters())
    assert not any(m._forward_hooks or m._forward_pre_hooks for m in model.modules())


def test_layer_summary_counts_mult_adds_of_the_batch():
    text = layer_summary(preset("resnet20"), batch_size=8, depth=1)
    # torchinfo prints mult-adds in M: the paper's ResNet-20 does ~41M per image.
    total = stage_table(preset("resnet20"), 8).total_mult_adds
    assert f"Total mult-adds (M): {total / 1e6:,.2f}" in text
    assert 40e6 < total / 8 < 42e6
