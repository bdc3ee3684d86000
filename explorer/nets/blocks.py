"""The block zoo: torchvision's BasicBlock and Bottleneck, and the d2l book's Residual.

Attribute names follow torchvision (``conv1``, ``bn1``, ``downsample``...) so ImageNet-preset
state_dicts load both ways. Every block marks its residual branch's last norm layer as
``last_norm`` (an ``nn.Identity`` when ``norm="none"``), the hook point for the paper's Fig. 7
response statistics. The skip is one visible line; ReLUs are not in place so hooks and autograd
never trip over an overwritten tensor.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from explorer.nets.spec import NetSpec


def norm_layer(spec: NetSpec, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if spec.norm == "batch" else nn.Identity()


def conv(spec: NetSpec, cin: int, cout: int, kernel: int, stride: int = 1) -> nn.Conv2d:
    # Without a norm layer after it, a conv needs its own bias; d2l's Residual always has one.
    bias = spec.norm == "none" or spec.block == "d2l"
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, bias=bias)


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


def make_shortcut(spec: NetSpec, cin: int, cout: int, stride: int) -> nn.Module | None:
    """The shortcut a block needs, or ``None`` for a plain identity (or no skip at all)."""
    if not spec.skip:
        return None
    shape_changes = stride != 1 or cin != cout
    if spec.shortcut == "A":
        return ZeroPadShortcut(stride, cout - cin) if shape_changes else None
    if spec.shortcut == "B" and not shape_changes:
        return None
    projection = [conv(spec, cin, cout, 1, stride)]
    if spec.block != "d2l":  # d2l's 1x1 shortcut conv has no norm layer after it
        projection.append(norm_layer(spec, cout))
    return nn.Sequential(*projection)


class ResidualBlock(nn.Module):
    """A residual branch plus its shortcut; subclasses define ``branch`` and ``last_norm``."""

    skip: bool
    downsample: nn.Module | None

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.branch(x)
        if self.skip:
            identity = x if self.downsample is None else self.downsample(x)
            out = out + identity  # the skip connection
        return self.relu(out)


class BasicBlock(ResidualBlock):
    """Two 3x3 convs (torchvision's BasicBlock)."""

    def __init__(self, spec: NetSpec, cin: int, width: int, stride: int) -> None:
        super().__init__()
        self.conv1 = conv(spec, cin, width, 3, stride)
        self.bn1 = norm_layer(spec, width)
        self.relu = nn.ReLU()
        self.conv2 = conv(spec, width, width, 3)
        self.bn2 = norm_layer(spec, width)
        self.downsample = make_shortcut(spec, cin, width, stride)
        self.skip = spec.skip
        self.stride = stride

    @property
    def last_norm(self) -> nn.Module:
        return self.bn2

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        return self.bn2(self.conv2(out))


class D2LResidual(BasicBlock):
    """d2l.ai's ``Residual``: BasicBlock with conv biases and a norm-free 1x1 shortcut.

    The 1x1 conv is applied to the block's input X (the blog version applied it to Y).
    The differences from BasicBlock live in ``conv`` and ``make_shortcut``.
    """


class Bottleneck(ResidualBlock):
    """1x1 reduce, 3x3, 1x1 expand (x4). ``stride_on`` picks where it downsamples."""

    expansion = 4

    def __init__(self, spec: NetSpec, cin: int, width: int, stride: int) -> None:
        super().__init__()
        cout = width * self.expansion
        stride_1x1, stride_3x3 = (stride, 1) if spec.stride_on == "1x1" else (1, stride)
        self.conv1 = conv(spec, cin, width, 1, stride_1x1)
        self.bn1 = norm_layer(spec, width)
        self.conv2 = conv(spec, width, width, 3, stride_3x3)
        self.bn2 = norm_layer(spec, width)
        self.conv3 = conv(spec, width, cout, 1)
        self.bn3 = norm_layer(spec, cout)
        self.relu = nn.ReLU()
        self.downsample = make_shortcut(spec, cin, cout, stride)
        self.skip = spec.skip
        self.stride = stride

    @property
    def last_norm(self) -> nn.Module:
        return self.bn3

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        return self.bn3(self.conv3(out))


BLOCKS: dict[str, type[ResidualBlock]] = {
    "basic": BasicBlock,
    "bottleneck": Bottleneck,
    "d2l": D2LResidual,
}
