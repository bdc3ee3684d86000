"""Refuse work that would not fit the device, before anything is allocated.

The budget is a fraction of what is free right now (GPU memory, or the machine's available RAM),
or a fixed number of GiB from the ``RESNET_EXPLORER_BUDGET_GB`` environment variable.
"""

from __future__ import annotations

import math
import os

import torch

from explorer.nets.spec import NetSpec
from explorer.nets.measure import estimate
from explorer.units import format_bytes

SAFE_FRACTION = 0.5
GiB = 2**30


def _available_ram() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 4 * GiB  # a conservative guess where /proc is missing


def budget_bytes(device: torch.device) -> int:
    """Bytes one job may use on ``device``."""
    configured = os.environ.get("RESNET_EXPLORER_BUDGET_GB")
    if configured:
        return _configured_bytes(configured)
    if device.type == "cuda":
        free, _total = torch.cuda.mem_get_info(device)
        return int(free * SAFE_FRACTION)
    return int(_available_ram() * SAFE_FRACTION)


def _configured_bytes(text: str) -> int:
    try:
        gib = float(text)
    except ValueError:
        gib = math.nan
    if not (math.isfinite(gib) and gib > 0):  # "inf" would overflow int(), "nan" would raise
        raise ValueError(f"RESNET_EXPLORER_BUDGET_GB must be a positive number of GiB, "
                         f"got {text!r}.")
    return int(gib * GiB)


def check_fits(spec: NetSpec, batch_size: int, device: torch.device | str,
               training: bool = True) -> None:
    """Raise ``ValueError`` with the numbers when a forward(+backward) would not fit."""
    device = torch.device(device)
    est = estimate(spec, batch_size)
    need = est.peak_bytes if training else est.param_bytes + est.activation_bytes // 4
    allowed = budget_bytes(device)
    if need > allowed:
        raise ValueError(
            f"This needs about {format_bytes(need)} on {device.type} (batch {batch_size}, "
            f"{spec.image_size} px) but the budget is {format_bytes(allowed)}. "
            f"Use a smaller batch, image size or network."
        )
