"""Block orders as data: where the norm and activation layers sit around a block's convs.

He et al. 2016, "Identity Mappings in Deep Residual Networks", Fig. 4, compares five places for
BatchNorm and ReLU. Each is one `Order` here; the block builder (explorer/nets/blocks.py) only
reads these steps, so an order is added by adding an entry.
"""

from __future__ import annotations

from dataclasses import dataclass

Step = str  # "conv", "norm" or "act"


@dataclass(frozen=True)
class Order:
    """Where a residual block's norms and activations sit.

    Attributes:
        unit: steps of each branch conv but the last, in order (``("conv", "norm", "act")``).
        last_unit: steps of the branch's last conv.
        after_add: steps after the addition (in the plain twin: after the branch).
        stem_activated: the stem ends with norm → act. A pre-activation net's stem does not:
            its first block's BN → ReLU does that (He et al.'s code and timm's ResNetV2).
        head_activated: norm → act between the last stage and the pool.
        shared_preact: where a block changes shape, its shortcut reads the branch's leading
            norm → act instead of the raw input (He et al.'s "increasing dimensions" unit, timm's
            ``PreActBottleneck``).
        projection_norm: the shortcut's 1x1 projection is followed by a norm layer.
    """

    unit: tuple[Step, ...]
    last_unit: tuple[Step, ...]
    after_add: tuple[Step, ...]
    stem_activated: bool = True
    head_activated: bool = False
    shared_preact: bool = False
    projection_norm: bool = True


ORDERS: dict[str, Order] = {
    # He et al. 2015 and torchvision: conv → BN → ReLU, the last ReLU after the addition.
    "post": Order(unit=("conv", "norm", "act"), last_unit=("conv", "norm"), after_add=("act",)),
    # He et al. 2016 full pre-activation: BN → ReLU → conv, nothing after the addition.
    "pre": Order(unit=("norm", "act", "conv"), last_unit=("norm", "act", "conv"), after_add=(),
                 stem_activated=False, head_activated=True, shared_preact=True,
                 projection_norm=False),
}
