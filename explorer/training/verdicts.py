"""Sentences about finished trainings, generated from the numbers by rules with margins.

A sentence may state He et al.'s finding only when the histories show it. The rules:

- **Learned**: a net learned when its held-out accuracy beats chance by ``LEARNED_MARGIN``
  (without held-out numbers: when its final training loss is below ``LEARNED_LOSS`` × ln C).
- **Trains worse**: of two nets, one trains worse when its final training loss (the mean over
  the run's last steps) is higher by more than ``LOSS_MARGIN`` (absolute, in nats) *and* by more
  than ``LOSS_RATIO`` × the other's. Small differences are called "about the same".
- **Degradation** (Fig. 1): the deeper plain net trains worse than the shallower plain net,
  while the deeper residual net does not train worse than the shallower residual net.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from explorer.margins import LEARNED_MARGIN, learned
from explorer.units import pct

LEARNED_LOSS = 0.9  # final training loss below this × ln(classes) counts as learning
LOSS_MARGIN = 0.05  # nats
LOSS_RATIO = 0.5  # 50 % higher


@dataclass(frozen=True)
class Outcome:
    """Where one trained net ended."""

    label: str  # e.g. "plain-56"
    depth: int
    residual: bool
    train_loss: float | None  # mean over the last steps
    val_accuracy: float | None
    classes: int
    epochs_done: float | None = None  # None: not known
    epochs_planned: float | None = None  # None: not known

    @property
    def cut_short(self) -> bool:
        """The run ended before the epochs it was set to train (stopped, or still running)."""
        return (self.epochs_done is not None and self.epochs_planned is not None
                and self.epochs_done < self.epochs_planned - 1e-9)

    @property
    def chance(self) -> float:
        return 1 / self.classes

    @property
    def learned(self) -> bool:
        if self.val_accuracy is not None:
            return learned(self.val_accuracy, self.chance)
        return self.train_loss is not None and self.train_loss < LEARNED_LOSS * math.log(self.classes)


def trains_worse(a: Outcome, b: Outcome) -> bool:
    """``a`` ended at a clearly higher training loss than ``b``."""
    if a.train_loss is None or b.train_loss is None:
        return False
    gap = a.train_loss - b.train_loss
    return gap > LOSS_MARGIN and gap > LOSS_RATIO * b.train_loss


def _where(o: Outcome) -> str:
    held_out = "" if o.val_accuracy is None else f", {pct(o.val_accuracy)} held-out"
    loss = "no training loss" if o.train_loss is None else f"training loss {o.train_loss:.3f}"
    return f"{o.label}: {loss}{held_out}"


def compare_pair(residual: Outcome, plain: Outcome) -> str:
    """One sentence: the residual net vs its plain twin at one depth."""
    both = f"{_where(residual)}; {_where(plain)}."
    if not (residual.learned or plain.learned):
        return f"At {residual.depth} layers neither net learned ({both})"
    if residual.learned and not plain.learned:
        return f"At {residual.depth} layers only the residual net learned ({both})"
    if plain.learned and not residual.learned:
        return f"At {residual.depth} layers only the plain net learned ({both})"
    if trains_worse(plain, residual):
        return f"At {residual.depth} layers the plain net trained worse than the residual net ({both})"
    if trains_worse(residual, plain):
        return f"At {residual.depth} layers the residual net trained worse than the plain net ({both})"
    return f"At {residual.depth} layers both nets trained about equally well ({both})"


def degradation(outcomes: list[Outcome]) -> str | None:
    """The Fig. 1 sentence for two depths of plain and residual nets, or None without them."""
    plain = sorted((o for o in outcomes if not o.residual), key=lambda o: o.depth)
    residual = sorted((o for o in outcomes if o.residual), key=lambda o: o.depth)
    if len(plain) < 2 or len(residual) < 2:
        return None
    (ps, pd), (rs, rd) = (plain[0], plain[-1]), (residual[0], residual[-1])
    if not any(o.learned for o in outcomes):
        return nothing_learned(outcomes)
    if not ps.learned:
        return (f"The shallower plain net ({ps.label}) did not learn, so this run cannot show "
                f"whether depth makes plain nets worse: train longer.")
    plain_worse = trains_worse(pd, ps)
    residual_worse = trains_worse(rd, rs)
    if plain_worse and not residual_worse:
        return (f"The deeper plain net trained worse than the shallower one (training loss "
                f"{_loss(pd)} vs {_loss(ps)}), while the deeper residual net did not "
                f"({_loss(rd)} vs {_loss(rs)}): the degradation problem of He et al.'s Fig. 1, "
                f"and its cure.")
    if plain_worse and residual_worse:
        return (f"Both deeper nets trained worse than their shallower versions (plain "
                f"{_loss(pd)} vs {_loss(ps)}, residual {_loss(rd)} vs {_loss(rs)}), so this run "
                f"does not single out plain nets: train longer.")
    return (f"The deeper plain net did not train worse than the shallower one (training loss "
            f"{_loss(pd)} vs {_loss(ps)}), so this run does not show the degradation problem.")


def _loss(o: Outcome) -> str:
    return "n/a" if o.train_loss is None else f"{o.train_loss:.3f}"


def nothing_learned(outcomes: list[Outcome]) -> str:
    near_chance = (f"every net is within {100 * LEARNED_MARGIN:.0f} percentage points of "
                   f"chance ({pct(outcomes[0].chance)}) on held-out images")
    done = [o.epochs_done for o in outcomes if o.epochs_done is not None]
    if done and max(done) < 1:  # stopped before one pass over the data: nothing to judge yet
        return (f"Nothing learned yet: the run ended after {max(done):.2f} of an epoch, and "
                f"{near_chance}. That is too early to judge the settings; let a run finish "
                f"at least one epoch.")
    return (f"Nothing learned: {near_chance}. Train on more images or for more epochs, "
            f"or lower the peak learning rate.")


def so_far(outcomes: list[Outcome]) -> str:
    """A run cut short: what the numbers show so far, and no verdict on which net learns."""
    cut = [o for o in outcomes if o.cut_short]
    done, planned = min(o.epochs_done for o in cut), max(o.epochs_planned for o in cut)
    where = "; ".join(_where(o) for o in sorted(outcomes, key=lambda o: (o.depth, not o.residual)))
    return (f"The run was cut short after {done:.2f} of {planned:g} epochs, so it is too early "
            f"to say which net learns better: nets that are still learning can change places. "
            f"So far: {where}.")


def verdicts(outcomes: list[Outcome]) -> list[str]:
    """Every sentence the numbers support, residual-vs-plain per depth first.

    A verdict on *which* net learns needs the run to have finished: a run cut short gets what
    its numbers show so far (or, when nothing learned, that it is too early to judge).
    """
    if outcomes and not any(o.learned for o in outcomes):
        return [nothing_learned(outcomes)]
    if any(o.cut_short for o in outcomes):
        return [so_far(outcomes)]
    lines = []
    by_depth: dict[int, dict[bool, Outcome]] = {}
    for o in outcomes:
        by_depth.setdefault(o.depth, {})[o.residual] = o
    for depth, pair in sorted(by_depth.items()):
        if True in pair and False in pair:
            lines.append(compare_pair(pair[True], pair[False]))
        else:
            only = next(iter(pair.values()))
            lines.append(f"{_where(only)}; it {'learned' if only.learned else 'did not learn'}.")
    fig1 = degradation(outcomes)
    if fig1:
        lines.append(fig1)
    return lines
