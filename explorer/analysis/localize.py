"""Does the map point at the object? Localisation scores on images whose object masks are known.

Two standard scores, for a heatmap (the positive map at the input's resolution) and the object's
boolean mask: the pointing game (Zhang et al. 2016: is the map's maximum inside the object?) and
the energy inside the mask (Wang et al. 2020, Score-CAM: the share of the positive map that falls
on the object). A map that ignored the image would score the mask's area on both, on average:
that mean area is the chance line.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import torch
from torch import nn

from explorer.analysis.cam_methods import CAM_METHODS, checked_method
from explorer.analysis.gradcam import cam_batch, cam_layers
from explorer.analysis.inputs import Progress, model_device, no_progress


def pointing_hits(heatmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Per ``(H, W)`` map: whether its maximum lies inside the mask (a flat map points nowhere:
    a miss). Where the maximum is shared, the first in reading order counts."""
    flat = heatmaps.flatten(1)
    peak = flat.argmax(dim=1)
    inside = masks.flatten(1).gather(1, peak[:, None])[:, 0].bool()
    return inside & (flat.amax(1) > flat.amin(1))


def energy_inside(heatmaps: torch.Tensor, masks: torch.Tensor) -> torch.Tensor:
    """Per map: the positive map's sum inside the mask over its sum everywhere (0 for a map
    with no positive value)."""
    positive = heatmaps.clamp_min(0).flatten(1).double()
    total = positive.sum(1)
    inside = (positive * masks.flatten(1).double()).sum(1)
    return torch.where(total > 0, inside / total.clamp_min(1e-300), 0.0).float()


@dataclass(frozen=True)
class LocalizationScore:
    method: str
    layer: str
    pointing: float  # fraction of images whose map's maximum is on the object
    energy: float  # mean share of the positive map on the object


@dataclass(frozen=True)
class Localization:
    chance: float  # the masks' mean area: what a map blind to the image scores on average
    images: int
    scores: tuple[LocalizationScore, ...]

    def as_json(self) -> dict:
        return {"chance": round(self.chance, 6), "images": self.images, "methods": [
            {"method": s.method, "layer": s.layer, "pointing": round(s.pointing, 6),
             "energy": round(s.energy, 6)} for s in self.scores]}


def localization_scores(
    model: nn.Module,
    images: torch.Tensor,
    targets: torch.Tensor,
    masks: torch.Tensor,
    methods: Sequence[str] = CAM_METHODS,
    layers: Sequence[str] | None = None,
    on_progress: Progress = no_progress,
) -> Localization:
    """Pointing game and energy inside the mask for every method at every layer.

    Args:
        model: a classifier; it comes back exactly as it was.
        images: ``(N, C, H, W)``; targets: the class to explain (the true class); masks:
            ``(N, H, W)`` booleans, the object's pixels.
        layers: default: every stage (``layer1``, ``layer2``, ...).
    """
    if masks.shape != (len(images), *images.shape[-2:]):
        raise ValueError(f"Need one (H, W) mask per image, got masks {tuple(masks.shape)} for "
                         f"images {tuple(images.shape)}.")
    methods = [checked_method(m) for m in methods]
    if layers is None:
        layers = [name for name in cam_layers(model) if "." not in name]
    device = model_device(model)
    images, targets, masks = images.to(device), targets.to(device), masks.to(device)
    scores, total = [], len(methods) * len(layers)
    for method in methods:
        for layer in layers:
            heatmaps = cam_batch(model, images, layer, targets, method).heatmaps
            scores.append(LocalizationScore(method, layer,
                                            float(pointing_hits(heatmaps, masks).float().mean()),
                                            float(energy_inside(heatmaps, masks).mean())))
            on_progress(len(scores), total, f"{method} at {layer}")
    return Localization(float(masks.float().mean()), len(images), tuple(scores))
