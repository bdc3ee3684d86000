"""The shortcut path of a block: identity, option A's zero padding, or a 1x1 projection.

The ``conv`` skip design (He et al. 2016 Fig. 2e, "1×1 convolutional shortcut", which the paper
calls option C) projects on every block, whatever the shortcut option: option C's projection,
with option D's pool where D pools.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from explorer.nets.layers import conv, norm_layer
from explorer.nets.orders import ORDERS
from explorer.nets.spec import NetSpec


class ZeroPadShortcut(nn.Module):
    """Option A: a parameter-free identity that subsamples and pads new channels with zeros."""

    def __init__(self, stride: int, extra_channels: int) -> None:
        super().__init__()
        self.stride = stride
        self.extra_channels = extra_channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x[:, :, :: self.stride, :: self.stride]
        return F.pad(x, (0, 0, 0, 0, 0, self.extra_channels))

    def extra_repr(self) -> str:
        return f"stride={self.stride}, extra_channels={self.extra_channels}"


def avg_down(stride: int) -> nn.Module:
    """ResNet-D's pool before the projection, as timm's ``downsample_avg``: ``ceil_mode`` keeps an
    odd map's size equal to the strided branch's; an identity where nothing is downsampled
    (kept as module 0 so the projection is ``downsample.1`` at every block, as in timm)."""
    if stride == 1:
        return nn.Identity()
    return nn.AvgPool2d(2, stride, ceil_mode=True, count_include_pad=False)


def make_shortcut(spec: NetSpec, cin: int, cout: int, stride: int) -> nn.Module | None:
    """The shortcut a block needs, or ``None`` for a plain identity (or no skip at all)."""
    if not spec.skip:
        return None
    shape_changes = stride != 1 or cin != cout
    every_block = spec.shortcut == "C" or spec.skip_design == "conv"
    if spec.shortcut == "A" and not every_block:
        return ZeroPadShortcut(stride, cout - cin) if shape_changes else None
    if not shape_changes and not every_block:
        return None
    projection: list[nn.Module] = []
    if spec.shortcut == "D":
        projection.append(avg_down(stride))
        stride = 1
    projection.append(conv(spec, cin, cout, 1, stride))
    # d2l's 1x1 shortcut conv has no norm layer after it, nor has a pre-activation projection
    # (its input is already normalised).
    if spec.block != "d2l" and ORDERS[spec.order].projection_norm:
        projection.append(norm_layer(spec, cout))
    return nn.Sequential(*projection)
