"""Compare skip designs (issue 21): each variant's numbers equal an independent backward pass of
`build(variant, seed)`, weights are shared by name, the variants are the ones asked for, and the
CLI prints the issue's JSON shape."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from explorer import NetSpec, build
from explorer.analysis.designs import (DESIGNS, ORDERS, compare_designs, measure_blocks,
                                       variant_spec, variants_of)
from explorer.analysis.gradflow import random_batch
from explorer.cli.main import main

TINY = NetSpec(layers=(2, 1), base_width=4, stem="cifar", shortcut="A", num_classes=3,
               image_size=8)


def independent(spec: NetSpec, seed: int, x: torch.Tensor, y: torch.Tensor):
    """A fresh build, a plain forward and ``loss.backward()``: every block output's gradient
    and every branch output's std, read with ``retain_grad``."""
    model = build(spec, seed=seed).train()
    outputs, branches = {}, {}
    for name, block in model.blocks():
        block.register_forward_hook(lambda m, i, o, n=name: outputs.__setitem__(n, o))
        block.last_layer.register_forward_hook(lambda m, i, o, n=name: branches.__setitem__(n, o))
    logits = model(x)
    for out in outputs.values():
        out.retain_grad()
    loss = F.cross_entropy(logits, y)
    loss.backward()
    return loss.item(), {n: (o.grad.norm().item(), branches[n].std().item())
                         for n, o in outputs.items()}


@pytest.fixture(scope="module")
def comparison():
    return compare_designs(TINY, designs=DESIGNS, orders=ORDERS, seed=3, batch_size=4)


def test_every_variant_equals_an_independent_backward(comparison):
    x, y = random_batch(TINY, 4, seed=3)
    assert [v.variant for v in comparison.variants] == (
        [f"skip_design={d}" for d in DESIGNS] + [f"order={o}" for o in ORDERS])
    for variant in comparison.variants:
        loss, want = independent(variant.spec, 3, x, y)
        assert variant.loss == pytest.approx(loss, rel=1e-6)
        assert [b.block for b in variant.blocks] == list(want)
        for b in variant.blocks:
            grad, spread = want[b.block]
            assert b.grad_norm == pytest.approx(grad, rel=1e-5), (variant.variant, b.block)
            assert b.response_std == pytest.approx(spread, rel=1e-5), (variant.variant, b.block)


def test_designs_differ_and_the_reference_is_the_identity_or_post(comparison):
    identity = comparison.variant("skip_design=identity")
    assert comparison.reference_for(comparison.variant("skip_design=scaled")) is identity
    assert comparison.reference_for(comparison.variant("order=pre")).variant == "order=post"
    firsts = {v.variant: v.first.grad_norm for v in comparison.variants}
    assert len({round(g, 9) for g in firsts.values()}) >= 8  # the variants are different nets
    # identity and post of a post spec are the same net: measured once, the same numbers
    assert firsts["skip_design=identity"] == firsts["order=post"]


def test_variants_share_weights_by_name_and_keep_their_numbers():
    spec = TINY.replace(skip_design="scaled", skip_scale=0.3)
    specs = dict(variants_of(spec, designs=DESIGNS))
    assert specs["skip_design=scaled"].skip_scale == 0.3
    assert specs["skip_design=identity"].skip_scale == 0.5  # the default: refused otherwise
    assert variant_spec(TINY, "skip_design", "shortcut_gate", gate_bias=-2.0).gate_bias == -2.0
    a = build(specs["skip_design=exclusive_gate"], seed=1).state_dict()
    b = build(specs["skip_design=conv"], seed=1).state_dict()
    shared = set(a) & set(b)
    assert "layer1.0.conv1.weight" in shared
    assert all(torch.equal(a[k], b[k]) for k in shared)


def test_refused_variants_and_names_say_which():
    with pytest.raises(ValueError, match="order=bn_after_add: 'Zero-init last BN'"):
        variants_of(TINY.replace(zero_init_residual=True), designs=(), orders=("bn_after_add",))
    with pytest.raises(ValueError, match="Unknown skip_design 'gated'"):
        variants_of(TINY, designs=("gated",))
    with pytest.raises(ValueError, match="at least one"):
        variants_of(TINY, designs=(), orders=())


def test_measure_leaves_the_model_as_found_and_progress_is_reported():
    model = build(TINY.replace(skip_design="dropout"), seed=0).eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = random_batch(TINY, 2, seed=0)
    measure_blocks(model, x, y)
    assert not model.training and all(p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    seen = []
    compare_designs(TINY, designs=("identity", "scaled"), batch_size=2,
                    on_progress=lambda done, total, msg: seen.append((done, total)))
    assert seen == [(0, 2), (1, 2), (2, 2)]


def test_frame_and_dict_hold_every_block(comparison):
    frame = comparison.to_frame()
    assert len(frame) == len(comparison.variants) * 3
    assert list(frame.columns) == ["variant", "position", "block", "grad_norm", "response_std",
                                   "loss"]
    data = comparison.to_dict()
    assert data["variants"][1]["variant"] == "skip_design=scaled"
    assert data["variants"][1]["blocks"][0]["block"] == "layer1.0"


def test_cli_prints_the_issues_json_shape(capsys):
    argv = ["gradflow", "--preset", "resnet20", "--designs", "identity,scaled",
            "--orders", "post,pre", "--batch-size", "2", "--device", "cpu", "--json"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert [v["variant"] for v in data["variants"]] == [
        "skip_design=identity", "skip_design=scaled", "order=post", "order=pre"]
    blocks = data["variants"][1]["blocks"]
    assert [b["block"] for b in blocks][:2] == ["layer1.0", "layer1.1"] and len(blocks) == 9
    assert all(isinstance(b["grad_norm"], float) for b in blocks)
    want = compare_designs(NetSpec.from_dict(data["spec"]), designs=("identity", "scaled"),
                           orders=("post", "pre"), batch_size=2)
    assert data == json.loads(json.dumps(want.to_dict()))


def test_cli_words_and_refusals(capsys):
    assert main(["gradflow", "--preset", "resnet20", "--designs", "identity,exclusive_gate",
                 "--gate-bias", "-9", "--batch-size", "2", "--device", "cpu"]) == 0
    out = capsys.readouterr().out
    assert "skip_design=exclusive_gate" in out and "With the exclusive gate" in out
    assert "He et al. 2016 did not train the exclusive gate with gate bias -9." in out
    assert main(["gradflow", "--preset", "resnet20", "--orders", "sideways"]) == 2
    assert "Unknown order 'sideways'" in capsys.readouterr().err
