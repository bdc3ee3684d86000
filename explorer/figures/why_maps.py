"""Figures of effective receptive fields, feature maps and a block's skip, residual vs plain."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.analysis.feature_maps import SkipParts, StageMaps
from explorer.analysis.receptive_field import ErfResult

THEORETICAL_COLOR = "#ff7f0e"
MASS_COLOR = "#ffffff"


def _square(fig: go.Figure, centre: tuple[float, float], side: float, color: str, dash: str,
            row: int, col: int) -> None:
    """A square of ``side`` pixels centred on pixel ``centre``, drawn on pixel edges."""
    half = side / 2
    fig.add_shape(type="rect", x0=centre[1] - half, x1=centre[1] + half, y0=centre[0] - half,
                  y1=centre[0] + half, line=dict(color=color, dash=dash, width=2),
                  row=row, col=col)


def _axis(index: int, letter: str) -> str:
    return f"{letter}{index if index > 1 else ''}"


def _square_cells(fig: go.Figure, count: int) -> None:
    """Keep every heatmap's pixels square, whatever the figure's width."""
    for i in range(1, count + 1):
        fig.layout[_axis(i, "yaxis")].update(scaleanchor=_axis(i, "x"), constrain="domain")
        fig.layout[_axis(i, "xaxis")].update(constrain="domain")


def erf_figure(panels: list[tuple[str, ErfResult]], columns: int = 2) -> go.Figure:
    """ERF heatmaps (each divided by its maximum) with the theoretical field as an orange square
    and the square holding 95% of the gradient's mass dashed in white."""
    rows = (len(panels) + columns - 1) // columns
    fig = make_subplots(rows=rows, cols=columns, subplot_titles=[t for t, _ in panels],
                        horizontal_spacing=0.06, vertical_spacing=0.1)
    for i, (title, result) in enumerate(panels):
        row, col = i // columns + 1, i % columns + 1
        peak = float(result.erf.max())
        z = (result.erf / peak if peak > 0 else result.erf).tolist()
        fig.add_trace(go.Heatmap(z=z, coloraxis="coloraxis", name=title,
                                 hovertemplate="row %{y}, col %{x}<br>%{z:.3f} of the peak"
                                 "<extra></extra>"), row=row, col=col)
        _square(fig, result.centre, result.theoretical, THEORETICAL_COLOR, "solid", row, col)
        side = result.mass_side()
        if side:
            _square(fig, result.centre, side, MASS_COLOR, "dash", row, col)
        size = result.erf.shape[0]
        fig.update_yaxes(autorange=False, range=[size - 0.5, -0.5], row=row, col=col,
                         showticklabels=False)
        fig.update_xaxes(range=[-0.5, result.erf.shape[1] - 0.5], row=row, col=col,
                         showticklabels=False)
    _square_cells(fig, rows * columns)
    fig.update_layout(coloraxis=dict(colorscale="Inferno", cmin=0, cmax=1,
                                     colorbar=dict(title="|∂y/∂x|<br>÷ peak")),
                      height=380 * rows, margin=dict(t=90, b=10),
                      title="Effective receptive field: orange = theoretical field, "
                            "dashed = 95% of the gradient")
    return fig


def feature_grid_figure(maps: list[StageMaps], title: str) -> go.Figure:
    """One row per stage, its ``k`` strongest channels as small heatmaps (one scale per row)."""
    k = max(len(m.channels) for m in maps)
    fig = make_subplots(rows=len(maps), cols=k, horizontal_spacing=0.01, vertical_spacing=0.04,
                        row_titles=[m.stage for m in maps])
    for r, stage in enumerate(maps, start=1):
        top = float(stage.maps.max()) or 1.0
        for c, (channel, mean) in enumerate(zip(stage.channels, stage.means), start=1):
            fig.add_trace(go.Heatmap(
                z=stage.maps[c - 1].tolist(), zmin=0, zmax=top, colorscale="Viridis",
                showscale=False, hovertemplate=f"{stage.stage} channel {channel}<br>"
                f"mean {mean:.3g}<br>%{{z:.3g}}<extra></extra>"), row=r, col=c)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False,
                     autorange="reversed")
    _square_cells(fig, len(maps) * k)
    fig.update_layout(height=max(150 * len(maps), 260), margin=dict(t=50, b=10, l=10, r=40),
                      title=title)
    return fig


def _channel_view(t: torch.Tensor, channel: int | None) -> list:
    return (t.mean(0) if channel is None else t[channel]).tolist()


def skip_figure(parts: dict[str, SkipParts], channel: int | None = None) -> go.Figure:
    """Per net: x (what the skip carries), F(x), F(x) + x and the block's output.

    Shows the mean over channels, or one channel; signed values on one diverging scale per row.
    """
    columns = ["x (via the skip)", "F(x) (the branch)", "F(x) + x", "output = relu(·)"]
    fig = make_subplots(rows=len(parts), cols=4, column_titles=columns,
                        row_titles=list(parts), horizontal_spacing=0.02, vertical_spacing=0.06)
    for r, (name, p) in enumerate(parts.items(), start=1):
        tensors = [p.shortcut, p.branch, p.summed, p.output]
        shown = [None if t is None else _channel_view(t, channel) for t in tensors]
        top = max((abs(v) for z in shown if z for row in z for v in row), default=1.0) or 1.0
        for c, z in enumerate(shown, start=1):
            if z is None:
                index = (r - 1) * 4 + c
                xs, ys = (fig.layout[_axis(index, a)].domain for a in ("xaxis", "yaxis"))
                fig.add_annotation(text="no skip", showarrow=False, xref="paper",
                                   yref="paper", x=sum(xs) / 2, y=sum(ys) / 2)
                continue
            fig.add_trace(go.Heatmap(z=z, zmin=-top, zmax=top, zmid=0, colorscale="RdBu_r",
                                     showscale=c == 4 and r == 1,
                                     hovertemplate="%{z:.3g}<extra>" + name + "</extra>"),
                          row=r, col=c)
    fig.update_xaxes(showticklabels=False)
    fig.update_yaxes(showticklabels=False, autorange="reversed")
    _square_cells(fig, len(parts) * 4)
    what = "mean over channels" if channel is None else f"channel {channel}"
    block = next(iter(parts.values())).block
    fig.update_layout(height=230 * len(parts) + 60, margin=dict(t=70, b=10),
                      title=f"What the skip adds in {block} ({what})")
    return fig
