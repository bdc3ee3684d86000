"""Input batches for the analysis pages: seeded noise, synthetic shapes, or the user's images."""

from __future__ import annotations

from typing import Literal, Sequence

import torch
from PIL import Image

from explorer.analysis.gradflow import random_batch
from explorer.data.heldout import fit_channels, heldout_for
from explorer.nets.spec import NetSpec

Source = Literal["random", "shapes", "uploaded"]
SOURCES: dict[str, str] = {
    "random": "seeded random noise",
    "shapes": "synthetic shapes (the training set's distribution)",
    "uploaded": "your uploaded images",
}


def analysis_batch(
    spec: NetSpec, source: Source, batch_size: int, seed: int,
    images: Sequence[Image.Image] = (),
) -> tuple[torch.Tensor, torch.Tensor]:
    """A batch of inputs and labels shaped for ``spec``.

    ``random``: N(0, 1) pixels and labels from ``seed``. ``shapes``: held-out synthetic images
    and their true labels (modulo the network's classes). ``uploaded``: the given images,
    preprocessed for ``spec``, with seeded random labels (an untrained net has no truth to use).
    """
    if source == "random":
        return random_batch(spec, batch_size, seed)
    if source == "shapes":
        return heldout_for(spec, batch_size, seed)
    if source == "uploaded":
        if not images:
            raise ValueError("Upload at least one image to use your own images.")
        from explorer.io.images import preprocess

        x = torch.cat([fit_channels(preprocess(img.convert("RGB"), spec.replace(in_channels=3)),
                                    spec.in_channels) for img in images])
        _, y = random_batch(spec, len(images), seed)
        return x, y
    raise ValueError(f"Unknown data source {source!r}; choose one of {', '.join(SOURCES)}.")
