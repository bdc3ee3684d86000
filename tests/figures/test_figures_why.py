"""Figures of the "why skips work" page: one colour scale for both nets, squares where they belong."""

import math

import pytest
import torch

from explorer.analysis.landscape import LandscapeResult
from explorer.analysis.lesion import BlockLesion, LesionResult, RandomLesion
from explorer.analysis.receptive_field import ErfResult
from explorer.figures.why import (landscape_contour_figure, landscape_line_figure,
                                  landscape_surface_figure, lesion_blocks_figure,
                                  lesion_random_figure)
from explorer.figures.why_maps import erf_figure


def grid(scale):
    axis = (-1.0, 0.0, 1.0)
    loss = tuple(tuple(scale * (a * a + b * b) + 0.01 for a in axis) for b in axis)
    return LandscapeResult(axis, axis, loss, 0.01, 0.25, ((scale, scale), (scale, scale)), 4, 0)


def test_contour_and_surface_share_one_colour_scale():
    results = {"residual": grid(1.0), "plain": grid(10.0)}
    contour = landscape_contour_figure(results, log=True)
    assert [t.coloraxis for t in contour.data if t.type == "contour"] == ["coloraxis"] * 2
    assert contour.layout.coloraxis.cmin == math.log10(0.01)
    assert contour.layout.coloraxis.cmax == math.log10(20.01)
    surface = landscape_surface_figure(results, log=False)
    assert surface.layout.scene.zaxis.range == surface.layout.scene2.zaxis.range
    assert surface.layout.coloraxis.cmin == 0.01 and surface.layout.coloraxis.cmax == 20.01
    line = landscape_line_figure(results)
    assert list(line.data[1].y) == [10.01, 0.01, 10.01]  # the β = 0 row of the 2-D grid


def lesion(accuracies):
    blocks = tuple(BlockLesion(f"layer1.{i}", a is not None, a) for i, a in enumerate(accuracies))
    return LesionResult(0.99, 0.125, blocks, (RandomLesion(1, (0.5, 0.7)),), 10, 2, 0, 4)


def test_lesion_figures_mark_undeletable_blocks_and_draw_bands():
    fig = lesion_blocks_figure({"residual": lesion([0.9, 0.8]), "plain": lesion([0.1, None])})
    bars = [t for t in fig.data if t.type == "bar"]
    assert list(bars[1].y) == [0.1, None]
    assert any("cannot be deleted" in (t.name or "") and list(t.x) == ["layer1.1"]
               for t in fig.data)
    random = lesion_random_figure({"residual": lesion([0.9, 0.8])})
    assert list(random.data[1].y) == [0.99, 0.6]  # k = 0 is the undeleted net, then the mean
    assert list(random.data[0].y) == [0.99, 0.7, 0.5, 0.99]  # max going out, min coming back


def test_erf_figure_draws_the_theoretical_square_around_the_centre():
    result = ErfResult("layer1", 7, 1, (8.0, 8.0), (16, 16), torch.ones(16, 16), 2)
    fig = erf_figure([("residual", result)])
    theoretical = fig.layout.shapes[0]
    assert (theoretical.x0, theoretical.x1, theoretical.y0, theoretical.y1) == (4.5, 11.5, 4.5,
                                                                               11.5)


def test_erf_field_larger_than_the_image_is_clipped_and_labelled_with_its_size():
    # ResNet-20's layer2 on a 32 px image: a 37 px theoretical field (issue 19).
    result = ErfResult("layer2", 37, 2, (15.5, 15.5), (16, 16), torch.rand(32, 32), 2)
    fig = erf_figure([("residual", result)])
    field = next(s for s in fig.layout.shapes if s.name.startswith("theoretical field"))
    assert (field.x0, field.x1, field.y0, field.y1) == (-0.5, 31.5, -0.5, 31.5)
    assert "clipped" in field.name
    labels = [a.text for a in fig.layout.annotations if "theoretical field" in a.text]
    assert labels == ["theoretical field 37 px (larger than the 32 px image)"]
    # A field that fits is drawn whole and needs no label.
    fits = erf_figure([("residual", ErfResult("layer1", 7, 1, (15.5, 15.5), (32, 32),
                                               torch.rand(32, 32), 2))])
    assert not [a for a in fits.layout.annotations if "theoretical field" in a.text]
    assert fits.layout.shapes[0].x1 - fits.layout.shapes[0].x0 == 7


def test_erf_colour_scale_starts_at_the_background():
    result = ErfResult("layer1", 7, 1, (8.0, 8.0), (16, 16), torch.ones(16, 16), 2)
    fig = erf_figure([("residual", result), ("plain", result)])
    zero = fig.layout.coloraxis.colorscale[0]
    assert zero[0] == 0 and zero[1].lower() == fig.layout.plot_bgcolor.lower()
    # Nothing between zero and the peak is darker than a value above it: a sequential scale
    # from the background, so faint values cannot draw a dark halo.
    def lightness(color):
        if color.startswith("#"):
            r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
        else:
            r, g, b = (int(v) for v in color[color.index("(") + 1:-1].split(","))
        return r + g + b
    shades = [lightness(c) for _, c in fig.layout.coloraxis.colorscale]
    assert shades == sorted(shades, reverse=True)


def test_surface_shows_the_whole_surface():
    """Issue 19: the 3-D surface was clipped at the top (z range exactly the data's, default
    camera and a cube-shaped box)."""
    results = {"residual": grid(1.0), "plain": grid(10.0)}
    for log in (False, True):
        fig = landscape_surface_figure(results, log=log)
        values = [v for t in fig.data for row in t.z for v in row]
        for scene in (fig.layout.scene, fig.layout.scene2):
            low, high = scene.zaxis.range
            assert low < min(values) and high > max(values)  # a margin both ways
            eye = scene.camera.eye
            assert (eye.x ** 2 + eye.y ** 2 + eye.z ** 2) ** 0.5 > 3 ** 0.5 * 1.25  # further out
            assert scene.aspectratio.z < 1  # a flatter box than plotly's cube
        assert fig.layout.coloraxis.colorbar.title.text == ("log10 loss" if log else "loss")


def test_lesion_labels_sit_in_the_margin_apart_and_the_undeletable_blocks_read_clearly():
    # plain's baseline just above chance: its label and chance's must not collide (issue 19).
    residual, plain = lesion([0.9, 0.8]), lesion([0.1, None])
    plain = LesionResult(0.14, 0.125, plain.blocks, plain.random, 10, 2, 0, 4)
    fig = lesion_blocks_figure({"residual": residual, "plain": plain})
    labels = {a.text.split("<br>")[0]: a for a in fig.layout.annotations
              if "undeleted" in a.text or a.text.startswith("chance")}
    assert set(labels) == {"residual undeleted", "plain undeleted", "chance"}
    for a in labels.values():  # right of the plot area, not on the bars
        assert a.xref == "paper" and a.x >= 1 and a.xanchor == "left"
    assert "99.0 %" in labels["residual undeleted"].text
    ys = sorted(a.y for a in labels.values())
    assert all(b - a >= 0.1 for a, b in zip(ys, ys[1:]))
    assert labels["plain undeleted"].y > labels["chance"].y
    # A large ✕ in the plain slot of layer1.1, and the words upright above it.
    cross = next(t for t in fig.data if "cannot be deleted" in (t.name or ""))
    assert cross.marker.size >= 14 and cross.offsetgroup == "plain"
    words = [a for a in fig.layout.annotations if a.text == "cannot be deleted"]
    assert len(words) == 1 and words[0].textangle == -90
    assert 1 < words[0].x < 1.5  # layer1.1 is category 1; plain's bar is the right of two


def test_spread_keeps_labels_apart_and_below_the_top():
    from explorer.figures.why import spread
    assert spread([0.5, 0.2], 0.1, 1.05) == [0.5, 0.2]
    assert spread([0.14, 0.125], 0.1, 1.05) == [0.225, 0.125]
    out = spread([1.0, 0.99], 0.1, 1.05)
    assert max(out) <= 1.05 and abs(out[0] - out[1]) >= 0.1 - 1e-9 and out[0] > out[1]


@pytest.mark.parametrize("changes, expected", [
    ({}, ["x (via the skip)", "F(x) (the branch)", "F(x) + x", "output = relu(·)"]),
    ({"skip_design": "scaled", "skip_scale": 0.25},
     ["0.25·x (the skip)", "0.75·F(x) (the branch)<br>plain: F(x)", "their sum",
      "output = relu(·)"]),
    ({"skip_design": "exclusive_gate", "order": "pre"},
     ["(1 − g)·x (the skip)", "g·F(x) (the branch)<br>plain: F(x)", "their sum",
      "output = the sum<br>plain: F(x) itself"]),
    ({"order": "bn_after_add"},
     ["x (via the skip)", "F(x) (the branch)", "F(x) + x", "output = relu(BN(·))"]),
])
def test_skip_columns_name_what_the_design_adds(changes, expected):
    from explorer import NetSpec, build
    from explorer.analysis.feature_maps import skip_parts
    from explorer.figures.why_maps import skip_columns, skip_figure

    spec = NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=3, image_size=8,
                   **changes)
    x = torch.randn(1, 3, 8, 8, generator=torch.Generator().manual_seed(0))
    parts = {"residual": skip_parts(build(spec), x, "layer1.0"),
             "plain": skip_parts(build(spec.replace(skip=False)), x, "layer1.0")}
    assert skip_columns(parts) == expected
    titles = [a.text for a in skip_figure(parts).layout.annotations]
    assert all(title in titles for title in expected)
    projected = skip_parts(build(spec), x, "layer2.0")  # stride 2: the skip carries h(x)
    assert skip_columns({"net": projected})[0].startswith(
        ("h(x)", "0.25·h(x)", "(1 − g)·h(x)"))
