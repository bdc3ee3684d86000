"""The skip-design comparison (`compare_designs`): gradient and branch response along depth."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.designs import DesignComparison
from explorer.analysis.designs_report import name
from explorer.figures.gradflow import _depth_ticks, _log_axis, _numbers, _positive
from explorer.figures.style import DESIGN_COLORS, VARIANT_FIELD_DASHES

DASHES = VARIANT_FIELD_DASHES


def designs_figure(comparison: DesignComparison) -> go.Figure:
    """Left: ‖∂loss/∂output‖ of every block (log y), one line per variant. Right: the std of
    every block's branch response F(x) (He et al. 2015's Fig. 7 quantity). Orders are dashed."""
    fig = make_subplots(rows=1, cols=2, horizontal_spacing=0.09, subplot_titles=(
        "Gradient reaching each block, ‖∂loss/∂output‖", "Std of each branch's response F(x)"))
    for variant in comparison.variants:
        blocks = [b.block for b in variant.blocks]
        style = dict(color=DESIGN_COLORS.get(variant.value), dash=DASHES[variant.field])
        grads = [_positive(b.grad_norm) for b in variant.blocks]
        stds = [_positive(b.response_std) for b in variant.blocks]
        label = f"{name(variant)} ({variant.variant})"
        for col, values, what in ((1, grads, "‖∂L/∂output‖"), (2, stds, "std of F(x)")):
            fig.add_trace(go.Scatter(
                x=blocks, y=values, mode="lines", name=label, legendgroup=variant.variant,
                showlegend=col == 1, line=dict(width=2, **style), text=_numbers(values),
                hovertemplate="%{x}<br>" + what + " = %{text}<extra>" + variant.variant
                + "</extra>"), row=1, col=col)
    fig.update_layout(
        title=dict(text="Which skip? Gradient and branch response along depth, at init",
                   subtitle=dict(text=f"{comparison.spec.depth} layers; the same batch of "
                                 f"{comparison.batch_size} and the same initial weights "
                                 "wherever the variants share a layer; train-mode pass")),
        hovermode="closest", legend=dict(orientation="h", y=-0.25), height=470,
        margin=dict(t=110))
    names = [b.block for b in comparison.variants[0].blocks]
    for col in (1, 2):
        _depth_ticks(fig, names, row=1, col=col)
        fig.update_xaxes(title_text="block (input → output)", row=1, col=col)
    grads = [v for t in fig.data[0::2] for v in t.y if v is not None]
    _log_axis(fig, grads)
    fig.update_yaxes(title_text="gradient norm (log scale)", row=1, col=1)
    fig.update_yaxes(type="linear", dtick=None, tickmode="auto", rangemode="tozero",
                     title_text="standard deviation", row=1, col=2)
    return fig
