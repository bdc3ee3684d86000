"""Sentences of the "why skips work" page: one fabricated case per branch of every rule."""

import dataclasses
import math

import pytest
import torch

from explorer.analysis.feature_maps import SkipParts
from explorer.analysis.landscape import LandscapeResult
from explorer.analysis.lesion import BlockLesion, LesionResult, RandomLesion
from explorer.analysis.receptive_field import ErfResult
from explorer.analysis.why_report import (erf_sentences, landscape_sentences,
                                          lesion_contrast_sentence, lesion_net_sentence,
                                          lesion_sentences, random_k_sentence, skip_sentence)

CHANCE = 0.125


def lesion(baseline, accuracies, random=(), deletable=None):
    names = [f"layer1.{i}" for i in range(len(accuracies))]
    deletable = deletable or [a is not None for a in accuracies]
    blocks = tuple(BlockLesion(n, d, a) for n, d, a in zip(names, deletable, accuracies))
    rand = tuple(RandomLesion(k, tuple(accs)) for k, accs in enumerate(random, start=1))
    return LesionResult(baseline, CHANCE, blocks, rand, 1000, 3, 0, 1)


def test_untrained_net_is_called_untrained():
    line = lesion_net_sentence("residual net", lesion(0.2, [0.19, 0.2]))
    assert "has not learned" in line and "20.0%" in line


def test_every_block_to_chance():
    line = lesion_net_sentence("plain twin", lesion(0.99, [0.125, 0.17, None]))
    assert "every deletable block (2 of 3)" in line and "to chance" in line


def test_harmless_deletions():
    line = lesion_net_sentence("residual net", lesion(0.99, [0.98, 0.965, 0.99]))
    assert line.startswith("Deleting any single block of the residual net costs at most 2.5 "
                           "points")


def test_mixed_deletions_name_the_worst_block():
    line = lesion_net_sentence("residual net", lesion(0.99, [0.97, 0.14, 0.80]))
    assert "at most 85.0 points (layer1.1, down to 14.0%)" in line
    assert "19.0 points at the median" in line and "1 of 3 deletions leaves it at chance" in line


def test_no_deletable_block():
    line = lesion_net_sentence("plain twin", lesion(0.99, [None, None]))
    assert "No block" in line


def test_contrast_each_way_and_neither():
    robust, fragile = lesion(0.99, [0.97, 0.95]), lesion(0.99, [0.13, 0.2])
    line = lesion_contrast_sentence(robust, fragile)
    assert "plain twin far more" in line and "as Veit et al. found" in line
    shaky = lesion(0.99, [0.6, 0.9])  # more robust than the plain twin, yet 24 points median
    line = lesion_contrast_sentence(shaky, fragile)
    assert "the direction Veit et al. found, but the residual net is not robust" in line
    assert "24.0 points at the median" in line
    assert line.endswith("Veit et al. deleted blocks of a 110-layer net (54 blocks); this one "
                         "has 2 deletable blocks, so each one deleted is a larger share of the "
                         "net.")
    assert "the opposite" in lesion_contrast_sentence(fragile, robust)
    assert "about equally" in lesion_contrast_sentence(robust, lesion(0.99, [0.94, 0.93]))
    assert lesion_contrast_sentence(robust, lesion(0.13, [0.12, 0.12])) is None


def test_random_k_smooth_abrupt_and_reaching_chance():
    smooth = lesion(0.99, [0.9, 0.9, 0.9], random=[[0.9, 0.88], [0.75], [0.6]])
    line = random_k_sentence("residual net", smooth)
    assert "falls smoothly" in line and "stays above chance up to k = 3" in line
    abrupt = lesion(0.99, [0.9, 0.9], random=[[0.9], [0.13]])
    line = random_k_sentence("plain twin", abrupt)
    assert "abruptly: by 77.0 points from k = 1 to k = 2" in line
    assert "Veit" not in line  # an abrupt fall is what plain nets do
    assert "not the smooth decline Veit et al. report" in random_k_sentence("residual net",
                                                                            abrupt)
    assert "reaches chance at k = 2 of 2" in line
    assert random_k_sentence("x", lesion(0.99, [0.9])) is None  # no random draws
    assert "(up to 3 random draws per k)" in line  # the helper's results have draws=3
    single = dataclasses.replace(abrupt, draws=1)
    assert "(one random draw per k, so a single set of blocks)" in random_k_sentence("x", single)


def test_lesion_sentences_skip_missing_parts():
    lines = lesion_sentences(lesion(0.99, [0.97]), None)
    assert len(lines) == 1


def landscape(center, rise):
    return LandscapeResult((-1.0, 0.0, 1.0), None, (1.0, center, 1.0), center, 0.25,
                           ((rise, rise),), 10, 0)


def test_landscape_plain_sharper_residual_sharper_and_similar():
    assert "plain twin's minimum is 3.0× sharper" in \
        landscape_sentences(landscape(0.01, 0.1), landscape(0.01, 0.3), 8)[-1]
    assert "residual net's minimum is the sharper one (2.0×)" in \
        landscape_sentences(landscape(0.01, 0.2), landscape(0.01, 0.1), 8)[-1]
    assert "does not show the contrast" in \
        landscape_sentences(landscape(0.01, 0.1), landscape(0.01, 0.12), 8)[-1]


def test_landscape_untrained_and_single():
    lines = landscape_sentences(landscape(2.0, 0.1), None, 8)
    assert "has not learned" in lines[0] and f"{math.log(8):.3f}" in lines[0]
    assert "raises the loss by 0.1" in lines[-1]


def erf(side, layer="layer1", theoretical=15, size=32):
    """A map whose mass is uniform on a side x side square around the centre."""
    m = torch.zeros(size, size)
    lo = size // 2 - side // 2
    m[lo:lo + side, lo:lo + side] = 1.0
    return ErfResult(layer, theoretical, 1, (size // 2, size // 2), (size, size), m, 4)


def test_erf_smaller_larger_same_and_training():
    assert "smaller (7 vs 11 px), as Luo et al." in erf_sentences(erf(7), erf(11), 32)[-1]
    assert "larger (13 vs 7 px), unlike" in erf_sentences(erf(13), erf(7), 32)[-1]
    assert "about the same size" in erf_sentences(erf(9), erf(11), 32)[-1]
    lines = erf_sentences(erf(11), erf(11), 32, residual_init=erf(5), plain_init=erf(15))
    assert "grew with training" in lines[-2] and "shrank with training" in lines[-1]
    lines = erf_sentences(erf(11), None, 32, residual_init=erf(11))
    assert "barely changed" in lines[-1]


def test_erf_fraction_clipped_field_and_dead_map():
    line = erf_sentences(erf(15, theoretical=81), None, 32)[0]
    assert "15×15 px square, 22% of the theoretical field's area (81 px, 32 px inside" in line
    dead = ErfResult("layer1", 15, 1, (16, 16), (32, 32), torch.zeros(32, 32), 4)
    assert "all zeros" in erf_sentences(dead, None, 32)[0]


def test_erf_behind_a_squeeze_and_excitation_gate_is_measured_against_the_whole_image():
    gated = dataclasses.replace(erf(17, theoretical=15), whole_image=True)
    line = erf_sentences(gated, None, 32)[0]
    assert "17×17 px square, 28% of the image's area" in line
    assert "its convs alone see 15 px" in line and "theoretical field" not in line


def parts(ratio, skip=True):
    x = torch.ones(2, 4, 4)
    return SkipParts("layer1.1", skip, x, x if skip else None, ratio * x,
                     (1 + ratio) * x if skip else None, x)


def test_skip_sentences():
    assert "mostly its input plus a correction" in skip_sentence(parts(0.2))
    assert "× ‖x‖" in skip_sentence(parts(0.2))  # an identity skip carries x itself
    projected = SkipParts("layer2.0", True, torch.ones(2, 4, 4), torch.ones(4, 2, 2),
                          0.2 * torch.ones(4, 2, 2), torch.ones(4, 2, 2), torch.ones(4, 2, 2),
                          projected=True)
    assert "× ‖h(x)‖ (its projected or zero-padded input)" in skip_sentence(projected)
    assert "branch dominates" in skip_sentence(parts(3.0))
    assert "comparable" in skip_sentence(parts(1.0))
    assert "has no skip" in skip_sentence(parts(1.0, skip=False))
    assert "(after a ReLU)" in skip_sentence(parts(1.0, skip=False))
    pre_plain = dataclasses.replace(parts(1.0, skip=False), order="pre")
    assert "with nothing after it" in skip_sentence(pre_plain)
    zero = SkipParts("layer1.1", True, torch.zeros(1, 2, 2), torch.zeros(1, 2, 2),
                     torch.ones(1, 2, 2), torch.ones(1, 2, 2), torch.ones(1, 2, 2))
    assert "all-zero" in skip_sentence(zero)


@pytest.mark.parametrize("design, expected", [
    ("scaled", "‖0.5·F(x)‖ is 0.20 × ‖0.5·x‖"),
    ("exclusive_gate", "‖g·F(x)‖ is 0.20 × ‖(1 − g)·x‖"),
    ("shortcut_gate", "‖F(x)‖ is 0.20 × ‖(1 − g)·x‖"),
    ("conv", "‖F(x)‖ is 0.20 × ‖conv1×1(x)‖"),
])
def test_skip_sentence_names_the_terms_the_design_adds(design, expected):
    line = skip_sentence(dataclasses.replace(parts(0.2), design=design))
    assert expected in line and "projected" not in line
    assert ("gate lets little of F(x) through" in line) == (design == "exclusive_gate")
