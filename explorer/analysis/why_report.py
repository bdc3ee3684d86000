"""Sentences about the "why skips work" results, generated from the measured numbers.

Each rule has an explicit margin, and a sentence states a paper's finding only when the numbers
in front of the user show it; otherwise it says they do not. Accuracies are fractions; drops are
reported in percentage points.
"""

from __future__ import annotations

import math
import statistics

import torch

from explorer.analysis.feature_maps import SkipParts
from explorer.analysis.landscape import LandscapeResult
from explorer.analysis.lesion import LesionResult
from explorer.analysis.receptive_field import ErfResult
from explorer.margins import LEARNED_MARGIN
from explorer.margins import learned as beats_chance
from explorer.units import plural

AT_CHANCE = 0.05  # an accuracy this close to chance counts as "at chance"
SMALL_DROP = 0.03  # a deletion costing at most this counts as "harmless"
DROP_CONTRAST = 0.10  # median single-block drops must differ by this much to call one net worse
ROBUST_MEDIAN = 0.05  # a residual net whose median single-block drop is at most this is "robust"
VEIT_BLOCKS = 54  # Veit et al. 2016 lesioned ResNet-110 on CIFAR-10: 3 stages of 18 blocks
SMOOTH_STEP = 0.20  # a mean falling by more than this between consecutive k is "abrupt"
SHARPNESS_RATIO = 1.5  # one net's loss rise must be this many times the other's
UNTRAINED_LOSS = 0.9  # centre loss above this fraction of ln(classes) means "not learned"
ERF_MARGIN_PX = 2  # ERF sides must differ by more than this many pixels
SKIP_SMALL, SKIP_LARGE = 0.5, 2.0  # ‖F(x)‖/‖x‖ below: a small correction; above: dominates


def _points(fraction: float) -> str:
    return f"{100 * fraction:.1f} points"


def learned(result: LesionResult) -> bool:
    return beats_chance(result.baseline, result.chance)


def _at_chance(result: LesionResult, accuracy: float) -> bool:
    return accuracy <= result.chance + AT_CHANCE


def lesion_net_sentence(name: str, result: LesionResult) -> str:
    """What deleting single blocks did to one net."""
    if not learned(result):
        return (f"The {name} is at {result.baseline:.1%} before any deletion, within "
                f"{_points(LEARNED_MARGIN)} of chance ({result.chance:.1%}): it has not learned "
                f"the task, so its lesion study shows nothing. Use trained weights.")
    drops = result.single_drops
    if not drops:
        return f"No block of the {name} can be deleted: every block changes the shape."
    blocks = [b for b in result.blocks if b.deletable]
    at_chance = [b.block for b in blocks if _at_chance(result, b.accuracy)]
    worst = max(drops, key=drops.get)
    if len(at_chance) == len(blocks):
        return (f"In the {name} every deletable block ({len(blocks)} of {len(result.blocks)}) "
                f"drops it from {result.baseline:.1%} to chance (within {_points(AT_CHANCE)}).")
    if drops[worst] <= SMALL_DROP:
        return (f"Deleting any single block of the {name} costs at most "
                f"{_points(max(drops[worst], 0.0))} (from {result.baseline:.1%}).")
    return (f"Deleting one block of the {name} costs {_points(statistics.median(drops.values()))}"
            f" at the median and at most {_points(drops[worst])} ({worst}, down to "
            f"{result.block(worst).accuracy:.1%}); {len(at_chance)} of {len(blocks)} "
            f"deletions {'leaves' if len(at_chance) == 1 else 'leave'} it at chance.")


def lesion_contrast_sentence(residual: LesionResult, plain: LesionResult) -> str | None:
    """Residual vs plain: which net single deletions hurt more, by the median drop."""
    if not (learned(residual) and learned(plain) and residual.single_drops
            and plain.single_drops):
        return None
    r = statistics.median(residual.single_drops.values())
    p = statistics.median(plain.single_drops.values())
    if p - r >= DROP_CONTRAST and r <= ROBUST_MEDIAN:
        return (f"Single deletions hurt the plain twin far more (median drop {_points(p)} vs "
                f"{_points(r)}), as Veit et al. found: most blocks of the residual net can go "
                f"without much loss.")
    if p - r >= DROP_CONTRAST:
        deletable = sum(b.deletable for b in residual.blocks)
        return (f"Single deletions hurt the plain twin far more (median drop {_points(p)} vs "
                f"{_points(r)}), the direction Veit et al. found, but the residual net is not "
                f"robust here: it loses {_points(r)} at the median, more than "
                f"{_points(ROBUST_MEDIAN)}. Veit et al. deleted blocks of a 110-layer net "
                f"({VEIT_BLOCKS} blocks); this one has {plural(deletable, 'deletable block')}, "
                f"so each one deleted is a larger share of the net.")
    if r - p >= DROP_CONTRAST:
        return (f"Single deletions hurt the residual net more (median drop {_points(r)} vs "
                f"{_points(p)}), the opposite of Veit et al.'s finding.")
    return (f"Single deletions hurt both nets about equally (median drop {_points(r)} vs "
            f"{_points(p)}, within {_points(DROP_CONTRAST)}): this pair does not show Veit et "
            f"al.'s contrast.")


def random_k_sentence(name: str, result: LesionResult) -> str | None:
    """How the mean accuracy falls as k random blocks are deleted."""
    if not result.random or not learned(result):
        return None
    means = [result.baseline] + [r.mean for r in result.random]
    steps = [means[i] - means[i + 1] for i in range(len(means) - 1)]
    biggest = max(range(len(steps)), key=steps.__getitem__)
    reached = next((r.k for r in result.random if _at_chance(result, r.mean)), None)
    n = result.random[-1].k
    where = (f"reaches chance at k = {reached} of {n}" if reached is not None
             else f"stays above chance up to k = {n} (mean {result.random[-1].mean:.1%})")
    if steps[biggest] > SMOOTH_STEP:
        shape = (f"falls abruptly: by {_points(steps[biggest])} from k = {biggest} to "
                 f"k = {biggest + 1}"
                 + (", not the smooth decline Veit et al. report for residual nets"
                    if name == "residual net" else ""))
    else:
        shape = (f"falls smoothly (never more than {_points(max(max(steps), 0.0))} from one k "
                 f"to the next)")
    sampled = ("one random draw per k, so a single set of blocks" if result.draws == 1
               else f"up to {result.draws} random draws per k")
    return (f"With k random blocks deleted ({sampled}), the {name}'s mean accuracy {shape}, "
            f"and {where}.")


def lesion_sentences(residual: LesionResult, plain: LesionResult | None) -> list[str]:
    lines = [lesion_net_sentence("residual net", residual)]
    if plain is not None:
        lines.append(lesion_net_sentence("plain twin", plain))
        lines.append(lesion_contrast_sentence(residual, plain))
    lines.append(random_k_sentence("residual net", residual))
    if plain is not None:
        lines.append(random_k_sentence("plain twin", plain))
    return [line for line in lines if line]


def landscape_sentences(residual: LandscapeResult, plain: LandscapeResult | None,
                        classes: int) -> list[str]:
    """Centre losses, and which net's loss rises faster at ±radius."""
    chance_loss = math.log(classes)
    lines = []
    for name, result in (("residual net", residual), ("plain twin", plain)):
        if result is None:
            continue
        if result.center_loss >= UNTRAINED_LOSS * chance_loss:
            lines.append(f"The {name}'s loss at the centre is {result.center_loss:.3f}, close to "
                         f"a guess's ln {classes} = {chance_loss:.3f}: it has not learned, so "
                         f"this is the landscape around a random point, not around a minimum.")
    r = residual.sharpness
    if plain is None:
        lines.append(f"A step of {residual.radius:g} along the directions raises the loss by "
                     f"{r:.3g} on average (from {residual.center_loss:.3g}).")
        return lines
    p = plain.sharpness
    both = (f"a step of {residual.radius:g} along the directions raises the residual net's loss "
            f"by {r:.3g} and the plain twin's by {p:.3g}")
    if r > 0 and p >= SHARPNESS_RATIO * r:
        lines.append(f"On average {both}: the plain twin's minimum is {p / r:.1f}× sharper, as "
                     f"Li et al. found for plain nets.")
    elif p > 0 and r >= SHARPNESS_RATIO * p:
        lines.append(f"On average {both}: here the residual net's minimum is the sharper one "
                     f"({r / p:.1f}×), unlike Li et al.'s deep plain nets.")
    else:
        lines.append(f"On average {both}: within a factor {SHARPNESS_RATIO:g} of each other, so "
                     f"this pair does not show the contrast Li et al. report.")
    return lines


def _erf_size(result: ErfResult) -> int | None:
    return result.mass_side()


def erf_sentences(residual: ErfResult, plain: ErfResult | None, image_size: int,
                  residual_init: ErfResult | None = None,
                  plain_init: ErfResult | None = None) -> list[str]:
    """How much of the theoretical field the ERFs fill; residual vs plain; trained vs init.

    Behind a squeeze-and-excitation gate (``whole_image``) every pixel can reach the unit, so
    the field to fill is the whole image, not the convs' window.
    """
    lines = []
    whole = residual.whole_image
    window = image_size if whole else min(residual.theoretical, image_size)
    sizes = {}
    for name, result in (("residual net", residual), ("plain twin", plain)):
        if result is None:
            continue
        side = _erf_size(result)
        sizes[name] = side
        if side is None:
            lines.append(f"No gradient reaches the input from {result.layer} in the {name}: its "
                         f"map is all zeros.")
            continue
        start = (f"In the {name}, 95% of the gradient from the centre of {result.layer} "
                 f"comes from a {side}×{side} px square, {side ** 2 / window ** 2:.0%} of the ")
        if whole:
            lines.append(start + f"image's area: a squeeze-and-excitation gate averages over "
                                 f"the whole map, so every pixel can reach it (its convs alone "
                                 f"see {result.theoretical} px).")
            continue
        lines.append(start + f"theoretical field's area ({result.theoretical} px"
                     + (f", {window} px inside the image)." if window < result.theoretical
                        else ")."))
    r, p = sizes.get("residual net"), sizes.get("plain twin")
    if r is not None and p is not None:
        if r < p - ERF_MARGIN_PX:
            lines.append(f"The residual net's ERF is smaller ({r} vs {p} px), as Luo et al. "
                         f"found for skip connections.")
        elif r > p + ERF_MARGIN_PX:
            lines.append(f"The residual net's ERF is larger ({r} vs {p} px), unlike Luo et al.'s "
                         f"finding that skips make it smaller.")
        else:
            lines.append(f"Both ERFs are about the same size ({r} vs {p} px, within "
                         f"{ERF_MARGIN_PX} px).")
    for name, trained, init in (("residual net", residual, residual_init),
                                ("plain twin", plain, plain_init)):
        if trained is None or init is None:
            continue
        a, b = _erf_size(init), _erf_size(trained)
        if a is None or b is None:
            continue
        if b > a + ERF_MARGIN_PX:
            verdict = "grew with training, as Luo et al. observed"
        elif b < a - ERF_MARGIN_PX:
            verdict = "shrank with training, unlike Luo et al.'s observation"
        else:
            verdict = f"barely changed with training (within {ERF_MARGIN_PX} px)"
        lines.append(f"The {name}'s ERF {verdict}: {a} px at random init, {b} px trained.")
    return lines


def skip_terms(parts: SkipParts) -> tuple[str, str]:
    """The two terms a block adds, named as its skip design weighs them: (branch, skip)."""
    x = "h(x)" if parts.projected and parts.design != "conv" else "x"
    return {
        "scaled": (f"{1 - parts.scale:g}·F(x)", f"{parts.scale:g}·{x}"),
        "exclusive_gate": ("g·F(x)", f"(1 − g)·{x}"),
        "shortcut_gate": ("F(x)", f"(1 − g)·{x}"),
        "conv": ("F(x)", "conv1×1(x)"),
    }.get(parts.design, ("F(x)", x))


# What follows the addition, per activation order (He et al. 2016, Fig. 4)
AFTER_THE_SUM = {"post": "after a ReLU", "bn_after_add": "after a BatchNorm and a ReLU"}


def skip_sentence(parts: SkipParts) -> str:
    """How big the branch's change F(x) is next to the signal the skip carries."""
    if not parts.skip:
        after = AFTER_THE_SUM.get(parts.order, "with nothing after it in this activation order")
        return (f"{parts.block} has no skip: its output is F(x) alone ({after}), so everything "
                f"it passes on is computed by its branch.")
    ratio = parts.branch_ratio
    if ratio is None:
        return f"The shortcut of {parts.block} carries an all-zero signal for this image."
    branch, carried = skip_terms(parts)
    if ratio < SKIP_SMALL:
        how = (f"small next to {carried}, so the block's output is mostly its input plus a "
               f"correction")
    elif ratio > SKIP_LARGE:
        how = f"larger than {carried}, so here the branch dominates what the block passes on"
    else:
        how = f"comparable to {carried}: the block both keeps and substantially changes its input"
    where = " (its projected or zero-padded input)" if carried.endswith("h(x)") else ""
    gate = (" The gate g weighs both terms, so a small ratio here means the gate lets little of "
            "F(x) through for this image, not that F(x) itself is small."
            if parts.design == "exclusive_gate" and ratio < SKIP_SMALL else "")
    return f"In {parts.block}, ‖{branch}‖ is {ratio:.2f} × ‖{carried}‖{where}: {how}.{gate}"