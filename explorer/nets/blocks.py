"""The residual block: one builder for torchvision's BasicBlock and Bottleneck (ResNeXt and Wide
ResNet included), the d2l book's Residual, He et al. 2016's activation orders and skip designs,
and squeeze-and-excitation blocks.

A block is data: its branch convs (`branch_convs`), the order of norms and activations around
them (explorer/nets/orders.py), an optional SE module, a shortcut and what the skip carries
(explorer/nets/skips.py). Attribute names follow
torchvision (``conv1``, ``bn1``, ``downsample``...) so torchvision's and timm's state_dicts load.
ReLUs are not in place so hooks and autograd never trip over an overwritten tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from explorer.nets.attention import SqueezeExcite
from explorer.nets.layers import conv, norm_layer
from explorer.nets.orders import ORDERS
from explorer.nets.shortcuts import ZeroPadShortcut, make_shortcut
from explorer.nets.skips import ShortcutDropout, SkipGate, weigh
from explorer.nets.spec import GATES, NetSpec

__all__ = ["BranchConv", "ResidualBlock", "ZeroPadShortcut", "branch_convs", "conv",
           "make_shortcut", "norm_layer"]


@dataclass(frozen=True)
class BranchConv:
    """One conv of a residual branch."""

    cin: int
    cout: int
    kernel: int
    stride: int = 1
    groups: int = 1


def branch_convs(spec: NetSpec, cin: int, width: int, stride: int) -> list[BranchConv]:
    """The convs of a block's residual branch, in order.

    Args:
        spec: the architecture (block, stride_on, groups, width_per_group).
        cin: the block's input channels.
        width: the stage's width (the Bottleneck's ``planes``).
        stride: the block's stride.
    """
    if spec.block != "bottleneck":  # basic, d2l: two 3x3 convs
        return [BranchConv(cin, width, 3, stride), BranchConv(width, width, 3)]
    inner = spec.inner_width(width)
    s1, s3 = (stride, 1) if spec.stride_on == "1x1" else (1, stride)
    return [BranchConv(cin, inner, 1, s1),
            BranchConv(inner, inner, 3, s3, spec.groups),
            BranchConv(inner, width * spec.expansion, 1)]


class ResidualBlock(nn.Module):
    """A residual branch ``F``, its shortcut, and ``out = F(x) + shortcut(x)``.

    The branch runs ``plan``, a list of attribute names built from the block's `Order`: for
    ``post``, ``conv1 bn1 relu conv2 bn2`` (then ``relu`` after the addition); for ``pre``,
    ``bn1 relu conv1 bn2 relu conv2`` (nothing after the addition), ``bnK`` being the norm of the
    ``K``-th conv's unit; ``bn_after_add`` ends the branch on ``conv2`` and normalises the sum
    with ``bn_add``. With ``attention="se"`` the branch ends with ``se``, so the SE gate scales
    ``F(x)`` before the addition (timm's seresnet).

    The skip design (explorer/nets/skips.py) weighs the two terms before the addition: a gate
    is ``gate`` (``gate.conv``, a 1×1 conv with a bias), dropout is ``shortcut_dropout``, and
    the ``conv`` design's projection is ``downsample`` as for option C.

    The plain twin (``skip=False``) keeps every branch layer with the same name and drops the
    shortcut and every part of the skip design: its block is ``finish(F(x))``. For a
    post-activation block that is ``relu(F(x))``, for a pre-activation block ``F(x)`` itself
    (BN → ReLU → conv stacks, nothing after), and an SE block keeps its SE module, which scales
    the branch as in the residual net.

    In a pre-activation block whose shape changes, the shortcut reads the branch's leading
    BN → ReLU (``tap`` steps) instead of the raw input, as He et al.'s code and timm's
    ``PreActBottleneck`` do.
    """

    def __init__(self, spec: NetSpec, cin: int, width: int, stride: int) -> None:
        super().__init__()
        order = ORDERS[spec.order]
        convs = branch_convs(spec, cin, width, stride)
        cout = convs[-1].cout
        self.skip = spec.skip
        self.stride = stride
        # The plain twin has no skip, so no skip design: every design gives the same plain net.
        self.skip_design = spec.skip_design if spec.skip else "identity"
        self.skip_scale = spec.skip_scale
        steps: list[str] = []
        for k, shape in enumerate(convs, start=1):
            unit = order.last_unit if k == len(convs) else order.unit
            for step in unit:
                steps.append(self._add_step(spec, step, k, shape, unit))
        if spec.attention == "se":
            self.se = SqueezeExcite(cout)
            steps.append("se")
        self.plan = tuple(steps)
        self.after_add = tuple(self._add_after(spec, step, cout) for step in order.after_add)
        self.downsample = make_shortcut(spec, cin, cout, stride)
        shape_changes = stride != 1 or cin != cout
        self.tap = (self.plan.index("conv1")
                    if order.shared_preact and self.skip and shape_changes else 0)
        if self.skip_design in GATES:
            self.gate = SkipGate(cin, cout, stride)
        elif self.skip_design == "dropout":
            self.shortcut_dropout = ShortcutDropout()
        self._last_norm = f"bn{len(convs)}" if "norm" in order.last_unit else None

    def _add_step(self, spec: NetSpec, step: str, k: int, shape: BranchConv,
                  unit: tuple[str, ...]) -> str:
        if step == "conv":
            name = f"conv{k}"
            self.add_module(name, conv(spec, shape.cin, shape.cout, shape.kernel, shape.stride,
                                       shape.groups))
        elif step == "norm":
            name = f"bn{k}"
            before_conv = unit.index("norm") < unit.index("conv")
            self.add_module(name, norm_layer(spec, shape.cin if before_conv else shape.cout))
        else:
            name = "relu"
            if not hasattr(self, name):
                self.relu = nn.ReLU()
        return name

    def _add_after(self, spec: NetSpec, step: str, channels: int) -> str:
        if step == "norm":
            self.bn_add = norm_layer(spec, channels)
            return "bn_add"
        if not hasattr(self, "relu"):
            self.relu = nn.ReLU()
        return "relu"

    # ---- the parts --------------------------------------------------------------------
    @property
    def last_norm(self) -> nn.Module | None:
        """The norm of the branch's last conv unit: the layer ``zero_init_residual`` zeroes
        (for ``post`` also the paper's Fig. 7 response; an ``nn.Identity`` without norms;
        ``None`` for ``bn_after_add``, whose branch ends on its conv)."""
        return None if self._last_norm is None else getattr(self, self._last_norm)

    @property
    def last_layer(self) -> nn.Module:
        """The layer whose output is ``F(x)``, the branch's output (``bn2``/``bn3`` for ``post``,
        the last conv for ``pre``, ``se`` with attention)."""
        return getattr(self, self.plan[-1])

    def _run(self, names: tuple[str, ...], x: torch.Tensor) -> torch.Tensor:
        for name in names:
            x = getattr(self, name)(x)
        return x

    def unweighed(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None,
                                                   torch.Tensor]:
        """``F(x)``, the shortcut's output ``h(x)`` (``None`` in the plain twin) and what the
        shortcut read, each computed once, before the skip design weighs them."""
        shared = self._run(self.plan[: self.tap], x)
        out = self._run(self.plan[self.tap:], shared)
        source = shared if self.tap else x
        if not self.skip:
            return out, None, source
        return out, source if self.downsample is None else self.downsample(source), source

    def paths(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The branch term and the shortcut term (``None`` in the plain twin): ``F(x)`` and
        ``h(x)`` weighed by the skip design (`skips.weigh`)."""
        out, identity, source = self.unweighed(x)
        if identity is None:
            return out, None
        return weigh(self, out, identity, source)

    def branch(self, x: torch.Tensor) -> torch.Tensor:
        """``F(x)`` alone, before the skip design weighs it."""
        return self._run(self.plan, x)

    def shortcut(self, x: torch.Tensor) -> torch.Tensor:
        """The shortcut term alone (the input itself in the plain twin): what the block passes on
        when its branch is zero, before `finish`. The skip design applies as in `paths`: a scaled
        block passes ``λ·h(x)``, a gated one ``(1 − g(x))·h(x)``, whatever the branch."""
        source = self._run(self.plan[: self.tap], x)
        if not self.skip:
            return source
        identity = source if self.downsample is None else self.downsample(source)
        return weigh(self, torch.zeros_like(identity), identity, source)[1]

    def finish(self, out: torch.Tensor) -> torch.Tensor:
        """The steps after the addition (``relu`` for ``post``, none for ``pre``)."""
        return self._run(self.after_add, out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, identity = self.paths(x)
        if identity is not None:
            out = out + identity  # the skip connection
        return self.finish(out)
