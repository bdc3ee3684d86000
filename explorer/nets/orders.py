"""Block orders as data: where the norm and activation layers sit around a block's convs.

He et al. 2016, "Identity Mappings in Deep Residual Networks", Fig. 4, compares five places for
BatchNorm and ReLU around a two-conv unit (x → branch → addition with the shortcut → next unit):

    (a) post            conv BN ReLU conv BN       (+x) ReLU     the 2015 original
    (b) bn_after_add    conv BN ReLU conv          (+x) BN ReLU
    (c) relu_before_add conv BN ReLU conv BN ReLU  (+x)
    (d) relu_preact     ReLU conv BN ReLU conv BN  (+x)          ReLU-only pre-activation
    (e) pre             BN ReLU conv BN ReLU conv  (+x)          full pre-activation

A Bottleneck repeats the unit of its first convs for its middle one. Each is one `Order` here;
the block builder (explorer/nets/blocks.py) only reads these steps, so an order is added by adding
an entry. Only (e) changes the stem, the head and the projection (He et al.'s code, timm's
ResNetV2); (b)-(d) keep the 2015 stem (conv → BN → ReLU), head and projection (conv → BN), as
the paper changes only the units.
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


_CONV_BN_RELU = ("conv", "norm", "act")

ORDERS: dict[str, Order] = {
    # (a) He et al. 2015 and torchvision: conv → BN → ReLU, the last ReLU after the addition.
    "post": Order(unit=_CONV_BN_RELU, last_unit=("conv", "norm"), after_add=("act",)),
    # (b) The BN moves from the branch's end to after the addition: it normalises the sum, so
    # the shortcut's signal is altered on its way through every block.
    "bn_after_add": Order(unit=_CONV_BN_RELU, last_unit=("conv",), after_add=("norm", "act")),
    # (c) The ReLU moves into the branch, before the addition: F(x) ≥ 0, so the sum can only grow.
    "relu_before_add": Order(unit=_CONV_BN_RELU, last_unit=_CONV_BN_RELU, after_add=()),
    # (d) ReLU-only pre-activation: ReLU → conv → BN units, nothing after the addition (the BN is
    # not used to its advantage, the paper says: it does not see the unit's input).
    "relu_preact": Order(unit=("act", "conv", "norm"), last_unit=("act", "conv", "norm"),
                         after_add=()),
    # (e) He et al. 2016 full pre-activation: BN → ReLU → conv, nothing after the addition.
    "pre": Order(unit=("norm", "act", "conv"), last_unit=("norm", "act", "conv"), after_add=(),
                 stem_activated=False, head_activated=True, shared_preact=True,
                 projection_norm=False),
}
