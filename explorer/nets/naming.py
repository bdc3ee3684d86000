"""What to call a network: the preset it equals, the plain twin of a preset, or custom."""

from __future__ import annotations

from explorer.nets.spec import NetSpec
from explorer.nets.presets import PRESETS


def matching_preset(spec: NetSpec) -> str | None:
    """The preset ``spec`` equals, if any."""
    return next((name for name, p in PRESETS.items() if p == spec), None)


def plain_twin_of(spec: NetSpec) -> str | None:
    """The preset whose skips-off twin ``spec`` is, if any."""
    return None if spec.skip else matching_preset(spec.replace(skip=True))


def network_name(spec: NetSpec) -> str:
    """For file names and captions: the preset, its plain twin (``resnet20-plain``), or
    ``custom``."""
    preset = matching_preset(spec)
    if preset:
        return preset
    plain_of = plain_twin_of(spec)
    return f"{plain_of}-plain" if plain_of else "custom"


def same_body(a: NetSpec, b: NetSpec) -> bool:
    """The same network up to its input and head (channels, image size, classes): a preset and
    a checkpoint of it trained on another dataset have the same body."""
    return a.replace(in_channels=b.in_channels, image_size=b.image_size,
                     num_classes=b.num_classes) == b
