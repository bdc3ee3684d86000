"""Figures of the "Trust the map" page draw exactly the numbers they are given."""

import numpy as np
import torch

from explorer.analysis.localize import Localization, LocalizationScore
from explorer.analysis.sanity import SanityCurve, SanityStep
from explorer.analysis.trust_report import SIMILAR
from explorer.figures.style import PLAIN, RESIDUAL
from explorer.figures.trust import (localisation_figure, sanity_figure, sanity_strip_figure,
                                    strip_steps)

PARTS = (None, "fc", "layer3.2", "layer3.1", "layer3.0", "layer2.1", "layer2.0", "layer1.0",
         "stem")


def curve(method, scale, layer="layer3"):
    steps = tuple(SanityStep(p, 1 - scale * i / 10, 1 - scale * i / 20,
                             torch.full((4, 4), float(i))) for i, p in enumerate(PARTS))
    return SanityCurve(method, layer, steps)


RESULTS = {"residual": [curve("gradcam", 1.0), curve("scorecam", 0.2)],
           "plain": [curve("gradcam", 0.5), curve("scorecam", 0.1)]}


def test_sanity_curves_follow_the_cascade_for_each_net_and_measure():
    fig = sanity_figure(RESULTS, "scorecam")
    names = [t.name for t in fig.data]
    assert names == ["residual net: Spearman", "residual net: SSIM", "plain twin: Spearman",
                     "plain twin: SSIM", f"{SIMILAR}: the sentences' threshold"]
    assert list(fig.data[0].x) == ["trained", *PARTS[1:]]
    assert list(fig.data[2].y) == [s.spearman for s in RESULTS["plain"][1].steps]
    assert list(fig.data[1].y) == [s.ssim for s in RESULTS["residual"][1].steps]
    assert [t.line.color for t in fig.data[:4]] == [RESIDUAL, RESIDUAL, PLAIN, PLAIN]
    assert "Score-CAM at layer3" in fig.layout.title.text


def test_the_maps_layer_is_shaded_and_the_threshold_drawn():
    fig = sanity_figure(RESULTS, "gradcam")
    band, line = fig.layout.shapes
    assert (band.x0, band.x1) == (1.5, 4.5)  # layer3.2 .. layer3.0 on the category axis
    assert line.y0 == line.y1 == SIMILAR
    block = sanity_figure({"residual": [curve("gradcam", 1.0, layer="layer3.1")]}, "gradcam")
    assert (block.layout.shapes[0].x0, block.layout.shapes[0].x1) == (2.5, 3.5)


def test_the_y_axis_reaches_a_negative_correlation():
    fig = sanity_figure({"residual": [curve("gradcam", 2.0)]}, "gradcam")  # ends at -0.6
    assert fig.layout.yaxis.range[0] < -0.6


def test_the_strip_shows_the_image_and_the_maps_of_the_chosen_steps():
    assert strip_steps(RESULTS["residual"][0]) == [0, 1, 4, 6, 8]
    picture = np.zeros((4, 4, 3), dtype=np.uint8)
    fig = sanity_strip_figure(RESULTS, "gradcam", picture)
    images = [t for t in fig.data if t.type == "image"]
    maps = [t for t in fig.data if t.type == "heatmap"]
    assert len(images) == 2 and len(maps) == 2 * 5
    assert [m.z[0][0] for m in maps[:5]] == [0, 1, 4, 6, 8]  # each step's own example
    titles = [a.text for a in fig.layout.annotations]
    assert titles == ["the image", "trained", "random down to<br>fc",
                      "random down to<br>layer3.0", "random down to<br>layer2.0", "all random"]


def found(pointing, chance=0.2):
    stages = ("layer1", "layer2", "layer3")
    return Localization(chance, 16, tuple(
        LocalizationScore(m, s, p, p / 2) for m in ("gradcam", "layercam")
        for s, p in zip(stages, pointing)))


def test_localisation_bars_per_method_and_the_chance_line():
    fig = localisation_figure({"residual": found((0.3, 0.6, 0.9)),
                               "plain": found((0.1, 0.5, 0.7))})
    bars = [t for t in fig.data if t.type == "bar"]
    assert len(bars) == 2 * 2 * 2  # measure × method × net
    assert list(bars[0].y) == [0.3, 0.6, 0.9] and list(bars[1].y) == [0.1, 0.5, 0.7]
    assert list(bars[4].y) == [0.15, 0.3, 0.45]  # energy of the residual net's Grad-CAM
    assert {s.y0 for s in fig.layout.shapes} == {0.2} and len(fig.layout.shapes) == 4
    assert any("chance: 20.0 %" in (t.name or "") for t in fig.data)
    assert [a.text for a in fig.layout.annotations][:2] == ["Grad-CAM", "Layer-CAM"]
