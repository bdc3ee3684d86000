"""Training curves: loss and held-out accuracy of every run and variant, and He et al.'s Fig. 6
layout (plain nets left, residual nets right, training error thin, held-out error bold)."""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.style import DEPTH_DASHES, VARIANT_COLORS, VARIANT_MARKERS
from explorer.training.curves import Curve
from explorer.training.train import EARLY_IMAGES

SMOOTHING = 0.9  # exponential moving average of the step loss, as TensorBoard draws it


def smooth(values: list[float], weight: float = SMOOTHING) -> list[float]:
    out, running = [], None
    for v in values:
        running = v if running is None else weight * running + (1 - weight) * v
        out.append(running)
    return out


MAX_POINTS = 400  # per line: a live chart redrawn every second must stay cheap to render


def thin(xs: list, ys: list, limit: int = MAX_POINTS) -> tuple[list, list]:
    """At most ``limit`` evenly spaced points, always keeping the last one."""
    if len(xs) <= limit:
        return xs, ys
    step = -(-len(xs) // limit)
    keep = list(range(0, len(xs), step))
    if keep[-1] != len(xs) - 1:
        keep.append(len(xs) - 1)
    return [xs[i] for i in keep], [ys[i] for i in keep]


def _mode(n: int) -> str:
    return "lines" if n > 1 else "markers"  # a one-step run is still drawn


def training_figure(curves: list[Curve]) -> go.Figure:
    """Two panels against the step: smoothed training loss, and held-out accuracy where each
    epoch (or a stopped run) ended, with early estimates (open circles) while an epoch runs."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "Training loss (smoothed)", "Held-out accuracy"))
    runs = list(dict.fromkeys(c.run for c in curves))
    for c in curves:
        name = f"{c.run} · {c.variant}" if len(runs) > 1 else c.variant
        line = dict(color=VARIANT_COLORS[c.variant], dash=DEPTH_DASHES[runs.index(c.run) % 4])
        xs, ys = thin(c.steps, smooth(c.losses))
        fig.add_scatter(x=xs, y=ys, mode=_mode(len(xs)), name=name,
                        legendgroup=name, line=line, row=1, col=1,
                        hovertemplate="step %{x}: loss %{y:.3f}<extra>" + name + "</extra>")
        fig.add_scatter(x=c.val_steps, y=c.val_accuracies, mode="lines+markers", name=name,
                        legendgroup=name, showlegend=False, line=line,
                        marker=VARIANT_MARKERS[c.variant], row=1, col=2,
                        hovertemplate="step %{x}: %{y:.1%}<extra>" + name + "</extra>")
        if c.estimate_steps:  # while an epoch runs: a few held-out images, open markers
            fig.add_scatter(x=c.estimate_steps, y=c.estimate_accuracies, mode="markers",
                            name=f"{name} (early estimate)", legendgroup=name, showlegend=False,
                            marker=dict(color=line["color"], symbol="circle-open", size=8),
                            row=1, col=2, hovertemplate="step %{x}: %{y:.1%} on "
                            f"{EARLY_IMAGES} held-out images<extra>{name}</extra>")
    fig.update_xaxes(title_text="step", row=1, col=1)
    # One step axis for both panels: a single epoch's points sit where it ended, not alone
    # in the middle of an axis of their own.
    fig.update_xaxes(title_text="step", matches="x", row=1, col=2)
    fig.update_yaxes(title_text="cross-entropy", rangemode="tozero", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=380, margin=dict(t=40, b=20, l=20, r=20),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def variant_shade(variant: str, index: int, count: int) -> str:
    """The variant's colour (residual blue, plain red), lighter for shallow nets and darker for
    deep ones: the ``index``-th of ``count`` depths, shallow first."""
    r, g, b = (int(VARIANT_COLORS[variant][i:i + 2], 16) for i in (1, 3, 5))
    t = index / (count - 1) if count > 1 else 0.5
    if t < 0.5:  # towards white
        mix, target = (0.5 - t) * 0.7, 255
    else:  # towards black
        mix, target = (t - 0.5) * 0.8, 0
    r, g, b = (round(v + (target - v) * mix) for v in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def figure6(curves: list[Curve]) -> go.Figure:
    """He et al.'s Fig. 6 on our data: error vs step, plain nets left, residual nets right;
    thin lines training error (batch, smoothed), bold lines held-out error per epoch.

    Colour says residual (blue) or plain (red), as everywhere in the app; depth is the shade
    (lighter shallow, darker deep) and the dash (solid, dashed, dotted, ...).
    """
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True,
                        subplot_titles=("Plain nets", "Residual nets"))
    depths = sorted({c.depth for c in curves})
    for c in sorted(curves, key=lambda c: (c.depth, c.variant != "residual")):
        col = 1 if c.variant == "plain" else 2
        index = depths.index(c.depth)
        color = variant_shade(c.variant, index, len(depths))
        dash = DEPTH_DASHES[index % len(DEPTH_DASHES)]
        xs, ys = thin(c.steps, [1 - a for a in smooth(c.accuracies, 0.97)])
        fig.add_scatter(x=xs, y=ys, mode=_mode(len(xs)),
                        line=dict(color=color, width=1.5, dash=dash), opacity=0.6,
                        name=f"{c.label} training", legendgroup=c.label,
                        hovertemplate="step %{x}: %{y:.1%} training error<extra>" + c.label
                        + "</extra>", row=1, col=col)
        fig.add_scatter(x=c.val_steps, y=[1 - a for a in c.val_accuracies], mode="lines+markers",
                        line=dict(color=color, width=3, dash=dash),
                        marker={**VARIANT_MARKERS[c.variant], "color": color},
                        name=f"{c.label} held-out", legendgroup=c.label,
                        hovertemplate="step %{x}: %{y:.1%} held-out error<extra>" + c.label
                        + "</extra>", row=1, col=col)
    for col in (1, 2):
        fig.update_xaxes(title_text="step", row=1, col=col)
    fig.update_yaxes(title_text="error", tickformat=".0%", range=[0, 1], row=1, col=1)
    fig.update_layout(height=420, margin=dict(t=40, b=20, l=20, r=20),
                      legend=dict(orientation="h", y=-0.25, traceorder="grouped"))
    return fig
