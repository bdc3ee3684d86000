"""A block diagram of the network drawn with plotly: stem, blocks with skip arcs, head.

Long stages are collapsed (the first block, which may change shape, then one box standing for the
identical repeats) so ResNet-152 stays readable; ``expand=True`` draws every block.
"""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from explorer.nets.spec import NetSpec
from explorer.nets.measure import stage_table
from explorer.figures.style import ACCENT, INK, MUTED, RESIDUAL, STAGE_FILLS

BOX_W, BOX_H, GAP = 1.6, 1.0, 0.9
VISIBLE_BOXES = 14  # boxes in view at once; longer diagrams get an overview slider
LABEL_EVERY = 8
STAGE_COLORS = STAGE_FILLS
SKIP_COLOR, PROJECTION_COLOR, OFF_COLOR = RESIDUAL, ACCENT, MUTED
SHORTCUT_WORDS = {"identity": "identity", "projection": "1×1 projection", "pad": "zero-padded "
                  "identity", "pool": "2×2 average pool, then 1×1 projection (ResNet-D)"}
# He et al. 2016 ("Identity Mappings"): what the skip carries (Fig. 2) and where BN and ReLU
# sit (Fig. 4), in a box's lines and its hover.
ORDER_LINES = {"pre": "BN·ReLU first", "relu_preact": "ReLU first",
               "relu_before_add": "ReLU before ⊕", "bn_after_add": "BN·ReLU after ⊕"}
ORDER_WORDS = {
    "bn_after_add": "BN after addition: the branch ends on its conv, BN → ReLU after ⊕",
    "relu_before_add": "ReLU before addition: the branch ends with BN → ReLU, nothing after ⊕",
    "relu_preact": "ReLU-only pre-activation: ReLU → conv → BN, nothing after ⊕",
    "pre": "pre-activation: BN → ReLU before each conv, nothing after ⊕",
}


def design_words(spec: NetSpec) -> str:
    """What the skip carries, in words ('' for the identity or a plain net)."""
    if not spec.skip:
        return ""
    s, b = spec.skip_scale, spec.gate_bias
    return {
        "identity": "",
        "scaled": f"scaled skip: {s:g}·shortcut + {1 - s:g}·F(x)",
        "exclusive_gate": f"exclusive gate: (1 − g)·shortcut + g·F(x), g = σ(1×1 conv of the "
                          f"block's input + b), b starts at {b:g}",
        "shortcut_gate": f"shortcut-only gate: (1 − g)·shortcut + F(x), g = σ(1×1 conv of the "
                         f"block's input + b), b starts at {b:g}",
        "conv": "1×1 conv on every shortcut",
        "dropout": "dropout 0.5 on the shortcut while training (the identity in eval)",
    }[spec.skip_design]


def _design_mark(spec: NetSpec) -> str | None:
    """The short mark on a skip arc: the scale, the gate or the dropout."""
    return {"scaled": f"× {spec.skip_scale:g}", "exclusive_gate": "gate 1 − g",
            "shortcut_gate": "gate 1 − g", "dropout": "dropout ½"}.get(spec.skip_design)


@dataclass(frozen=True)
class Node:
    label: str
    hover: str
    stage: int  # -1 for stem/head
    shortcut: str | None = None  # None (no block), "identity", "projection", "pad", "pool"
    repeats: int = 1
    stride: int = 1  # the block's stride: 2 where it halves the resolution


def _branch_label(spec: NetSpec, width: int) -> str:
    """The branch's convs, short enough for a box; pre-activation and SE add a line each."""
    if spec.block == "bottleneck":
        inner = int(width * spec.width_per_group / 64) * spec.groups
        grouped = f", g{spec.groups}" if spec.groups > 1 else ""
        lines = [f"1×1, {inner}", f"3×3, {inner}{grouped}", f"1×1, {width * spec.expansion}"]
    else:
        lines = [f"3×3, {width}", f"3×3, {width}"]
    if spec.order in ("pre", "relu_preact"):
        lines.insert(0, ORDER_LINES[spec.order])
    elif spec.order in ORDER_LINES:
        lines.append(ORDER_LINES[spec.order])
    if spec.attention == "se":
        lines.append("+ SE gate")
    if spec.skip and spec.skip_design == "exclusive_gate":
        lines.append("× g")  # the branch is weighed by the gate too
    elif spec.skip and spec.skip_design == "scaled":
        lines.append(f"× {1 - spec.skip_scale:g}")
    return "<br>".join(lines)


def _branch_hover(spec: NetSpec, stride: int) -> str:
    parts = []
    if stride != 1:
        where = ("the first 1×1 conv" if spec.block == "bottleneck" and spec.stride_on == "1x1"
                 else "the 3×3 conv" if spec.block == "bottleneck" else "the first 3×3 conv")
        parts.append(f"downsamples: stride {stride} on {where}")
    if spec.order in ORDER_WORDS:
        parts.append(ORDER_WORDS[spec.order])
    if spec.attention == "se":
        parts.append("SE: global average pool → 1×1 → ReLU → 1×1 → sigmoid scales the "
                     "branch's channels before ⊕")
    if design_words(spec):
        parts.append(design_words(spec))
    return "; ".join(parts)


def _shortcut_kind(spec: NetSpec, first: bool, changes_shape: bool, stride: int = 1) -> str:
    if spec.skip and spec.skip_design == "conv":  # a 1×1 conv on every shortcut
        return "pool" if spec.shortcut == "D" and first and stride != 1 else "projection"
    if spec.shortcut == "C" or (first and changes_shape):
        if spec.shortcut == "A":
            return "pad"
        return "pool" if spec.shortcut == "D" and stride != 1 else "projection"
    return "identity"


def diagram_nodes(spec: NetSpec, expand: bool = False) -> list[Node]:
    """The boxes of the diagram, in order, with their hover text."""
    table = stage_table(spec)
    stem = table.row("stem")
    # Short lines: a box is about 60 px wide on a laptop screen; the hover has the details.
    if spec.stem == "imagenet":
        stem_label = "7×7 conv<br>max-pool"
        stem_hover = "7×7 conv, stride 2; 3×3 max-pool, stride 2"
    elif spec.stem == "deep":
        stem_label = "3 × 3×3 conv<br>max-pool"
        stem_hover = ("deep stem (ResNet-C): three 3×3 convs, the first with stride 2; 3×3 "
                      "max-pool, stride 2")
    else:
        stem_label, stem_hover = "3×3 conv", "3×3 conv, stride 1"
    nodes = [Node(f"stem<br>{stem_label}", f"stem ({stem_hover}) → {_shape(stem.output_shape)}",
                  -1)]
    channels = spec.stem_width
    for i, (blocks, width) in enumerate(zip(spec.layers, spec.stage_widths)):
        row = table.row(f"layer{i + 1}")
        out_channels = width * spec.expansion
        changes_shape = spec.stage_strides[i] != 1 or channels != out_channels
        shown = blocks if expand or blocks <= 2 else 1
        for j in range(shown):
            stride = spec.stage_strides[i] if j == 0 else 1
            kind = _shortcut_kind(spec, j == 0, changes_shape, stride)
            extra = _branch_hover(spec, stride)
            nodes.append(Node(_branch_label(spec, width),
                              f"layer{i + 1}.{j} → {_shape(row.output_shape)}; shortcut: "
                              f"{SHORTCUT_WORDS[kind]}" + (f"; {extra}" if extra else ""),
                              i, kind, stride=stride))
        if shown < blocks:
            kind = _shortcut_kind(spec, False, False)
            rest = blocks - shown
            nodes.append(Node(f"× {rest} more<br>{_branch_label(spec, width)}",
                              f"layer{i + 1}.1–{blocks - 1}: {rest} identical blocks", i, kind,
                              rest))
        if blocks:
            channels = out_channels
    head = table.row("head")
    final = "BN·ReLU<br>" if spec.order == "pre" else ""  # a pre-activation net's last norm
    nodes.append(Node(f"{final}avg-pool<br>fc → {spec.num_classes}",
                      f"head → {_shape(head.output_shape)}", -1))
    return nodes


def _shape(shape: tuple[int, ...]) -> str:
    return "×".join(map(str, shape[1:]))


class _Canvas:
    """Shapes and annotations as plain dicts, handed to plotly once (per-call validation in
    ``add_shape``/``add_annotation`` made a ResNet-152 diagram cost a tenth of a second)."""

    def __init__(self) -> None:
        self.shapes: list[dict] = []
        self.annotations: list[dict] = []

    def add_shape(self, **shape) -> None:
        self.shapes.append(shape)

    def add_annotation(self, **annotation) -> None:
        self.annotations.append(annotation)


def network_diagram(spec: NetSpec, expand: bool = False) -> go.Figure:
    """The diagram as a figure; skip arcs are dashed grey when ``spec.skip`` is off."""
    nodes = diagram_nodes(spec, expand)
    canvas = _Canvas()
    xs = [i * (BOX_W + GAP) for i in range(len(nodes))]
    for x, node in zip(xs, nodes):
        canvas.add_shape(type="rect", x0=x, x1=x + BOX_W, y0=-BOX_H / 2, y1=BOX_H / 2,
                         line=dict(color=INK), fillcolor="white", layer="above")
        canvas.add_annotation(x=x + BOX_W / 2, y=0, text=node.label, showarrow=False,
                              font=dict(size=10))
        if node.stride != 1:  # the block that halves the resolution
            canvas.add_annotation(x=x + BOX_W / 2, y=-0.65, text=f"↓ stride {node.stride}",
                                  showarrow=False, font=dict(size=9, color=INK))
        if node.shortcut:
            _draw_skip(canvas, spec, x, node)
    for x0, x1 in zip(xs, xs[1:]):
        canvas.add_annotation(x=x1, y=0, ax=x0 + BOX_W, ay=0, xref="x", yref="y", axref="x",
                              ayref="y", showarrow=True, arrowhead=2, arrowwidth=1.2, text="")
    bands = _stage_bands(spec, nodes, xs, canvas)
    fig = go.Figure(data=bands, layout=dict(shapes=canvas.shapes,
                                             annotations=canvas.annotations))
    fig.add_scatter(x=[x + BOX_W / 2 for x in xs], y=[0] * len(xs), mode="markers",
                    marker=dict(size=30, opacity=0), hovertext=[n.hover for n in nodes],
                    hoverinfo="text", showlegend=False)
    _legend(fig, spec)
    span = xs[-1] + BOX_W
    long = len(nodes) > VISIBLE_BOXES
    visible = min(span, VISIBLE_BOXES * (BOX_W + GAP))
    fig.update_xaxes(visible=False, range=[-0.5, visible + 0.5])
    fig.update_yaxes(visible=False, range=[-1.0, 2.0], fixedrange=True)
    fig.update_layout(height=300, margin=dict(t=10, b=10, l=10, r=10), plot_bgcolor="white",
                      dragmode="pan", legend=dict(orientation="h", y=-0.05))
    if long:  # an overview of the whole net under the diagram; drag its window to move
        # A hidden axis would hide its range slider too: keep it, without ticks or lines.
        fig.update_xaxes(visible=True, showticklabels=False, showgrid=False, zeroline=False,
                         showline=False, rangeslider=dict(visible=True, thickness=0.22,
                                                          bgcolor="#fafafa",
                                                          range=[-0.5, span + 0.5]))
        fig.update_layout(height=380, legend=dict(orientation="h", y=1.12))
    return fig


def _stage_bands(spec: NetSpec, nodes: list[Node], xs: list[float],
                 canvas: _Canvas) -> list[go.Scatter]:
    """Each stage as a filled band (a trace, so the overview slider shows it too) with its name
    (an annotation: in the overview, names of short stages would run into each other).

    A long stage repeats its label every ``LABEL_EVERY`` boxes, so one is always in view.
    """
    traces = []
    for stage in range(len(spec.layers)):
        members = [x for x, n in zip(xs, nodes) if n.stage == stage]
        if not members:
            continue
        x0, x1 = members[0] - GAP / 3, members[-1] + BOX_W + GAP / 3
        traces.append(go.Scatter(
            x=[x0, x1, x1, x0, x0], y=[-0.8, -0.8, 1.75, 1.75, -0.8], mode="lines",
            fill="toself", fillcolor=STAGE_COLORS[stage % len(STAGE_COLORS)],
            line=dict(width=0), hoverinfo="skip", showlegend=False))
        label = f"<b>layer{stage + 1}</b> ({spec.layers[stage]} blocks)"
        if len(members) > LABEL_EVERY:  # the full label first, then the stage's name again
            spots = members[::LABEL_EVERY]
            labels = [label] + [f"<b>layer{stage + 1}</b>"] * (len(spots) - 1)
            spots = [spots[0] + BOX_W] + spots[1:]
        else:
            spots, labels = [(x0 + x1 - BOX_W) / 2], [label]
        for spot, text in zip(spots, labels):
            canvas.add_annotation(x=spot + BOX_W / 2, y=1.6, text=text, showarrow=False,
                                  font=dict(size=11))
    return traces


def _draw_skip(fig: _Canvas, spec: NetSpec, x: float, node: Node) -> None:
    # A quadratic arc from the block's input over the box to the add node at its output.
    start, end = x - GAP / 4, x + BOX_W + GAP / 4
    if not spec.skip:
        color, dash, width = OFF_COLOR, "dash", 1.2
    elif node.shortcut == "identity":
        color, dash, width = SKIP_COLOR, "solid", 2
    else:
        color, dash, width = PROJECTION_COLOR, "solid", 2.5
    fig.add_shape(type="path", path=f"M {start},0 Q {(start + end) / 2},2.0 {end},0",
                  line=dict(color=color, dash=dash, width=width))
    label = {"projection": "1×1 proj", "pad": "zero-pad",
             "pool": "avg-pool, 1×1"}.get(node.shortcut or "")
    if spec.skip and label:
        fig.add_annotation(x=(start + end) / 2, y=1.15, text=label, showarrow=False,
                           font=dict(size=9, color=PROJECTION_COLOR))
    mark = _design_mark(spec) if spec.skip else None
    if mark:  # the gate, the scale or the dropout, boxed on the arc
        fig.add_annotation(x=(start + end) / 2, y=1.0 + (0.38 if label else 0.0), text=mark,
                           showarrow=False, font=dict(size=9, color=color), bgcolor="white",
                           bordercolor=color, borderwidth=1, borderpad=1)
    fig.add_annotation(x=end, y=0.0, text="⊕" if spec.skip else "", showarrow=False,
                       font=dict(size=16, color=color))


def _legend(fig: go.Figure, spec: NetSpec) -> None:
    entries = ([("identity skip", SKIP_COLOR, "solid"), ("projection / padded / pooled skip",
                                                          PROJECTION_COLOR, "solid")]
               if spec.skip else [("skip removed (plain net)", OFF_COLOR, "dash")])
    for name, color, dash in entries:
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name,
                        line=dict(color=color, dash=dash, width=2))
