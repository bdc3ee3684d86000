"""What the analyses take as data and report as progress, and the small helpers they share.

Every analysis takes ``data`` as either a ``(images, labels)`` pair of tensors or a dataset with
``get_batch(indices)`` (such as ``ShapesDataset``); `as_batch` turns both into tensors once, so
repeated evaluations never re-render or re-collate anything.
"""

from __future__ import annotations

from typing import Callable, Union

import torch

Progress = Callable[[int, int, str], None]
Data = Union[tuple[torch.Tensor, torch.Tensor], object]

def as_batch(data: Data) -> tuple[torch.Tensor, torch.Tensor]:
    """``(images, labels)`` tensors from a pair of tensors or a dataset with ``get_batch``."""
    if isinstance(data, (tuple, list)) and len(data) == 2:
        images, labels = data
    elif hasattr(data, "get_batch") and hasattr(data, "__len__"):
        images, labels = data.get_batch(list(range(len(data))))
    else:
        raise ValueError("Pass the data as (images, labels) tensors or a dataset with get_batch.")
    images, labels = torch.as_tensor(images), torch.as_tensor(labels)
    if images.ndim != 4 or labels.ndim != 1 or len(images) != len(labels) or not len(images):
        raise ValueError(f"Expected images (N, C, H, W) and N labels with N >= 1, got "
                         f"{tuple(images.shape)} and {tuple(labels.shape)}.")
    return images, labels.long()


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def no_progress(done: int, total: int, message: str) -> None:
    """The default progress callback: report nothing."""
