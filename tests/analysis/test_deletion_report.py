"""Deletion-curve sentences from hand-made curves: every branch, and a sentence that changes when
its numbers do."""

import pytest
from deletion_curves_util import curve

from explorer.analysis.deletion import DeletionCurve
from explorer.analysis.deletion_agreement import agreement_sentence
from explorer.analysis.deletion_report import (AREA_TIE, AT_ONCE, BEATS_RANDOM, COMES_BACK,
                                               FLAT_DROP, area_table, comes_back,
                                               deletion_sentences, fastest_sentence, halved_at,
                                               outline_caveat, random_sentence, rebound)


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


def test_area_table_has_a_column_per_net():
    panels = [("this net", {"Grad-CAM": curve(0.9, 0.1, 0.1),
                            "random order": curve(0.9, 0.8, 0.1)}),
              ("plain twin", {"Grad-CAM": curve(0.9, 0.9, 0.1),
                              "Score-CAM": curve(0.9, 0.0, 0.0)})]
    table = area_table(panels)
    assert table["map"] == ["Grad-CAM", "random order", "Score-CAM"]
    areas, twin = table["this net: area"], table["plain twin: area"]
    assert areas[:2] == pytest.approx([0.3, 0.65]) and areas[2] is None
    assert twin[0] == pytest.approx(0.7) and twin[1] is None
    assert twin[2] == pytest.approx(0.225)
    assert table["this net: halved at"] == ["50 %", "100 %", None]
    assert table["plain twin: halved at"] == ["100 %", None, "50 %"]


def test_the_area_table_says_when_a_curve_never_halves_and_names_methods_by_label():
    table = area_table([("this net", {"gradcam": curve(0.9, 0.6, 0.5),
                                      "scorecam": curve(0.9, 0.45, 0.1)})])
    assert table["map"] == ["Grad-CAM", "Score-CAM"]
    assert table["this net: halved at"] == ["never", "50 %"]


# The upload of a red circle: every map drops "circle" at the first step, then its curve climbs
# back once the circle is gone (a mean-coloured disc is a circle too), while the random order
# takes a quarter of the pixels to halve it and never comes back: the maps' areas come out
# larger than the random order's although their curves fall first.
EIGHTHS = {
    "maps": {"Grad-CAM": curve(1.0, 0.02, 0.05, 0.6, 1.0, 1.0, 0.9, 0.5, 0.1),
             "Score-CAM": curve(1.0, 0.0, 0.0, 0.3, 0.95, 1.0, 0.9, 0.5, 0.1)},
    "reference": curve(1.0, 0.98, 0.4, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0)}


def test_halving_and_coming_back_from_hand_made_curves():
    grad = EIGHTHS["maps"]["Grad-CAM"]
    assert halved_at(grad) == 1 / 8 and halved_at(EIGHTHS["reference"]) == 2 / 8
    assert halved_at(curve(0.9, 0.5, 0.46)) is None
    assert rebound(grad) == (pytest.approx(0.98), 4)
    assert comes_back(grad) and not comes_back(EIGHTHS["reference"])
    assert not comes_back(curve(0.9, 0.1, 0.1 + COMES_BACK * 0.99, 0.0))  # within the margin


def test_curves_that_come_back_up_are_ranked_by_how_soon_they_fall_not_by_area():
    maps, reference = EIGHTHS["maps"], EIGHTHS["reference"]
    assert min(c.area for c in maps.values()) > reference.area + BEATS_RANDOM  # the trap
    early, back = deletion_sentences("this net", "circle", maps, reference)
    assert early == ("For this net, every map's curve is down to half the start of “circle” "
                     "(100 %) once 12 % of the pixels are removed, sooner than the random order "
                     "(25 %).")
    assert back == (
        "Then every map's curve comes back up (as high as 100 % with 50 % of the pixels "
        "removed) once the pixels ranked highest are gone: removed pixels take the training "
        "set's mean colour, and the hole they leave can itself look like a shape to the "
        f"network. So their areas (Grad-CAM {maps['Grad-CAM'].area:.2f}, Score-CAM "
        f"{maps['Score-CAM'].area:.2f}; the random order {reference.area:.2f}) overstate how "
        "little the maps found: judge them by how soon their curves fall, not by area.")
    assert "worse than the random order" not in early + back
    # Score-CAM now halves the class a step later: the sentence names Grad-CAM first.
    later = {**maps, "Score-CAM": curve(1.0, 0.7, 0.0, 0.3, 0.95, 1.0, 0.9, 0.5, 0.1)}
    early, back = deletion_sentences("this net", "circle", later, reference)
    assert early == ("For this net, Grad-CAM's curve falls first: “circle” is down to half its "
                     "start (100 %) once 12 % of the pixels are removed, sooner than the random "
                     "order (25 %); then Score-CAM at 25 %.")
    # A random order that halves the class first is said to, and a map that never does.
    quick = curve(1.0, 0.3, 0.1, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    slow = {**maps, "Score-CAM": curve(1.0, 0.9, 0.8, 0.55, 0.9, 1.0, 0.9, 0.9, 0.9)}
    assert deletion_sentences("the plain twin", "circle", slow, quick)[0] == (
        "For the plain twin, Grad-CAM's curve falls first: “circle” is down to half its start "
        "(100 %) once 12 % of the pixels are removed, no sooner than the random order (12 %); "
        "Score-CAM never halves it.")


def test_only_one_curve_coming_back_is_named():
    grad = curve(1.0, 0.02, 0.05, 0.6, 1.0, 1.0, 0.9, 0.5, 0.1)
    layer = curve(1.0, 0.1, 0.05, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    back = deletion_sentences("this net", "circle", {"Grad-CAM": grad, "Layer-CAM": layer},
                              EIGHTHS["reference"])[1]
    assert back.startswith("Then Grad-CAM's curve comes back up (as high as 100 % with 50 % of")
    assert f"So its area (Grad-CAM {grad.area:.2f}; the random order" in back
    # Take the climb below the margin: the areas rank the maps again.
    low = curve(1.0, 0.02, 0.05, 0.02 + COMES_BACK, 0.1, 0.05, 0.0, 0.0, 0.0)
    fastest, _ = deletion_sentences("this net", "circle",
                                    {"Grad-CAM": low, "Layer-CAM": layer},
                                    EIGHTHS["reference"])
    assert fastest.startswith("For this net, Layer-CAM's curve falls fastest")


def test_a_random_order_that_climbs_is_named_alone():
    flat_maps = {"Grad-CAM": curve(0.7, 0.0, 0.0, 0.0, 0.0), "Score-CAM": curve(0.7, 0.1, 0.0,
                                                                                0.0, 0.0)}
    climbing = curve(0.7, 0.8, 0.95, 0.9, 0.7)
    early, back = deletion_sentences("this net", "star", flat_maps, climbing)
    assert early == ("For this net, every map's curve is down to half the start of “star” "
                     "(70.0 %) once 25 % of the pixels are removed, while the random order never "
                     "halves it.")
    assert back.startswith("The random order's curve climbs as pixels go (to 95.0 % with 50 % "
                           "of the pixels removed)")


def test_maps_that_all_drop_the_class_at_once_cannot_be_ranked():
    at_once = {"Grad-CAM": curve(0.99, *[0.0] * 8), "Score-CAM": curve(0.99, *[0.002] * 8)}
    assert max(c.area for c in at_once.values()) <= AT_ONCE
    (line,) = deletion_sentences("this net", "circle", at_once, EIGHTHS["reference"])
    assert line == ("For this net, every map's curve drops “circle” at once (areas all 0.06; "
                    "the random order's 0.25): these curves cannot rank the maps against one "
                    "another on this image.")
    at_once["Score-CAM"] = curve(0.99, 0.2, *[0.0] * 7)  # one takes a step longer
    assert "(areas 0.06 to 0.09; the random order's 0.25)" in deletion_sentences(
        "this net", "circle", at_once, EIGHTHS["reference"])[0]


def test_equal_areas_are_not_written_as_a_range():
    assert fastest_sentence("this net", {"Grad-CAM": 0.031, "Score-CAM": 0.034}) == (
        "For this net, the 2 maps' curves fall about equally fast (areas all 0.03).")


def test_method_ids_are_written_as_labels():
    areas = {"gradcam": 0.20, "scorecam": 0.40, "gradcam++": 0.41}
    assert fastest_sentence("this net", areas) == (
        "For this net, Grad-CAM's curve falls fastest (area 0.20; then Score-CAM 0.40, "
        "Grad-CAM++ 0.41).")
    assert random_sentence(areas, 0.45, "circle").startswith(
        f"Against the random order (area 0.45): Grad-CAM beats it by more than {BEATS_RANDOM}; "
        "Score-CAM and Grad-CAM++ do not")
    rho = {("gradcam", "layercam"): 0.99}
    assert agreement_sentence("layer3", rho, False).startswith(
        "At layer3 the Grad-CAM and Layer-CAM maps nearly coincide")
    said = " ".join(deletion_sentences("this net", "circle",
                                       {"gradcam": EIGHTHS["maps"]["Grad-CAM"],
                                        "scorecam": EIGHTHS["maps"]["Score-CAM"]},
                                       EIGHTHS["reference"]))
    assert "gradcam" not in said and "scorecam" not in said and "Score-CAM" in said


def test_curves_that_come_back_before_halving_say_that_no_map_halves_the_class():
    dips = {"Grad-CAM": curve(0.9, 0.5, 0.9, 0.9, 0.9), "Score-CAM": curve(0.9, 0.6, 0.9, 0.9,
                                                                           0.9)}
    early, _ = deletion_sentences("this net", "star", dips, curve(0.9, 0.8, 0.4, 0.1, 0.0))
    assert early == ("For this net, no map's curve falls to half the start of “star” (90.0 %); "
                     "the random order's does once 50 % of the pixels are removed.")
    early, _ = deletion_sentences("this net", "star", dips, curve(0.9, 0.8, 0.6, 0.5, 0.5))
    assert early.endswith("(90.0 %); nor does the random order's.")


def test_the_outline_caveat_comes_only_when_a_map_loses_to_the_random_order():
    reference = DeletionCurve((0.0, 0.5, 1.0), (1.0, 0.4, 0.0), 0.40)
    loses = DeletionCurve((0.0, 0.5, 1.0), (1.0, 1.0, 0.1), 0.75)
    beats = DeletionCurve((0.0, 0.5, 1.0), (1.0, 0.1, 0.0), 0.30)
    caveat = outline_caveat({"Grad-CAM": loses, "Score-CAM": beats}, reference)
    assert caveat.startswith("A caution about the test on synthetic shapes")
    assert outline_caveat({"Score-CAM": beats}, reference) is None
    level = DeletionCurve((0.0, 0.5, 1.0), (1.0, 0.45, 0.0), 0.40 + BEATS_RANDOM)  # not beyond
    assert outline_caveat({"Grad-CAM": level}, reference) is None
