"""Plotly figures for gradient flow and depth sweeps: pure functions returning ``go.Figure``."""

from __future__ import annotations

import math
from typing import Literal

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.flow_result import FlowResult, GradientFlow
from explorer.units import format_number
from explorer.figures.style import VARIANT_COLORS
from explorer.nets.orders import ORDERS

COLORS = VARIANT_COLORS
DASHES = {"batch": "solid", "none": "dash"}
LABELS = {"residual": "residual (skips on)", "plain": "plain twin (skips off)"}


def flow_figure(flow: GradientFlow, trained: bool = False) -> go.Figure:
    """‖∂loss/∂output‖ of conv1, every block and fc in depth order, residual vs plain (log y).

    ``trained``: the twins were trained apart, so only the batch is shared, not the weights.
    """
    fig = go.Figure()
    for res in flow.variants:
        names = [layer.name for layer in res.layers]
        values = [_positive(layer.output_grad_norm) for layer in res.layers]
        fig.add_trace(go.Scatter(
            x=names, y=values, mode="lines+markers", name=LABELS[res.variant],
            line=dict(color=COLORS[res.variant]), text=_numbers(values),
            hovertemplate="%{x}<br>‖∂L/∂output‖ = %{text}<extra>" + res.variant + "</extra>",
        ))
    shared = ("same batch; trained weights, which differ between the twins" if trained
              else "same weights and batch, at initialisation")
    _titles(fig, "Gradient norm along depth",
            f"‖∂loss/∂output‖ per layer, input (left) to output (right), {shared}",
            x="layer (ticks at each stage's first block; hover for every block)",
            y="gradient norm (log scale)")
    _depth_ticks(fig, [layer.name for layer in flow.residual.layers])
    _log_axis(fig, [v for t in fig.data for v in t.y if v is not None])
    return fig


def weight_grad_heatmap(
    flow: GradientFlow, value: Literal["grad_norm", "ratio"] = "grad_norm"
) -> go.Figure:
    """Per-parameter weight-gradient norms (or ‖grad‖/‖weight‖), one heatmap per variant.

    Colours are log10 of the value on one shared scale; hover shows the value itself. Blank cells
    are parameters a layer does not have (the plain twin has no projection shortcuts) or, for
    ratios, all-zero weights.
    """
    rows = _param_order(flow)
    fig = make_subplots(rows=1, cols=2, shared_yaxes=True, horizontal_spacing=0.03,
                        subplot_titles=[LABELS[r.variant] for r in flow.variants])
    grids = [_param_grid(res, rows, value) for res in flow.variants]
    logs = [v for grid in grids for row in grid for v in row if v is not None]
    zmin, zmax = (min(logs), max(logs)) if logs else (0.0, 1.0)
    label = "‖∂L/∂W‖" if value == "grad_norm" else "‖∂L/∂W‖ / ‖W‖"
    for col, (res, grid) in enumerate(zip(flow.variants, grids), start=1):
        raw = [_numbers([None if v is None else 10**v for v in row]) for row in grid]
        fig.add_trace(go.Heatmap(
            z=grid, x=[layer.name for layer in res.layers], y=rows, customdata=raw,
            zmin=zmin, zmax=zmax, colorscale="Viridis", showscale=col == 2,
            colorbar=dict(title=f"log10 {label}"), name=res.variant,
            hovertemplate="%{x} · %{y}<br>" + label + " = %{customdata}<extra>"
            + res.variant + "</extra>",
        ), row=1, col=col)
    _titles(fig, "Weight-gradient norms by layer",
            f"colour: log10 {label}; blank: no such parameter, or a zero or undefined value")
    fig.update_yaxes(autorange="reversed", row=1, col=1)
    for col, res in enumerate(flow.variants, start=1):
        _depth_ticks(fig, [layer.name for layer in res.layers], row=1, col=col)
    return fig


def ends_in_batchnorm(spec) -> bool:
    """Whether each branch's response is a BatchNorm's output (its order's last unit ends in a
    norm: post and ReLU-only pre-activation; no SE gate): then at init its std is ≈1 by
    construction."""
    return (spec.norm == "batch" and ORDERS[spec.order].last_unit[-1] == "norm"
            and spec.attention == "none")


def response_std_figure(
    flow: GradientFlow, which: Literal["response", "prenorm"] = "response", trained: bool = False
) -> go.Figure:
    """He et al. Fig. 7: std of each residual branch's response, both variants.

    ``response``: after the branch's last norm layer (the paper's quantity); in a train-mode pass
    at init with BatchNorm this is ≈1 by construction. ``prenorm``: the same response before it.
    ``trained``: the weights are trained ones, where BatchNorm's scale has moved.
    """
    fig = go.Figure()
    for res in flow.variants:
        blocks = res.blocks
        values = [b.response_std if which == "response" else b.prenorm_std for b in blocks]
        fig.add_trace(go.Scatter(
            x=[b.name for b in blocks], y=values, mode="lines+markers", name=LABELS[res.variant],
            line=dict(color=COLORS[res.variant]), text=_numbers(values),
            hovertemplate="%{x}<br>std = %{text}<extra>" + res.variant + "</extra>",
        ))
    where = "after" if which == "response" else "before"
    note = ("; ≈1 by construction with BatchNorm"
            if which == "response" and ends_in_batchnorm(flow.spec) and not trained else "")
    weights = "trained weights" if trained else f"init{note}"
    _titles(fig, "Std of each residual branch's response (He et al. Fig. 7)",
            f"{where} the branch's last norm layer, before the addition; train-mode pass on "
            f"{weights}", x="block", y="standard deviation")
    values = [v for t in fig.data for v in t.y if v is not None and v > 0]
    if values and max(values) / min(values) > 100:
        _log_axis(fig, values)
    else:  # from zero, so that a flat ≈1 line does not get zoomed into noise
        fig.update_yaxes(rangemode="tozero")
    _depth_ticks(fig, [b.name for b in flow.residual.blocks])
    return fig


def depth_sweep_figure(frame: pd.DataFrame) -> go.Figure:
    """conv1 weight-gradient norm vs depth (log y): residual vs plain, one line per norm."""
    fig = go.Figure()
    for norm, part in frame.groupby("norm", sort=False):
        part = part.sort_values("depth")
        for variant in ("residual", "plain"):
            if part[variant].isna().all():
                continue
            fig.add_trace(go.Scatter(
                x=part["depth"], y=part[variant], mode="lines+markers",
                name=f"{variant}, norm={norm}",
                line=dict(color=COLORS[variant], dash=DASHES.get(norm, "dot")),
                customdata=list(zip(part["layers"], _numbers(part[variant]),
                                    _numbers(part["ratio"]))),
                hovertemplate="depth %{x} (blocks %{customdata[0]})<br>‖∂L/∂conv1.W‖ = "
                "%{customdata[1]}<br>plain / residual = %{customdata[2]}<extra>"
                + f"{variant}, {norm}</extra>",
            ))
    _titles(fig, "First-layer gradient norm vs depth, at init",
            "‖∂loss/∂conv1.weight‖ for the residual net and its plain twin (same weights)",
            x="depth (weighted layers)", y="gradient norm (log scale)")
    _log_axis(fig, [v for t in fig.data for v in t.y if v is not None and v > 0])
    return fig


def _titles(fig: go.Figure, title: str, subtitle: str, x: str = "", y: str = "") -> None:
    fig.update_layout(title=dict(text=title, subtitle=dict(text=subtitle)),
                      hovermode="closest", legend=dict(orientation="h", y=-0.2))
    if x or y:
        fig.update_layout(xaxis_title=x, yaxis_title=y)


def _depth_ticks(fig: go.Figure, names: list[str], **where) -> None:
    """Label conv1, each stage's first block (as ``layer2``) and fc, so 110 layers stay readable."""
    stages = [i for i, n in enumerate(names) if n.endswith(".0")]
    gap = max(2, len(names) // 12)  # closer ticks would print over each other
    ends = [i for i, n in enumerate(names) if "." not in n
            and all(abs(i - j) >= gap for j in stages)]
    ticks = [names[i] for i in sorted(stages + ends)]
    fig.update_xaxes(tickmode="array", tickvals=ticks, tickangle=0,
                     ticktext=[n.removesuffix(".0") for n in ticks], **where)


def _log_axis(fig: go.Figure, values: list[float]) -> None:
    """A log y axis labelled at whole decades once the data spans several (no cramped 2s and 5s)."""
    fig.update_yaxes(type="log", exponentformat="power")
    finite = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    if finite:
        decades = math.log10(max(finite) / min(finite))
        if decades >= 3:  # at least three decade ticks; fewer can leave one label to read by
            fig.update_yaxes(dtick=1 if decades < 8 else 2, minor=dict(showgrid=False))
        else:  # within a decade or so: 1, 2 and 5 of each decade, written out in full
            ticks = _one_two_five(min(finite), max(finite))
            fig.update_yaxes(tickmode="array", tickvals=ticks,
                             ticktext=[format_number(t) for t in ticks])


def _one_two_five(low: float, high: float) -> list[float]:
    """1, 2 and 5 times the powers of ten from just below ``low`` to just above ``high``
    (plotly's own "D2" labels would print 0.2 and 0.05 as a bare "2" and "5")."""
    ticks = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        ticks += [m * 10.0 ** exponent for m in (1, 2, 5)]
    below = max((t for t in ticks if t <= low), default=ticks[0])
    above = min((t for t in ticks if t >= high), default=ticks[-1])
    return [t for t in ticks if below <= t <= above]


def _numbers(values) -> list[str]:
    """Hover text in the app's one number format (plotly's own would write 4.91e+7)."""
    return ["" if v is None else format_number(float(v)) for v in values]


def _positive(v: float) -> float | None:
    # A log axis cannot show 0 or NaN: leave a gap rather than a misleading point.
    return v if math.isfinite(v) and v > 0 else None


def _param_order(flow: GradientFlow) -> list[str]:
    names: dict[str, None] = {}
    for res in flow.variants:
        for layer in res.layers:
            names.update(dict.fromkeys(p.name for p in layer.params))
    return list(names)


def _param_grid(res: FlowResult, rows: list[str], value: str) -> list[list[float | None]]:
    grid = []
    for pname in rows:
        row = []
        for layer in res.layers:
            p = next((p for p in layer.params if p.name == pname), None)
            v = None if p is None else _positive(p.grad_norm if value == "grad_norm" else p.ratio)
            row.append(None if v is None else math.log10(v))
        grid.append(row)
    return grid
