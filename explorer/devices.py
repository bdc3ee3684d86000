"""Which device to run on, and how to describe it to a user.

``DEVICE_CHOICES`` is the one list of what a user may ask for; importing this module costs no
torch, so the command line's ``--help`` can offer the choices.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(choice: str = "auto") -> "torch.device":
    """``auto`` means CUDA when available, else CPU; asking for CUDA without one is an error."""
    import torch

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
    import torch

    return list(DEVICE_CHOICES) if torch.cuda.is_available() else list(DEVICE_CHOICES[:2])


def describe(device: "torch.device") -> str:
    """A one-line description, e.g. ``NVIDIA H100 (79.1 GiB, 78.0 GiB free)`` or ``CPU (2 threads)``."""
    import torch

    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        free, total = torch.cuda.mem_get_info(device)
        return f"{props.name} ({total / 2**30:.1f} GiB, {free / 2**30:.1f} GiB free)"
    return f"CPU ({torch.get_num_threads()} threads)"


def free_memory() -> None:
    """Give freed memory back: Python's garbage and, on a GPU, torch's cached blocks."""
    import gc

    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
