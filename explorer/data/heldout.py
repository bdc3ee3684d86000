"""Held-out images for every analysis: the synthetic shapes test split, shaped for a network.

The analyses (lesion, landscape, receptive fields, feature maps, Grad-CAM's samples, the CLI)
all read "the first ``n`` images of the shapes test split, seed 0", fitted to the network's
image size, channels and classes. This is the one place that does it.
"""

from __future__ import annotations

import torch

from explorer.nets.spec import NetSpec

DEFAULT_IMAGES = 1000
DEFAULT_SEED = 0  # "the first 1000 images of the shapes test split, seed 0"
# Held-out images evaluated at once by the analyses (lesion, landscape) and the time estimates.
EVAL_BATCH = 250
MIN_RENDER_SIZE = 8  # smaller renders lose the shapes; render at 8 px and resize down


def heldout_shapes(n: int = DEFAULT_IMAGES, image_size: int = 32, seed: int = DEFAULT_SEED
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` images of the synthetic shapes test split, normalised, with labels."""
    from explorer.data.shapes import ShapesDataset

    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ValueError(f"The number of images must be a whole number of at least 1, got {n!r}.")
    return ShapesDataset(n, image_size=image_size, seed=seed, split="test").get_batch(range(n))


def heldout_for(spec: NetSpec, n: int = DEFAULT_IMAGES, seed: int = DEFAULT_SEED
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``n`` shapes test images shaped for ``spec``: its image size and channels, and
    labels taken modulo its classes."""
    images, labels = heldout_shapes(n, max(spec.image_size, MIN_RENDER_SIZE), seed)
    if images.shape[-1] != spec.image_size:
        images = torch.nn.functional.interpolate(images, size=spec.image_size, mode="bilinear")
    return fit_channels(images, spec.in_channels), labels % spec.num_classes


def heldout_masks(spec: NetSpec, n: int = DEFAULT_IMAGES, seed: int = DEFAULT_SEED
                  ) -> torch.Tensor:
    """The objects' boolean masks of `heldout_for`'s images, ``(n, S, S)`` at the spec's size
    (nearest-neighbour where the images were resized)."""
    from explorer.data.shapes import ShapesDataset

    data = ShapesDataset(n, image_size=max(spec.image_size, MIN_RENDER_SIZE), seed=seed,
                         split="test")
    masks = torch.stack([data.mask(i) for i in range(n)])
    if masks.shape[-1] != spec.image_size:
        masks = torch.nn.functional.interpolate(masks[:, None].float(), size=spec.image_size,
                                                mode="nearest")[:, 0] > 0.5
    return masks


def fit_channels(images: torch.Tensor, channels: int) -> torch.Tensor:
    """RGB batch → the network's channel count (grey for 1, RGB cycled for more)."""
    if channels == images.shape[1]:
        return images
    if channels == 1:
        return images.mean(dim=1, keepdim=True)
    return images[:, [c % images.shape[1] for c in range(channels)]]
