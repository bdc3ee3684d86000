"""Heatmaps as pictures: a colour scale and a heatmap blended over the image it explains."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image


def colormap(values: np.ndarray, name: str = "turbo") -> np.ndarray:
    """Map values in [0, 1] to RGB uint8 with a jet- or turbo-like colour scale (no matplotlib)."""
    v = np.clip(np.nan_to_num(np.asarray(values, dtype=np.float64)), 0.0, 1.0)
    if name == "jet":
        rgb = np.stack([1.5 - np.abs(4 * v - k) for k in (3, 2, 1)], axis=-1)
    elif name == "turbo":
        # Polynomial fit of Google's Turbo colormap (Mikhailov 2019), as in its reference shader.
        coeffs = (
            (0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943),
            (0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604),
            (0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973),
        )
        rgb = np.stack([np.polynomial.polynomial.polyval(v, c) for c in coeffs], axis=-1)
    else:
        raise ValueError(f"Unknown colormap {name!r}; choose 'turbo' or 'jet'.")
    return np.round(np.clip(rgb, 0.0, 1.0) * 255).astype(np.uint8)


def cam_overlay(
    image: Image.Image,
    heatmap: torch.Tensor | np.ndarray,
    alpha: float = 0.5,
    cmap: str = "turbo",
) -> Image.Image:
    """Blend a colour-mapped heatmap over an image: ``(1 - alpha) * image + alpha * colours``.

    Args:
        image: the picture the network saw (see `explorer.io.images.fit_image`).
        heatmap: ``(H, W)`` values in [0, 1]; resized bilinearly to the image if needed.
        alpha: weight of the heatmap, from 0 (image only) to 1 (heatmap only).
        cmap: ``turbo`` or ``jet``.
    """
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}.")
    heat = torch.as_tensor(heatmap).detach().to("cpu", torch.float32)
    if heat.dim() != 2:
        raise ValueError(f"The heatmap must be 2-D (H, W), got shape {tuple(heat.shape)}.")
    width, height = image.size
    if tuple(heat.shape) != (height, width):
        heat = F.interpolate(heat[None, None], size=(height, width), mode="bilinear",
                             align_corners=False)[0, 0]
    colours = colormap(heat.numpy(), cmap).astype(np.float32)
    base = np.asarray(image.convert("RGB"), dtype=np.float32)
    blended = (1.0 - alpha) * base + alpha * colours
    return Image.fromarray(np.round(blended).astype(np.uint8))
