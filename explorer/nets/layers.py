"""The two layer helpers every part of a network uses: a conv and its norm layer."""

from __future__ import annotations

from torch import nn

from explorer.nets.spec import NetSpec


def norm_layer(spec: NetSpec, channels: int) -> nn.Module:
    return nn.BatchNorm2d(channels) if spec.norm == "batch" else nn.Identity()


def conv(spec: NetSpec, cin: int, cout: int, kernel: int, stride: int = 1,
         groups: int = 1) -> nn.Conv2d:
    # Without a norm layer after it, a conv needs its own bias; d2l's Residual always has one.
    bias = spec.norm == "none" or spec.block == "d2l"
    return nn.Conv2d(cin, cout, kernel, stride=stride, padding=kernel // 2, groups=groups,
                     bias=bias)
