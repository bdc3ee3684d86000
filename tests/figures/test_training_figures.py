"""He et al.'s Fig. 1 / Fig. 6 layout: residual and plain, shallow and deep, all told apart."""

from explorer.figures.style import VARIANT_COLORS
from explorer.figures.training import figure6, variant_shade
from explorer.training.curves import Curve


def curves():
    return [Curve(f"resnet{depth}", variant, depth, 10, steps=[1, 2, 3],
                  accuracies=[0.1, 0.5, 0.9], val_steps=[3], val_accuracies=[0.8])
            for depth in (20, 56) for variant in ("residual", "plain")]


def held_out(fig, label):
    return next(t for t in fig.data if t.name == f"{label} held-out")


def training(fig, label):
    return next(t for t in fig.data if t.name == f"{label} training")


def test_resnet20_and_plain20_differ_in_colour_in_the_legend_and_the_lines():
    fig = figure6(curves())
    for pick in (held_out, training):
        assert pick(fig, "ResNet-20").line.color != pick(fig, "plain-20").line.color
        assert pick(fig, "ResNet-56").line.color != pick(fig, "plain-56").line.color
    # Held-out points also differ in marker shape (they often sit on top of each other).
    assert held_out(fig, "ResNet-20").marker.symbol != held_out(fig, "plain-20").marker.symbol


def test_depth_is_told_apart_by_dash_and_shade_within_a_variant():
    fig = figure6(curves())
    for variant in ("ResNet", "plain"):
        shallow, deep = held_out(fig, f"{variant}-20"), held_out(fig, f"{variant}-56")
        assert shallow.line.dash != deep.line.dash
        assert shallow.line.color != deep.line.color
        assert training(fig, f"{variant}-20").line.dash == shallow.line.dash


def test_shades_stay_in_the_variants_hue():
    def rgb(color):
        return tuple(int(color[i:i + 2], 16) for i in (1, 3, 5))
    for variant in ("residual", "plain"):
        base = rgb(VARIANT_COLORS[variant])
        top = base.index(max(base))  # blue for residual, red for plain
        for index in range(3):
            shade = rgb(variant_shade(variant, index, 3))
            assert shade.index(max(shade)) == top
    assert variant_shade("plain", 0, 1) == VARIANT_COLORS["plain"]
    light, dark = variant_shade("residual", 0, 2), variant_shade("residual", 1, 2)
    assert sum(rgb(light)) > sum(rgb(VARIANT_COLORS["residual"])) > sum(rgb(dark))


def test_the_shipped_record_draws_four_distinguishable_nets():
    from explorer.training.recorded import recorded_figure1
    record = recorded_figure1()
    if record is None:
        return
    fig = figure6(record.curves)
    styles = {(held_out(fig, c.label).line.color, held_out(fig, c.label).line.dash)
              for c in record.curves}
    assert len(styles) == len(record.curves)
