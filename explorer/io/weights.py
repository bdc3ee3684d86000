"""Where a model's weights come from: shipped checkpoints, torchvision, or a fresh seeded init.

Shipped checkpoints live in ``checkpoints/<name>/`` (``model.safetensors``, ``spec.json``,
``metrics.json``) and work offline. torchvision's pretrained ImageNet weights are downloaded into
torch's hub cache only when a user asks, and only for the presets torchvision has weights for.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from explorer.io.checkpoints import SPEC_FILE, model_from, read_saved
from explorer.nets.model import ResNet
from explorer.nets.reference import TORCHVISION_WEIGHTS, torchvision_meta
from explorer.nets.spec import NetSpec
from explorer.units import format_bytes
from explorer.nets.presets import PRESETS

CHECKPOINT_DIR = Path(__file__).resolve().parents[2] / "checkpoints"


@dataclass(frozen=True)
class Shipped:
    """A checkpoint committed with the app."""

    name: str
    path: Path
    spec: NetSpec
    metrics: tuple[tuple[str, object], ...]  # metrics.json as sorted items (hashable)

    @property
    def accuracy(self) -> float | None:
        value = dict(self.metrics).get("test_accuracy")
        return float(value) if isinstance(value, (int, float)) else None


@functools.lru_cache(maxsize=1)
def shipped_checkpoints() -> dict[str, Shipped]:
    """Every shipped checkpoint by folder name (read once; the folder is part of the release)."""
    found = {}
    for spec_file in sorted(CHECKPOINT_DIR.glob(f"*/{SPEC_FILE}")):
        folder = spec_file.parent
        metrics_file = folder / "metrics.json"
        metrics = json.loads(metrics_file.read_text()) if metrics_file.exists() else {}
        found[folder.name] = Shipped(
            folder.name, folder, NetSpec.from_json(spec_file.read_text()),
            tuple(sorted((k, v) for k, v in metrics.items() if not isinstance(v, (dict, list)))),
        )
    return found


def twin_of(name: str) -> str | None:
    """The shipped checkpoint with the same architecture and the skips toggled, if any."""
    spec = shipped_checkpoints()[name].spec
    return next((other for other, ck in shipped_checkpoints().items()
                 if ck.spec == spec.replace(skip=not spec.skip)), None)


def shipped_pair_names() -> list[str]:
    """Shipped residual nets that have a shipped plain twin, shallow first."""
    return sorted((name for name, ck in shipped_checkpoints().items()
                   if ck.spec.skip and twin_of(name)), key=lambda n: shipped_checkpoints()[n].spec.depth)


def load_shipped(name: str, device: str | torch.device = "cpu") -> tuple[ResNet, NetSpec]:
    """A fresh model with a shipped checkpoint's weights, in eval mode."""
    if name not in shipped_checkpoints():
        known = ", ".join(shipped_checkpoints()) or "none"
        raise ValueError(f"No shipped checkpoint called {name!r} (shipped: {known}).")
    spec, state_dict = _shipped_weights(name)
    return model_from(spec, state_dict, device), spec


@functools.lru_cache(maxsize=8)
def _shipped_weights(name: str) -> tuple[NetSpec, dict[str, torch.Tensor]]:
    """Read once per process: every session's model copies these tensors, never changes them."""
    return read_saved(shipped_checkpoints()[name].path)


def torchvision_download_bytes(preset_name: str) -> int:
    """The size of torchvision's ImageNet weights file for a preset, in bytes."""
    return round(torchvision_meta(preset_name)["_file_size"] * 2**20)  # stated in MiB


def pretrained_torchvision(preset_name: str, device: str | torch.device = "cpu") -> ResNet:
    """Our model of an ImageNet preset with torchvision's pretrained weights (downloads once).

    Raises:
        ValueError: for other presets, or when the weights are not cached and cannot be
            downloaded (offline).
    """
    if preset_name not in TORCHVISION_WEIGHTS:
        raise ValueError(f"torchvision has pretrained weights for {', '.join(TORCHVISION_WEIGHTS)}"
                         f" only, not {preset_name!r}.")
    from torchvision import models

    from explorer.nets.model import build

    weights = getattr(models, f"{TORCHVISION_WEIGHTS[preset_name]}_Weights").IMAGENET1K_V1
    try:
        state_dict = weights.get_state_dict(progress=False, check_hash=True)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError
        size = format_bytes(torchvision_download_bytes(preset_name))
        if isinstance(exc, OSError) and not isinstance(exc, PermissionError):
            raise ValueError(f"No internet connection: torchvision's pretrained {preset_name} "
                             f"weights need a {size} download. The shipped checkpoints work "
                             f"offline.") from None
        raise ValueError(f"Could not load torchvision's {preset_name} weights ({size}): {exc}. "
                         f"The shipped checkpoints work offline.") from None
    model = build(PRESETS[preset_name], device="cpu")
    model.load_state_dict(state_dict, strict=True)
    return model.to(device).eval()
