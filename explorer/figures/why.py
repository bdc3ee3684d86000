"""Figures of the lesion study and the loss-landscape slices, residual vs plain.

Every function takes ``{"residual": result, "plain": result}`` (either may be missing) and
returns a ``go.Figure``. Both nets always share one colour scale and one axis range.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.landscape import LandscapeResult
from explorer.analysis.lesion import LesionResult

COLORS = {"residual": "#1f77b4", "plain": "#d62728"}
LABELS = {"residual": "residual (skips on)", "plain": "plain twin (skips off)"}
CHANCE_COLOR = "#7f7f7f"


def _titles(fig: go.Figure, title: str, x: str, y: str) -> go.Figure:
    fig.update_layout(title=title, xaxis_title=x, yaxis_title=y, legend=dict(orientation="h",
                      y=-0.25), margin=dict(t=60, b=40))
    return fig


def _band(color: str, alpha: float = 0.18) -> str:
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def lesion_blocks_figure(results: dict[str, LesionResult]) -> go.Figure:
    """Accuracy after deleting each block alone: bars per net, baselines and chance as lines."""
    fig = go.Figure()
    for variant, result in results.items():
        blocks = [b.block for b in result.blocks]
        fig.add_trace(go.Bar(
            x=blocks, y=[b.accuracy for b in result.blocks], name=LABELS[variant],
            marker_color=COLORS[variant],
            hovertemplate="%{x} deleted<br>accuracy %{y:.1%}<extra>" + variant + "</extra>"))
        fixed = [b.block for b in result.blocks if not b.deletable]
        if fixed:
            fig.add_trace(go.Scatter(
                x=fixed, y=[0.02] * len(fixed), mode="markers+text", text=["✕"] * len(fixed),
                textposition="top center", marker=dict(symbol="x", color=COLORS[variant]),
                name=f"{variant}: cannot be deleted (changes shape)",
                hovertemplate="%{x}: cannot be deleted<extra>" + variant + "</extra>"))
        fig.add_hline(y=result.baseline, line=dict(color=COLORS[variant], dash="dash"),
                      annotation_text=f"{variant} undeleted {result.baseline:.1%}",
                      annotation_position="top left" if variant == "residual" else "top right")
    chance = next(iter(results.values())).chance
    fig.add_hline(y=chance, line=dict(color=CHANCE_COLOR, dash="dot"),
                  annotation_text=f"chance {chance:.1%}", annotation_position="bottom right")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_layout(barmode="group")
    return _titles(fig, "Accuracy after deleting one block (Veit et al. Fig. 3)",
                   "deleted block", "held-out accuracy")


def lesion_random_figure(results: dict[str, LesionResult]) -> go.Figure:
    """Mean accuracy (min–max band) after deleting k random blocks, k = 0 the undeleted net."""
    fig = go.Figure()
    for variant, result in results.items():
        ks = [0] + [r.k for r in result.random]
        lo = [result.baseline] + [r.min for r in result.random]
        hi = [result.baseline] + [r.max for r in result.random]
        mean = [result.baseline] + [r.mean for r in result.random]
        fig.add_trace(go.Scatter(x=ks + ks[::-1], y=hi + lo[::-1], fill="toself", mode="lines",
                                 fillcolor=_band(COLORS[variant]), line=dict(width=0),
                                 hoverinfo="skip", showlegend=False))
        fig.add_trace(go.Scatter(
            x=ks, y=mean, mode="lines+markers", name=LABELS[variant],
            line=dict(color=COLORS[variant]),
            hovertemplate="k = %{x}<br>mean accuracy %{y:.1%}<extra>" + variant + "</extra>"))
    chance = next(iter(results.values())).chance
    fig.add_hline(y=chance, line=dict(color=CHANCE_COLOR, dash="dot"),
                  annotation_text=f"chance {chance:.1%}", annotation_position="bottom right")
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    return _titles(fig, "Deleting k random blocks (Veit et al. Fig. 5): mean, min and max",
                   "blocks deleted (k)", "held-out accuracy")


def _z(loss: float, log: bool) -> float | None:
    if not math.isfinite(loss):
        return None
    return math.log10(max(loss, 1e-8)) if log else loss


def landscape_line_figure(results: dict[str, LandscapeResult], log: bool = True) -> go.Figure:
    """1-D slices: loss along δ for each net (the same δ seed for both)."""
    fig = go.Figure()
    for variant, result in results.items():
        loss = result.loss if result.betas is None else result.loss[len(result.betas) // 2]
        fig.add_trace(go.Scatter(x=list(result.alphas), y=list(loss), mode="lines+markers",
                                 name=LABELS[variant], line=dict(color=COLORS[variant]),
                                 hovertemplate="α = %{x:.2f}<br>loss %{y:.4g}<extra>"
                                 + variant + "</extra>"))
    if log:
        fig.update_yaxes(type="log")
    return _titles(fig, "Loss along one filter-normalised random direction (Li et al.)",
                   "α (step along δ)", "cross-entropy" + (" (log scale)" if log else ""))


def _shared_range(results: dict[str, LandscapeResult], log: bool) -> tuple[float, float]:
    values = [_z(v, log) for r in results.values() for row in r.loss for v in row]
    values = [v for v in values if v is not None] or [0.0, 1.0]
    return min(values), max(values)


def landscape_contour_figure(results: dict[str, LandscapeResult], log: bool = True) -> go.Figure:
    """2-D slices as contour maps, side by side, on one colour scale."""
    fig = make_subplots(rows=1, cols=len(results), shared_yaxes=True, horizontal_spacing=0.06,
                        subplot_titles=[LABELS[v] for v in results])
    zmin, zmax = _shared_range(results, log)
    label = "log10 loss" if log else "loss"
    for col, (variant, result) in enumerate(results.items(), start=1):
        fig.add_trace(go.Contour(
            x=list(result.alphas), y=list(result.betas),
            z=[[_z(v, log) for v in row] for row in result.loss],
            customdata=[list(row) for row in result.loss], coloraxis="coloraxis",
            contours=dict(start=zmin, end=zmax, size=(zmax - zmin) / 20 or 1),
            hovertemplate="α %{x:.2f}, β %{y:.2f}<br>loss %{customdata:.4g}<extra>" + variant
            + "</extra>"), row=1, col=col)
        fig.add_trace(go.Scatter(x=[0], y=[0], mode="markers", showlegend=False,
                                 marker=dict(symbol="x", color="white", size=9),
                                 hoverinfo="skip"), row=1, col=col)
        fig.update_xaxes(title_text="α (δ)", row=1, col=col)
    fig.update_yaxes(title_text="β (η)", row=1, col=1)
    fig.update_layout(coloraxis=dict(colorscale="Viridis", cmin=zmin, cmax=zmax,
                                     colorbar=dict(title=label)),
                      title="Loss over a 2-D slice (Li et al. Fig. 5), same directions' seed")
    return fig


def surface_range(zmin: float, zmax: float) -> tuple[float, float]:
    """The surfaces' z range: the data's with a margin, so neither the peak nor the valley
    touches the box."""
    pad = 0.05 * (zmax - zmin) or 0.5
    return zmin - pad, zmax + pad


# Seen from further out and a little lower than plotly's default (1.25, 1.25, 1.25), with a
# flatter box, so the whole box (its top corners included) fits each scene's square.
SURFACE_CAMERA = dict(eye=dict(x=1.7, y=1.7, z=0.95), center=dict(x=0, y=0, z=-0.15))
SURFACE_ASPECT = dict(x=1, y=1, z=0.75)


def landscape_surface_figure(results: dict[str, LandscapeResult], log: bool = True) -> go.Figure:
    """2-D slices as 3-D surfaces, side by side, with one z range and colour scale."""
    fig = make_subplots(rows=1, cols=len(results), specs=[[{"type": "surface"}] * len(results)],
                        subplot_titles=[LABELS[v] for v in results], horizontal_spacing=0.04)
    zmin, zmax = _shared_range(results, log)
    label = "log10 loss" if log else "loss"
    for col, (variant, result) in enumerate(results.items(), start=1):
        fig.add_trace(go.Surface(
            x=list(result.alphas), y=list(result.betas),
            z=[[_z(v, log) for v in row] for row in result.loss], coloraxis="coloraxis",
            hovertemplate="α %{x:.2f}, β %{y:.2f}<br>%{z:.3g}<extra>" + variant + "</extra>"),
            row=1, col=col)
    scene = dict(xaxis_title="α", yaxis_title="β", zaxis=dict(range=surface_range(zmin, zmax),
                 title=label), camera=SURFACE_CAMERA, aspectmode="manual",
                 aspectratio=SURFACE_ASPECT)
    # The colour bar lies below: each scene keeps the page's width for its box.
    fig.update_layout(coloraxis=dict(colorscale="Viridis", cmin=zmin, cmax=zmax, colorbar=dict(
                          title=dict(text=label, side="top"), orientation="h", y=-0.02,
                          yanchor="top", len=0.6, thickness=14)),
                      scene=scene, scene2=scene, height=520, margin=dict(t=60, b=60, l=10, r=10),
                      title="The same slices as surfaces")
    return fig
