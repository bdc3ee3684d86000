"""Which device to run on, and how to describe it to a user."""

from __future__ import annotations

from typing import Literal

import torch

DeviceChoice = Literal["auto", "cpu", "cuda"]


def resolve_device(choice: str = "auto") -> torch.device:
    """``auto`` means CUDA when available, else CPU; asking for CUDA without one is an error."""
    if choice == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if choice == "cpu":
        return torch.device("cpu")
    if choice == "cuda":
        if not torch.cuda.is_available():
            raise ValueError("No CUDA GPU is available on this server; choose 'cpu' or 'auto'.")
        return torch.device("cuda")
    raise ValueError(f"Unknown device {choice!r}; choose 'auto', 'cpu' or 'cuda'.")


def available_choices() -> list[str]:
    return ["auto", "cpu", "cuda"] if torch.cuda.is_available() else ["auto", "cpu"]


def describe(device: torch.device) -> str:
    """A one-line description, e.g. ``NVIDIA H100 (79.1 GiB, 78.0 GiB free)`` or ``CPU (2 threads)``."""
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        free, total = torch.cuda.mem_get_info(device)
        return f"{props.name} ({total / 2**30:.1f} GiB, {free / 2**30:.1f} GiB free)"
    return f"CPU ({torch.get_num_threads()} threads)"
