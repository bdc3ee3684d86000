"""Whether the CAM family's gradient maps coincide (their pairwise rank correlations), and,
where they nearly do, whether their deletion curves still part: maps whose pairwise rank
correlations are all `COINCIDE` or more "nearly coincide", and their curves "part" at the first
step where they are more than `CURVES_PART` apart. Pure arithmetic: no torch here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from explorer.analysis.deletion_report import (AREA_TIE, and_list, area_text, label, labelled,
                                               listed_areas, removed_share)
from explorer.units import format_probability

if TYPE_CHECKING:  # only the fields are read: any object with them will do
    from explorer.analysis.deletion import DeletionCurve

COINCIDE = 0.95  # every pair of maps at or above this rank correlation "nearly coincide"
CURVES_PART = 0.05  # curves this far apart at one step have "parted"


def parting(curves: Mapping[str, DeletionCurve]) -> int | None:
    """The first step at which the curves are more than `CURVES_PART` apart, or None."""
    rows = zip(*(c.probabilities for c in curves.values()))
    return next((step for step, row in enumerate(rows) if max(row) - min(row) > CURVES_PART),
                None)


def parted_clause(curves: Mapping[str, DeletionCurve]) -> str:
    """For maps that nearly coincide: how their curves still differ, when their areas differ by
    more than `AREA_TIE` and the curves part somewhere (empty otherwise)."""
    areas = [c.area for c in curves.values()]
    step = parting(curves)
    if len(curves) < 2 or max(areas) - min(areas) <= AREA_TIE or step is None:
        return ""
    listed = listed_areas({n: c.area for n, c in curves.items()})
    first = next(iter(curves.values()))
    removed = removed_share(first.fractions[step])
    if step == 1:
        at_step = [c.probabilities[step] for c in curves.values()]
        return (f"; yet their deletion curves differ (areas {listed}) from the first step on "
                f"(with {removed} of the pixels removed: {format_probability(min(at_step))} to "
                f"{format_probability(max(at_step))}): rankings that nearly coincide over every "
                f"pixel can still differ where it matters, among the top-ranked pixels that go "
                f"first")
    return (f"; yet their deletion curves differ (areas {listed}), though only once {removed} "
            f"of the pixels are gone, not among the top-ranked pixels that go first")


def agreement_sentence(where: str, correlations: Mapping[tuple[str, str], float],
                       last_stage: bool, curves: Mapping[str, DeletionCurve] | None = None
                       ) -> str | None:
    """Whether gradient-weighted maps nearly coincide, from every pair's rank correlation.

    Args:
        where: the layer, as the sentence names it (``layer3``, ``layer3 of the plain twin``).
        correlations: ``{(map, map): Spearman's rho}`` of the gradient methods' maps.
        last_stage: the layer's output is the last stage's, which global average pooling feeds
            to the classifier; there a logit's gradient is the same at every position, which is
            why the gradient methods reduce to weighing whole channels.
        curves: the maps' deletion curves, by the same names (others are ignored): maps that
            nearly coincide yet whose areas differ by more than `AREA_TIE` are said to differ,
            and where their curves part.
    """
    if not correlations:
        return None
    names = [label(n) for n in dict.fromkeys(name for pair in correlations for name in pair)]
    low, high = min(correlations.values()), max(correlations.values())
    span = (area_text(low) if round(low, 2) == round(high, 2)
            else f"{area_text(low)} to {area_text(high)}")
    maps = f"the {and_list(names)} maps"
    if low >= COINCIDE:
        text = f"At {where} {maps} nearly coincide (rank correlation {span})"
        if last_stage:
            text += (": at the last stage, before global average pooling, a logit's gradient is "
                     "the same at every position (its fc weight divided by h·w), so each method "
                     "only weighs whole channels its own way")
        if curves:
            own = labelled(curves)
            text += parted_clause({n: own[n] for n in names if n in own})
        return text + "."
    verb = "do not all coincide" if high >= COINCIDE else "differ"
    text = f"At {where} {maps} {verb} (rank correlation {span} between pairs)"
    if not last_stage:
        text += (": before the last stage a logit's gradient changes from position to "
                 "position, and each method uses it its own way")
    return text + "."
