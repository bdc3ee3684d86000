"""Figures of the "Trust the map" page: the sanity cascade and the localisation scores.

Every function takes ``{"residual": result, "plain": result}`` (the plain twin may be missing)
and returns a ``go.Figure``; residual blue, plain red, the chance line dark grey and dashed,
threshold lines grey.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.cam_methods import CAM_LABELS
from explorer.analysis.localize import Localization
from explorer.analysis.sanity import SanityCurve
from explorer.analysis.trust_report import SIMILAR, net_name
from explorer.analysis.trust_runs import inside, layer_randomised_index, step_label
from explorer.figures.style import MUTED, VARIANT_COLORS
from explorer.units import pct

LAYER_BAND = "rgba(255,127,14,0.12)"  # the map's own layer, in the accent colour
CHANCE = "#424242"  # darker than the palette's grey: the line crosses the bars
MAP_COLORSCALE = "Turbo"  # the Grad-CAM page's overlay colours (analysis.overlay's turbo)
MEASURES = {"spearman": ("Spearman", "solid"), "ssim": ("SSIM", "dot")}


def _color(net: str) -> str:
    return VARIANT_COLORS.get(net, MUTED)


def _curve(curves: list[SanityCurve], method: str) -> SanityCurve:
    return next(c for c in curves if c.method == method)


def sanity_figure(results: dict[str, list[SanityCurve]], method: str) -> go.Figure:
    """Similarity to the trained map along the cascade (trained, fc, the blocks last to first,
    stem), Spearman solid and SSIM dotted per net; the steps inside the map's layer shaded and
    the sentences' threshold drawn."""
    fig = go.Figure()
    first = _curve(next(iter(results.values())), method)
    labels = [step_label(s.randomized) for s in first.steps]
    lowest = 0.0
    for net, curves in results.items():
        curve = _curve(curves, method)
        for field, (measure, dash) in MEASURES.items():
            values = [getattr(s, field) for s in curve.steps]
            lowest = min(lowest, *values)
            fig.add_trace(go.Scatter(
                x=labels, y=values, mode="lines+markers", name=f"{net_name(net)}: {measure}",
                line=dict(color=_color(net), dash=dash, width=2.5 if field == "spearman" else 2),
                marker=dict(size=7 if field == "spearman" else 5),
                hovertemplate=f"random down to %{{x}}<br>{measure} %{{y:.2f}}"
                              f"<extra>{net_name(net)}</extra>"))
    in_layer = [i for i, s in enumerate(first.steps) if inside(s.randomized, first.layer)]
    if in_layer:
        fig.add_vrect(x0=in_layer[0] - 0.5, x1=in_layer[-1] + 0.5, fillcolor=LAYER_BAND,
                      line_width=0, layer="below",
                      annotation=dict(text=f"{first.layer}: the map's layer", yanchor="bottom",
                                      font=dict(size=11)),
                      annotation_position="bottom left")
    # Named in the legend: a label on the line would sit on the curves that cross it.
    threshold = dict(color=MUTED, dash="dash", width=1)
    fig.add_hline(y=SIMILAR, line=threshold)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", line=threshold,
                             name=f"{SIMILAR}: the sentences' threshold"))
    fig.update_layout(
        title=dict(text=f"{CAM_LABELS[method]} at {first.layer}: how alike the maps stay",
                   subtitle=dict(text="similarity to the trained model's map, averaged over the "
                                      "images, as the weights are randomised from the top down")),
        xaxis_title="randomised down to (everything to the left is random too)",
        yaxis=dict(title="similarity to the trained map", range=[min(-0.1, lowest - 0.05), 1.05]),
        legend=dict(orientation="h", y=-0.32), margin=dict(t=80, b=40), height=430)
    fig.update_xaxes(tickangle=-45)
    return fig


def strip_steps(curve: SanityCurve) -> list[int]:
    """A few steps worth seeing: trained, the head, the map's layer random, half way down, and
    everything random."""
    last = len(curve.steps) - 1
    layer = layer_randomised_index(curve)
    chosen = [0, min(1, last), last]
    if layer is not None:
        chosen += [layer, (layer + last) // 2]
    return sorted(set(chosen))


def _strip_title(curve: SanityCurve, index: int) -> str:
    if index == 0:
        return "trained"
    if index == len(curve.steps) - 1:
        return "all random"
    return f"random down to<br>{step_label(curve.steps[index].randomized)}"


def sanity_strip_figure(results: dict[str, list[SanityCurve]], method: str,
                        picture: np.ndarray) -> go.Figure:
    """The first image and its map at a few steps of the cascade, one row per net; each map is
    scaled to its own maximum, as on the Grad-CAM page."""
    nets = list(results)
    first = _curve(results[nets[0]], method)
    steps = strip_steps(first)
    cols = len(steps) + 1
    fig = make_subplots(rows=len(nets), cols=cols, horizontal_spacing=0.015,
                        vertical_spacing=0.08,
                        subplot_titles=["the image", *(_strip_title(first, i) for i in steps)])
    for row, net in enumerate(nets, start=1):
        curve = _curve(results[net], method)
        fig.add_trace(go.Image(z=picture, hoverinfo="skip"), row=row, col=1)
        for col, index in enumerate(steps, start=2):
            fig.add_trace(go.Heatmap(
                z=curve.steps[index].example.numpy(), coloraxis="coloraxis",
                hovertemplate="row %{y}, col %{x}<br>%{z:.2f} of the map's peak<extra>"
                              + net_name(net) + "</extra>"), row=row, col=col)
        fig.update_yaxes(title_text=net_name(net), row=row, col=1)
    fig.update_xaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, ticks="", showgrid=False, zeroline=False,
                     autorange="reversed", constrain="domain")
    for i in range(1, len(nets) * cols + 1):  # keep every cell's pixels square
        suffix = "" if i == 1 else str(i)
        fig.layout[f"yaxis{suffix}"].update(scaleanchor=f"x{suffix}")
    fig.update_layout(
        coloraxis=dict(colorscale=MAP_COLORSCALE, cmin=0, cmax=1,
                       colorbar=dict(title=dict(text="share of the map's peak", side="right"),
                                     thickness=12, len=0.8)),
        title=dict(text=f"{CAM_LABELS[method]}: one image's map along the cascade",
                   subtitle=dict(text="each map scaled to its own maximum: compare where it is "
                                      "warm, not how warm")),
        height=170 * len(nets) + 150, margin=dict(t=140, b=10, l=60, r=10))
    return fig


def localisation_figure(results: dict[str, Localization]) -> go.Figure:
    """Pointing game (top) and energy inside the mask (bottom) per method and stage, residual
    vs plain as bars, the chance line (the masks' mean area) dark grey and dashed."""
    first = next(iter(results.values()))
    methods = list(dict.fromkeys(s.method for s in first.scores))
    fig = make_subplots(rows=2, cols=len(methods), shared_yaxes=True, horizontal_spacing=0.02,
                        vertical_spacing=0.12,
                        subplot_titles=[CAM_LABELS[m] for m in methods] + [""] * len(methods))
    for row, (field, measure) in enumerate((("pointing", "pointing game"),
                                            ("energy", "energy inside the mask")), start=1):
        for col, method in enumerate(methods, start=1):
            for net, found in results.items():
                scores = [s for s in found.scores if s.method == method]
                fig.add_trace(go.Bar(
                    x=[s.layer for s in scores], y=[getattr(s, field) for s in scores],
                    name=net_name(net), legendgroup=net, showlegend=row == 1 and col == 1,
                    marker_color=_color(net), offsetgroup=net,
                    hovertemplate=f"{CAM_LABELS[method]} at %{{x}}<br>{measure} %{{y:.1%}}"
                                  f"<extra>{net_name(net)}</extra>"), row=row, col=col)
            fig.add_hline(y=first.chance, line=dict(color=CHANCE, dash="dash", width=2),
                          layer="above", row=row, col=col)
        fig.update_yaxes(title_text=measure, row=row, col=1)
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="lines", name=f"chance: {pct(first.chance)}"
                             f" (the objects' mean area)",
                             line=dict(color=CHANCE, dash="dash", width=2)), row=1, col=1)
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%")
    fig.update_layout(
        title=dict(text="Do the maps point at the object?",
                   subtitle=dict(text=f"the true class's map on {first.images:,} held-out shapes; "
                                      "top: share of images whose map peaks on the object; "
                                      "bottom: share of the positive map on the object")),
        barmode="group", legend=dict(orientation="h", y=-0.12), height=560,
        margin=dict(t=100, b=40))
    return fig
