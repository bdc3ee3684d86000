"""The stem: the layers before the first stage."""

from __future__ import annotations

from torch import nn

from explorer.nets.layers import conv, norm_layer
from explorer.nets.orders import ORDERS
from explorer.nets.spec import NetSpec

STEM_STEPS = ("conv1", "bn1", "relu", "maxpool")


def make_stem(spec: NetSpec) -> dict[str, nn.Module]:
    """``conv1``, ``bn1``, ``relu`` and ``maxpool``, named as in torchvision and timm.

    ``deep`` is timm's ``stem_type='deep'`` scaled to the stem width ``w``: convs of ``w/2``,
    ``w/2`` and ``w`` channels (32, 32, 64 for ResNet-50-D) as ``conv1``, a Sequential. A
    pre-activation net's stem ends at its conv (its first block normalises and activates), so
    there ``bn1`` and ``relu`` are identities: every net keeps the same stem names.
    """
    width = spec.stem_width
    cin = spec.in_channels
    if spec.stem == "imagenet":
        first: nn.Module = conv(spec, cin, width, 7, 2)
    elif spec.stem == "cifar":
        first = conv(spec, cin, width, 3, 1)
    else:
        mid = max(1, width // 2)
        first = nn.Sequential(
            conv(spec, cin, mid, 3, 2), norm_layer(spec, mid), nn.ReLU(),
            conv(spec, mid, mid, 3), norm_layer(spec, mid), nn.ReLU(),
            conv(spec, mid, width, 3),
        )
    activated = ORDERS[spec.order].stem_activated
    return {
        "conv1": first,
        "bn1": norm_layer(spec, width) if activated else nn.Identity(),
        "relu": nn.ReLU() if activated else nn.Identity(),
        "maxpool": (nn.Identity() if spec.stem == "cifar"
                    else nn.MaxPool2d(kernel_size=3, stride=2, padding=1)),
    }
