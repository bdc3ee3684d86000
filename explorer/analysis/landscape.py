"""Loss-landscape slices (Li et al. 2018, "Visualizing the loss landscape of neural nets").

The loss is evaluated at ``θ + α·δ + β·η`` for trained weights ``θ`` and two random directions
``δ``, ``η``. Each direction is *filter-normalised*: every filter (a conv's output channel, a
linear layer's row) of the Gaussian draw is rescaled to the norm of the same filter of ``θ``, so
a step of 1 changes every filter by its own size, whatever the scale symmetries of BatchNorm nets.
Biases and norm-layer parameters get zero directions, as in the paper. Each tensor's draw comes
from a generator seeded by ``(seed, direction, parameter name)``, so a residual net and its plain
twin (which share parameter names) get the same raw directions.

The weights are overwritten in place for every grid point (no model copies) and restored exactly
by ``preserved(weights=True)``. BatchNorm runs in eval mode with the trained running statistics.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from explorer.analysis.inputs import Data, Progress, as_batch, model_device, no_progress
from explorer.data.heldout import EVAL_BATCH
from explorer.nets.preserved import preserved

MAX_STEPS = 101
SHARPNESS_RADIUS = 0.25


@dataclass(frozen=True)
class LandscapeResult:
    """Loss over a 1-D or 2-D slice; ``loss[j][i]`` is at ``(alphas[i], betas[j])``.

    ``rises`` is the loss increase over ``center_loss`` at ``-radius`` and ``+radius`` along each
    direction: ``((α-, α+),)`` in 1-D, ``((α-, α+), (β-, β+))`` in 2-D.
    """

    alphas: tuple[float, ...]
    betas: tuple[float, ...] | None
    loss: tuple  # tuple of floats (1-D) or of rows (2-D)
    center_loss: float
    radius: float
    rises: tuple[tuple[float, float], ...]
    images: int
    seed: int

    @property
    def sharpness(self) -> float:
        """Mean loss rise at distance ``radius`` over every direction and sign."""
        values = [v for pair in self.rises for v in pair]
        return sum(values) / len(values)

    def to_dict(self) -> dict:
        """The CLI's JSON shape: alphas, betas (or null), loss, center_loss."""
        loss = [_finite(v) for v in self.loss] if self.betas is None else \
            [[_finite(v) for v in row] for row in self.loss]
        return {"alphas": list(self.alphas), "betas": None if self.betas is None
                else list(self.betas), "loss": loss, "center_loss": self.center_loss}

    def to_rows(self) -> list[dict]:
        """One record per grid point (for a CSV)."""
        if self.betas is None:
            return [{"alpha": a, "loss": v} for a, v in zip(self.alphas, self.loss)]
        return [{"alpha": a, "beta": b, "loss": v} for b, row in zip(self.betas, self.loss)
                for a, v in zip(self.alphas, row)]


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _generator(seed: int, name: str) -> torch.Generator:
    # crc32 is stable across processes (unlike hash()), so directions are reproducible anywhere.
    return torch.Generator().manual_seed((seed * 1_000_003 + zlib.crc32(name.encode())) % 2**63)


def filter_normalized_direction(model: nn.Module, seed: int, index: int
                                ) -> dict[str, torch.Tensor]:
    """A random direction per parameter, filter-normalised against the model's weights.

    Args:
        model: the trained network (its weights set each filter's norm).
        seed: with ``index`` and the parameter name, fixes each tensor's draw.
        index: which direction (0 for δ, 1 for η).

    Returns:
        ``{parameter name: tensor}`` on the parameter's device; zeros for parameters of one
        dimension or less (biases, norm-layer weights).
    """
    direction = {}
    for name, p in model.named_parameters():
        if p.dim() <= 1:
            direction[name] = torch.zeros_like(p)
            continue
        d = torch.randn(p.shape, generator=_generator(seed, f"{index}/{name}"))
        d = d.to(device=p.device, dtype=p.dtype)
        d_rows, w_rows = d.view(len(d), -1), p.detach().view(len(p), -1)
        d_rows.mul_(w_rows.norm(dim=1, keepdim=True) / (d_rows.norm(dim=1, keepdim=True) + 1e-10))
        direction[name] = d
    return direction


def grid_axis(steps: int, span: float) -> tuple[float, ...]:
    """``steps`` evenly spaced points over ``[-span, span]``; an odd count hits 0 exactly."""
    if not isinstance(steps, int) or isinstance(steps, bool) or not 2 <= steps <= MAX_STEPS:
        raise ValueError(f"The grid needs 2 to {MAX_STEPS} steps per axis, got {steps!r}.")
    if not (isinstance(span, (int, float)) and math.isfinite(span) and span > 0):
        raise ValueError(f"The span must be a positive number, got {span!r}.")
    values = [-span + 2 * span * i / (steps - 1) for i in range(steps)]
    if steps % 2:
        values[steps // 2] = 0.0  # exactly the trained weights, not a rounding error away
    return tuple(values)


def loss_landscape(model: nn.Module, data: Data, steps: int = 21, span: float = 1.0,
                   dims: Literal[1, 2] = 2, seed: int = 0, radius: float = SHARPNESS_RADIUS,
                   on_progress: Progress = no_progress) -> LandscapeResult:
    """The loss on a fixed batch over a filter-normalised random slice of weight space.

    Args:
        model: the network; its weights, modes and gradients come back exactly as they were.
        data: ``(images, labels)`` tensors or a dataset with ``get_batch`` (one fixed batch).
        steps: grid points per axis (default 21), over ``[-span, span]``.
        span: half-width of the grid, in units of the filter-normalised directions.
        dims: 1 for a line along δ, 2 for the plane spanned by δ and η.
        seed: seeds the directions; use the same seed for a net and its twin.
        radius: distance of the sharpness probes (loss rise at ``±radius`` along each direction).
        on_progress: called as ``(done, total, message)`` after each evaluation.

    Returns:
        A `LandscapeResult`; mean cross-entropy, float32, BatchNorm in eval mode.
    """
    if dims not in (1, 2):
        raise ValueError(f"dims must be 1 or 2, got {dims!r}.")
    alphas = grid_axis(steps, span)
    betas = grid_axis(steps, span) if dims == 2 else None
    if not (isinstance(radius, (int, float)) and math.isfinite(radius) and radius > 0):
        raise ValueError(f"The sharpness radius must be a positive number, got {radius!r}.")
    images, labels = as_batch(data)
    device = model_device(model)
    chunks = [(images[i:i + EVAL_BATCH].to(device), labels[i:i + EVAL_BATCH].to(device))
              for i in range(0, len(images), EVAL_BATCH)]
    points = [(a, b) for b in (betas or (0.0,)) for a in alphas]
    probes = [(s * radius, 0.0) for s in (-1, 1)] + \
        ([(0.0, s * radius) for s in (-1, 1)] if dims == 2 else [])
    total = 1 + len(points) + len(probes)
    with preserved(model, weights=True):
        model.eval()
        center = _loss(model, chunks)
        on_progress(1, total, "trained weights")
        named = dict(model.named_parameters())
        first = filter_normalized_direction(model, seed, 0)
        second = filter_normalized_direction(model, seed, 1) if dims == 2 else None
        moved = [n for n in named if first[n].any() or (second is not None and second[n].any())]
        base = {n: named[n].detach().clone() for n in moved}
        losses = []
        for done, (a, b) in enumerate(points + probes, start=2):
            _move(named, base, first, second, a, b)
            losses.append(_loss(model, chunks))
            on_progress(done, total, f"α = {a:+.2f}" + ("" if dims == 1 else f", β = {b:+.2f}"))
    grid, probe_losses = losses[:len(points)], losses[len(points):]
    rises = tuple((probe_losses[i] - center, probe_losses[i + 1] - center)
                  for i in range(0, len(probe_losses), 2))
    loss = tuple(grid) if dims == 1 else tuple(tuple(grid[j * steps:(j + 1) * steps])
                                                for j in range(steps))
    return LandscapeResult(alphas, betas, loss, center, float(radius), rises, len(images), seed)


@torch.no_grad()
def _move(named, base, first, second, a: float, b: float) -> None:
    """Overwrite the weights in place with ``θ + a·δ + b·η``."""
    for name, theta in base.items():
        p = named[name]
        p.copy_(theta)
        p.add_(first[name], alpha=a)
        if second is not None:
            p.add_(second[name], alpha=b)


@torch.no_grad()
def _loss(model: nn.Module, chunks: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    total = sum(float(F.cross_entropy(model(x).float(), y, reduction="sum")) for x, y in chunks)
    return total / sum(len(y) for _, y in chunks)
