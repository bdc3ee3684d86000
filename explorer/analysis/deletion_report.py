"""Sentences about deletion curves (Petsiuk et al. 2018) and the CAM family's maps, generated
from the numbers on the Grad-CAM page.

A deletion curve follows the explained class's probability while the pixels a map ranks highest
are removed first; the lower the area under it, the better the map found what the net uses. Each
rule has one margin: curves that never fall `FLAT_DROP` below their start cannot rank anything,
nor can curves whose random order's area is `AT_ONCE` or less (little room left to beat it);
areas within `AREA_TIE` of the lowest fall "about as fast"; a map beats (or does worse than) the
random order when its area is more than `BEATS_RANDOM` lower (higher); maps whose pairwise rank
correlations are all `COINCIDE` or more "nearly coincide". Pure arithmetic: no torch here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from explorer.units import format_probability

if TYPE_CHECKING:  # only the fields are read: any object with them will do
    from explorer.analysis.deletion import DeletionCurve

FLAT_DROP = 0.05  # curves that never fall this far below their start "hardly move"
AREA_TIE = 0.02  # areas within this of the lowest: "about as fast"
BEATS_RANDOM = 0.05  # a map's area this much below the random order's beats it
AT_ONCE = 0.10  # a random order with this area or less drops the class at once: nothing to rank
COINCIDE = 0.95  # every pair of maps at or above this rank correlation "nearly coincide"


def _area(value: float) -> str:
    return f"{value:.2f}"


def _names(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _listed(areas: Mapping[str, float]) -> str:
    """``Grad-CAM 0.20, Layer-CAM 0.21``."""
    return ", ".join(f"{name} {_area(a)}" for name, a in areas.items())


def hardly_moves(curves: Sequence[DeletionCurve]) -> bool:
    """True when no curve ever falls `FLAT_DROP` below its start."""
    return all(c.probabilities[0] - min(c.probabilities) < FLAT_DROP for c in curves)


def flat_sentence(net: str, class_name: str, start: float) -> str:
    return (f"For {net}, the probability of “{class_name}” stays within "
            f"{round(FLAT_DROP * 100)} points of its start ({format_probability(start)}) "
            f"whatever is removed first, even with every pixel gone: these curves cannot rank "
            f"the maps on this image. A net that uses this image for this class loses the class "
            f"as the pixels go.")


def collapse_sentence(net: str, class_name: str, reference: float) -> str:
    return (f"For {net}, even removing pixels at random drops “{class_name}” at once (the "
            f"random order's area is {_area(reference)}): no map can beat that {margin_words()}, "
            f"so these curves cannot rank the maps on this image.")


def margin_words() -> str:
    return f"by more than {BEATS_RANDOM}"


def fastest_sentence(net: str, areas: Mapping[str, float]) -> str:
    """Which map's curve falls fastest (the lowest area), or that they fall about equally."""
    ranked = dict(sorted(areas.items(), key=lambda item: item[1]))
    best = next(iter(ranked.values()))
    tied = [name for name, a in ranked.items() if a - best <= AREA_TIE]
    rest = {name: a for name, a in ranked.items() if name not in tied}
    within = f"within {AREA_TIE} of each other"
    if not rest:
        if len(tied) == 1:
            return f"For {net}, {tied[0]}'s curve has an area of {_area(best)}."
        return (f"For {net}, the {len(tied)} maps' curves fall about equally fast (areas "
                f"{_area(best)} to {_area(max(ranked.values()))}, {within}).")
    if len(tied) == 1:
        return (f"For {net}, {tied[0]}'s curve falls fastest (area {_area(best)}; then "
                f"{_listed(rest)}).")
    return (f"For {net}, {_names(tied)} fall fastest, about equally (areas {within}: "
            f"{_listed({n: ranked[n] for n in tied})}); then {_listed(rest)}.")


def random_sentence(areas: Mapping[str, float], reference: float, class_name: str) -> str:
    """Which maps beat the random order by more than `BEATS_RANDOM`, and which do worse."""
    beat = [n for n, a in areas.items() if reference - a > BEATS_RANDOM]
    worse = [n for n, a in areas.items() if a - reference > BEATS_RANDOM]
    level = [n for n in areas if n not in beat and n not in worse]
    margin = margin_words()
    if len(beat) == len(areas):
        every = "Every map" if len(areas) > 1 else beat[0]
        return (f"{every} beats the random order (area {_area(reference)}) {margin}: removing "
                f"the pixels the maps rank highest costs “{class_name}” more than removing "
                f"pixels at random.")
    if len(worse) == len(areas):
        every = "Every map does" if len(areas) > 1 else f"{worse[0]} does"
        return (f"{every} worse than the random order (area {_area(reference)}) {margin}: on "
                f"this image removing the pixels the maps rank highest costs “{class_name}” "
                f"less than removing pixels at random.")
    if len(level) == len(areas):
        nobody = "No map beats" if len(areas) > 1 else f"{level[0]} does not beat"
        return (f"{nobody} the random order (area {_area(reference)}) {margin}: on this image "
                f"the maps rank the pixels no better than chance.")
    one = lambda names, singular, many: singular if len(names) == 1 else many  # noqa: E731
    clauses = []
    if beat:
        clauses.append(f"{_names(beat)} {one(beat, 'beats', 'beat')} it {margin}")
    if level:
        clauses.append(f"{_names(level)} {one(level, 'does', 'do')} not")
    if worse:
        clauses.append(f"{_names(worse)} {one(worse, 'does', 'do')} worse {margin}")
    text = f"Against the random order (area {_area(reference)}): " + "; ".join(clauses)
    if not beat:
        text += ": no map ranks the pixels better than chance on this image"
    return text + "."


def deletion_sentences(net: str, class_name: str, curves: Mapping[str, DeletionCurve],
                       reference: DeletionCurve) -> list[str]:
    """What one net's curves say: which map falls fastest and how they compare with the random
    order; or, when the curves hardly move or even the random order drops the class at once,
    that they cannot rank the maps.

    Args:
        net: how the page names the net (``this net``, ``the plain twin``).
        class_name: the class whose probability the curves follow.
        curves: ``{map name: curve}``, every curve of the same image and class.
        reference: the random order's curve.
    """
    if not curves:
        return []
    if hardly_moves([*curves.values(), reference]):
        return [flat_sentence(net, class_name, reference.probabilities[0])]
    if reference.area <= AT_ONCE:
        return [collapse_sentence(net, class_name, reference.area)]
    areas = {name: c.area for name, c in curves.items()}
    return [fastest_sentence(net, areas), random_sentence(areas, reference.area, class_name)]


def agreement_sentence(where: str, correlations: Mapping[tuple[str, str], float],
                       last_stage: bool) -> str | None:
    """Whether gradient-weighted maps nearly coincide, from every pair's rank correlation.

    Args:
        where: the layer, as the sentence names it (``layer3``, ``layer3 of the plain twin``).
        correlations: ``{(map, map): Spearman's rho}`` of the gradient methods' maps.
        last_stage: the layer's output is the last stage's, which global average pooling feeds
            to the classifier; there a logit's gradient is the same at every position, which is
            why the gradient methods reduce to weighing whole channels.
    """
    if not correlations:
        return None
    names = list(dict.fromkeys(name for pair in correlations for name in pair))
    low, high = min(correlations.values()), max(correlations.values())
    span = _area(low) if round(low, 2) == round(high, 2) else f"{_area(low)} to {_area(high)}"
    maps = f"the {_names(names)} maps"
    if low >= COINCIDE:
        text = f"At {where} {maps} nearly coincide (rank correlation {span})"
        if last_stage:
            text += (": at the last stage, before global average pooling, a logit's gradient is "
                     "the same at every position (its fc weight divided by h·w), so each method "
                     "only weighs whole channels its own way")
        return text + "."
    verb = "do not all coincide" if high >= COINCIDE else "differ"
    text = f"At {where} {maps} {verb} (rank correlation {span} between pairs)"
    if not last_stage:
        text += (": before the last stage a logit's gradient changes from position to "
                 "position, and each method uses it its own way")
    return text + "."


def area_table(panels: Sequence[tuple[str, Mapping[str, DeletionCurve]]]
               ) -> dict[str, list]:
    """The areas under the curves as columns: ``{"map": names, net: areas, ...}`` (``None``
    where a net has no curve of that name)."""
    names = list(dict.fromkeys(name for _, curves in panels for name in curves))
    table: dict[str, list] = {"map": names}
    for net, curves in panels:
        table[net] = [curves[n].area if n in curves else None for n in names]
    return table
