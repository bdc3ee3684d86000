"""Margins that the generated sentences of every page share, so that "learned" means one thing
on the Training page and on the "Why skips work" page alike."""

from __future__ import annotations

PAPER_SAME = 1.0  # a paper's test error within this many points of its reference's is "as good"
LEARNED_MARGIN = 0.10  # held-out accuracy this far above chance (a fraction) counts as learned


def learned(accuracy: float, chance: float) -> bool:
    """A net learned when its held-out accuracy beats chance by at least ``LEARNED_MARGIN``."""
    return accuracy >= chance + LEARNED_MARGIN
