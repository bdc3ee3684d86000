"""Counting on the meta device: per-stage shapes, parameters, mult-adds and memory.

A forward pass on ``torch.device("meta")`` propagates shapes without allocating or computing
anything, so ResNet-152 at 1024 px costs the same as at 32 px. Everything is traced once per spec
at batch 1 and scaled, because every quantity here is linear in the batch size.
Mult-adds follow torchinfo's convention exactly (weights + biases times output positions; a norm
layer counts its parameters once per sample) so the two tools agree.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import torch
from torch import nn

from explorer.nets.attention import SqueezeExcite
from explorer.nets.blocks import ResidualBlock
from explorer.nets.model import ResNet
from explorer.nets.skips import EXTRA_MAPS
from explorer.nets.spec import NetSpec
from explorer.nets.windows import windows as receptive_windows

BYTES_PER_FLOAT = 4
STEM_MODULES = ("conv1", "bn1", "relu", "maxpool")
HEAD_MODULES = ("final_norm", "final_relu", "avgpool", "fc")


@dataclass(frozen=True)
class StageRow:
    """One row of the stage table (all numbers already multiplied by the batch size)."""

    name: str
    blocks: int
    output_shape: tuple[int, ...]
    params: int
    mult_adds: int
    activation_bytes: int
    # Theoretical receptive field (pixels) and cumulative stride of the stage's output units;
    # None for the head, whose global average pool sees the whole image.
    receptive_field: int | None = None
    stride: int | None = None


@dataclass(frozen=True)
class StageTable:
    spec: NetSpec
    batch_size: int
    rows: tuple[StageRow, ...]

    @property
    def total_params(self) -> int:
        return sum(r.params for r in self.rows)

    @property
    def total_mult_adds(self) -> int:
        return sum(r.mult_adds for r in self.rows)

    @property
    def total_activation_bytes(self) -> int:
        return sum(r.activation_bytes for r in self.rows)

    def row(self, name: str) -> StageRow:
        return next(r for r in self.rows if r.name == name)

    def to_dict(self) -> dict:
        return {
            "spec": self.spec.to_dict(),
            "batch_size": self.batch_size,
            "stages": [
                {**r.__dict__, "output_shape": list(r.output_shape)} for r in self.rows
            ],
            "total": {
                "params": self.total_params,
                "mult_adds": self.total_mult_adds,
                "activation_bytes": self.total_activation_bytes,
            },
        }


@dataclass(frozen=True)
class _Leaf:
    top: str  # the model's direct child it belongs to (conv1, layer2, fc...)
    output_shape: tuple[int, ...]
    params: int
    mult_adds: int
    activations: int  # elements the layer allocates: an nn.Identity hands its input back


def meta_model(spec: NetSpec) -> ResNet:
    """The network on the meta device: shapes and parameter counts, no memory."""
    with torch.device("meta"):
        return ResNet(spec)


@functools.lru_cache(maxsize=256)
def _trace(spec: NetSpec) -> tuple[_Leaf, ...]:
    """Run one meta forward at batch 1 and record every leaf module's output and cost."""
    model = meta_model(spec).eval()  # train-mode BatchNorm refuses a 1x1 map at batch 1
    _skip_python_kernels(model)
    leaves: list[_Leaf] = []

    def hook(name: str):
        def record(module: nn.Module, inputs, output: torch.Tensor) -> None:
            fresh = 0 if output is inputs[0] else output.numel()
            if isinstance(module, SqueezeExcite):  # only its product: its layers count apart
                leaves.append(_Leaf(name.split(".")[0], tuple(output.shape), 0, 0, fresh))
                return
            params = sum(p.numel() for p in module.parameters())
            leaves.append(_Leaf(name.split(".")[0], tuple(output.shape), params,
                                _mult_adds(module, output.shape), fresh))
        return record

    def products(name: str):
        # A skip design's products (λ·h(x), g·F(x)...) are maps no module outputs.
        def record(block: ResidualBlock, inputs, output: torch.Tensor) -> None:
            extra = EXTRA_MAPS[block.skip_design] * output.numel()
            leaves.append(_Leaf(name.split(".")[0], tuple(output.shape), 0, 0, extra))
        return record

    handles = [
        m.register_forward_hook(hook(name))
        for name, m in model.named_modules()
        if name and (isinstance(m, SqueezeExcite)
                     or not list(m.children()) and not isinstance(m, nn.Sequential))
    ]
    handles += [block.register_forward_hook(products(name)) for name, block in model.blocks()
                if EXTRA_MAPS[block.skip_design]]
    try:
        with torch.no_grad():
            model(torch.empty(1, spec.in_channels, spec.image_size, spec.image_size,
                              device="meta"))
    finally:
        for h in handles:
            h.remove()
    return tuple(leaves)


def _skip_python_kernels(model: ResNet) -> None:
    """Give the meta model's shape-keeping steps plain shape rules.

    Their meta kernels are Python decompositions: slow, and the first one a process runs imports
    torch._dynamo and sympy (1.6 s of a cold start, measured). Shapes, parameters and the leaves
    whose outputs are counted stay exactly what the real forward gives (tests/nets/test_measure.py
    compares them with torchvision).
    """
    for module in model.modules():
        if isinstance(module, (nn.BatchNorm2d, nn.ReLU)):
            module.forward = _shape_only
        elif isinstance(module, nn.AdaptiveAvgPool2d):
            module.forward = functools.partial(_pooled, module.output_size)
        elif isinstance(module, nn.Linear):
            module.forward = functools.partial(_linear, module.out_features)
        elif isinstance(module, ResidualBlock):
            module.forward = functools.partial(_block_without_add, module)
        elif isinstance(module, SqueezeExcite):
            module.forward = functools.partial(_squeeze_excite, module)


def _shape_only(x: torch.Tensor) -> torch.Tensor:
    return x.new_empty(x.shape)


def _pooled(size, x: torch.Tensor) -> torch.Tensor:
    h, w = (size, size) if isinstance(size, int) else size
    return x.new_empty(*x.shape[:2], h or x.shape[2], w or x.shape[3])


def _linear(features: int, x: torch.Tensor) -> torch.Tensor:
    return x.new_empty(*x.shape[:-1], features)


def _block_without_add(block: ResidualBlock, x: torch.Tensor) -> torch.Tensor:
    """``ResidualBlock.forward`` with ``branch + shortcut`` replaced by the branch's shape (equal,
    or the real forward fails); the shortcut and a skip gate still run so that their layers are
    counted. The skip design's products are not run (a product's meta kernel is Python): they
    keep the shapes, and their maps are counted by `_trace`."""
    out, identity, source = block.unweighed(x)
    if identity is not None and hasattr(block, "gate"):
        block.gate(source)
    return block.finish(out)


def _squeeze_excite(se: SqueezeExcite, x: torch.Tensor) -> torch.Tensor:
    """`SqueezeExcite.forward` with the mean and the product as shape rules (their meta kernels
    are Python); its 1x1 convs still run on the squeezed shape so that they are counted."""
    se.gate(se.fc2(se.relu(se.fc1(x.new_empty(*x.shape[:2], 1, 1)))))
    return x.new_empty(x.shape)


def _mult_adds(module: nn.Module, output_shape: torch.Size) -> int:
    params = sum(p.numel() for p in module.parameters())
    if isinstance(module, nn.Conv2d):
        return params * output_shape[0] * math.prod(output_shape[2:])
    return params * output_shape[0]


def stage_table(spec: NetSpec, batch_size: int = 1) -> StageTable:
    """Shapes, parameters, mult-adds and activation memory of every stage.

    Args:
        spec: the architecture.
        batch_size: scales shapes, mult-adds and activation memory (not parameters).

    Returns:
        A `StageTable` with rows ``stem``, ``layer1..N``, ``head``.
    """
    if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"The batch size must be a whole number of at least 1, got {batch_size!r}.")
    leaves = _trace(spec)
    windows = receptive_windows(spec)
    groups = ["stem"] + [f"layer{i + 1}" for i in range(len(spec.layers))] + ["head"]
    rows = []
    for group in groups:
        members = [leaf for leaf in leaves if _group_of(leaf.top) == group]
        blocks = spec.layers[int(group[5:]) - 1] if group.startswith("layer") else 0
        if members:
            shape = (batch_size, *members[-1].output_shape[1:])
        else:
            shape = rows[-1].output_shape  # an empty stage passes its input through
        rows.append(StageRow(
            name=group,
            blocks=blocks,
            output_shape=shape,
            params=sum(leaf.params for leaf in members),
            mult_adds=batch_size * sum(leaf.mult_adds for leaf in members),
            activation_bytes=batch_size * BYTES_PER_FLOAT
            * sum(leaf.activations for leaf in members),
            receptive_field=windows[group].size if group in windows else None,
            stride=windows[group].jump if group in windows else None,
        ))
    return StageTable(spec, batch_size, tuple(rows))


def _group_of(top: str) -> str:
    if top in STEM_MODULES:
        return "stem"
    if top in HEAD_MODULES:
        return "head"
    return top


@dataclass(frozen=True)
class Estimate:
    """Memory a forward+backward needs, in bytes (float32 training, no optimizer state)."""

    param_bytes: int
    grad_bytes: int
    activation_bytes: int
    input_bytes: int

    @property
    def peak_bytes(self) -> int:
        return self.param_bytes + self.grad_bytes + self.activation_bytes + self.input_bytes


def estimate(spec: NetSpec, batch_size: int = 1) -> Estimate:
    """Estimate the memory of one forward+backward, without allocating anything.

    Activations are every layer's freshly allocated output. Autograd keeps only some of them
    (measured on 72 small nets: this is 1.3-1.7x what it saves with BatchNorm, 1.6-2.5x without),
    so the estimate is a safe upper bound, which is what a budget check needs.
    """
    table = stage_table(spec, batch_size)
    param_bytes = table.total_params * BYTES_PER_FLOAT
    return Estimate(
        param_bytes=param_bytes,
        grad_bytes=param_bytes,
        activation_bytes=table.total_activation_bytes,
        input_bytes=batch_size * spec.in_channels * spec.image_size**2 * BYTES_PER_FLOAT,
    )
