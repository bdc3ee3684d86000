"""How long building a network for real takes on a device."""

from __future__ import annotations

import time

import torch

from explorer.nets.model import build
from explorer.nets.spec import NetSpec


def timed_build(spec: NetSpec, seed: int, device) -> tuple[float, int]:
    """Build ``spec`` on ``device`` and let it go; return (seconds, parameters).

    Check the memory budget first (`explorer.budget.check_fits`): this allocates the weights.
    """
    start = time.perf_counter()
    model = build(spec, seed=seed, device=device)
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - start, sum(p.numel() for p in model.parameters())
