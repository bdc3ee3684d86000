"""Plotly figures of the stage table (the Architecture page's charts)."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.nets.measure import StageTable
from explorer.figures.style import ACCENT, RESIDUAL, SECONDARY
from explorer.units import format_count


def stage_bars(table: StageTable) -> go.Figure:
    """Parameters and mult-adds per stage, side by side (log scale: the head is tiny).

    Ticks in SI units (``1G``); the hover gives each bar in SI units (``165.65 G``) and its
    exact count. No labels on the bars: the page draws this chart in half its width.
    """
    names = [r.name for r in table.rows]
    per = "one image" if table.batch_size == 1 else f"batch of {table.batch_size:,}"
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Parameters", f"Mult-adds ({per})"),
                        horizontal_spacing=0.16)
    for col, (values, color, what) in enumerate((
            ([r.params for r in table.rows], RESIDUAL, "parameters"),
            ([r.mult_adds for r in table.rows], ACCENT, "mult-adds")), start=1):
        fig.add_bar(x=names, y=values, marker_color=color, name=what,
                    text=[format_count(v) for v in values], textposition="none",
                    customdata=[f"{v:,}" for v in values],
                    hovertemplate="%{x}: %{text} " + what + "<br>exactly %{customdata}"
                    "<extra></extra>", row=1, col=col)
        low, high = _log_range(values)
        # Whole decades only: the 2s and 5s between them crowd a 340 px chart. SI suffixes
        # (k, M, G) as everywhere else, not plotly's default B for billions.
        decades = [10**e for e in range(math.ceil(low), math.floor(high) + 1)]
        ticks = (dict(tickmode="array", tickvals=decades, ticktext=[si_tick(v) for v in decades])
                 if len(decades) >= 2 else dict(exponentformat="SI"))  # within one decade
        fig.update_yaxes(type="log", range=[low, high], title_text="log scale",
                         title_standoff=4, row=1, col=col, **ticks)
    fig.update_layout(showlegend=False, height=340, margin=dict(t=40, b=20, l=20, r=20))
    return fig


def si_tick(value: float) -> str:
    """A decade's tick label: ``1``, ``100``, ``1k``, ``10M``, ``100G``, ``1T``."""
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if value >= scale:
            return f"{value / scale:g}{unit}"
    return f"{value:g}"


def _log_range(values: list[int]) -> tuple[float, float]:
    """A log axis from a little below the smallest bar to a little above the tallest."""
    shown = [v for v in values if v > 0] or [1]
    return math.log10(min(shown)) - 0.3, math.log10(max(shown)) + 0.2


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
    fig.update_yaxes(title_text="spatial size (px, log scale)", type="log", tickmode="array",
                     tickvals=sizes, ticktext=[str(v) for v in sizes], secondary_y=False)
    fig.update_yaxes(title_text="channels (log scale)", type="log", tickmode="array",
                     tickvals=channels, ticktext=[str(v) for v in channels], showgrid=False, secondary_y=True)
    fig.update_layout(height=340, margin=dict(t=40, b=20, l=20, r=20),
                      title_text="Resolution falls as width grows",
                      legend=dict(orientation="h", y=-0.2))
    return fig
