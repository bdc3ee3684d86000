"""Sentences of the Compare page, generated from the numbers on it.

Every other network is said against the first one (the reference). Each rule has one margin:
counts are exact, so 1 % apart is already "more"; measured times are noisy, so one network is called
faster only when the medians differ by more than 10 % and the repeats do not overlap; published
accuracies are said in points.
"""

from __future__ import annotations

import statistics

from explorer.analysis.compare import Timing, Totals, published_top1
from explorer.units import format_number, pct, times

COUNT_MARGIN = 1.01  # parameters or mult-adds within 1 % of each other: "about as many"
SPEED_MARGIN = 1.10  # per-image times within 10 % of each other: "about as fast"
TOP1_MARGIN = 0.002  # published top-1 accuracies within 0.2 points: "about the same"
STEADY_SPREAD = 1.2  # repeats whose slowest is at most 20 % above their fastest: a steady device


def count_clauses(ratio: float, noun: str, reference: str) -> tuple[str, str]:
    """How ``ratio`` (other ÷ reference) reads, with the reference named and without it:
    ``("2 % fewer parameters than ResNet-50", "2 % fewer parameters")``."""
    if 1 / COUNT_MARGIN < ratio < COUNT_MARGIN:
        return f"about as many {noun} as {reference}", f"about as many {noun}"
    if ratio >= 2 or ratio <= 0.5:  # "2.7 times" / "1/2.2 of": folds read better than 170 %
        return f"{times(ratio)} the {noun} of {reference}", f"{times(ratio)} its {noun}"
    if ratio > 1:
        amount = f"{round((ratio - 1) * 100)} % more {noun}"
    else:
        amount = f"{round((1 - ratio) * 100)} % fewer {noun}"
    return f"{amount} than {reference}", amount


def speed_words(reference: tuple[float, ...], other: tuple[float, ...],
                reference_label: str = "the reference") -> tuple[str, bool]:
    """Two sets of repeated per-image times as ``1.3 times slower``, ``2.1 times faster``,
    ``about as fast (within 10 %)``, or ``not told apart from X's (…)`` when the medians differ
    by more than the margin but the repeats overlap; and whether the medians' ratio can be relied
    on (False only in that last case)."""
    ratio = statistics.median(other) / statistics.median(reference)
    if 1 / SPEED_MARGIN < ratio < SPEED_MARGIN:
        return f"about as fast (within {round((SPEED_MARGIN - 1) * 100)} %)", True
    if min(other) <= max(reference) and min(reference) <= max(other):
        return (f"not told apart from {reference_label}'s ({_ratio_words(ratio)} at the median, "
                f"but the repeats overlap)"), False
    return _ratio_words(ratio), True


def _ratio_words(ratio: float) -> str:
    if ratio > 1:
        return f"{format_number(ratio, 2)} times slower"
    return f"{format_number(1 / ratio, 2)} times faster"


def _where(timing: Timing) -> str:
    return "this GPU" if timing.device.startswith("cuda") else "this CPU"


def comparable(first: Timing | None, second: Timing | None) -> bool:
    """Two timings can be compared when both exist and were taken at the same settings."""
    return (first is not None and second is not None
            and (first.batch, first.device, first.threads)
            == (second.batch, second.device, second.threads))


def comparison_sentence(reference: Totals, other: Totals, reference_timing: Timing | None = None,
                        other_timing: Timing | None = None) -> str:
    """One network against the reference: parameters, mult-adds, and (when both were timed at
    the same settings) the measured time per image and the time per mult-add.

    e.g. "resnext50_32x4d has 2 % fewer parameters than resnet50 and 3 % more mult-adds; on this
    CPU, per image, its forward pass is 1.3 times slower and its training step
    (forward+backward) 1.4 times slower. Per mult-add it is 1.3 times slower: its mult-adds
    understate its forward time here."
    """
    params, _ = count_clauses(other.params / reference.params, "parameters", reference.label)
    _, mult_adds = count_clauses(other.mult_adds / reference.mult_adds, "mult-adds",
                                 reference.label)
    text = f"{other.label} has {params} and {mult_adds}"
    if not comparable(reference_timing, other_timing):
        return text + "."
    forward, forward_clear = speed_words(reference_timing.forward, other_timing.forward,
                                         reference.label)
    train, _ = speed_words(reference_timing.train, other_timing.train, reference.label)
    text += (f"; on {_where(other_timing)}, per image, its forward pass is {forward} and its "
             f"training step (forward+backward) {train}.")
    if not forward_clear:
        return text
    ratio = other_timing.forward_median / reference_timing.forward_median
    return text + " " + per_mult_add_sentence(ratio / (other.mult_adds / reference.mult_adds))


def per_mult_add_sentence(ratio: float) -> str:
    """Forward time per mult-add, other ÷ reference: do mult-adds predict the speed here?"""
    if 1 / SPEED_MARGIN < ratio < SPEED_MARGIN:
        return (f"Per mult-add it is about as fast (within {round((SPEED_MARGIN - 1) * 100)} %): "
                f"here its mult-adds predict its forward time.")
    if ratio > 1:
        return (f"Per mult-add it is {format_number(ratio, 2)} times slower: its mult-adds "
                f"understate its forward time here.")
    return (f"Per mult-add it is {format_number(1 / ratio, 2)} times faster: its mult-adds "
            f"overstate its forward time here.")


def accuracy_sentence(reference: Totals, other: Totals) -> str | None:
    """The published ImageNet top-1 of two torchvision presets, or ``None`` without both."""
    first, second = published_top1(reference.spec), published_top1(other.spec)
    if first is None or second is None:
        return None
    gap = second.accuracy - first.accuracy
    if abs(gap) < TOP1_MARGIN:
        verdict = "about the same as"
    else:
        verdict = f"{100 * abs(gap):.1f} points {'higher' if gap > 0 else 'lower'} than"
    return (f"Its published ImageNet top-1 ({pct(second.accuracy)}) is {verdict} "
            f"{reference.label}'s ({pct(first.accuracy)}).")


def comparison_sentences(rows: list[Totals], timings: dict[str, Timing] | None = None
                         ) -> list[str]:
    """Every network after the first, against the first; ``timings`` maps labels to timings."""
    timings = timings or {}
    if len(rows) < 2:
        return []
    reference, out = rows[0], []
    for other in rows[1:]:
        line = comparison_sentence(reference, other, timings.get(reference.label),
                                   timings.get(other.label))
        accuracy = accuracy_sentence(reference, other)
        out.append(line if accuracy is None else f"{line} {accuracy}")
    return out


def spread_sentence(timings: dict[str, Timing]) -> str | None:
    """A warning when the repeats of some timing spread by more than ``STEADY_SPREAD``
    (slowest ÷ fastest), naming the worst; ``None`` when every timing was steady."""
    spreads = {(label, kind): max(values) / min(values)
               for label, timing in timings.items()
               for kind, values in (("forward", timing.forward),
                                    ("forward+backward", timing.train))}
    if not spreads:
        return None
    (label, kind), worst = max(spreads.items(), key=lambda item: item[1])
    if worst <= STEADY_SPREAD:
        return None
    return (f"The repeats vary: {label}'s slowest {kind} pass took {format_number(worst, 2)} "
            f"times as long as its fastest. The device was not steady while it ran (another job "
            f"or program may have used it), so a difference of that size says little; more "
            f"repeats or a quieter moment help.")
