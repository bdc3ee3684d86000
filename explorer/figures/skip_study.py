"""The recorded skip-design study: every variant's training loss and held-out accuracy."""

from __future__ import annotations

import math

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.figures.style import DESIGN_COLORS, VARIANT_FIELD_DASHES
from explorer.figures.training import smooth, thin
from explorer.training.skip_study import SkipStudy

# 1-2-5 ticks written out: plotly's own log ticks label the minor ones with a bare digit.
LOSS_TICKS = [c * 10.0**e for e in range(-4, 2) for c in (1, 2, 5)]
# The loss axis stops here: a run that diverged (shortcut dropout's loss climbs to ~1e14) would
# otherwise squeeze every other curve into the bottom tenth of the chart. Its legend entry says
# how high it went instead.
LOSS_CHART_TOP = 20.0


def skip_study_figure(study: SkipStudy) -> go.Figure:
    """Left: each variant's training loss per step, smoothed as the Training page's curves are
    (log y: the variants part by orders of magnitude once they learn). Right: held-out accuracy
    after each epoch. Colour is the design or order, as on the Gradient flow page; designs are
    solid lines, orders dashed."""
    fig = make_subplots(rows=1, cols=2, column_widths=[0.62, 0.38], subplot_titles=(
        "Training loss (smoothed)", "Held-out accuracy after each epoch"))
    lowest = LOSS_CHART_TOP
    for run in study.runs:
        line = dict(color=DESIGN_COLORS[run.value], dash=VARIANT_FIELD_DASHES[run.field])
        xs, ys = thin(list(run.steps), smooth(list(run.losses)))
        lowest = min([lowest, *(y for y in ys if y > 0)])
        name = f"{run.variant}: {run.label}" + (
            f" (diverged: its smoothed loss peaks at {max(ys):.0e}, above the chart)"
            if max(ys) > LOSS_CHART_TOP else "")
        fig.add_scatter(x=xs, y=ys, mode="lines", name=name, legendgroup=run.variant,
                        line=dict(width=2, **line), row=1, col=1,
                        hovertemplate="step %{x}: loss %{y:.3g}<extra>" + run.variant
                        + "</extra>")
        fig.add_scatter(x=list(run.val_steps), y=list(run.val_accuracies), mode="lines+markers",
                        name=name, legendgroup=run.variant, showlegend=False,
                        line=dict(width=2, **line), row=1, col=2,
                        hovertemplate="step %{x}: %{y:.1%}<extra>" + run.variant + "</extra>")
    fig.update_xaxes(title_text="step", row=1, col=1)
    fig.update_xaxes(title_text="step", matches="x", row=1, col=2)
    fig.update_yaxes(title_text="cross-entropy (log scale)", type="log", tickvals=LOSS_TICKS,
                     range=[math.log10(lowest) - 0.1, math.log10(LOSS_CHART_TOP)], row=1, col=1)
    fig.update_yaxes(title_text="accuracy", tickformat=".0%", range=[0, 1.02], row=1, col=2)
    fig.update_layout(height=440, margin=dict(t=40, b=20, l=20, r=20),
                      legend=dict(orientation="h", y=-0.2))
    return fig
