"""Sentences about deletion curves (Petsiuk et al. 2018) and the CAM family's maps, generated
from the numbers on the Grad-CAM page.

A deletion curve follows the explained class's probability while the pixels a map ranks highest
are removed first; the lower the area under it, the better the map found what the net uses. Each
rule has one margin: curves that never fall `FLAT_DROP` below their start cannot rank anything,
nor can curves whose random order's area is `AT_ONCE` or less (little room left to beat it), nor
maps whose curves all have an area of `AT_ONCE` or less (they all drop the class at once); areas
within `AREA_TIE` of the lowest fall "about as fast"; a map beats (or does worse than) the random
order when its area is more than `BEATS_RANDOM` lower (higher). Whether the maps themselves
coincide is `deletion_agreement`'s.

A curve that climbs more than `COMES_BACK` above its lowest point so far "comes back up": removed
pixels take the training set's mean colour, and once the pixels ranked highest are gone the hole
they leave can itself look like a shape to the net. Its area then counts that climb against the
map, so such curves are ranked by how soon they fall to half their start (`halved_at`), not by
area alone. Maps are named by their labels (`CAM_LABELS`), never by their ids. Pure arithmetic:
no torch here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

from explorer.analysis.cam_methods import CAM_LABELS
from explorer.units import format_probability

if TYPE_CHECKING:  # only the fields are read: any object with them will do
    from explorer.analysis.deletion import DeletionCurve

FLAT_DROP = 0.05  # curves that never fall this far below their start "hardly move"
AREA_TIE = 0.02  # areas within this of the lowest: "about as fast"
BEATS_RANDOM = 0.05  # a map's area this much below the random order's beats it
AT_ONCE = 0.10  # a random order with this area or less drops the class at once: nothing to rank
COMES_BACK = 0.20  # a curve this far above its lowest point so far "comes back up"
HALVED = "halved at"  # the area table's column: the share removed when the class first halves


def label(name: str) -> str:
    """A map's name as the page writes it: ``gradcam`` → ``Grad-CAM``; other names unchanged."""
    return CAM_LABELS.get(name, name)


def labelled(curves: Mapping[str, DeletionCurve]) -> dict[str, DeletionCurve]:
    return {label(name): c for name, c in curves.items()}


def area_text(value: float) -> str:
    return f"{value:.2f}"


def and_list(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    names = list(names)
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def listed_areas(areas: Mapping[str, float]) -> str:
    """``Grad-CAM 0.20, Layer-CAM 0.21``."""
    return ", ".join(f"{label(name)} {area_text(a)}" for name, a in areas.items())


def _span(values: Sequence[float]) -> str:
    """``0.20 to 0.22``, or ``all 0.03`` where the two ends print alike."""
    low, high = area_text(min(values)), area_text(max(values))
    return f"all {low}" if low == high else f"{low} to {high}"


def removed_share(fraction: float) -> str:
    """A share of the pixels as a whole percentage: ``6 %``."""
    return f"{round(100 * fraction)} %"


def halved_at(curve: DeletionCurve) -> float | None:
    """The share of pixels removed when the probability first falls to half its start, or None
    when it never does."""
    half = curve.probabilities[0] / 2
    return next((f for f, p in zip(curve.fractions, curve.probabilities) if p <= half), None)


def rebound(curve: DeletionCurve) -> tuple[float, int]:
    """How far the curve climbs back above its lowest point so far, and the step where it
    climbs furthest."""
    lowest, best, where = curve.probabilities[0], 0.0, 0
    for step, p in enumerate(curve.probabilities):
        lowest = min(lowest, p)
        if p - lowest > best:
            best, where = p - lowest, step
    return best, where


def comes_back(curve: DeletionCurve) -> bool:
    """True when the curve climbs more than `COMES_BACK` above its lowest point so far."""
    return rebound(curve)[0] > COMES_BACK


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
            f"random order's area is {area_text(reference)}): no map can beat that "
            f"{margin_words()}, so these curves cannot rank the maps on this image.")


def margin_words() -> str:
    return f"by more than {BEATS_RANDOM}"


def fastest_sentence(net: str, areas: Mapping[str, float]) -> str:
    """Which map's curve falls fastest (the lowest area), or that they fall about equally."""
    ranked = dict(sorted(((label(n), a) for n, a in areas.items()), key=lambda item: item[1]))
    best = next(iter(ranked.values()))
    tied = [name for name, a in ranked.items() if a - best <= AREA_TIE]
    rest = {name: a for name, a in ranked.items() if name not in tied}
    within = f"within {AREA_TIE} of each other"
    if not rest:
        if len(tied) == 1:
            return f"For {net}, {tied[0]}'s curve has an area of {area_text(best)}."
        span = _span(list(ranked.values()))
        return (f"For {net}, the {len(tied)} maps' curves fall about equally fast (areas "
                f"{span}" + ("" if span.startswith("all") else f", {within}") + ").")
    if len(tied) == 1:
        return (f"For {net}, {tied[0]}'s curve falls fastest (area {area_text(best)}; then "
                f"{listed_areas(rest)}).")
    return (f"For {net}, {and_list(tied)} fall fastest, about equally (areas {within}: "
            f"{listed_areas({n: ranked[n] for n in tied})}); then {listed_areas(rest)}.")


def does_worse(area: float, reference: float) -> bool:
    """A map's area above the random order's by more than `BEATS_RANDOM`."""
    return area - reference > BEATS_RANDOM


def random_sentence(areas: Mapping[str, float], reference: float, class_name: str) -> str:
    """Which maps beat the random order by more than `BEATS_RANDOM`, and which do worse."""
    areas = {label(n): a for n, a in areas.items()}
    beat = [n for n, a in areas.items() if reference - a > BEATS_RANDOM]
    worse = [n for n, a in areas.items() if does_worse(a, reference)]
    level = [n for n in areas if n not in beat and n not in worse]
    margin = margin_words()
    if len(beat) == len(areas):
        every = "Every map" if len(areas) > 1 else beat[0]
        return (f"{every} beats the random order (area {area_text(reference)}) {margin}: removing "
                f"the pixels the maps rank highest costs “{class_name}” more than removing "
                f"pixels at random.")
    if len(worse) == len(areas):
        every = "Every map does" if len(areas) > 1 else f"{worse[0]} does"
        return (f"{every} worse than the random order (area {area_text(reference)}) {margin}: on "
                f"this image removing the pixels the maps rank highest costs “{class_name}” "
                f"less than removing pixels at random.")
    if len(level) == len(areas):
        nobody = "No map beats" if len(areas) > 1 else f"{level[0]} does not beat"
        return (f"{nobody} the random order (area {area_text(reference)}) {margin}: on this image "
                f"the maps rank the pixels no better than chance.")
    clauses = []
    if beat:
        clauses.append(f"{and_list(beat)} {_one(beat, 'beats', 'beat')} it {margin}")
    if level:
        clauses.append(f"{and_list(level)} {_one(level, 'does', 'do')} not")
    if worse:
        clauses.append(f"{and_list(worse)} {_one(worse, 'does', 'do')} worse {margin}")
    text = f"Against the random order (area {area_text(reference)}): " + "; ".join(clauses)
    if not beat:
        text += ": no map ranks the pixels better than chance on this image"
    return text + "."


def _one(names: Sequence[str], singular: str, many: str) -> str:
    return singular if len(names) == 1 else many


def _curves_of(names: Sequence[str]) -> str:
    """``Grad-CAM's curve`` / ``the curves of Grad-CAM and Layer-CAM``."""
    return f"{names[0]}'s curve" if len(names) == 1 else f"the curves of {and_list(names)}"


def at_once_sentence(net: str, class_name: str, areas: Mapping[str, float],
                     reference: float) -> str:
    """Every map drops the class at once (each area `AT_ONCE` or less): nothing ranks them."""
    return (f"For {net}, every map's curve drops “{class_name}” at once (areas "
            f"{_span(list(areas.values()))}; the random order's {area_text(reference)}): these "
            f"curves cannot rank the maps against one another on this image.")


def early_sentence(net: str, class_name: str, curves: Mapping[str, DeletionCurve],
                   reference: DeletionCurve) -> str:
    """Which maps' curves fall to half the class's start first, and how soon the random
    order's does: the ranking that a curve coming back up leaves standing."""
    halves = {label(n): halved_at(c) for n, c in curves.items()}
    start = format_probability(reference.probabilities[0])
    random_half = halved_at(reference)
    done = sorted({f for f in halves.values() if f is not None})
    never = [n for n, f in halves.items() if f is None]
    if not done:
        random = ("nor does the random order's" if random_half is None else
                  f"the random order's does once {removed_share(random_half)} of the pixels "
                  "are removed")
        return (f"For {net}, no map's curve falls to half the start of “{class_name}” "
                f"({start}); {random}.")
    first = done[0]
    firsts = [n for n, f in halves.items() if f == first]
    if len(firsts) > 1 and len(firsts) == len(halves):
        text = (f"For {net}, every map's curve is down to half the start of “{class_name}” "
                f"({start}) once {removed_share(first)} of the pixels are removed")
    else:
        text = (f"For {net}, {_curves_of(firsts)} {_one(firsts, 'falls', 'fall')} first: "
                f"“{class_name}” is down to half its start ({start}) once "
                f"{removed_share(first)} of the pixels are removed")
    if random_half is None:
        text += ", while the random order never halves it"
    elif random_half > first:
        text += f", sooner than the random order ({removed_share(random_half)})"
    elif random_half == first:
        text += f", no sooner than the random order ({removed_share(random_half)})"
    else:
        text += f", yet the random order halves it sooner ({removed_share(random_half)})"
    later = [f"{and_list([n for n, g in halves.items() if g == f])} at {removed_share(f)}"
             for f in done[1:]]
    if later:
        text += "; then " + ", ".join(later)
    if never:
        text += f"; {and_list(never)} never {_one(never, 'halves', 'halve')} it"
    return text + "."


def comeback_sentence(curves: Mapping[str, DeletionCurve], reference: DeletionCurve) -> str:
    """Which curves come back up, why, and what that does to their areas."""
    back = {label(n): c for n, c in curves.items() if comes_back(c)}
    why = ("removed pixels take the training set's mean colour, and the hole they leave can "
           "itself look like a shape to the network")
    if not back:
        step = rebound(reference)[1]
        return (f"The random order's curve climbs as pixels go (to "
                f"{format_probability(reference.probabilities[step])} with "
                f"{removed_share(reference.fractions[step])} of the pixels removed): {why}. Its "
                f"area ({area_text(reference.area)}) then says little, so compare the maps by how "
                f"soon their curves fall, not by their areas against it.")
    names = list(back)
    highest = max(back.values(), key=lambda c: c.probabilities[rebound(c)[1]])
    step = rebound(highest)[1]
    one = len(names) == 1
    who = ("every map's curve comes" if 1 < len(names) == len(curves)
           else f"{_curves_of(names)} {_one(names, 'comes', 'come')}")
    text = (f"Then {who} back up (as high as "
            f"{format_probability(highest.probabilities[step])} with "
            f"{removed_share(highest.fractions[step])} of the pixels removed) once the pixels "
            f"ranked highest are gone: {why}. So {'its area' if one else 'their areas'} "
            f"({listed_areas({n: c.area for n, c in back.items()})}; the random order "
            f"{area_text(reference.area)}) {_one(names, 'overstates', 'overstate')} how little "
            f"{'the map' if one else 'the maps'} found: judge {'it' if one else 'them'} by "
            f"how soon {'its curve falls' if one else 'their curves fall'}, not by area.")
    if comes_back(reference):
        text += " The random order's curve climbs too."
    return text


def deletion_sentences(net: str, class_name: str, curves: Mapping[str, DeletionCurve],
                       reference: DeletionCurve) -> list[str]:
    """What one net's curves say: which map falls fastest and how they compare with the random
    order; or, when the curves hardly move, even the random order drops the class at once, or
    every map does, that they cannot rank the maps; or, when a curve comes back up, which falls
    first and why the areas overstate how little the maps found.

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
    areas = {label(name): c.area for name, c in curves.items()}
    if len(areas) > 1 and max(areas.values()) <= AT_ONCE:
        return [at_once_sentence(net, class_name, areas, reference.area)]
    if any(comes_back(c) for c in [*curves.values(), reference]):
        return [early_sentence(net, class_name, curves, reference),
                comeback_sentence(curves, reference)]
    return [fastest_sentence(net, areas), random_sentence(areas, reference.area, class_name)]


def outline_caveat(curves: Mapping[str, DeletionCurve], reference: DeletionCurve) -> str | None:
    """On a synthetic shape, why a map can lose to the random order without being wrong; ``None``
    unless some map does worse than it by more than `BEATS_RANDOM`."""
    if not any(does_worse(c.area, reference.area) for c in curves.values()):
        return None
    return ("A caution about the test on synthetic shapes: deleted pixels are painted the mean "
            "colour, and a patch deleted over the middle of the object can keep its outline (a "
            "filled disc is still a disc), so the net may still see the class; random deletions "
            "break the outline sooner. A map that loses to the random order here may still point "
            "at the object: the Trust the map page scores that with the objects' masks.")


def halved_column(net: str) -> str:
    """The area table's column of how soon ``net``'s curves halve the class."""
    return f"{net}: {HALVED}"


def area_column(net: str) -> str:
    """The area table's column of ``net``'s areas under the curves."""
    return f"{net}: area"


def area_table(panels: Sequence[tuple[str, Mapping[str, DeletionCurve]]]
               ) -> dict[str, list]:
    """The areas under the curves and how soon each halves the class, as columns: ``{"map":
    names, "net: area": areas, "net: halved at": shares, ...}``. A share is written ``6 %``, or
    ``never``; ``None`` where a net has no curve of that name."""
    panels = [(net, labelled(curves)) for net, curves in panels]
    names = list(dict.fromkeys(name for _, curves in panels for name in curves))
    table: dict[str, list] = {"map": names}
    for net, curves in panels:
        table[area_column(net)] = [curves[n].area if n in curves else None for n in names]
        halves = [halved_at(curves[n]) if n in curves else None for n in names]
        table[halved_column(net)] = [
            None if n not in curves else "never" if f is None else removed_share(f)
            for n, f in zip(names, halves)]
    return table
