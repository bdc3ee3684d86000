"""Plotly figures of the stage table (the Architecture page's charts)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.nets.measure import StageTable
from explorer.figures.style import ACCENT, RESIDUAL, SECONDARY



def stage_bars(table: StageTable) -> go.Figure:
    """Parameters and mult-adds per stage, side by side (log scale: the head is tiny)."""
    names = [r.name for r in table.rows]
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Parameters", "Mult-adds"))
    fig.add_bar(x=names, y=[r.params for r in table.rows], marker_color=RESIDUAL,
                name="parameters", hovertemplate="%{x}: %{y:,} parameters<extra></extra>",
                row=1, col=1)
    fig.add_bar(x=names, y=[r.mult_adds for r in table.rows], marker_color=ACCENT,
                name="mult-adds", hovertemplate="%{x}: %{y:.3s} mult-adds<extra></extra>",
                row=1, col=2)
    # Whole decades only: the 2s and 5s between them crowd a 340 px chart.
    fig.update_yaxes(type="log", dtick=1, row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, row=1, col=2)
    fig.update_layout(showlegend=False, height=340, margin=dict(t=40, b=20, l=20, r=20))
    return fig


def shape_flow(table: StageTable) -> go.Figure:
    """Spatial size and channel count after each stage: resolution falls as width grows."""
    rows = [r for r in table.rows if r.name != "head"]
    names = [r.name for r in rows]
    fig = make_subplots(specs=[[{"secondary_y": True}]])
    fig.add_scatter(x=names, y=[r.output_shape[-1] for r in rows], mode="lines+markers",
                    name="spatial size (px)", line=dict(color=RESIDUAL, width=3),
                    hovertemplate="%{x}: %{y}×%{y} px<extra></extra>", secondary_y=False)
    fig.add_scatter(x=names, y=[r.output_shape[1] for r in rows], mode="lines+markers",
                    name="channels", line=dict(color=SECONDARY, width=3, dash="dot"),
                    hovertemplate="%{x}: %{y} channels<extra></extra>", secondary_y=True)
    # Both axes on log2 scales ticked at the sizes that occur (not at 0, 91, 183, ...).
    sizes = sorted({r.output_shape[-1] for r in rows})
    channels = sorted({r.output_shape[1] for r in rows})
    fig.update_yaxes(title_text="spatial size (px)", type="log", tickmode="array",
                     tickvals=sizes, ticktext=[str(v) for v in sizes], secondary_y=False)
    fig.update_yaxes(title_text="channels", type="log", tickmode="array", tickvals=channels,
                     ticktext=[str(v) for v in channels], showgrid=False, secondary_y=True)
    fig.update_layout(height=340, margin=dict(t=40, b=20, l=20, r=20),
                      title_text="Resolution falls as width grows",
                      legend=dict(orientation="h", y=-0.2))
    return fig
