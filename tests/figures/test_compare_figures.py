"""The Compare page's figures: one colour per network, the numbers they are given, nothing else."""

from explorer import PRESETS
from explorer.analysis.compare import Timing, totals
from explorer.figures.compare import (accuracy_scatter, resolution_width, speed_figure,
                                      stage_bars)
from explorer.figures.style import NETWORK_COLORS

NAMES = ("resnet50", "resnext50_32x4d", "seresnet50", "resnet20")
ROWS = [totals(name, PRESETS[name]) for name in NAMES]
TIMINGS = {"resnet50": Timing(4, "cpu", 2, (0.010, 0.012, 0.011), (0.03, 0.031, 0.032)),
           "seresnet50": Timing(4, "cpu", 2, (0.014, 0.015, 0.013), (0.04, 0.041, 0.042))}


def test_stage_bars_group_every_stage_by_network():
    fig = stage_bars(ROWS)
    params = [t for t in fig.data if t.xaxis == "x"]
    assert [t.name for t in params] == list(NAMES)
    assert [t.marker.color for t in params] == list(NETWORK_COLORS)
    assert list(params[0].y) == [s.params for s in ROWS[0].stages]
    assert list(params[3].x) == ["stem", "layer1", "layer2", "layer3", "head"]  # a CIFAR net
    assert list(fig.layout.xaxis.categoryarray) == ["stem", "layer1", "layer2", "layer3",
                                                    "layer4", "head"]


def test_resolution_width_has_one_point_per_stage():
    fig = resolution_width(ROWS)
    assert list(fig.data[0].x) == [64, 256, 512, 1024, 2048]
    assert list(fig.data[0].y) == [56, 56, 28, 14, 7]
    assert list(fig.data[3].y) == [32, 32, 16, 8]


def test_speed_figure_shows_every_repeat_of_the_timed_networks():
    fig = speed_figure(ROWS, TIMINGS)
    bars = [t for t in fig.data if t.type == "bar"]
    dots = [t for t in fig.data if t.type == "scatter"]
    assert [b.x[0] for b in bars] == ["resnet50", "resnet50", "seresnet50", "seresnet50"]
    assert bars[0].y[0] == 11.0 and list(bars[0].error_y.array) == [1.0]
    assert sorted(dots[0].y) == [10.0, 11.0, 12.0]
    assert bars[2].marker.color == NETWORK_COLORS[2]


def test_accuracy_scatter_shows_only_published_networks():
    fig = accuracy_scatter(ROWS)
    assert [t.name for t in fig.data] == ["resnet50", "resnext50_32x4d"]
    assert fig.data[0].y[0] == 76.13 and fig.data[0].x[0] == ROWS[0].mult_adds
    timed = accuracy_scatter(ROWS, TIMINGS, cost="train")
    assert [t.name for t in timed.data] == ["resnet50"]  # resnext50 was not timed
    assert timed.data[0].x[0] == 31.0
