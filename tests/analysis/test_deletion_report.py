"""Deletion-curve sentences from hand-made curves: every branch, and a sentence that changes when
its numbers do."""

import pytest

from explorer.analysis.deletion import DeletionCurve
from explorer.analysis.deletion_report import (AREA_TIE, AT_ONCE, BEATS_RANDOM, COINCIDE,
                                               FLAT_DROP, agreement_sentence, deletion_sentences,
                                               fastest_sentence, random_sentence)


def curve(*probabilities: float) -> DeletionCurve:
    """A curve over equal steps from 0 to 1, its trapezoidal area worked out here."""
    steps = len(probabilities) - 1
    area = sum((a + b) / 2 for a, b in zip(probabilities, probabilities[1:])) / steps
    return DeletionCurve(tuple(k / steps for k in range(steps + 1)), probabilities, area)


def test_hand_made_areas():
    assert curve(0.9, 0.1, 0.1).area == pytest.approx(0.3)
    assert curve(0.9, 0.9, 0.1).area == pytest.approx(0.7)


def test_the_lowest_area_is_named_fastest_and_changes_with_the_numbers():
    areas = {"Grad-CAM": 0.30, "Layer-CAM": 0.20, "Score-CAM": 0.40}
    assert fastest_sentence("this net", areas) == (
        "For this net, Layer-CAM's curve falls fastest (area 0.20; then Grad-CAM 0.30, "
        "Score-CAM 0.40).")
    areas["Score-CAM"] = 0.10
    assert fastest_sentence("this net", areas).startswith(
        "For this net, Score-CAM's curve falls fastest (area 0.10;")


def test_areas_within_the_tie_fall_about_equally():
    close = {"Grad-CAM": 0.20, "Grad-CAM++": 0.20 + AREA_TIE / 2, "Layer-CAM": 0.20 + AREA_TIE}
    assert fastest_sentence("the plain twin", close) == (
        "For the plain twin, the 3 maps' curves fall about equally fast (areas 0.20 to 0.22, "
        f"within {AREA_TIE} of each other).")
    two_ahead = {"Grad-CAM": 0.30, "Grad-CAM++": 0.205, "Score-CAM": 0.20}
    assert fastest_sentence("this net", two_ahead) == (
        f"For this net, Score-CAM and Grad-CAM++ fall fastest, about equally (areas within "
        f"{AREA_TIE} of each other: Score-CAM 0.20, Grad-CAM++ 0.20); then Grad-CAM 0.30.")


def test_every_map_beats_the_random_order():
    line = random_sentence({"Grad-CAM": 0.20, "Score-CAM": 0.18}, 0.45, "circle")
    assert line == (f"Every map beats the random order (area 0.45) by more than {BEATS_RANDOM}: "
                    "removing the pixels the maps rank highest costs “circle” more than "
                    "removing pixels at random.")


def test_no_map_beats_the_random_order_within_the_margin():
    near = 0.45 - BEATS_RANDOM / 2
    line = random_sentence({"Grad-CAM": near, "Score-CAM": 0.45}, 0.45, "circle")
    assert line.startswith("No map beats the random order (area 0.45)")
    assert "no better than chance" in line
    assert random_sentence({"Grad-CAM": near}, 0.45, "circle").startswith(
        "Grad-CAM does not beat the random order")


def test_some_beat_some_do_not_some_do_worse():
    areas = {"Grad-CAM": 0.20, "Layer-CAM": 0.44, "Grad-CAM++": 0.60}
    assert random_sentence(areas, 0.45, "circle") == (
        f"Against the random order (area 0.45): Grad-CAM beats it by more than {BEATS_RANDOM}; "
        f"Layer-CAM does not; Grad-CAM++ does worse by more than {BEATS_RANDOM}.")
    areas["Grad-CAM"] = 0.43  # now nothing beats it
    line = random_sentence(areas, 0.45, "circle")
    assert line == (f"Against the random order (area 0.45): Grad-CAM and Layer-CAM do not; "
                    f"Grad-CAM++ does worse by more than {BEATS_RANDOM}: no map ranks the pixels "
                    f"better than chance on this image.")


def test_every_map_doing_worse_than_the_random_order_is_said_so():
    line = random_sentence({"Grad-CAM": 0.62, "Score-CAM": 0.49}, 0.31, "circle")
    assert line == (f"Every map does worse than the random order (area 0.31) by more than "
                    f"{BEATS_RANDOM}: on this image removing the pixels the maps rank highest "
                    f"costs “circle” less than removing pixels at random.")


def test_a_random_order_that_drops_the_class_at_once_leaves_nothing_to_rank():
    curves = {"Grad-CAM": curve(0.99, 0.05, 0.01), "Score-CAM": curve(0.99, 0.01, 0.01)}
    at_once = curve(0.99, *[0.0] * 6)  # gone from the first sixth on: area 0.08
    assert at_once.area <= AT_ONCE
    (line,) = deletion_sentences("the plain twin", "circle", curves, at_once)
    assert line == ("For the plain twin, even removing pixels at random drops “circle” at once "
                    f"(the random order's area is {at_once.area:.2f}): no map can beat that by "
                    f"more than {BEATS_RANDOM}, so these curves cannot rank the maps on this "
                    "image.")
    slower = curve(0.99, 0.5, 0.0)  # the same curves against a random order that takes its time
    assert deletion_sentences("the plain twin", "circle", curves, slower)[0].startswith(
        "For the plain twin, Score-CAM's curve falls fastest")


def test_curves_that_hardly_move_cannot_rank_the_maps():
    flat = 0.30 - FLAT_DROP / 2
    curves = {"Grad-CAM": curve(0.30, flat, 0.30), "Score-CAM": curve(0.30, 0.30, flat)}
    (line,) = deletion_sentences("this net", "square", curves, curve(0.30, 0.31, 0.29))
    assert line.startswith("For this net, the probability of “square” stays within 5 points of "
                           "its start (30.0 %)")
    assert "cannot rank the maps" in line
    curves["Score-CAM"] = curve(0.30, 0.10, 0.10)  # one curve falls: now the maps are ranked
    fastest, against_random = deletion_sentences("this net", "square", curves,
                                                 curve(0.30, 0.31, 0.29))
    assert fastest == ("For this net, Score-CAM's curve falls fastest (area 0.15; then "
                       "Grad-CAM 0.29).")
    assert against_random == (f"Against the random order (area 0.30): Score-CAM beats it by more "
                              f"than {BEATS_RANDOM}; Grad-CAM does not.")


def test_a_net_whose_maps_work_gets_both_sentences():
    curves = {"Grad-CAM": curve(0.9, 0.1, 0.1), "Score-CAM": curve(0.9, 0.08, 0.1)}
    fastest, against_random = deletion_sentences("this net", "square", curves,
                                                 curve(0.9, 0.8, 0.1))
    assert fastest == ("For this net, the 2 maps' curves fall about equally fast (areas 0.29 to "
                       f"0.30, within {AREA_TIE} of each other).")
    assert against_random.startswith("Every map beats the random order (area 0.65)")
    assert deletion_sentences("this net", "square", {}, curve(0.9, 0.8, 0.1)) == []


GRADIENT_PAIRS = (("Grad-CAM", "Grad-CAM++"), ("Grad-CAM", "Layer-CAM"),
                  ("Grad-CAM++", "Layer-CAM"))


def test_maps_that_coincide_at_the_last_stage_say_why():
    rho = dict(zip(GRADIENT_PAIRS, (0.99, COINCIDE, 1.0)))
    line = agreement_sentence("layer3", rho, last_stage=True)
    assert line.startswith("At layer3 the Grad-CAM, Grad-CAM++ and Layer-CAM maps nearly "
                           "coincide (rank correlation 0.95 to 1.00): at the last stage")
    assert "same at every position" in line
    assert "same at every position" not in agreement_sentence("layer2", rho, last_stage=False)


def test_maps_that_differ_before_the_last_stage():
    rho = dict(zip(GRADIENT_PAIRS, (0.05, 0.31, 0.61)))
    line = agreement_sentence("layer2", rho, last_stage=False)
    assert line.startswith("At layer2 the Grad-CAM, Grad-CAM++ and Layer-CAM maps differ (rank "
                           "correlation 0.05 to 0.61 between pairs): before the last stage")
    partly = dict(zip(GRADIENT_PAIRS, (0.2, 0.97, 0.3)))
    assert "do not all coincide (rank correlation 0.20 to 0.97" in agreement_sentence(
        "layer3", partly, last_stage=True)
    assert agreement_sentence("layer3", {("Grad-CAM", "Layer-CAM"): 0.5}, True) == (
        "At layer3 the Grad-CAM and Layer-CAM maps differ (rank correlation 0.50 between pairs).")
    assert agreement_sentence("layer3", {}, True) is None


def test_area_table_has_a_column_per_net():
    from explorer.analysis.deletion_report import area_table

    panels = [("this net", {"Grad-CAM": curve(0.9, 0.1, 0.1),
                            "random order": curve(0.9, 0.8, 0.1)}),
              ("plain twin", {"Grad-CAM": curve(0.9, 0.9, 0.1),
                              "Score-CAM": curve(0.9, 0.0, 0.0)})]
    table = area_table(panels)
    assert table["map"] == ["Grad-CAM", "random order", "Score-CAM"]
    assert table["this net"][:2] == pytest.approx([0.3, 0.65]) and table["this net"][2] is None
    assert table["plain twin"][0] == pytest.approx(0.7) and table["plain twin"][1] is None
    assert table["plain twin"][2] == pytest.approx(0.225)
