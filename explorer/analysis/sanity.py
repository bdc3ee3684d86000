"""Sanity checks for saliency maps: cascading model randomisation (Adebayo et al. 2018).

A map that explains a model must change when the model's weights do. The cascade re-initialises
the weights from the top down (the classifier ``fc``, then each block from the last to the
first, then the stem), each part with the builder's own initialisation from a recorded seed,
and after each step compares every image's map with the trained model's map: Spearman rank
correlation of the absolute maps and SSIM, averaged over the images. A method whose maps stay
similar while the weights below its layer are random is not explaining the model.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from explorer.analysis.cam_methods import CAM_METHODS, checked_method
from explorer.analysis.gradcam import cam_batch, get_layer
from explorer.analysis.inputs import Progress, model_device, no_progress
from explorer.analysis.similarity import spearman, ssim
from explorer.nets.model import build

HEAD = "fc"
STEM = "stem"


@dataclass(frozen=True)
class SanityStep:
    """One step of the cascade: what had been randomised and how alike the maps still were.

    ``randomized`` is None for the trained model, else the part randomised at this step (every
    part before it in the cascade is random too). ``example`` is the first image's heatmap.
    """

    randomized: str | None
    spearman: float
    ssim: float
    example: torch.Tensor


@dataclass(frozen=True)
class SanityCurve:
    method: str
    layer: str
    steps: tuple[SanityStep, ...]

    def similarity_after(self, part: str) -> SanityStep:
        return next(step for step in self.steps if step.randomized == part)


def cascade_order(model: nn.Module) -> list[str]:
    """The parts the cascade randomises, top first: ``fc``, the blocks last to first, ``stem``."""
    blocks = [name for name, _ in model.blocks()]
    return [HEAD, *reversed(blocks), STEM]


def _modules_of(model: nn.Module, part: str) -> list[nn.Module]:
    """The modules one cascade step re-initialises (the head includes a pre-activation net's
    final norm; the stem is everything before ``layer1``)."""
    if part == HEAD:
        return [m for name, m in model.named_children() if name in ("fc", "final_norm")]
    if part == STEM:
        stem = []
        for name, module in model.named_children():
            if name == model.stage_names[0]:
                break
            stem.append(module)
        return stem
    return [model.get_submodule(part)]


def sanity_cascade(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor | Sequence[int],
    layer: str = "layer3",
    methods: Sequence[str] = CAM_METHODS,
    seed: int = 0,
    on_progress: Progress = no_progress,
) -> list[SanityCurve]:
    """Run the cascade for each method, on a copy: ``model`` itself is never changed.

    Args:
        model: one of the builder's networks (it needs ``.spec`` to draw fresh weights).
        images: ``(N, C, H, W)``; ``targets``: the class each map explains (kept fixed).
        layer: where the maps are taken (`cam_layers`).
        seed: the random weights are ``build(model.spec, seed)``'s.
        on_progress: ``(steps done, steps, message)`` after each step.

    Returns:
        One `SanityCurve` per method, its first step the trained model (similarity 1).
    """
    if not hasattr(model, "spec") or not hasattr(model, "blocks"):
        raise ValueError("The sanity check re-initialises weights with the explorer's builder; "
                         "it needs one of the explorer's networks.")
    methods = [checked_method(m) for m in methods]
    get_layer(model, layer)
    device = model_device(model)
    working = copy.deepcopy(model)
    fresh = build(model.spec, seed).to(device)
    images = images.to(device)
    targets = torch.as_tensor(targets, device=device)
    parts = [None, *cascade_order(model)]
    trained: dict[str, torch.Tensor] = {}
    found: dict[str, list[SanityStep]] = {m: [] for m in methods}
    for done, part in enumerate(parts):
        if part is not None:
            for ours, theirs in zip(_modules_of(working, part), _modules_of(fresh, part)):
                ours.load_state_dict(theirs.state_dict())
        for method in methods:
            maps = cam_batch(working, images, layer, targets, method).heatmaps
            reference = trained.setdefault(method, maps)
            found[method].append(SanityStep(
                part, float(spearman(reference, maps).mean()), float(ssim(reference, maps).mean()),
                maps[0].cpu()))
        on_progress(done + 1, len(parts), f"randomised {part or 'nothing yet'}")
    return [SanityCurve(m, layer, tuple(found[m])) for m in methods]


def sanity_json(curves: Sequence[SanityCurve]) -> dict:
    """``{"methods": [{"method", "layer", "steps": [{"randomized", "spearman", "ssim"}]}]}``."""
    return {"methods": [
        {"method": c.method, "layer": c.layer,
         "steps": [{"randomized": s.randomized, "spearman": round(s.spearman, 6),
                    "ssim": round(s.ssim, 6)} for s in c.steps]}
        for c in curves]}
