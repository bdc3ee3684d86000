"""The network diagram: what it collapses, which skips it marks, and how."""

from explorer import PRESETS, NetSpec
from explorer.figures.diagram import PROJECTION_COLOR, diagram_nodes, network_diagram


def test_resnet152_collapses_long_stages_and_expands_on_demand():
    spec = PRESETS["resnet152"]
    collapsed = diagram_nodes(spec)
    # stem, (first block + "× n-1 more") per stage, head
    assert len(collapsed) == 1 + 2 * 4 + 1
    assert [n.repeats for n in collapsed if n.stage == 2] == [1, 35]
    assert "× 35 more" in collapsed[6].label
    expanded = diagram_nodes(spec, expand=True)
    assert len(expanded) == 1 + sum(spec.layers) + 1


def test_shortcut_kinds_follow_the_option():
    b = [n.shortcut for n in diagram_nodes(PRESETS["resnet18"], expand=True) if n.shortcut]
    # option B: a projection exactly where torchvision has `downsample` (first block of 2, 3, 4)
    assert b == ["identity", "identity", "projection", "identity"] + ["projection", "identity"] * 2
    a = [n.shortcut for n in diagram_nodes(PRESETS["resnet20"], expand=True) if n.shortcut]
    assert a.count("pad") == 2 and a.count("projection") == 0
    c = NetSpec(layers=(1, 1), shortcut="C", image_size=64)
    assert all(n.shortcut == "projection" for n in diagram_nodes(c) if n.shortcut)


def test_skip_off_draws_dashed_arcs_and_no_projection_labels():
    fig = network_diagram(PRESETS["resnet18"].replace(skip=False))
    arcs = [s for s in fig.layout.shapes if s.type == "path"]
    assert len(arcs) == 8 and all(a.line.dash == "dash" for a in arcs)
    assert not any(a.text == "1×1 proj" for a in fig.layout.annotations)
    on = network_diagram(PRESETS["resnet18"])
    colors = [s.line.color for s in on.layout.shapes if s.type == "path"]
    assert colors.count(PROJECTION_COLOR) == 3


def test_hover_text_carries_stage_output_shapes():
    nodes = diagram_nodes(PRESETS["resnet50"])
    assert "layer4.0 → 2048×7×7" in nodes[-3].hover
    assert nodes[-1].hover == "head → 1000"


def _labels(spec, expand=True):
    from explorer.figures.diagram import network_diagram

    fig = network_diagram(spec, expand=expand)
    return [a.text for a in fig.layout.annotations]


def test_the_block_that_downsamples_is_marked_and_said_where():
    from explorer import PRESETS
    from explorer.figures.diagram import diagram_nodes

    nodes = diagram_nodes(PRESETS["resnet20"], expand=True)
    strided = [n for n in nodes if n.stride != 1]
    assert [n.hover.split(" ")[0] for n in strided] == ["layer2.0", "layer3.0"]
    assert "stride 2 on the first 3×3 conv" in strided[0].hover
    assert _labels(PRESETS["resnet20"]).count("↓ stride 2") == 2
    r50 = diagram_nodes(PRESETS["resnet50"])
    assert "stride 2 on the 3×3 conv" in next(n for n in r50 if n.stride != 1).hover


def test_the_family_is_drawn_se_pre_activation_resnet_d_deep_stem_groups():
    from explorer import PRESETS

    se = _labels(PRESETS["seresnet18"])
    assert any("+ SE gate" in t for t in se)
    pre = _labels(PRESETS["resnetv2_50"])
    assert any(t.startswith("BN·ReLU first") for t in pre)
    assert any(t.startswith("BN·ReLU<br>avg-pool") for t in pre)  # the final norm before the pool
    d = _labels(PRESETS["resnet50d"])
    assert "avg-pool, 1×1" in d and any(t.startswith("stem<br>3 × 3×3 conv") for t in d)
    assert any("3×3, 128, g32" in t for t in _labels(PRESETS["resnext50_32x4d"]))
    assert not any("+ SE gate" in t for t in _labels(PRESETS["resnet18"]))


def test_the_overview_slider_carries_no_text_that_could_overlap():
    from explorer import PRESETS
    from explorer.figures.diagram import network_diagram

    fig = network_diagram(PRESETS["resnet152"], expand=True)
    assert not [t for t in fig.data if t.mode and "text" in t.mode]  # traces show in the slider
    assert sum("<b>layer3</b>" in a.text for a in fig.layout.annotations) >= 2  # main view


# ---- He et al. 2016: skip designs on the arcs, orders in the boxes ----------------------
def _marks(spec):
    return [a.text for a in network_diagram(spec, expand=True).layout.annotations
            if a.bordercolor]


def test_the_gate_the_scale_and_the_dropout_are_drawn_on_every_skip_arc_and_said_in_hover():
    r20 = PRESETS["resnet20"]
    assert _marks(r20) == []
    for design, mark, words in (
            ("scaled", "× 0.5", "scaled skip: 0.5·shortcut + 0.5·F(x)"),
            ("exclusive_gate", "gate 1 − g", "exclusive gate: (1 − g)·shortcut + g·F(x)"),
            ("shortcut_gate", "gate 1 − g", "shortcut-only gate: (1 − g)·shortcut + F(x)"),
            ("dropout", "dropout ½", "dropout 0.5 on the shortcut while training")):
        spec = r20.replace(skip_design=design)
        assert _marks(spec) == [mark] * 9, design
        blocks = [n for n in diagram_nodes(spec, expand=True) if n.shortcut]
        assert all(words in n.hover for n in blocks), design
        assert _marks(spec.replace(skip=False)) == []  # the plain twin has no skip to weigh
    gated = diagram_nodes(r20.replace(skip_design="exclusive_gate", gate_bias=-7.0))
    assert "b starts at -7" in gated[1].hover and "× g" in gated[1].label
    assert "× 0.7" in diagram_nodes(r20.replace(skip_design="scaled", skip_scale=0.3))[1].label


def test_the_conv_design_projects_every_shortcut_even_on_option_a():
    spec = PRESETS["resnet20"].replace(skip_design="conv")
    kinds = [n.shortcut for n in diagram_nodes(spec, expand=True) if n.shortcut]
    assert kinds == ["projection"] * 9
    colors = [s.line.color for s in network_diagram(spec).layout.shapes if s.type == "path"]
    assert set(colors) == {PROJECTION_COLOR}


def test_each_order_is_named_in_its_boxes():
    r20 = PRESETS["resnet20"]
    for order, line in (("bn_after_add", "BN·ReLU after ⊕"), ("relu_before_add", "ReLU before ⊕"),
                        ("relu_preact", "ReLU first"), ("pre", "BN·ReLU first")):
        block = diagram_nodes(r20.replace(order=order))[1]
        assert line in block.label.split("<br>"), order
        assert order != "relu_preact" or "ReLU-only pre-activation" in block.hover
