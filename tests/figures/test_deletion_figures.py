"""The deletion figure draws the curves it is given: one panel per net, a colour per map kept
across panels, the random order dashed grey."""

import pytest

from explorer.analysis.deletion import DeletionCurve
from explorer.analysis.family_faithfulness import RANDOM_ORDER
from explorer.figures.deletion import deletion_figure, map_color
from explorer.figures.style import MUTED, PLAIN, RESIDUAL

FRACTIONS = (0.0, 0.5, 1.0)
GRAD = DeletionCurve(FRACTIONS, (0.9, 0.2, 0.1), 0.35)
SCORE = DeletionCurve(FRACTIONS, (0.9, 0.1, 0.1), 0.3)
RANDOM = DeletionCurve(FRACTIONS, (0.9, 0.7, 0.1), 0.6)
TWIN_SCORE = DeletionCurve(FRACTIONS, (0.6, 0.5, 0.4), 0.5)


def test_one_panel_per_net_with_the_curves_given():
    fig = deletion_figure([("this net: “circle”", {"Grad-CAM": GRAD, "Score-CAM": SCORE,
                                                   RANDOM_ORDER: RANDOM}),
                           ("plain twin: “square”", {"Score-CAM": TWIN_SCORE})])
    assert [a.text for a in fig.layout.annotations] == ["this net: “circle”",
                                                        "plain twin: “square”"]
    assert [(t.name, t.xaxis) for t in fig.data] == [("Grad-CAM", "x"), ("Score-CAM", "x"),
                                                     (RANDOM_ORDER, "x"), ("Score-CAM", "x2")]
    assert list(fig.data[1].y) == [0.9, 0.1, 0.1] and list(fig.data[1].x) == list(FRACTIONS)
    assert list(fig.data[3].y) == [0.6, 0.5, 0.4]
    assert fig.data[1].line.color == fig.data[3].line.color == map_color(1)  # kept across panels
    assert fig.data[2].line.color == MUTED and fig.data[2].line.dash == "dash"
    assert [t.showlegend for t in fig.data] == [True, True, True, False]
    assert "area 0.30" in fig.data[1].hovertemplate


def test_maps_never_take_the_residual_blue_or_the_plain_red():
    assert {map_color(i) for i in range(4)}.isdisjoint({RESIDUAL, PLAIN, MUTED})
    assert len({map_color(i) for i in range(4)}) == 4  # the four CAM methods told apart


def test_no_curves_is_refused():
    with pytest.raises(ValueError, match="at least one net"):
        deletion_figure([])


def test_method_ids_are_drawn_under_their_labels_and_hover_says_when_the_class_halves():
    fig = deletion_figure([("this net: “circle”", {"gradcam": GRAD, "scorecam": TWIN_SCORE,
                                                   RANDOM_ORDER: RANDOM})])
    assert [t.name for t in fig.data] == ["Grad-CAM", "Score-CAM", RANDOM_ORDER]
    assert "area 0.35, halved at 50 %" in fig.data[0].hovertemplate
    assert "never halves" in fig.data[1].hovertemplate  # 0.6 to 0.4: never below 0.3
