"""Plotly figures of the Compare page: networks side by side, one colour each, in page order."""

from __future__ import annotations

from typing import Literal

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from explorer.analysis.compare import Timing, Totals, published_top1
from explorer.figures.style import INK, MUTED, network_color

HEIGHT = 360
MARGIN = dict(t=50, b=20, l=20, r=20)
LEGEND = dict(orientation="h", y=-0.18)
CostAxis = Literal["mult-adds", "forward", "train"]
COST_TITLES = {"mult-adds": "mult-adds per image", "forward": "forward ms per image (measured)",
               "train": "forward+backward ms per image (measured)"}


def _stage_names(rows: list[Totals]) -> list[str]:
    longest = max((r for r in rows), key=lambda r: len(r.stages))
    return [s.name for s in longest.stages]


def stage_bars(rows: list[Totals]) -> go.Figure:
    """Parameters and mult-adds per image of every stage, bars grouped by network (log scale:
    the head and the stem are small beside the deep stages)."""
    names = _stage_names(rows)
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Parameters per stage",
                                                        "Mult-adds per image per stage"))
    for i, row in enumerate(rows):
        stages = {s.name: s for s in row.stages}
        present = [n for n in names if n in stages]
        for col, (field, unit) in enumerate((("params", "parameters"),
                                             ("mult_adds", "mult-adds")), start=1):
            fig.add_bar(x=present, y=[getattr(stages[n], field) for n in present],
                        name=row.label, legendgroup=row.label, showlegend=col == 1,
                        marker_color=network_color(i), offsetgroup=str(i),
                        hovertemplate=f"{row.label}<br>%{{x}}: %{{y:.3s}} {unit}<extra></extra>",
                        row=1, col=col)
    fig.update_xaxes(categoryorder="array", categoryarray=names)
    fig.update_yaxes(type="log", dtick=1, exponentformat="SI")  # 1G, not 1B
    fig.update_layout(barmode="group", height=HEIGHT, margin=MARGIN, legend=LEGEND)
    return fig


def resolution_width(rows: list[Totals]) -> go.Figure:
    """Each stage's output resolution against its width (channels), one line per network: the
    stem at the top left, the last stage at the bottom right."""
    fig = go.Figure()
    ticks_x, ticks_y = set(), set()
    for i, row in enumerate(rows):
        stages = [s for s in row.stages if s.name != "head"]
        widths = [s.output_shape[1] for s in stages]
        sizes = [s.output_shape[-1] for s in stages]
        ticks_x.update(widths)
        ticks_y.update(sizes)
        fig.add_scatter(x=widths, y=sizes, mode="lines+markers", name=row.label,
                        line=dict(color=network_color(i), width=3, dash=_DASHES[i % 4]),
                        marker=dict(size=9 + 2 * (len(rows) - i)),  # overlapping points stay seen
                        text=[s.name for s in stages],
                        hovertemplate=(f"{row.label}<br>%{{text}}: %{{x}} channels, "
                                       "%{y}×%{y} px<extra></extra>"))
    fig.update_xaxes(title_text="width (channels)", type="log", tickmode="array",
                     tickvals=sorted(ticks_x), ticktext=[str(v) for v in sorted(ticks_x)])
    fig.update_yaxes(title_text="resolution (px)", type="log", tickmode="array",
                     tickvals=sorted(ticks_y), ticktext=[str(v) for v in sorted(ticks_y)])
    fig.update_layout(height=HEIGHT, margin=MARGIN, legend=LEGEND,
                      title_text="Resolution vs width per stage")
    return fig


_DASHES = ("solid", "dash", "dot", "dashdot")


def speed_figure(rows: list[Totals], timings: dict[str, Timing]) -> go.Figure:
    """Measured milliseconds per image: the median of the repeats as a bar, every repeat as a
    dot and the range as a whisker, so the spread is seen beside the difference."""
    fig = make_subplots(rows=1, cols=2, subplot_titles=("Forward, ms per image",
                                                        "Forward+backward, ms per image"))
    timed = [(i, r) for i, r in enumerate(rows) if r.label in timings]
    for i, row in timed:
        timing = timings[row.label]
        for col, (values, median) in enumerate(((timing.forward, timing.forward_median),
                                                (timing.train, timing.train_median)), start=1):
            ms = [1e3 * v for v in values]
            mid = 1e3 * median
            fig.add_bar(x=[row.label], y=[mid], name=row.label, legendgroup=row.label,
                        showlegend=False, marker_color=network_color(i), opacity=0.75,
                        error_y=dict(type="data", symmetric=False, array=[max(ms) - mid],
                                     arrayminus=[mid - min(ms)], color=INK, thickness=1.5),
                        hovertemplate=(f"{row.label}: median %{{y:.3g}} ms, "
                                       f"{min(ms):.3g}–{max(ms):.3g} over {len(ms)} "
                                       "repeats<extra></extra>"),
                        row=1, col=col)
            fig.add_scatter(x=[row.label] * len(ms), y=ms, mode="markers", showlegend=False,
                            marker=dict(color=INK, size=6, symbol="circle-open"),
                            hovertemplate=f"{row.label}: %{{y:.3g}} ms<extra></extra>",
                            row=1, col=col)
    fig.update_yaxes(rangemode="tozero")
    fig.update_layout(height=HEIGHT, margin=MARGIN, bargap=0.35)
    return fig


def accuracy_scatter(rows: list[Totals], timings: dict[str, Timing] | None = None,
                     cost: CostAxis = "mult-adds") -> go.Figure:
    """Published ImageNet top-1 against cost for the networks that have one: up and to the
    left is better. ``cost`` is mult-adds per image or a measured time per image."""
    timings = timings or {}
    fig = go.Figure()
    xs, ys = [], []
    for i, row in enumerate(rows):
        top1 = published_top1(row.spec)
        x = _cost(row, timings.get(row.label), cost)
        if top1 is None or x is None:
            continue
        xs.append(x)
        ys.append(100 * top1.accuracy)
        fig.add_scatter(x=[x], y=[100 * top1.accuracy], mode="markers+text", name=row.label,
                        text=[row.label], textposition="top center",
                        marker=dict(color=network_color(i), size=14,
                                    line=dict(color=INK, width=1)),
                        hovertemplate=(f"{row.label}: %{{y:.2f}} % top-1 ({top1.weights}), "
                                       f"%{{x:.3s}}<extra></extra>" if cost == "mult-adds" else
                                       f"{row.label}: %{{y:.2f}} % top-1 ({top1.weights}), "
                                       f"%{{x:.3g}} ms<extra></extra>"))
    # Room around the points for their labels (plotly's autorange clips text at the edges).
    fig.update_xaxes(title_text=COST_TITLES[cost], range=[0, 1.15 * max(xs, default=1)],
                     exponentformat="SI", gridcolor=MUTED, gridwidth=0.3)
    low, high = min(ys, default=0), max(ys, default=100)
    pad = max(0.5, 0.15 * (high - low))
    fig.update_yaxes(title_text="ImageNet top-1 % (torchvision, published)",
                     range=[low - pad, high + 2 * pad])
    fig.update_layout(height=HEIGHT, margin=MARGIN, showlegend=False,
                      title_text="Accuracy against cost: up and to the left is better")
    return fig


def _cost(row: Totals, timing: Timing | None, cost: CostAxis) -> float | None:
    if cost == "mult-adds":
        return row.mult_adds
    if timing is None:
        return None
    return 1e3 * (timing.forward_median if cost == "forward" else timing.train_median)
