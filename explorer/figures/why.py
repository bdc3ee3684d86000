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
from explorer.units import pct

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


def spread(ys: list[float], gap: float, top: float) -> list[float]:
    """Label heights near ``ys`` (in order given) at least ``gap`` apart and at most ``top``."""
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    placed = [ys[i] for i in order]
    for j in range(1, len(placed)):
        placed[j] = max(placed[j], placed[j - 1] + gap)
    overshoot = placed[-1] - top if placed else 0
    if overshoot > 0:  # push the whole stack down, keeping the gaps
        placed = [y - overshoot for y in placed]
    out = [0.0] * len(ys)
    for j, i in enumerate(order):
        out[i] = placed[j]
    return out


LABEL_GAP = 0.13  # in accuracy units on the 0-105 % axis: two lines of 12 px text
BAR_GAP = 0.2  # between blocks, as a fraction of a category's width


def _slot_centres(count: int) -> list[float]:
    """Where each of ``count`` grouped bars sits, in categories from its block's centre."""
    width = (1 - BAR_GAP) / count
    return [-(1 - BAR_GAP) / 2 + width * (j + 0.5) for j in range(count)]


def lesion_blocks_figure(results: dict[str, LesionResult]) -> go.Figure:
    """Accuracy after deleting each block alone: bars per net, baselines and chance as lines
    labelled in the right margin (never on the bars); a block that cannot be deleted gets a
    large ✕ in its net's slot and the words "cannot be deleted" above it."""
    fig = go.Figure()
    slots = _slot_centres(len(results))
    for slot, (variant, result) in zip(slots, results.items()):
        blocks = [b.block for b in result.blocks]
        fig.add_trace(go.Bar(
            x=blocks, y=[b.accuracy for b in result.blocks], name=LABELS[variant],
            marker_color=COLORS[variant], offsetgroup=variant,
            hovertemplate="%{x} deleted<br>accuracy %{y:.1%}<extra>" + variant + "</extra>"))
        fixed = [b.block for b in result.blocks if not b.deletable]
        if fixed:
            fig.add_trace(go.Scatter(
                x=fixed, y=[0.035] * len(fixed), mode="markers", offsetgroup=variant,
                cliponaxis=False,
                marker=dict(symbol="x-thin", size=16, line=dict(width=3, color=COLORS[variant])),
                name=f"{variant}: cannot be deleted (changes shape)",
                hovertemplate="%{x}: cannot be deleted (it changes the shape, and a plain block "
                "has no shortcut to carry its input)<extra>" + variant + "</extra>"))
        for block in fixed:  # upright words in the empty slot where the bar would stand
            fig.add_annotation(text="cannot be deleted", x=blocks.index(block) + slot, y=0.08,
                               yanchor="bottom", textangle=-90, showarrow=False,
                               font=dict(color=COLORS[variant], size=12))
        fig.add_hline(y=result.baseline, line=dict(color=COLORS[variant], dash="dash"))
    chance = next(iter(results.values())).chance
    fig.add_hline(y=chance, line=dict(color=CHANCE_COLOR, dash="dot"))
    labels = [(f"{variant} undeleted<br>{pct(r.baseline)}", r.baseline, COLORS[variant])
              for variant, r in results.items()] + [(f"chance<br>{pct(chance)}", chance,
                                                     CHANCE_COLOR)]
    for (text, _, color), y in zip(labels, spread([y for _, y, _ in labels], LABEL_GAP, 1.05)):
        fig.add_annotation(text=text, x=1.0, xref="paper", xanchor="left", xshift=6, y=y,
                           yref="y", yanchor="middle", showarrow=False, align="left",
                           font=dict(color=color, size=12))
    fig.update_yaxes(range=[0, 1.05], tickformat=".0%")
    fig.update_layout(barmode="group", scattermode="group", bargap=BAR_GAP, bargroupgap=0,
                      height=480)
    fig = _titles(fig, "Accuracy after deleting one block (Veit et al. Fig. 3)",
                  "deleted block", "held-out accuracy")
    fig.update_layout(margin=dict(r=130))
    return fig


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
