"""What a skip carries: He et al. 2016 ("Identity Mappings in Deep Residual Networks"), Fig. 2.

A residual block adds a *shortcut term* to a *branch term*; `weigh` turns the shortcut's output
``h(x)`` and the branch's output ``F(x)`` into those two terms for each ``skip_design``:

    identity        h(x)                  + F(x)            (a)
    scaled          λ·h(x)                + (1 − λ)·F(x)    (b) λ = skip_scale
    exclusive_gate  (1 − g(x))·h(x)       + g(x)·F(x)       (c) g(x) = σ(1×1 conv(x) + b)
    shortcut_gate   (1 − g(x))·h(x)       + F(x)            (d)
    conv            1×1 conv(x)           + F(x)            (e) option C's projection, in blocks.py
    dropout         dropout₀.₅(h(x))      + F(x)            (f) in training; h(x) in eval

so the block's skip stays one visible line, ``out = out + identity``. The gate reads what the
shortcut reads (the block's input, or a full pre-activation block's shared BN → ReLU where the
shape changes) and has one channel per output channel; its stride is the block's, so it never
widens a unit's receptive field. Its bias starts at ``gate_bias`` (model.init_weights).
"""

from __future__ import annotations

import torch
from torch import nn

from explorer.nets.spec import GATES

DROPOUT_P = 0.5  # the paper's Fig. 2(f)


class SkipGate(nn.Module):
    """``g(x) = sigmoid(conv(x))``: a 1×1 conv with a bias, one gate value per output unit."""

    def __init__(self, cin: int, cout: int, stride: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 1, stride=stride, bias=True)
        self.act = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(x))


class ShortcutDropout(nn.Module):
    """Dropout on the shortcut (Fig. 2f): in training each element is kept with probability
    ``1 − p`` and scaled by ``1 / (1 − p)`` (``nn.Dropout``'s rule), in eval the identity.

    Masks come from a generator seeded by ``seed`` (set by ``init_weights`` from the build seed
    and the module's name) and the number of training passes so far, never from torch's global
    random state: the same model built twice drops the same elements.
    """

    PRESERVED_ATTRIBUTES = ("calls",)  # an analysis's training-mode passes leave no trace

    def __init__(self, p: float = DROPOUT_P) -> None:
        super().__init__()
        self.p = p
        self.seed = 0
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or x.is_meta:
            return x
        gen = torch.Generator(device=x.device).manual_seed((self.seed + self.calls) % 2**63)
        self.calls += 1
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=gen).div_(1.0 - self.p)
        return x * keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


def weigh(block: nn.Module, out: torch.Tensor, identity: torch.Tensor,
          source: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The branch term and the shortcut term of ``block``'s skip design.

    Args:
        block: a `ResidualBlock` (its ``skip_design``, ``skip_scale``, ``gate`` and
            ``shortcut_dropout``).
        out: ``F(x)``; identity: ``h(x)``, the shortcut's output; source: what the shortcut
            read (the gate reads it too).
    """
    if block.skip_design == "dropout":
        return out, block.shortcut_dropout(identity)
    g = block.gate(source) if block.skip_design in GATES else None
    return terms(block.skip_design, block.skip_scale, out, identity, g)


def terms(design: str, scale: float, out: torch.Tensor, identity: torch.Tensor,
          g: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """`weigh`'s arithmetic, for a gate ``g`` already computed (feature maps read it by a hook);
    the dropout design passes both terms unchanged (as in eval)."""
    if design == "scaled":
        return (1.0 - scale) * out, scale * identity
    if design in GATES:
        return (g * out if design == "exclusive_gate" else out), (1.0 - g) * identity
    return out, identity  # identity, conv, dropout in eval


# Feature maps a design's products keep for the backward pass beyond its modules' outputs, per
# block output: a gate's 1 − g and a dropout mask (a product with a constant keeps nothing). The
# meta-device memory estimate counts them (explorer/nets/measure.py).
EXTRA_MAPS = {"identity": 0, "conv": 0, "scaled": 0, "exclusive_gate": 1, "shortcut_gate": 1,
              "dropout": 1}
