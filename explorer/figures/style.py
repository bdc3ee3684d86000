"""The one palette every figure uses: residual blue, plain red, and their derived shades."""

from __future__ import annotations

RESIDUAL = "#1f77b4"
PLAIN = "#d62728"
ACCENT = "#ff7f0e"  # projections, padding, second quantities
SECONDARY = "#2ca02c"
MUTED = "#9e9e9e"  # removed skips, chance lines, reference lines
INK = "#455a64"  # outlines and text on diagrams
VARIANT_COLORS = {"residual": RESIDUAL, "plain": PLAIN}
# Two nets' held-out points often coincide (one epoch, or both at chance): shapes keep both seen.
VARIANT_MARKERS = {"residual": dict(symbol="circle", size=9),
                   "plain": dict(symbol="diamond-open", size=12, line=dict(width=2))}
DEPTH_DASHES = ("solid", "dash", "dot", "dashdot")
STAGE_FILLS = ("#e3f2fd", "#fff3e0", "#e8f5e9", "#fce4ec", "#ede7f6", "#e0f7fa")
DEPTH_SHADES = ("#2ca02c", "#9467bd", "#8c564b", "#17becf", "#bcbd22", "#7f7f7f")


# Networks side by side (the Compare page): blue, orange, green, purple; red stays "plain".
NETWORK_COLORS = (RESIDUAL, ACCENT, SECONDARY, "#9467bd")


def network_color(index: int) -> str:
    """The colour of the ``index``-th network compared (in the order the page lists them)."""
    return NETWORK_COLORS[index % len(NETWORK_COLORS)]


def depth_color(index: int) -> str:
    """A distinct colour for the ``index``-th depth (shallow first)."""
    return DEPTH_SHADES[index % len(DEPTH_SHADES)]


# He et al. 2016's skip designs and activation orders side by side (Gradient flow): the identity
# design and the original order keep the residual blue; red stays "plain".
DESIGN_COLORS = {
    "identity": RESIDUAL, "scaled": ACCENT, "exclusive_gate": SECONDARY,
    "shortcut_gate": "#9467bd", "conv": "#8c564b", "dropout": "#e377c2",
    "post": RESIDUAL, "bn_after_add": "#17becf", "relu_before_add": "#bcbd22",
    "relu_preact": "#7f7f7f", "pre": "#1a237e",
}
# ... and the two kinds of variant: a skip design solid, an activation order dashed.
VARIANT_FIELD_DASHES = {"skip_design": "solid", "order": "dash"}
