"""The CAM family side by side on one image: each map's deletion curve beside the random order's,
and how alike the maps rank the pixels.

Deletion removes pixels in the order a map ranks them, so what matters about a map here is its
ranking: the maps are compared by Spearman's rank correlation, not by their values.
"""

from __future__ import annotations

from itertools import combinations
from typing import Mapping

import torch
from torch import nn

from explorer.analysis.deletion import (DEFAULT_STEPS, DeletionCurve, deletion_curve,
                                        random_order_heatmap)
from explorer.analysis.similarity import spearman

RANDOM_ORDER = "random order"


def family_deletion(model: nn.Module, x: torch.Tensor, heatmaps: Mapping[str, torch.Tensor],
                    target: int, steps: int = DEFAULT_STEPS, seed: int = 0
                    ) -> dict[str, DeletionCurve]:
    """Every map's deletion curve for class ``target``, then the random order's.

    Args:
        model: the classifier the maps explain; it comes back exactly as it was.
        x: one image ``(1, C, H, W)``.
        heatmaps: ``{name: (H, W) map}``, most attributed pixels highest.
        target: the class whose probability is followed.
        steps: removal steps (``steps + 1`` images per curve, one forward pass each).
        seed: the random order's seed.

    Returns:
        ``{name: curve}`` in the order given, with the random order's last under `RANDOM_ORDER`.
    """
    if RANDOM_ORDER in heatmaps:
        raise ValueError(f"{RANDOM_ORDER!r} names the reference curve; give the maps other names.")
    curves = {name: deletion_curve(model, x, heatmap, target, steps)
              for name, heatmap in heatmaps.items()}
    reference = random_order_heatmap(tuple(x.shape[-2:]), seed)
    curves[RANDOM_ORDER] = deletion_curve(model, x, reference, target, steps)
    return curves


def rank_agreement(heatmaps: Mapping[str, torch.Tensor]) -> dict[tuple[str, str], float]:
    """Spearman's rank correlation of every pair of ``(H, W)`` maps, in the order given."""
    pairs = list(combinations(heatmaps, 2))
    if not pairs:
        return {}
    shapes = {tuple(m.shape) for m in heatmaps.values()}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        raise ValueError(f"Maps to compare must all be (H, W) of one size, got {sorted(shapes)}.")
    first = torch.stack([heatmaps[a] for a, _ in pairs]).float()
    second = torch.stack([heatmaps[b] for _, b in pairs]).float()
    return {pair: float(rho) for pair, rho in zip(pairs, spearman(first, second))}
