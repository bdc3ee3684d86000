"""What :func:`explorer.gradient_flow` measures: one dataclass per layer, variant and pair.

``GradientFlow.summary`` writes its sentences from the numbers it holds; nothing is claimed that a
number does not show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from explorer.nets.spec import NetSpec
from explorer.units import format_number, times

Variant = Literal["residual", "plain"]


def first_conv_weight(spec: NetSpec) -> str:
    """The name of the network's first conv weight: ``conv1.weight``, or ``conv1.0.weight``
    where the deep stem makes ``conv1`` a Sequential of three convs (explorer/nets/stems.py)."""
    return "conv1.0.weight" if spec.stem == "deep" else "conv1.weight"


@dataclass(frozen=True)
class ParamFlow:
    """One parameter: its gradient norm and its own norm (``name`` is relative to the layer)."""

    name: str
    grad_norm: float
    weight_norm: float

    @property
    def ratio(self) -> float:
        """‖grad‖ / ‖weight‖; NaN where the weight is all zeros (a BatchNorm bias at init)."""
        return self.grad_norm / self.weight_norm if self.weight_norm > 0 else math.nan


@dataclass(frozen=True)
class LayerFlow:
    """The stem conv (``conv1``), one residual block (``layer2.3``) or the head (``fc``).

    ``output_grad_norm`` is ‖∂loss/∂output‖ of the stem conv (all three convs of a deep stem),
    the block (after whatever follows its addition) or the fc layer (the logits). Stem and head
    parameters are named from the model root (``conv1.weight``, ``conv1.0.weight`` in a deep
    stem, ``bn1.bias``, ``fc.weight``; a pre-activation net's ``final_norm`` counts as head),
    block parameters from the block.
    ``response_std`` (blocks only): std of the residual branch's output ``F(x)``, just before
    the addition: after its last norm layer in a post-activation block (He et al.'s Fig. 7
    quantity), the last conv's output in a pre-activation block, after the gate with SE
    attention. ``prenorm_std``: std of the branch's last conv output, before any norm or gate
    that follows it (the same number as ``response_std`` in a pre-activation block without SE).
    """

    name: str
    kind: Literal["stem", "block", "head"]
    output_grad_norm: float
    params: tuple[ParamFlow, ...]
    response_std: float | None = None
    prenorm_std: float | None = None

    def param(self, name: str) -> ParamFlow:
        return next(p for p in self.params if p.name == name)


@dataclass(frozen=True)
class FlowResult:
    """Everything measured on one variant in one forward/backward pass."""

    variant: Variant
    spec: NetSpec
    loss: float
    layers: tuple[LayerFlow, ...]

    def layer(self, name: str) -> LayerFlow:
        return next(layer for layer in self.layers if layer.name == name)

    @property
    def blocks(self) -> tuple[LayerFlow, ...]:
        return tuple(layer for layer in self.layers if layer.kind == "block")

    @property
    def conv1_grad_norm(self) -> float:
        """‖∂loss/∂W‖ of the network's first conv (`first_conv_weight`)."""
        return self.layer("conv1").param(first_conv_weight(self.spec)).grad_norm


@dataclass(frozen=True)
class GradientFlow:
    """The residual net and its plain twin measured on the same batch with the same weights."""

    spec: NetSpec
    seed: int
    batch_size: int
    residual: FlowResult
    plain: FlowResult

    @property
    def variants(self) -> tuple[FlowResult, FlowResult]:
        return (self.residual, self.plain)

    def to_frame(self) -> pd.DataFrame:
        """Long format, one number per row, ready for a CSV download.

        Columns: ``variant``, ``position`` (depth order, 0 = conv1), ``layer``, ``kind`` (one of
        ``loss``, ``output_grad_norm``, ``weight_grad_norm``, ``weight_norm``, ``grad_to_weight``,
        ``response_std``, ``prenorm_std``), ``param`` (empty for layer-level numbers), ``value``.
        """
        rows = []
        for res in self.variants:
            rows.append((res.variant, -1, "", "loss", "", res.loss))
            for i, layer in enumerate(res.layers):
                base = (res.variant, i, layer.name)
                rows.append((*base, "output_grad_norm", "", layer.output_grad_norm))
                for p in layer.params:
                    rows.append((*base, "weight_grad_norm", p.name, p.grad_norm))
                    rows.append((*base, "weight_norm", p.name, p.weight_norm))
                    rows.append((*base, "grad_to_weight", p.name, p.ratio))
                if layer.response_std is not None:
                    rows.append((*base, "response_std", "", layer.response_std))
                    rows.append((*base, "prenorm_std", "", layer.prenorm_std))
        columns = ["variant", "position", "layer", "kind", "param", "value"]
        return pd.DataFrame(rows, columns=columns)

    def summary(self) -> str:
        """One or two sentences read off the measured numbers (no canned claims)."""
        return " ".join((_conv1_sentence(self.plain, self.residual),
                         _depth_sentence(self.plain, self.residual)))


def _conv1_sentence(plain: FlowResult, residual: FlowResult) -> str:
    p, r = plain.conv1_grad_norm, residual.conv1_grad_norm
    values = f"(‖∂L/∂W‖ = {format_number(p)} vs {format_number(r)})"
    if not (math.isfinite(p) and math.isfinite(r)):
        return f"At conv1 the weight gradient is not finite in at least one variant {values}."
    if p == 0 or r == 0:
        which = "both variants" if p == r else "the plain twin" if p == 0 else "the residual net"
        return f"At conv1 the weight gradient is exactly zero in {which} {values}."
    return (f"At conv1 the plain twin's weight-gradient norm is {times(p / r)} "
            f"the residual net's {values}.")


def _depth_sentence(plain: FlowResult, residual: FlowResult) -> str:
    def extremes(res: FlowResult) -> tuple[LayerFlow, LayerFlow] | None:
        # fc's output gradient is ∂L/∂logits, a property of the loss more than of the depth.
        layers = [la for la in res.layers
                  if la.kind != "head" and math.isfinite(la.output_grad_norm)]
        if not layers:
            return None
        key = lambda layer: layer.output_grad_norm  # noqa: E731
        return max(layers, key=key), min(layers, key=key)

    plain_ends, residual_ends = extremes(plain), extremes(residual)
    if plain_ends is None or residual_ends is None:
        return "Some gradients w.r.t. layer outputs are not finite."
    (p_hi, p_lo), (r_hi, r_lo) = plain_ends, residual_ends
    text = (f"Along depth (conv1 to the last block), the plain twin's gradient w.r.t. layer "
            f"outputs is largest at {p_hi.name} ({format_number(p_hi.output_grad_norm)}) and "
            f"smallest at {p_lo.name} ({format_number(p_lo.output_grad_norm)})")
    if p_lo.output_grad_norm > 0 and r_lo.output_grad_norm > 0:
        p_spread = p_hi.output_grad_norm / p_lo.output_grad_norm
        r_spread = r_hi.output_grad_norm / r_lo.output_grad_norm
        text += (f", a {format_number(p_spread)}-fold spread; the residual net's spans "
                 f"{format_number(r_spread)}-fold (largest at {r_hi.name}, smallest at "
                 f"{r_lo.name})")
    return text + "."
