"""Sentences about "can you trust the map?", generated from the measured numbers.

Sanity (Adebayo et al. 2018): a map is called *still similar* to the trained model's map when
their Spearman rank correlation is `SIMILAR` or more, and the map is said to *follow the image*
when, with every weight random, the correlation is still `FOLLOWS_IMAGE` or more; a curve that
falls below `SIMILAR` at the map's layer but rises back to it further down the cascade is said
to, and its drop is not read as dependence on the weights; fewer than `FEW_SANITY_IMAGES` images
get a caveat. Localisation (the pointing game, the energy inside the mask): a score more than
`CHANCE_MARGIN` above the chance line beats chance (the sentence says by how much), two nets
differ when they are more than `CONTRAST` apart. Every sentence states its numbers and the
threshold it used.
"""

from __future__ import annotations

import statistics
from typing import Callable

from explorer.analysis.cam_methods import CAM_LABELS, CAM_PAPERS
from explorer.analysis.localize import Localization
from explorer.analysis.sanity import SanityCurve, SanityStep
from explorer.analysis.trust_runs import layer_randomised_index
from explorer.units import pct, plural

SIMILAR = 0.5  # rank correlation with the trained map at or above which a map "hardly changed"
POSITIVE_GRADIENT_METHODS = ("gradcam++", "layercam")  # their weights use ReLU(gradient)
FOLLOWS_IMAGE = 0.3  # ... still kept with every weight random: part of the map follows the image
CHANCE_MARGIN = 0.10  # a pointing score this far above chance (a fraction) beats chance
CONTRAST = 0.10  # mean pointing scores this far apart: one net localises better
FEW_IMAGES = 20  # below this many images a pointing score is too coarse to compare
FEW_SANITY_IMAGES = 8  # below this many images the cascade's averages move a lot
NET_NAMES = {"residual": "residual net", "plain": "plain twin"}


def net_name(net: str) -> str:
    return NET_NAMES.get(net, net)


def _rho(value: float) -> str:
    return f"{value:.2f}"


def _values(values: dict[str, float], fmt: Callable[[float], str]) -> str:
    """``0.31`` for one net, ``0.31 in the residual net and 0.28 in the plain twin`` for two."""
    if len(values) == 1:
        return fmt(next(iter(values.values())))
    parts = [f"{fmt(v)} in the {net_name(net)}" for net, v in values.items()]
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _shares(values: dict[str, float], noun: str, preposition: str) -> str:
    """``80.0 % of the images in the residual net and 70.0 % in the plain twin`` (the noun once,
    after the first number; no net named when there is one)."""
    parts = [pct(v) + (noun if i == 0 else "")
             + (f" {preposition} the {net_name(net)}" if len(values) > 1 else "")
             for i, (net, v) in enumerate(values.items())]
    return " and ".join(parts)


def _nets(nets: list[str]) -> str:
    names = [f"the {net_name(n)}" for n in nets]
    return " and ".join(names)


# -- sanity: cascading randomisation --------------------------------------------------------------
def at_layer(curve: SanityCurve) -> float:
    """The rank correlation once the map's own layer (and everything above it) is random."""
    index = layer_randomised_index(curve)
    return curve.steps[-1 if index is None else index].spearman


def at_end(curve: SanityCurve) -> float:
    """The rank correlation with every weight random (the cascade's last step)."""
    return curve.steps[-1].spearman


def rebound(curve: SanityCurve) -> SanityStep | None:
    """The step where a map that fell below `SIMILAR` at its layer is most like the trained map
    again further down the cascade, when that is `SIMILAR` or more (else None)."""
    index = layer_randomised_index(curve)
    if index is None or curve.steps[index].spearman >= SIMILAR:
        return None
    later = curve.steps[index + 1:]
    peak = max(later, key=lambda step: step.spearman, default=None)
    return peak if peak is not None and peak.spearman >= SIMILAR else None


def _rebound_sentence(net: str, curve: SanityCurve, alone: bool) -> str:
    peak = rebound(curve)
    whose = "the map" if alone else f"the {net_name(net)}'s map"
    if peak is curve.steps[-1]:
        where = f"rises back to {_rho(peak.spearman)} with every weight random"
        random_down = "with every weight random"
    else:
        where = (f"rises back to {_rho(peak.spearman)} once {peak.randomized} is randomised too "
                 f"and ends at {_rho(at_end(curve))}")
        random_down = f"with the weights random down to {peak.randomized}"
    return (f"But {whose} {where}, {SIMILAR} or more again: that close to the trained map "
            f"{random_down}, its drop at {curve.layer} does not show that it depends on the "
            f"weights.")


def sanity_method_sentence(curves: dict[str, SanityCurve]) -> str:
    """What the cascade did to one method's maps, in every net given (``{net: curve}``)."""
    first = next(iter(curves.values()))
    label, layer = CAM_LABELS[first.method], first.layer
    kept = {net: at_layer(c) for net, c in curves.items()}
    numbers = _values(kept, _rho)
    below = [net for net, value in kept.items() if value < SIMILAR]
    stayed = [net for net, value in kept.items() if value >= SIMILAR]
    rebounded = [net for net in below if rebound(curves[net]) is not None]
    changed = [net for net in below if net not in rebounded]
    opening = (f"{label}'s map keeps a rank correlation of {numbers} with the trained map once "
               f"{layer} is randomised (with everything above it)")
    reading = ("Adebayo et al.'s reading: a map that does not change with the weights explains "
               "the input, not the model.")
    if rebounded:
        text = (f"{opening}, below {SIMILAR}." if not stayed else
                f"{opening}: below {SIMILAR} in {_nets(below)}, but {SIMILAR} or more in "
                f"{_nets(stayed)}, where it hardly changes.")
        text += "".join(" " + _rebound_sentence(net, curves[net], len(curves) == 1)
                        for net in rebounded)
        if changed:
            text += (f" In {_nets(changed)} it stays below {SIMILAR} for the rest of the "
                     f"cascade: there it depends on the weights it explains.")
        text += f" {reading}"
    elif not stayed:
        text = f"{opening}, below {SIMILAR}: it depends on the weights it explains."
    elif not changed:
        text = (f"{opening}, {SIMILAR} or more: it hardly changes while the weights it should "
                f"explain are random. {reading}")
    else:
        text = (f"{opening}: below {SIMILAR} in {_nets(changed)}, where it depends on the "
                f"weights, but {SIMILAR} or more in {_nets(stayed)}, where it hardly changes. "
                f"{reading}")
    return f"{text} {_end_sentence(curves)}"


def _end_sentence(curves: dict[str, SanityCurve]) -> str:
    ends = {net: at_end(c) for net, c in curves.items()}
    numbers = _values(ends, _rho)
    follows = [net for net, value in ends.items() if value >= FOLLOWS_IMAGE]
    if len(follows) == len(ends):
        return (f"With every weight random it still keeps {numbers}, {FOLLOWS_IMAGE} or more: "
                f"part of the map follows the image itself, whatever the weights.")
    if not follows:
        return (f"With every weight random it keeps {numbers}, below {FOLLOWS_IMAGE}: little "
                f"of the trained map is left.")
    return (f"With every weight random it keeps {numbers}: {FOLLOWS_IMAGE} or more in "
            f"{_nets(follows)}, where part of the map follows the image itself.")


def sanity_ranking_sentence(curves: list[SanityCurve], net: str) -> str | None:
    """The methods in one net, from the most weight-dependent map to the least (two or more)."""
    if len(curves) < 2:
        return None
    ranked = sorted(curves, key=at_layer)
    listed = ", ".join(f"{CAM_LABELS[c.method]} {_rho(at_layer(c))}" for c in ranked)
    line = (f"In the {net_name(net)}, once {curves[0].layer} is randomised, from the map that "
            f"changed most to the one that changed least: {listed}.")
    positive_only = [c for c in ranked[1:] if c.method in POSITIVE_GRADIENT_METHODS]
    if ranked[0].method == "gradcam" and positive_only:
        names = " and ".join(CAM_LABELS[c.method] for c in positive_only)
        keep, maps, stay = (("keep", "their maps", "stay") if len(positive_only) > 1
                            else ("keeps", "its map", "stays"))
        line += (f" A likely reason, from how the maps are made: Grad-CAM weighs each channel by "
                 f"its mean gradient, which random weights make negative about as often as "
                 f"positive; {names} {keep} only the positive gradients, so {maps} {stay} closer "
                 f"to where the activations are, and those partly follow the image.")
    return line


def sanity_few_images_sentence(images: int) -> str | None:
    """A caveat when the cascade averaged too few images' maps for its verdicts to hold."""
    if images >= FEW_SANITY_IMAGES:
        return None
    return (f"Each point of these curves averages the maps of only {plural(images, 'image')}: "
            f"averages over fewer than {FEW_SANITY_IMAGES} images move a lot from one set of "
            f"images to the next, so the verdicts below may not hold on other images; run at "
            f"least {FEW_SANITY_IMAGES} before trusting them.")


def sanity_sentences(results: dict[str, list[SanityCurve]], images: int) -> list[str]:
    """The page's sentences: the sample's size (when too small), one per method (every net
    together), then the ranking. ``images``: how many images each step averaged."""
    by_method: dict[str, dict[str, SanityCurve]] = {}
    for net, curves in results.items():
        for curve in curves:
            by_method.setdefault(curve.method, {})[net] = curve
    lines = [sanity_few_images_sentence(images)]
    lines += [sanity_method_sentence(curves) for curves in by_method.values()]
    first_net = next(iter(results))
    lines.append(sanity_ranking_sentence(results[first_net], first_net))
    return [line for line in lines if line]


# -- localisation: pointing game and energy inside the mask ---------------------------------------
def _side(score: float, chance: float) -> str:
    """``above``, ``below`` or ``within``: the rule, a margin of `CHANCE_MARGIN` either way."""
    if score > chance + CHANCE_MARGIN:
        return "above"
    if score < chance - CHANCE_MARGIN:
        return "below"
    return "within"


def _gap(score: float, chance: float) -> str:
    """How far a score is from chance in points, from the percentages as shown (``71.2``)."""
    return f"{abs(round(100 * score, 1) - round(100 * chance, 1)):.1f}"


def _verdict(scores: list[float], chance: float) -> str:
    """``71.2 points above chance``, ``71.2 and 54.0 points above chance`` or ``within 10 points
    of chance``, for scores on the same side of the rule."""
    side = _side(scores[0], chance)
    if side == "within":
        return f"within {_points(CHANCE_MARGIN)} of chance"
    return f"{' and '.join(_gap(s, chance) for s in scores)} points {side} chance"


def _points(fraction: float) -> str:
    """A margin in percentage points: ``0.1`` → ``10 points``."""
    return f"{100 * fraction:g} points"


def _score(found: Localization, method: str, stage: str):
    return next(s for s in found.scores if s.method == method and s.layer == stage)


def _stages(found: Localization) -> list[str]:
    return list(dict.fromkeys(s.layer for s in found.scores))


def _methods(found: Localization) -> list[str]:
    return list(dict.fromkeys(s.method for s in found.scores))


def chance_sentence(results: dict[str, Localization]) -> str:
    found = next(iter(results.values()))
    return (f"The objects cover {pct(found.chance)} of the image on average over the "
            f"{found.images:,} images: a map blind to the image would score about that on both "
            f"measures (the dashed chance line). A score more than {_points(CHANCE_MARGIN)} above "
            f"it counts as above chance, more than {_points(CHANCE_MARGIN)} below it as below.")


def few_images_sentence(results: dict[str, Localization]) -> str | None:
    images = next(iter(results.values())).images
    if images >= FEW_IMAGES:
        return None
    return (f"With {images} images a pointing score moves in steps of {pct(1 / images)}: score "
            f"at least {FEW_IMAGES} images before reading small differences.")


def localisation_method_sentence(results: dict[str, Localization], method: str) -> str:
    """One method at the deepest stage, in every net: its pointing game against chance and its
    energy inside the mask."""
    first = next(iter(results.values()))
    stage, chance = _stages(first)[-1], first.chance
    pointing = {net: _score(found, method, stage).pointing for net, found in results.items()}
    energy = {net: _score(found, method, stage).energy for net, found in results.items()}
    sides = {_side(value, chance) for value in pointing.values()}
    if len(sides) == 1:
        where = (f"{_shares(pointing, ' of the images', 'in')} "
                 f"({_verdict(list(pointing.values()), chance)})")
    else:
        where = "; ".join(f"{pct(pointing[net])} of the images in the {net_name(net)} "
                          f"({_verdict([pointing[net]], chance)})" for net in pointing)
    return (f"{CAM_LABELS[method]} at {stage}: the map's peak falls on the object in {where}, "
            f"chance being {pct(chance)}; the share of its positive map on the object is "
            f"{_values(energy, pct)}.")


def mean_pointing(found: Localization, stage: str) -> float:
    """The pointing game at one stage, averaged over the methods scored."""
    return statistics.fmean(s.pointing for s in found.scores if s.layer == stage)


def best_stage_sentence(results: dict[str, Localization]) -> str | None:
    """Where, in depth, each net's maps point at the object most and least often."""
    parts = []
    for net, found in results.items():
        stages = _stages(found)
        if len(stages) < 2:
            return None
        means = {stage: mean_pointing(found, stage) for stage in stages}
        best, worst = max(means, key=means.get), min(means, key=means.get)
        verb = "maps point at the object most often" if not parts else "most often"
        parts.append(f"the {net_name(net)}'s {verb} at {best} ({pct(means[best])}) and least "
                     f"often at {worst} ({pct(means[worst])})")
    return "Averaged over the methods, " + "; ".join(parts) + "."


def accuracy_sentence(accuracy: dict[str, float], images: int) -> str:
    """How many of the scored images each net classifies correctly (the maps explain the true
    class whether or not the net predicts it)."""
    return (f"The maps explain each image's true class; of these {images:,} images, "
            f"{_shares(accuracy, ' are classified correctly', 'by')}.")


def contrast_sentence(results: dict[str, Localization],
                      accuracy: dict[str, float] | None = None) -> str | None:
    """Residual vs plain at the deepest stage, by the pointing game averaged over methods; when
    the net that points worse also classifies far fewer of the images, that is said too."""
    if set(results) != {"residual", "plain"}:
        return None
    stage = _stages(results["residual"])[-1]
    r, p = (mean_pointing(results[net], stage) for net in ("residual", "plain"))
    numbers = f"{pct(r)} vs {pct(p)} of the images, averaged over the methods"
    images = results["residual"].images
    if images < FEW_IMAGES:
        return (f"At {stage} the residual net's maps point at the object in {pct(r)} of the "
                f"images and the plain twin's in {pct(p)}, averaged over the methods: {images} "
                f"images are too few to call either better.")
    if abs(r - p) <= CONTRAST:
        return (f"At {stage} the residual net and its plain twin point at the object about "
                f"equally often ({numbers}, within {_points(CONTRAST)}).")
    better, worse = ("residual", "plain") if r > p else ("plain", "residual")
    text = (f"At {stage} the {net_name(better)}'s maps point at the object more often than the "
            f"{net_name(worse)}'s ({numbers}, more than {_points(CONTRAST)} apart).")
    if accuracy and accuracy[better] - accuracy[worse] > CONTRAST:
        text += (f" The {net_name(worse)} also classifies far fewer of these images correctly "
                 f"({pct(accuracy[worse])} vs {pct(accuracy[better])}): a map of a class the "
                 f"net does not recognise has less to point at, so part of this difference is "
                 f"what each net learned.")
    return text


def localisation_sentences(results: dict[str, Localization],
                           accuracy: dict[str, float] | None = None) -> list[str]:
    """The page's sentences: chance, the sample's size, how many images each net gets right,
    each method, depth, residual vs plain."""
    images = next(iter(results.values())).images
    lines = [chance_sentence(results), few_images_sentence(results),
             accuracy_sentence(accuracy, images) if accuracy else None]
    lines += [localisation_method_sentence(results, m)
              for m in _methods(next(iter(results.values())))]
    lines += [best_stage_sentence(results), contrast_sentence(results, accuracy)]
    return [line for line in lines if line]


def method_reference(method: str) -> str:
    """``Grad-CAM (Selvaraju et al. 2017)``."""
    return f"{CAM_LABELS[method]} ({CAM_PAPERS[method]})"
