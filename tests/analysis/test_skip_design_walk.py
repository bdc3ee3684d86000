"""He et al. 2016's skip designs and orders through every analysis (issue 21), on tiny nets:
the lesion of a scaled or gated block as defined in explorer/analysis/lesion.py, the feature
maps' two terms, and gradient flow, Grad-CAM, the ERF and the landscape running on each design
and handing the model back as it was."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from explorer import NetSpec, build
from explorer.analysis.feature_maps import skip_parts
from explorer.analysis.gradcam import grad_cam
from explorer.analysis.gradflow import gradient_flow
from explorer.analysis.landscape import loss_landscape
from explorer.analysis.lesion import deleted, lesion_study
from explorer.analysis.receptive_field import effective_receptive_field
from explorer.nets.spec import Order, SkipDesign

from why_util import assert_unchanged, snapshot

TINY = NetSpec(layers=(2, 1), base_width=4, stem="cifar", shortcut="B", num_classes=4,
               image_size=12)
VARIANTS = [{"skip_design": d} for d in SkipDesign.__args__] + [
    {"order": o} for o in Order.__args__ if o != "post"]
IDS = [next(iter(v.values())) for v in VARIANTS]


def data(spec: NetSpec, n: int = 6):
    gen = torch.Generator().manual_seed(0)
    return (torch.randn(n, 3, spec.image_size, spec.image_size, generator=gen),
            torch.randint(0, spec.num_classes, (n,), generator=gen))


def handed_over(spec: NetSpec):
    model = build(spec, seed=1)
    with torch.no_grad():
        model.train()
        model(data(spec, 8)[0])  # trained-looking BatchNorm statistics
    return model.eval()


@pytest.mark.parametrize("fields", VARIANTS, ids=IDS)
def test_every_analysis_runs_on_every_design_and_order(fields):
    spec = TINY.replace(**fields)
    model = handed_over(spec)
    before = snapshot(model)
    x, y = data(spec)
    lesion = lesion_study(model, (x, y), draws=2)
    assert all(b.deletable for b in lesion.blocks)  # every block has a skip
    cam = grad_cam(model, x[:1], layer="layer2")
    assert cam.heatmap.shape == (12, 12)
    erf = effective_receptive_field(model, (x, y), "layer2")
    assert erf.erf.shape == (12, 12)
    loss_landscape(model, (x, y), steps=3, dims=1)
    parts = skip_parts(model, x[:1], "layer1.1")
    torch.testing.assert_close(parts.summed, parts.branch + parts.shortcut)
    assert_unchanged(model, before)
    flow = gradient_flow(spec, seed=1, batch_size=4)  # the design's net and its plain twin
    assert flow.residual.spec.skip and not flow.plain.spec.skip
    assert all(b.output_grad_norm > 0 for b in flow.residual.blocks)


def test_deleting_a_scaled_block_keeps_its_shortcut_factor():
    model = handed_over(TINY.replace(skip_design="scaled", skip_scale=0.3))
    block = model.layer1[1]
    x = torch.rand(2, 4, 12, 12)  # a post-activation block's input is non-negative
    with torch.no_grad(), deleted(model, ["layer1.1"]):
        torch.testing.assert_close(block(x), 0.3 * x)


def test_deleting_a_gated_block_passes_one_minus_g_of_its_shortcut():
    model = handed_over(TINY.replace(skip_design="exclusive_gate", gate_bias=-1.0))
    block = model.layer1[1]
    x = torch.rand(2, 4, 12, 12)
    g = torch.sigmoid(F.conv2d(x, block.gate.conv.weight, block.gate.conv.bias))
    with torch.no_grad(), deleted(model, ["layer1.1"]):
        torch.testing.assert_close(block(x), (1 - g) * x)


def test_feature_maps_show_the_two_weighed_terms_of_a_gated_block():
    model = handed_over(TINY.replace(skip_design="exclusive_gate", gate_bias=-1.0))
    x = data(TINY, 1)[0]
    block = model.layer1[1]
    inputs = {}
    block.register_forward_pre_hook(lambda m, args: inputs.update(x=args[0]))
    with torch.no_grad():
        model(x)
        h = inputs["x"]
        g = torch.sigmoid(F.conv2d(h, block.gate.conv.weight, block.gate.conv.bias))
        branch = block.branch(h)
    parts = skip_parts(model, x, "layer1.1")
    torch.testing.assert_close(parts.shortcut, ((1 - g) * h)[0])
    torch.testing.assert_close(parts.branch, (g * branch)[0])
    torch.testing.assert_close(parts.output, F.relu(parts.summed))
