"""Whether the CAM family's gradient maps coincide, and where nearly coinciding maps' deletion
curves part: sentences checked against hand-made correlations and curves."""

from deletion_curves_util import curve

from explorer.analysis.deletion_agreement import COINCIDE, CURVES_PART, agreement_sentence
from explorer.analysis.deletion_report import AREA_TIE


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


def test_maps_that_coincide_but_part_at_the_first_step_say_where():
    rho = dict(zip(GRADIENT_PAIRS, (0.99, 0.98, 1.0)))
    curves = {"Grad-CAM": curve(0.9, 0.5, 0.0), "Grad-CAM++": curve(0.9, 0.1, 0.0),
              "Layer-CAM": curve(0.9, 0.12, 0.0), "Score-CAM": curve(0.9, 0.9, 0.9)}
    line = agreement_sentence("layer3", rho, True, curves)
    assert line.endswith(
        "each method only weighs whole channels its own way; yet their deletion curves differ "
        "(areas Grad-CAM 0.47, Grad-CAM++ 0.28, Layer-CAM 0.29) from the first step on (with "
        "50 % of the pixels removed: 10.0 % to 50.0 %): rankings that nearly coincide over "
        "every pixel can still differ where it matters, among the top-ranked pixels that go "
        "first.")
    # The same areas, but the curves agree at the first step and part later.
    later = {"Grad-CAM": curve(0.9, 0.1, 0.1, 0.6, 0.0),
             "Grad-CAM++": curve(0.9, 0.1 + CURVES_PART / 2, 0.1, 0.1, 0.0),
             "Layer-CAM": curve(0.9, 0.1, 0.1, 0.1, 0.0)}
    line = agreement_sentence("layer3", rho, True, later)
    assert line.endswith("yet their deletion curves differ (areas Grad-CAM 0.31, Grad-CAM++ "
                         "0.19, Layer-CAM 0.19), though only once 75 % of the pixels are gone, "
                         "not among the top-ranked pixels that go first.")
    # Areas within the tie: nearly coinciding maps say nothing more.
    tied = {"Grad-CAM": curve(0.9, 0.1, 0.0), "Grad-CAM++": curve(0.9, 0.1 + AREA_TIE, 0.0),
            "Layer-CAM": curve(0.9, 0.1, 0.0)}
    assert agreement_sentence("layer3", rho, True, tied) == agreement_sentence(
        "layer3", rho, True)
    assert "yet" not in agreement_sentence("layer3", rho, True)
