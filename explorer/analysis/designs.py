"""Which skip? He et al. 2016's skip designs and activation orders side by side, at init.

`compare_designs` builds one network per variant of a spec (a skip design of Fig. 2, or an
activation order of Fig. 4), every one from the same seed: a parameter two variants share has the
same name and so the same initial values (`explorer.nets.model` seeds each tensor by its name),
and the branch convs are the same in every variant. Each gets one forward and one backward pass
of the loss on the same batch, in train mode, and for every block we read

- ``grad_norm``: ‖∂loss/∂(block output)‖, the gradient that reaches the block from the loss, and
- ``response_std``: the std of the block's residual branch ``F(x)`` (its ``last_layer``'s
  output, before the skip design weighs it and before the addition: He et al. 2015's Fig. 7
  quantity; with BatchNorm at the branch's end it is ≈1 at init by construction).

The backward pass runs from the loss to the first block's input only: a gradient with respect to
a block's output needs no weight gradient, so none is computed (the numbers are those of a full
backward pass; tests/analysis/test_designs.py checks them against one).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence, get_args

import torch

from explorer.analysis.gradflow import LossName, _check_batch, compute_loss, random_batch
from explorer.analysis.reductions import l2_norm, std
from explorer.nets.model import ResNet, build
from explorer.nets.preserved import preserved
from explorer.nets.spec import GATES, NetSpec, Order, SkipDesign

DESIGNS: tuple[str, ...] = get_args(SkipDesign)
ORDERS: tuple[str, ...] = get_args(Order)
# The variant every other one is compared with, per field.
REFERENCE = {"skip_design": "identity", "order": "post"}
MAX_VARIANTS = len(DESIGNS) + len(ORDERS)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class BlockReading:
    """One block of one variant: the gradient reaching its output, its branch's response."""

    block: str
    grad_norm: float
    response_std: float


@dataclass(frozen=True)
class VariantFlow:
    """One variant (``skip_design=scaled``, ``order=pre``) measured on the shared batch."""

    variant: str
    spec: NetSpec
    loss: float
    blocks: tuple[BlockReading, ...]

    @property
    def field(self) -> str:
        return self.variant.split("=", 1)[0]

    @property
    def value(self) -> str:
        return self.variant.split("=", 1)[1]

    def block(self, name: str) -> BlockReading:
        return next(b for b in self.blocks if b.block == name)

    @property
    def first(self) -> BlockReading:
        """The block nearest the input: the gradient that reaches it has crossed every block."""
        return self.blocks[0]


@dataclass(frozen=True)
class DesignComparison:
    """Every variant of ``spec`` on the same batch, with the same initial weights where shared."""

    spec: NetSpec
    seed: int
    batch_size: int
    variants: tuple[VariantFlow, ...]

    def variant(self, name: str) -> VariantFlow:
        return next(v for v in self.variants if v.variant == name)

    def reference_for(self, variant: VariantFlow) -> VariantFlow | None:
        """The variant ``variant`` is compared with: the identity design, or the post order,
        when measured; else the first variant of the same field."""
        same_field = [v for v in self.variants if v.field == variant.field]
        wanted = f"{variant.field}={REFERENCE[variant.field]}"
        return next((v for v in same_field if v.variant == wanted), same_field[0])

    def to_dict(self) -> dict:
        """``{"spec", "seed", "batch_size", "variants": [{"variant", "loss", "blocks":
        [{"block", "grad_norm", "response_std"}, ...]}, ...]}`` (the CLI's ``--json``)."""
        return {
            "spec": self.spec.to_dict(), "seed": self.seed, "batch_size": self.batch_size,
            "variants": [{"variant": v.variant, "loss": _json_number(v.loss),
                          "blocks": [{"block": b.block, "grad_norm": _json_number(b.grad_norm),
                                      "response_std": _json_number(b.response_std)}
                                     for b in v.blocks]}
                         for v in self.variants],
        }

    def to_frame(self):
        """One row per variant and block: ``variant``, ``position`` (depth order), ``block``,
        ``grad_norm``, ``response_std``, ``loss``; ready for a CSV download."""
        import pandas as pd

        rows = [(v.variant, i, b.block, b.grad_norm, b.response_std, v.loss)
                for v in self.variants for i, b in enumerate(v.blocks)]
        return pd.DataFrame(rows, columns=["variant", "position", "block", "grad_norm",
                                           "response_std", "loss"])


def _json_number(x: float) -> float | None:
    return x if math.isfinite(x) else None  # JSON has no NaN or infinity


def variant_spec(spec: NetSpec, field: str, value: str, skip_scale: float | None = None,
                 gate_bias: float | None = None) -> NetSpec:
    """``spec`` with one skip design or one order, skips on. A design uses ``skip_scale`` and
    ``gate_bias`` where it has them (default: the spec's own, which are the defaults unless
    the spec has that design), and the defaults where it does not.

    Raises:
        ValueError: the field is not ``skip_design`` or ``order``, or the variant is refused
            (e.g. the d2l block with another order), in the sidebar's words.
    """
    if field == "skip_design":
        default = NetSpec()
        scale = spec.skip_scale if skip_scale is None else skip_scale
        bias = spec.gate_bias if gate_bias is None else gate_bias
        return spec.replace(
            skip=True, skip_design=value,
            skip_scale=scale if value == "scaled" else default.skip_scale,
            gate_bias=bias if value in GATES else default.gate_bias)
    if field == "order":
        return spec.replace(skip=True, order=value)
    raise ValueError(f"A variant changes 'skip_design' or 'order', not {field!r}.")


def variants_of(spec: NetSpec, designs: Iterable[str] = DESIGNS, orders: Iterable[str] = (),
                skip_scale: float | None = None,
                gate_bias: float | None = None) -> list[tuple[str, NetSpec]]:
    """``(label, spec)`` of each variant, designs first, each checked before anything runs
    (`variant_spec`)."""
    found: list[tuple[str, NetSpec]] = []
    for field, values, allowed in (("skip_design", designs, DESIGNS),
                                   ("order", orders, ORDERS)):
        for value in dict.fromkeys(values):  # each once, in the order given
            if value not in allowed:
                raise ValueError(f"Unknown {field} {value!r}; choose from {', '.join(allowed)}.")
            try:
                found.append((f"{field}={value}",
                              variant_spec(spec, field, value, skip_scale, gate_bias)))
            except ValueError as exc:
                raise ValueError(f"{field}={value}: {exc}") from None
    if not found:
        raise ValueError("Pick at least one skip design or activation order to compare.")
    return found


def compare_designs(
    spec: NetSpec,
    designs: Sequence[str] = DESIGNS,
    orders: Sequence[str] = (),
    seed: int = 0,
    batch_size: int = 8,
    device: str | torch.device = "cpu",
    inputs: torch.Tensor | None = None,
    targets: torch.Tensor | None = None,
    loss: LossName = "cross_entropy",
    on_progress: Progress | None = None,
    skip_scale: float | None = None,
    gate_bias: float | None = None,
) -> DesignComparison:
    """Gradient norm and branch response of every block, per skip design and/or order.

    Args:
        spec: the network; each variant changes its ``skip_design`` or its ``order`` (skips on).
        designs: skip designs to compare (default: all six).
        orders: activation orders to compare (default: none).
        seed: the weights' seed (every variant), and the seed of the default batch.
        batch_size: size of the default batch (ignored when ``inputs`` is given).
        device: where the models and the batch live.
        inputs, targets: the batch; default `random_batch` (N(0, 1) images, uniform labels).
        loss: ``cross_entropy`` or ``mse``.
        on_progress: called with ``(done, total, message)`` before and after each variant.
        skip_scale, gate_bias: the scaled design's factor and the gates' initial bias
            (default: the spec's own; see `variant_spec`).

    Returns:
        A `DesignComparison`, variants in the order asked (designs, then orders).
    """
    compute_loss(loss, torch.zeros(1, 2), torch.zeros(1, dtype=torch.long))  # validate the name
    variants = variants_of(spec, designs, orders, skip_scale, gate_bias)
    if inputs is None or targets is None:
        default_x, default_y = random_batch(spec, batch_size, seed)
        inputs = default_x if inputs is None else inputs
        targets = default_y if targets is None else targets
    _check_batch(spec, inputs, targets)
    inputs, targets = inputs.detach().to(device), targets.detach().to(device)
    results, done = [], {}
    for i, (label, variant) in enumerate(variants):
        if on_progress:
            on_progress(i, len(variants), f"Measuring {label} ({i + 1} of {len(variants)})…")
        if variant not in done:  # e.g. skip_design=identity and order=post of a post spec
            # A model of our own, dropped afterwards: nothing of it needs restoring.
            done[variant] = _measure(build(variant, seed=seed, device=device), inputs, targets,
                                     loss)
        value, blocks = done[variant]
        results.append(VariantFlow(label, variant, value, blocks))
    if on_progress:
        on_progress(len(variants), len(variants), "Done.")
    return DesignComparison(spec, seed, int(inputs.shape[0]), tuple(results))


def measure_blocks(model: ResNet, inputs: torch.Tensor, targets: torch.Tensor,
                   loss: LossName = "cross_entropy") -> tuple[float, tuple[BlockReading, ...]]:
    """One train-mode forward and backward pass: the loss and every block's `BlockReading`.

    The model comes back as it was found (`preserved`, BatchNorm statistics included).
    """
    with preserved(model, buffers=True):
        return _measure(model, inputs, targets, loss)


def _measure(model: ResNet, inputs: torch.Tensor, targets: torch.Tensor,
             loss: LossName) -> tuple[float, tuple[BlockReading, ...]]:
    """`measure_blocks` on a model that need not be restored: it keeps the hooks, the train
    mode and the BatchNorm statistics of this pass."""
    blocks = model.blocks()
    grads: dict[str, torch.Tensor] = {}
    stds: dict[str, torch.Tensor] = {}
    first_input: list[torch.Tensor] = []
    model.train()
    blocks[0][1].register_forward_pre_hook(lambda m, args: first_input.append(args[0]))
    for name, block in blocks:
        block.register_forward_hook(_grad_norm_hook(name, grads))
        block.last_layer.register_forward_hook(_std_hook(name, stds))
    for p in model.parameters():  # the gradient must flow from the stem to the loss
        p.requires_grad_(True)
    with torch.enable_grad():
        value = compute_loss(loss, model(inputs), targets)
        # Only the block outputs' gradients are read: no weight gradient is computed.
        torch.autograd.grad(value, first_input[0])
    nan = torch.tensor(math.nan, dtype=torch.float64, device=value.device)
    scalars = [value.detach().double()]
    for name, _ in blocks:
        scalars += [grads.get(name, nan).double(), stds[name].double()]
    numbers = torch.stack([s.to(value.device) for s in scalars]).tolist()
    readings = tuple(BlockReading(name, numbers[1 + 2 * i], numbers[2 + 2 * i])
                     for i, (name, _) in enumerate(blocks))
    return numbers[0], readings


def _grad_norm_hook(name: str, store: dict[str, torch.Tensor]):
    def on_forward(module, args, output: torch.Tensor) -> None:
        if output.requires_grad:
            output.register_hook(lambda grad: store.__setitem__(name, l2_norm(grad)))

    return on_forward


def _std_hook(name: str, store: dict[str, torch.Tensor]):
    def on_forward(module, args, output: torch.Tensor) -> None:
        with torch.no_grad():
            store[name] = std(output)

    return on_forward
