"""How each CAM method weighs a layer's feature maps: the arithmetic, apart from the hooks.

Every method here turns a layer's activations ``A`` (``N, C, h, w``) into one map per image,
``Σ_c w_c · A_c`` or, for Layer-CAM, ``Σ_c relu(∂y/∂A_c) · A_c``, signed; the caller keeps its
positive part. The formulas follow each paper as pytorch-grad-cam implements it, so the maps
can be checked against that library.
"""

from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

from explorer.analysis.cam_methods import SCORE_CAM_BATCH


def gradient_map(method: str, activations: torch.Tensor, grads: torch.Tensor) -> torch.Tensor:
    """``(N, h, w)`` signed map of a gradient method from the layer's activations and gradients."""
    if method == "gradcam":  # each channel weighed by its mean gradient
        weights = grads.mean(dim=(2, 3))
    elif method == "gradcam++":  # Chattopadhay et al. 2018, eq. 19: the α that spread the credit
        squared = grads.pow(2)
        alpha = squared / (2 * squared + activations.sum(dim=(2, 3), keepdim=True) * squared * grads
                           + 1e-6)
        alpha = torch.where(grads != 0, alpha, 0.0)
        weights = (grads.clamp_min(0) * alpha).sum(dim=(2, 3))
    elif method == "layercam":  # Jiang et al. 2021: a weight per location, not per channel
        return (grads.clamp_min(0) * activations).sum(dim=1)
    else:
        raise ValueError(f"{method!r} is not a gradient method.")
    return (weights[:, :, None, None] * activations).sum(dim=1)


def masks_from_activations(activations: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Score-CAM's masks: each channel upsampled to the input and scaled into [0, 1].

    Upsampled with aligned corners, as Score-CAM's reference code (``UpsamplingBilinear2d``).
    """
    up = F.interpolate(activations, size=size, mode="bilinear", align_corners=True)
    low = up.amin(dim=(2, 3), keepdim=True)
    high = up.amax(dim=(2, 3), keepdim=True)
    return (up - low) / (high - low + 1e-8)


def score_weights(
    score: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    activations: torch.Tensor,
    targets: torch.Tensor,
    chunk: int = SCORE_CAM_BATCH,
    on_chunk: Callable[[int, int], None] | None = None,
) -> torch.Tensor:
    """Score-CAM's channel weights (Wang et al. 2020): the softmax, over channels, of the target
    class's logit when the image is seen through each channel's mask.

    Args:
        score: the model: a batch of images to logits.
        x: ``(N, C_in, H, W)`` images; ``activations``: ``(N, C, h, w)``; ``targets``: ``(N,)``.
        chunk: masked images per forward pass (``N · C`` masked images in all).
        on_chunk: called with (images scored so far, images in all) after each forward pass.
    """
    n, channels = activations.shape[:2]
    total = n * channels
    logits = torch.empty(total, device=x.device)
    for start in range(0, total, chunk):
        flat = torch.arange(start, min(start + chunk, total), device=x.device)
        image, channel = flat // channels, flat % channels
        masks = masks_from_activations(activations[image, channel][:, None], tuple(x.shape[-2:]))
        logits[flat] = score(x[image] * masks).gather(1, targets[image].view(-1, 1))[:, 0].float()
        if on_chunk is not None:
            on_chunk(int(flat[-1]) + 1, total)
    return torch.softmax(logits.view(n, channels), dim=1)
