"""Lesion study (Veit, Wilber & Belongie 2016, Fig. 3 and 5): delete blocks, measure accuracy.

Deleting a block sets its residual branch to zero, so the block outputs ``finish(shortcut(x))``:
``relu(shortcut(x))`` for a post-activation block (the identity, or option A's subsample-and-pad,
since its input is already non-negative), ``shortcut(x)`` itself for a pre-activation block
(nothing follows its addition; where it changes shape its shortcut reads the block's leading
BN → ReLU). A plain block has no shortcut; it is replaced by ``finish(x)`` (the identity on a
non-negative input, or the identity itself) when its input and output shapes match, and is
"cannot be deleted" when it changes the shape (stride or width).

With He et al. 2016's skip designs deleting a block zeroes F(x) and keeps the skip path exactly
as it is (`ResidualBlock.shortcut`): a scaled block passes λ·h(x), so each deleted block still
multiplies the signal by λ (0.5 by default); a gated block passes (1 − g(x))·h(x), its gate
computed from x as usual; a 1×1-conv shortcut passes its projection; shortcut dropout passes h(x)
(the study runs in eval mode, where dropout is the identity). What is removed is F and whatever
the design let through of it, never the shortcut's own weighting: what remains is what the block
does to the signal without its branch.

Every distinct set of deleted blocks is evaluated once (a single-block deletion drawn again at
k = 1 is not re-run), on data moved to the model's device once.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import pandas as pd
import torch
from torch import nn

from explorer.analysis.inputs import Data, Progress, as_batch, model_device, no_progress
from explorer.data.heldout import EVAL_BATCH
from explorer.nets.preserved import preserved


@dataclass(frozen=True)
class BlockLesion:
    """Accuracy with one block deleted (``None`` when the block cannot be deleted)."""

    block: str
    deletable: bool
    accuracy: float | None


@dataclass(frozen=True)
class RandomLesion:
    """Accuracies of several random draws of ``k`` deleted blocks."""

    k: int
    accuracies: tuple[float, ...]

    @property
    def mean(self) -> float:
        return sum(self.accuracies) / len(self.accuracies)

    @property
    def min(self) -> float:
        return min(self.accuracies)

    @property
    def max(self) -> float:
        return max(self.accuracies)


@dataclass(frozen=True)
class LesionResult:
    """What `lesion_study` measured; accuracies are fractions."""

    baseline: float
    chance: float
    blocks: tuple[BlockLesion, ...]
    random: tuple[RandomLesion, ...]
    images: int
    draws: int
    seed: int
    evaluations: int

    def to_dict(self) -> dict:
        """The CLI's JSON shape: baseline, chance, blocks and random."""
        return {
            "baseline": self.baseline,
            "chance": self.chance,
            "blocks": [{"block": b.block, "deletable": b.deletable, "accuracy": b.accuracy}
                       for b in self.blocks],
            "random": [{"k": r.k, "mean": r.mean, "min": r.min, "max": r.max}
                       for r in self.random],
        }

    def blocks_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"block": b.block, "deletable": b.deletable,
                              "accuracy": b.accuracy} for b in self.blocks])

    def random_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"k": r.k, "draws": len(r.accuracies), "mean": r.mean,
                              "min": r.min, "max": r.max} for r in self.random])

    def block(self, name: str) -> BlockLesion:
        return next(b for b in self.blocks if b.block == name)

    @property
    def single_drops(self) -> dict[str, float]:
        """Accuracy lost (baseline minus accuracy) by deleting each deletable block alone."""
        return {b.block: self.baseline - b.accuracy for b in self.blocks if b.deletable}


def is_deletable(block: nn.Module) -> bool:
    """A block with a skip always is; a plain block only when it keeps the shape."""
    if getattr(block, "skip", False):
        return True
    last_conv = block.conv3 if hasattr(block, "conv3") else block.conv2
    return block.stride == 1 and block.conv1.in_channels == last_conv.out_channels


@contextmanager
def deleted(model: nn.Module, names: Sequence[str]) -> Iterator[None]:
    """Inside the block, the named blocks compute ``finish(shortcut(x))``: their branch is zero.

    Raises:
        ValueError: for an unknown block, or a plain block that changes the shape.
    """
    blocks = dict(model.blocks())
    for name in names:
        if name not in blocks:
            raise ValueError(f"No block called {name!r}; blocks are {', '.join(blocks)}.")
        if not is_deletable(blocks[name]):
            raise ValueError(f"Block {name} changes the shape and has no skip, so it cannot be "
                             f"deleted.")
    saved = [(blocks[n], blocks[n].__dict__.get("forward")) for n in names]
    try:
        for block, _ in saved:
            block.forward = _shortcut_only(block)
        yield
    finally:
        for block, before in saved:
            del block.forward
            if before is not None:
                block.forward = before


def _shortcut_only(block: nn.Module):
    # The block's own parts: its shortcut (which may read a pre-activation block's leading
    # BN -> ReLU; the input itself in a plain block) and whatever follows its addition.
    def forward(x: torch.Tensor) -> torch.Tensor:
        return block.finish(block.shortcut(x))
    return forward


def draw_subsets(pool: Sequence[str], draws: int, seed: int) -> dict[int, list[tuple[str, ...]]]:
    """For k = 1..len(pool), up to ``draws`` distinct random subsets of k blocks, in depth order."""
    gen = torch.Generator().manual_seed(seed)
    subsets: dict[int, list[tuple[str, ...]]] = {}
    for k in range(1, len(pool) + 1):
        wanted = min(draws, math.comb(len(pool), k))
        found: list[tuple[str, ...]] = []
        for _ in range(50 * wanted):  # rejection sampling; C(n, k) >= wanted ends it quickly
            if len(found) == wanted:
                break
            picked = sorted(torch.randperm(len(pool), generator=gen)[:k].tolist())
            subset = tuple(pool[i] for i in picked)
            if subset not in found:
                found.append(subset)
        subsets[k] = found
    return subsets


def lesion_study(model: nn.Module, data: Data, draws: int = 5, seed: int = 0,
                 random_k: bool = True, on_progress: Progress = no_progress) -> LesionResult:
    """Delete each block alone, then ``k`` random blocks, and measure held-out accuracy.

    Args:
        model: a `ResNet` (anything with ``.blocks()``); it comes back exactly as it was.
        data: ``(images, labels)`` tensors or a dataset with ``get_batch``.
        draws: random subsets per ``k`` (fewer when there are fewer distinct subsets).
        seed: seeds the random subsets (an explicit generator, not torch's global seed).
        random_k: also run the random k-block deletions.
        on_progress: called as ``(done, total, message)`` after each evaluation.

    Returns:
        A `LesionResult`. Evaluation is in eval mode, in float32.
    """
    if not isinstance(draws, int) or isinstance(draws, bool) or not 1 <= draws <= 100:
        raise ValueError(f"draws must be a whole number from 1 to 100, got {draws!r}.")
    images, labels = as_batch(data)
    device = model_device(model)
    chunks = [(images[i:i + EVAL_BATCH].to(device), labels[i:i + EVAL_BATCH].to(device))
              for i in range(0, len(images), EVAL_BATCH)]
    names = [name for name, _ in model.blocks()]
    deletable, subsets, todo = _plan(model, draws, seed, random_k)
    with preserved(model):
        model.eval()
        accuracy: dict[tuple[str, ...], float] = {}
        for i, subset in enumerate(todo):
            with deleted(model, subset):
                accuracy[subset] = _accuracy(model, chunks)
            what = ", ".join(subset) if len(subset) <= 3 else f"{len(subset)} blocks"
            on_progress(i + 1, len(todo), f"deleted: {what or 'nothing'}")
    return LesionResult(
        baseline=accuracy[()],
        chance=1.0 / _num_classes(model),
        blocks=tuple(BlockLesion(n, deletable[n], accuracy.get((n,))) for n in names),
        random=tuple(RandomLesion(k, tuple(accuracy[s] for s in found))
                     for k, found in subsets.items()),
        images=len(images), draws=draws, seed=seed, evaluations=len(todo),
    )


def _plan(model: nn.Module, draws: int, seed: int, random_k: bool):
    """Which blocks can be deleted, the random subsets per k, and every deletion to evaluate
    (nothing, each block, the subsets)."""
    deletable = {name: is_deletable(block) for name, block in model.blocks()}
    pool = [name for name, can in deletable.items() if can]
    subsets = draw_subsets(pool, draws, seed) if random_k else {}
    todo = [()] + [(n,) for n in pool]
    todo += [s for found in subsets.values() for s in found if s not in todo]
    return deletable, subsets, todo


def planned_evaluations(model: nn.Module, draws: int, seed: int = 0,
                        random_k: bool = True) -> int:
    """How many held-out evaluations ``lesion_study`` will run on ``model`` (nothing is run)."""
    return len(_plan(model, draws, seed, random_k)[2])


def planned_work(model: nn.Module, draws: int, seed: int = 0, random_k: bool = True) -> float:
    """Those evaluations' cost in evaluations of the intact net, for a time estimate.

    A deleted block skips its branch. A ResNet stage that halves the map doubles the channels,
    so its blocks cost about the same: deleting k of n blocks saves about k/n of the work.
    """
    blocks = len(list(model.blocks()))
    return sum(1 - len(subset) / blocks for subset in _plan(model, draws, seed, random_k)[2])


@torch.no_grad()
def _accuracy(model: nn.Module, chunks: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    correct = sum(int((model(x).argmax(1) == y).sum()) for x, y in chunks)
    return correct / sum(len(y) for _, y in chunks)


def _num_classes(model: nn.Module) -> int:
    spec = getattr(model, "spec", None)
    return spec.num_classes if spec is not None else model.fc.out_features
