"""Squeeze-and-excitation (Hu, Shen & Sun 2018), reduced and placed as timm's seresnet."""

from __future__ import annotations

import torch
from torch import nn

SE_RATIO = 1 / 16
SE_DIVISOR = 8


def make_divisible(value: float, divisor: int = SE_DIVISOR) -> int:
    """timm's ``make_divisible(v, divisor, round_limit=0.)``: the nearest multiple of
    ``divisor``, at least ``divisor`` (so 64 channels squeeze to 8, 256 to 16, 2048 to 128)."""
    return max(divisor, int(value + divisor / 2) // divisor * divisor)


class SqueezeExcite(nn.Module):
    """``x * sigmoid(fc2(relu(fc1(mean(x)))))``, the means over each channel's map.

    ``fc1``/``fc2`` are 1x1 convs with biases, named as in timm's ``SEModule`` so its weights
    load unchanged; the squeezed width is ``make_divisible(channels / 16)``.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        squeezed = make_divisible(channels * SE_RATIO)
        self.fc1 = nn.Conv2d(channels, squeezed, 1, bias=True)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv2d(squeezed, channels, 1, bias=True)
        self.gate = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = x.mean((2, 3), keepdim=True)
        return x * self.gate(self.fc2(self.relu(self.fc1(scale))))
