"""Feature maps: what each stage outputs for one image, and what a block's skip adds.

For a residual block ``out = finish(F(x) + shortcut(x))`` (``finish`` is the ReLU of a
post-activation block, nothing in a pre-activation one); `skip_parts` returns ``x``,
``shortcut(x)``, ``F(x)``, ``F(x) + shortcut(x)`` and ``out`` from one forward pass, read by hooks
on the block, its shortcut and its ``last_layer`` (the layer whose output is ``F(x)``: the last
norm of a post-activation branch, the last conv of a pre-activation one, the SE gate with
attention), never by re-running pieces.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from explorer.nets.preserved import preserved
from explorer.nets.skips import terms

MAX_TOP_K = 64


@dataclass(frozen=True)
class StageMaps:
    """The ``top_k`` channels of one stage's output with the highest mean activation."""

    stage: str
    channels: tuple[int, ...]
    means: tuple[float, ...]
    maps: torch.Tensor  # (k, h, w)
    total_channels: int


def _check_image(x: torch.Tensor) -> None:
    if x.ndim != 4 or len(x) != 1:
        raise ValueError(f"Expected one image as a (1, C, H, W) tensor, got {tuple(x.shape)}.")


def stage_feature_maps(model: nn.Module, x: torch.Tensor, top_k: int = 8) -> list[StageMaps]:
    """Each stage's output for one image: its ``top_k`` channels by mean activation.

    Args:
        model: a `ResNet`; it comes back exactly as it was.
        x: one preprocessed image ``(1, C, H, W)`` on the model's device.
        top_k: channels per stage (at most the stage's width, and at most 64).

    Returns:
        One `StageMaps` per non-empty stage, in depth order, on the CPU.
    """
    _check_image(x)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= MAX_TOP_K:
        raise ValueError(f"top_k must be a whole number from 1 to {MAX_TOP_K}, got {top_k!r}.")
    outputs: dict[str, torch.Tensor] = {}
    with preserved(model), torch.no_grad():
        model.eval()
        for name, stage in model.stages():
            if len(stage):
                stage.register_forward_hook(
                    lambda m, i, out, name=name: outputs.__setitem__(name, out[0].detach().cpu()))
        model(x)
    found = []
    for name, out in outputs.items():
        means = out.mean(dim=(1, 2))
        order = torch.argsort(means, descending=True, stable=True)[:top_k]
        found.append(StageMaps(name, tuple(order.tolist()), tuple(means[order].tolist()),
                               out[order], out.shape[0]))
    return found


@dataclass(frozen=True)
class SkipParts:
    """One block's tensors for one image, each ``(C, h, w)`` on the CPU.

    ``shortcut`` and ``summed`` are ``None`` for a plain block (it has no skip).
    """

    block: str
    skip: bool
    inputs: torch.Tensor
    shortcut: torch.Tensor | None
    branch: torch.Tensor
    summed: torch.Tensor | None
    output: torch.Tensor
    design: str = "identity"  # the block's skip design, scale and order (He et al. 2016)
    scale: float = 0.5
    order: str = "post"
    projected: bool = False  # the skip carries h(x) (a projection or padding), not x

    @property
    def branch_ratio(self) -> float | None:
        """‖F(x)‖ / ‖shortcut(x)‖: how large the branch's change is next to what the skip
        carries (``None`` for a plain block or an all-zero shortcut)."""
        if self.shortcut is None or float(self.shortcut.norm()) == 0:
            return None
        return float(self.branch.norm() / self.shortcut.norm())


def skip_parts(model: nn.Module, x: torch.Tensor, block: str) -> SkipParts:
    """x, shortcut(x), F(x), F(x) + shortcut(x) and the output of one block, for one image.

    With one of He et al. 2016's skip designs, ``shortcut`` and ``branch`` are the two terms the
    block adds, as the design weighs them: λ·h(x) and (1 − λ)·F(x) when scaled, (1 − g)·h(x)
    and g·F(x) with the exclusive gate (the gate ``g`` read by a hook), h(x) in eval with
    shortcut dropout; ``summed`` is their sum.

    Args:
        model: a `ResNet`; it comes back exactly as it was.
        x: one preprocessed image ``(1, C, H, W)`` on the model's device.
        block: a block name such as ``layer2.1``.
    """
    _check_image(x)
    blocks = dict(model.blocks())
    if block not in blocks:
        raise ValueError(f"No block {block!r}; blocks are {', '.join(blocks)}.")
    target = blocks[block]
    seen: dict[str, torch.Tensor] = {}

    def keep(key: str):
        return lambda m, i, out: seen.__setitem__(key, out[0].detach())

    with preserved(model), torch.no_grad():
        model.eval()
        target.register_forward_hook(
            lambda m, i, out: seen.update(inputs=i[0][0].detach(), output=out[0].detach()))
        target.last_layer.register_forward_hook(keep("branch"))
        shortcut = target.downsample if target.skip else None
        if shortcut is not None:
            shortcut.register_forward_hook(keep("shortcut"))
        if getattr(target, "gate", None) is not None and target.skip:
            target.gate.register_forward_hook(keep("gate"))
        model(x)
    skip = bool(target.skip)
    branch = seen["branch"]
    identity = seen.get("shortcut", seen["inputs"]) if skip else None
    if identity is not None:  # the two terms as the skip design weighs them
        branch, identity = terms(target.skip_design, target.skip_scale, branch, identity,
                                 seen.get("gate"))
    cpu = {k: v.cpu() for k, v in seen.items()}
    return SkipParts(
        block=block, skip=skip, inputs=cpu["inputs"],
        shortcut=None if identity is None else identity.cpu(), branch=branch.cpu(),
        summed=None if identity is None else (branch + identity).cpu(),
        output=cpu["output"], design=target.skip_design, scale=target.skip_scale,
        order=getattr(model, "spec", None) and model.spec.order or "post",
        projected=shortcut is not None,
    )
