"""Faithfulness without masks: the deletion curve (Petsiuk et al. 2018, RISE).

Remove the pixels a map ranks highest first, a fixed fraction at a time, and watch the explained
class's probability: a map that found what the model uses makes it fall fast, so a *lower* area
under the curve is more faithful. Removed pixels take the value 0 in the network's normalised
input, the training set's mean colour. A random order of the same pixels is the reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from explorer.analysis.inputs import model_device
from explorer.nets.preserved import preserved

DEFAULT_STEPS = 16


@dataclass(frozen=True)
class DeletionCurve:
    fractions: tuple[float, ...]  # share of the pixels removed, 0 to 1
    probabilities: tuple[float, ...]  # the target class's softmax probability at each
    area: float  # trapezoidal area under the curve, over fractions 0 to 1


def deletion_curve(model: nn.Module, x: torch.Tensor, heatmap: torch.Tensor, target: int,
                   steps: int = DEFAULT_STEPS) -> DeletionCurve:
    """The deletion curve of one image ``(1, C, H, W)`` for an ``(H, W)`` heatmap, in one
    batched forward pass of ``steps + 1`` images; ``model`` comes back exactly as it was."""
    if x.dim() != 4 or len(x) != 1 or tuple(heatmap.shape) != tuple(x.shape[-2:]):
        raise ValueError(f"Need one image (1, C, H, W) and an (H, W) heatmap of its size, got "
                         f"{tuple(x.shape)} and {tuple(heatmap.shape)}.")
    if not 1 <= steps <= 256:
        raise ValueError(f"steps must be from 1 to 256, got {steps}.")
    device = model_device(model)
    pixels = heatmap.numel()
    order = heatmap.flatten().to(device).argsort(descending=True, stable=True)
    counts = [round(pixels * k / steps) for k in range(steps + 1)]
    keep = torch.ones(steps + 1, pixels, device=device)
    for row, count in enumerate(counts):
        keep[row, order[:count]] = 0.0
    batch = x.to(device).detach() * keep.view(steps + 1, 1, *x.shape[-2:])
    with preserved(model), torch.no_grad():
        model.eval()
        probs = torch.softmax(model(batch).float(), dim=1)[:, target].cpu()
    fractions = torch.tensor(counts, dtype=torch.float64) / pixels
    area = float(torch.trapezoid(probs.double(), fractions))
    return DeletionCurve(tuple(fractions.tolist()), tuple(probs.tolist()), area)


def random_order_heatmap(size: tuple[int, int], seed: int = 0) -> torch.Tensor:
    """A heatmap that ranks pixels at random: the reference a faithful map should beat."""
    return torch.rand(size, generator=torch.Generator().manual_seed(seed))
