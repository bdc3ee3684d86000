"""Deletion curves (Petsiuk et al. 2018) of the Grad-CAM page: one panel per net, one line per
map, the random order dashed grey as the reference."""

from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.deletion import DeletionCurve
from explorer.analysis.deletion_report import halved_at, labelled, removed_share
from explorer.analysis.family_faithfulness import RANDOM_ORDER
from explorer.figures.style import ACCENT, DEPTH_SHADES, MUTED, SECONDARY

# Blue and red mean residual and plain in every figure: the maps take the other colours.
MAP_COLORS = (ACCENT, SECONDARY, DEPTH_SHADES[1], DEPTH_SHADES[2], DEPTH_SHADES[3])
HEIGHT = 420


def map_color(index: int) -> str:
    """The colour of the ``index``-th map (in the order the page lists the methods)."""
    return MAP_COLORS[index % len(MAP_COLORS)]


def deletion_figure(panels: Sequence[tuple[str, Mapping[str, DeletionCurve]]]) -> go.Figure:
    """The class probability against the share of pixels removed, most attributed first.

    Args:
        panels: ``(title, {map name: curve})`` per net, side by side; the curve named
            `RANDOM_ORDER` is drawn as the reference. A map keeps its colour in every panel.
    """
    if not panels:
        raise ValueError("A deletion figure needs at least one net's curves.")
    fig = make_subplots(rows=1, cols=len(panels), shared_yaxes=True,
                        subplot_titles=[title for title, _ in panels], horizontal_spacing=0.06)
    panels = [(title, labelled(curves)) for title, curves in panels]  # Grad-CAM, not gradcam
    names = list(dict.fromkeys(n for _, curves in panels for n in curves if n != RANDOM_ORDER))
    for col, (title, curves) in enumerate(panels, start=1):
        for name, curve in curves.items():
            reference = name == RANDOM_ORDER
            line = (dict(color=MUTED, width=2, dash="dash") if reference
                    else dict(color=map_color(names.index(name)), width=2.5))
            half = halved_at(curve)
            halved = "never halves" if half is None else f"halved at {removed_share(half)}"
            fig.add_scatter(
                x=list(curve.fractions), y=list(curve.probabilities), mode="lines+markers",
                name=name, legendgroup=name, showlegend=col == 1, line=line,
                marker=dict(size=5),
                hovertemplate=(f"{title}<br>{name}: %{{x:.0%}} removed, probability "
                               f"%{{y:.1%}}<br>area {curve.area:.2f}, {halved}"
                               f"<extra></extra>"),
                row=1, col=col)
    fig.update_xaxes(title_text="pixels removed, most attributed first", tickformat=".0%",
                     range=[0, 1])
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_yaxes(title_text="probability of the class", row=1, col=1)
    fig.update_layout(
        height=HEIGHT, margin=dict(t=110, b=80, l=20, r=20),
        legend=dict(orientation="h", y=-0.3, yanchor="top"),  # below the axis titles
        title=dict(text="Deletion curves: the faster a curve falls, the better its map found "
                        "what the net uses",
                   subtitle=dict(text="Removed pixels take the training set's mean colour; "
                                      "the random order is the reference to beat"),
                   y=0.97, yanchor="top", yref="container"))
    return fig
