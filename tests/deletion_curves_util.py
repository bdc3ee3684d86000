"""Hand-made deletion curves for the deletion-report tests."""

from explorer.analysis.deletion import DeletionCurve


def curve(*probabilities: float) -> DeletionCurve:
    """A curve over equal steps from 0 to 1, its trapezoidal area worked out here."""
    steps = len(probabilities) - 1
    area = sum((a + b) / 2 for a, b in zip(probabilities, probabilities[1:])) / steps
    return DeletionCurve(tuple(k / steps for k in range(steps + 1)), probabilities, area)
