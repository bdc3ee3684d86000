"""Live training curves: loss per step and held-out accuracy per epoch, every run and variant."""

from __future__ import annotations

from collections import defaultdict
from typing import Iterable

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.training.jobs import RunEvent

COLORS = {"residual": "#1f77b4", "plain": "#d62728"}
DASHES = ("solid", "dash", "dot", "dashdot")
SMOOTHING = 0.9  # exponential moving average of the step loss, as TensorBoard draws it


def training_figure(events: Iterable[RunEvent]) -> go.Figure:
    """Two panels: smoothed training loss vs step, and validation accuracy vs epoch."""
    steps: dict[tuple[str, str], list] = defaultdict(list)
    epochs: dict[tuple[str, str], list] = defaultdict(list)
    for item in events:
        e = item.event
        key = (item.run, e.variant)
        if e.kind == "step":
            steps[key].append((e.step, e.loss))
        elif e.val_accuracy is not None:
            epochs[key].append((e.epoch, e.val_accuracy))
    runs = list(dict.fromkeys(run for run, _ in [*steps, *epochs]))
    fig = make_subplots(rows=1, cols=2, subplot_titles=(
        "Training loss (smoothed)", "Held-out accuracy after each epoch"))
    for (run, variant), points in steps.items():
        fig.add_scatter(x=[s for s, _ in points], y=_smooth([v for _, v in points]),
                        mode="lines", name=f"{run} {variant}", legendgroup=f"{run} {variant}",
                        line=dict(color=COLORS.get(variant), dash=DASHES[runs.index(run) % 4]),
                        row=1, col=1)
    for (run, variant), points in epochs.items():
        fig.add_scatter(x=[s for s, _ in points], y=[v for _, v in points], mode="lines+markers",
                        name=f"{run} {variant}", legendgroup=f"{run} {variant}", showlegend=False,
                        line=dict(color=COLORS.get(variant), dash=DASHES[runs.index(run) % 4]),
                        hovertemplate="epoch %{x}: %{y:.1%}<extra></extra>", row=1, col=2)
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="epoch", dtick=1, row=1, col=2)
    fig.update_yaxes(title_text="cross-entropy", row=1, col=1)
    fig.update_yaxes(title_text="accuracy", tickformat=".0%", range=[0, 1], row=1, col=2)
    fig.update_layout(height=380, margin=dict(t=40, b=20, l=20, r=20),
                      legend=dict(orientation="h", y=-0.25))
    return fig


def _smooth(values: list[float]) -> list[float]:
    out, running = [], None
    for v in values:
        running = v if running is None else SMOOTHING * running + (1 - SMOOTHING) * v
        out.append(running)
    return out
