"""Figures of effective receptive fields, feature maps and a block's skip, residual vs plain."""

from __future__ import annotations

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots

from explorer.analysis.feature_maps import SkipParts, StageMaps
from explorer.analysis.receptive_field import ErfResult
from explorer.analysis.why_report import skip_terms

THEORETICAL_COLOR = "#ff7f0e"
MASS_COLOR = "#263238"  # near-black: it crosses the map's pale outskirts
# The map's background and its zero: a pixel the unit ignores is drawn as nothing, not as a dark
# ring around the field. Then light to dark purple (ColorBrewer Purples), away from the orange.
ERF_BACKGROUND = "#ffffff"
ERF_COLORSCALE = [[0.0, ERF_BACKGROUND], [0.125, "rgb(239,237,245)"],
                  [0.25, "rgb(218,218,235)"], [0.375, "rgb(188,189,220)"],
                  [0.5, "rgb(158,154,200)"], [0.625, "rgb(128,125,186)"],
                  [0.75, "rgb(106,81,163)"], [0.875, "rgb(84,39,143)"], [1.0, "rgb(63,0,125)"]]
FRAME_COLOR = "#9e9e9e"  # the image's edge, now that the map's zero is the background


def _square(fig: go.Figure, centre: tuple[float, float], side: float, color: str, dash: str,
            row: int, col: int, shape: tuple[int, int], name: str) -> bool:
    """A square of ``side`` pixels centred on pixel ``centre``, drawn on pixel edges and clipped
    to an image of ``shape`` (rows, cols). Returns whether it was clipped."""
    half = side / 2
    whole = (centre[1] - half, centre[1] + half, centre[0] - half, centre[0] + half)
    x0, x1, y0, y1 = (max(whole[0], -0.5), min(whole[1], shape[1] - 0.5),
                      max(whole[2], -0.5), min(whole[3], shape[0] - 0.5))
    clipped = (x0, x1, y0, y1) != whole
    # A clipped square runs along the image's edge, where half of its line falls outside.
    fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1,
                  line=dict(color=color, dash=dash, width=5 if clipped else 2),
                  name=f"{name} (clipped to the image)" if clipped else name, row=row, col=col)
    return clipped


def theoretical_label(theoretical: int, shape: tuple[int, int]) -> str:
    """What the orange square cannot show when the field does not fit the image."""
    if theoretical > max(shape):
        image = f"{shape[0]} px" if shape[0] == shape[1] else f"{shape[0]}×{shape[1]} px"
        return f"theoretical field {theoretical} px (larger than the {image} image)"
    return f"theoretical field {theoretical} px (extends beyond the image)"


def _axis(index: int, letter: str) -> str:
    return f"{letter}{index if index > 1 else ''}"


def _square_cells(fig: go.Figure, count: int) -> None:
    """Keep every heatmap's pixels square, whatever the figure's width."""
    for i in range(1, count + 1):
        fig.layout[_axis(i, "yaxis")].update(scaleanchor=_axis(i, "x"), constrain="domain")
        fig.layout[_axis(i, "xaxis")].update(constrain="domain")


def erf_figure(panels: list[tuple[str, ErfResult]], columns: int = 2) -> go.Figure:
    """ERF heatmaps (each divided by its maximum, zero drawn as the background) with the
    theoretical field as an orange square, clipped to the image and labelled with its size when
    it does not fit, and the square holding 95% of the gradient's mass dashed."""
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
        shape = tuple(result.erf.shape)
        if _square(fig, result.centre, result.theoretical, THEORETICAL_COLOR, "solid", row, col,
                   shape, "theoretical field"):
            fig.add_annotation(text=theoretical_label(result.theoretical, shape), x=0.5,
                               xref="x domain", y=1.0, yref="y domain", yanchor="top",
                               yshift=-4, showarrow=False, font=dict(color="#b35300", size=12),
                               bgcolor="rgba(255,255,255,0.85)", row=row, col=col)
        side = result.mass_side()
        if side:
            _square(fig, result.centre, side, MASS_COLOR, "dash", row, col, shape,
                    "95% of the gradient")
        fig.update_yaxes(autorange=False, range=[shape[0] - 0.5, -0.5], row=row, col=col)
        fig.update_xaxes(range=[-0.5, shape[1] - 0.5], row=row, col=col)
    frame = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False, showline=True,
                 mirror=True, linecolor=FRAME_COLOR, linewidth=1, layer="below traces")
    fig.update_xaxes(**frame)
    fig.update_yaxes(**frame)
    _square_cells(fig, rows * columns)
    fig.update_layout(coloraxis=dict(colorscale=ERF_COLORSCALE, cmin=0, cmax=1,
                                     colorbar=dict(title="|∂y/∂x|<br>÷ peak", outlinewidth=1,
                                                   outlinecolor=FRAME_COLOR)),
                      plot_bgcolor=ERF_BACKGROUND, paper_bgcolor=ERF_BACKGROUND,
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


# What follows the addition, per activation order (He et al. 2016, Fig. 4)
_OUTPUT = {"post": "output = relu(·)", "bn_after_add": "output = relu(BN(·))"}


def skip_columns(parts: dict[str, SkipParts]) -> list[str]:
    """The four column titles, in the terms of the block's skip design and order (the first net
    with a skip decides); where a plain row shows something else, the title says so too."""
    p = next((p for p in parts.values() if p.skip), next(iter(parts.values())))
    plain = any(not q.skip for q in parts.values())
    branch, carried = skip_terms(p)
    skip_title = "x (via the skip)" if carried == "x" else f"{carried} (the skip)"
    branch_title = f"{branch} (the branch)" + ("<br>plain: F(x)" if plain and branch != "F(x)"
                                               else "")
    summed = f"F(x) + {carried}" if p.design == "identity" else "their sum"
    output = _OUTPUT.get(p.order)
    if output is None:
        output = "output = the sum" + ("<br>plain: F(x) itself" if plain else "")
    return [skip_title, branch_title, summed, output]


def skip_figure(parts: dict[str, SkipParts], channel: int | None = None) -> go.Figure:
    """Per net: x (what the skip carries), F(x), F(x) + x and the block's output.

    Shows the mean over channels, or one channel; signed values on one diverging scale per row.
    """
    fig = make_subplots(rows=len(parts), cols=4, column_titles=skip_columns(parts),
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
