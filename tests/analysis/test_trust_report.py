"""The "Trust the map" sentences, on hand-made results: each sentence follows its numbers."""

import pytest
import torch

from explorer.analysis.localize import Localization, LocalizationScore
from explorer.analysis.sanity import SanityCurve, SanityStep
from explorer.analysis.trust_report import (CONTRAST, FEW_SANITY_IMAGES, FOLLOWS_IMAGE, SIMILAR,
                                            accuracy_sentence, at_layer, best_stage_sentence,
                                            chance_sentence, contrast_sentence,
                                            few_images_sentence, localisation_method_sentence,
                                            localisation_sentences, rebound,
                                            sanity_few_images_sentence, sanity_method_sentence,
                                            sanity_ranking_sentence, sanity_sentences)

PARTS = ("fc", "layer3.1", "layer3.0", "layer2.1", "layer2.0", "stem")


def curve(method="gradcam", fc=0.9, layer_top=0.8, layer_done=0.31, middle=0.4, end=0.2,
          layer="layer3", parts=PARTS):
    """A cascade whose Spearman is ``layer_done`` right after the last block of layer3 and
    ``middle`` once layer2.1 is random too."""
    values = {"fc": fc, "layer3.1": layer_top, "layer3.0": layer_done, "layer2.1": middle,
              "layer2.0": 0.35, "stem": end}
    steps = [SanityStep(None, 1.0, 1.0, torch.zeros(4, 4))]
    steps += [SanityStep(p, values[p], values[p] / 2, torch.zeros(4, 4)) for p in parts]
    return SanityCurve(method, layer, tuple(steps))


def test_a_map_that_changes_depends_on_the_weights_and_names_its_number():
    text = sanity_method_sentence({"residual": curve(layer_done=0.31)})
    assert text.startswith("Grad-CAM's map keeps a rank correlation of 0.31 with the trained map "
                           "once layer3 is randomised")
    assert f"below {SIMILAR}: it depends on the weights" in text
    assert "Adebayo" not in text


def test_the_number_after_the_last_block_of_the_layer_is_the_one_read():
    text = sanity_method_sentence({"residual": curve(layer_top=0.9, layer_done=0.12)})
    assert "of 0.12 " in text and "0.90" not in text


def test_a_map_that_stays_alike_gets_the_papers_reading():
    text = sanity_method_sentence({"residual": curve("scorecam", layer_done=0.85)})
    assert "rank correlation of 0.85" in text and f"{SIMILAR} or more" in text
    assert "explains the input, not the model" in text
    assert "depends on the weights it explains" not in text


def test_the_threshold_itself_counts_as_alike():
    assert "hardly changes" in sanity_method_sentence({"residual": curve(layer_done=SIMILAR)})


def test_two_nets_that_disagree_are_named_apart():
    text = sanity_method_sentence({"residual": curve(layer_done=0.31),
                                   "plain": curve(layer_done=0.72)})
    assert "0.31 in the residual net and 0.72 in the plain twin" in text
    assert "below 0.5 in the residual net, where it depends on the weights" in text
    assert "0.5 or more in the plain twin, where it hardly changes" in text


def test_what_is_left_with_every_weight_random():
    follows = sanity_method_sentence({"residual": curve(end=0.41)})
    assert (f"still keeps 0.41, {FOLLOWS_IMAGE} or more: part of the map follows the image"
            in follows)
    gone = sanity_method_sentence({"residual": curve(end=0.12)})
    assert f"keeps 0.12, below {FOLLOWS_IMAGE}: little of the trained map is left" in gone
    mixed = sanity_method_sentence({"residual": curve(end=0.41), "plain": curve(end=0.05)})
    assert "0.41 in the residual net and 0.05 in the plain twin" in mixed
    assert "or more in the residual net, where part of the map follows" in mixed


def test_a_map_taken_at_a_block_reads_the_step_of_that_block():
    block = curve(layer="layer3.1", layer_top=0.66, layer_done=0.2)
    assert at_layer(block) == 0.66
    assert "once layer3.1 is randomised" in sanity_method_sentence({"residual": block})


def test_ranking_orders_the_methods_by_the_number_shown():
    curves = [curve("scorecam", layer_done=0.85), curve("gradcam", layer_done=0.31),
              curve("layercam", layer_done=0.82)]
    text = sanity_ranking_sentence(curves, "residual")
    listed, reason = text.split(" A likely reason")
    assert listed.endswith("Grad-CAM 0.31, Layer-CAM 0.82, Score-CAM 0.85.")
    assert "; Layer-CAM keeps only the positive gradients, so its map stays" in reason
    assert sanity_ranking_sentence(curves[:1], "residual") is None


def test_the_reason_is_given_only_when_grad_cam_changed_most_beside_a_positive_only_method():
    first_is_other = [curve("layercam", layer_done=0.2), curve("gradcam", layer_done=0.5)]
    assert "likely reason" not in sanity_ranking_sentence(first_is_other, "residual")
    no_positive = [curve("gradcam", layer_done=0.2), curve("scorecam", layer_done=0.5)]
    assert "likely reason" not in sanity_ranking_sentence(no_positive, "residual")


def test_sanity_sentences_pair_the_nets_per_method():
    results = {"residual": [curve("gradcam", layer_done=0.3), curve("layercam", layer_done=0.8)],
               "plain": [curve("gradcam", layer_done=0.2), curve("layercam", layer_done=0.7)]}
    lines = sanity_sentences(results, FEW_SANITY_IMAGES)
    assert len(lines) == 3
    assert lines[0].startswith("Grad-CAM's") and "0.30 in the residual net and 0.20" in lines[0]
    assert lines[1].startswith("Layer-CAM's") and lines[2].startswith("In the residual net")


def test_too_few_images_get_a_caveat_that_names_the_threshold():
    assert FEW_SANITY_IMAGES == 8
    two = sanity_few_images_sentence(2)
    assert two.startswith("Each point of these curves averages the maps of only 2 images: "
                          "averages over fewer than 8 images move a lot")
    assert "only 1 image:" in sanity_few_images_sentence(1)
    assert "only 7 images:" in sanity_few_images_sentence(7)
    assert sanity_few_images_sentence(8) is None
    results = {"residual": [curve()]}
    assert sanity_sentences(results, 2)[0] == two
    assert len(sanity_sentences(results, 8)) == 1


def test_a_map_that_rises_back_above_the_threshold_is_not_said_to_depend_on_the_weights():
    back = curve(layer_done=0.46, middle=0.66, end=0.60)
    assert rebound(back).randomized == "layer2.1"
    text = sanity_method_sentence({"residual": back})
    assert ("once layer3 is randomised (with everything above it), below 0.5. But the map rises "
            "back to 0.66 once layer2.1 is randomised too and ends at 0.60, 0.5 or more again: "
            "that close to the trained map with the weights random down to layer2.1, its drop at "
            "layer3 does not show that it depends on the weights.") in text
    assert "depends on the weights it explains" not in text and "Adebayo" in text
    ending = sanity_method_sentence({"residual": curve(layer_done=0.46, middle=0.4, end=0.55)})
    assert "But the map rises back to 0.55 with every weight random, 0.5 or more again" in ending
    assert "with every weight random, its drop at layer3" in ending
    at_threshold = curve(layer_done=0.46, middle=SIMILAR)
    assert rebound(at_threshold) is not None
    below = curve(layer_done=0.46, middle=0.49, end=0.3)
    assert rebound(below) is None
    assert "rises back" not in sanity_method_sentence({"residual": below})
    assert rebound(curve(layer_done=0.6, middle=0.7)) is None  # never fell at its layer


def test_a_rise_back_in_one_net_is_said_for_that_net():
    text = sanity_method_sentence({"residual": curve(layer_done=0.32, middle=0.1, end=-0.18),
                                   "plain": curve(layer_done=0.46, middle=0.66, end=0.60)})
    assert "0.32 in the residual net and 0.46 in the plain twin" in text
    assert "But the plain twin's map rises back to 0.66 once layer2.1 is randomised too" in text
    assert ("In the residual net it stays below 0.5 for the rest of the cascade: there it "
            "depends on the weights it explains.") in text
    mixed = sanity_method_sentence({"residual": curve(layer_done=0.72),
                                    "plain": curve(layer_done=0.46, middle=0.66)})
    assert (": below 0.5 in the plain twin, but 0.5 or more in the residual net, where it hardly "
            "changes. But the plain twin's map rises back to 0.66") in mixed
    assert "stays below" not in mixed


# -- localisation ---------------------------------------------------------------------------------
def found(pointing, energy=None, chance=0.17, images=64, methods=("gradcam",),
          stages=("layer1", "layer2", "layer3")):
    """``pointing[method][stage]`` (or one number for every method and stage)."""
    def value(table, method, stage):
        if isinstance(table, dict):
            table = table[method]
        return table[stages.index(stage)] if isinstance(table, (list, tuple)) else table
    energy = pointing if energy is None else energy
    return Localization(chance, images, tuple(
        LocalizationScore(m, s, value(pointing, m, s), value(energy, m, s))
        for m in methods for s in stages))


def test_chance_and_the_sample_size():
    results = {"residual": found(0.8, chance=0.163, images=8)}
    assert chance_sentence(results).startswith("The objects cover 16.3 % of the image on average "
                                               "over the 8 images")
    assert chance_sentence(results).endswith("A score more than 10 points above it counts as "
                                             "above chance, more than 10 points below it as "
                                             "below.")
    assert "steps of 12.5 %" in few_images_sentence(results)
    assert few_images_sentence({"residual": found(0.8, images=64)}) is None


@pytest.mark.parametrize("score, verdict", [(0.83, "66.0 points above chance"),
                                            (0.875, "70.5 points above chance"),
                                            (0.28, "11.0 points above chance"),
                                            (0.27, "within 10 points of chance"),
                                            (0.22, "within 10 points of chance"),
                                            (0.05, "12.0 points below chance")])
def test_each_verdict_on_the_pointing_game(score, verdict):
    text = localisation_method_sentence({"residual": found([0.1, 0.2, score], 0.42)}, "gradcam")
    assert text.startswith(f"Grad-CAM at layer3: the map's peak falls on the object in "
                           f"{100 * score:.1f} % of the images ({verdict})")
    assert text.endswith("the share of its positive map on the object is 42.0 %.")


def test_nets_with_different_verdicts_are_named_apart():
    results = {"residual": found(0.8), "plain": found(0.2)}
    text = localisation_method_sentence(results, "gradcam")
    assert "80.0 % of the images in the residual net (63.0 points above chance)" in text
    assert "20.0 % of the images in the plain twin (within 10 points of chance)" in text
    same = localisation_method_sentence({"residual": found(0.8), "plain": found(0.7)}, "gradcam")
    assert ("80.0 % of the images in the residual net and 70.0 % in the plain twin (63.0 and "
            "53.0 points above chance)") in same


def test_best_stage_is_the_best_mean_over_methods():
    results = {"residual": found({"gradcam": [0.3, 0.9, 0.6], "scorecam": [0.3, 0.7, 0.8]},
                                 methods=("gradcam", "scorecam"))}
    text = best_stage_sentence(results)
    assert "most often at layer2 (80.0 %) and least often at layer1 (30.0 %)" in text
    assert best_stage_sentence({"residual": found(0.5, stages=("layer3",))}) is None


def test_residual_vs_plain_contrast_at_the_deepest_stage():
    near = contrast_sentence({"residual": found(0.80), "plain": found(0.80 - CONTRAST + 0.01)})
    assert "about equally often (80.0 % vs 71.0 %" in near
    better = contrast_sentence({"residual": found(0.85), "plain": found(0.60)})
    assert "the residual net's maps point at the object more often than the plain twin's" in better
    worse = contrast_sentence({"residual": found(0.5), "plain": found(0.9)})
    assert "the plain twin's maps point at the object more often than the residual net's" in worse
    assert contrast_sentence({"residual": found(0.5)}) is None
    few = contrast_sentence({"residual": found(0.85, images=8), "plain": found(0.60, images=8)})
    assert few.endswith("in 85.0 % of the images and the plain twin's in 60.0 %, averaged over "
                        "the methods: 8 images are too few to call either better.")


def test_localisation_sentences_leave_out_what_does_not_apply():
    lines = localisation_sentences({"residual": found(0.8, images=64, stages=("layer3",))})
    assert len(lines) == 2 and lines[1].startswith("Grad-CAM at layer3")


def test_accuracy_on_the_scored_images():
    assert accuracy_sentence({"residual": 0.997, "plain": 0.415}, 64).endswith(
        "of these 64 images, 99.7 % are classified correctly by the residual net and 41.5 % by "
        "the plain twin.")
    assert accuracy_sentence({"plain": 0.5}, 8).endswith("8 images, 50.0 % are classified "
                                                         "correctly.")


def test_a_less_accurate_net_that_points_worse_is_said_to_have_learned_less():
    results = {"residual": found(0.8), "plain": found(0.44)}
    caveat = contrast_sentence(results, {"residual": 0.997, "plain": 0.415})
    assert caveat.endswith("The plain twin also classifies far fewer of these images correctly "
                           "(41.5 % vs 99.7 %): a map of a class the net does not recognise has "
                           "less to point at, so part of this difference is what each net "
                           "learned.")
    close = contrast_sentence(results, {"residual": 0.99, "plain": 0.99 - CONTRAST})
    assert "fewer" not in close
    reversed_ = contrast_sentence(results, {"residual": 0.4, "plain": 0.99})
    assert "fewer" not in reversed_
    lines = localisation_sentences(results, {"residual": 0.997, "plain": 0.415})
    assert lines[1].startswith("The maps explain each image's true class") and "fewer" in lines[-1]
