"""Grad-CAM with captum, without side effects on the model it is handed.

captum's `LayerGradCam` does the attribution. Around it this module adds what a shared server
needs: layers chosen by name and validated, the model put in eval mode and restored in
``finally``, parameter ``requires_grad`` flags restored, no gradients or hooks left behind, and the
class prediction taken from the *same* forward pass as the attribution, so one Grad-CAM costs one
forward plus a backward that stops at the chosen layer.
"""

from __future__ import annotations

import operator
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from captum.attr import IntegratedGradients, LayerGradCam, Occlusion
from PIL import Image
from torch import nn

from explorer.nets.preserved import preserved

_LAYER_NAME = re.compile(r"layer\d+(\.\d+)?")


@dataclass(frozen=True)
class CamResult:
    """One Grad-CAM map and the prediction it explains.

    Attributes:
        heatmap: ``(H, W)`` map at the input's resolution, ReLU'd and divided by its maximum so it
            lies in [0, 1] (all zeros when no location supports the target).
        raw: ``(h, w)`` signed map at the layer's resolution, exactly what captum returns.
        layer: the layer's name, e.g. ``layer4`` or ``layer3.1``.
        target: the class index explained.
        top_classes: the model's ``top_k`` class indices, most probable first.
        top_probs: their softmax probabilities.
    """

    heatmap: torch.Tensor
    raw: torch.Tensor
    layer: str
    target: int
    top_classes: tuple[int, ...]
    top_probs: tuple[float, ...]


def cam_layers(model: nn.Module) -> list[str]:
    """Names Grad-CAM can use: every non-empty stage (``layer2``) and block (``layer2.0``)."""
    return [
        name for name, module in model.named_modules()
        if _LAYER_NAME.fullmatch(name)
        and not (isinstance(module, nn.Sequential) and len(module) == 0)
    ]


def get_layer(model: nn.Module, layer: str) -> nn.Module:
    """The submodule called ``layer``, or a ValueError listing the valid names."""
    valid = cam_layers(model)
    if layer not in valid:
        shown = ", ".join(valid[:12]) + (f" … ({len(valid)} in all)" if len(valid) > 12 else "")
        raise ValueError(f"Unknown layer {layer!r} for Grad-CAM; choose one of {shown}.")
    return model.get_submodule(layer)


@contextmanager
def pristine(model: nn.Module) -> Iterator[None]:
    """Eval mode and frozen parameters for the duration; everything restored on the way out.

    Freezing the parameters means autograd records nothing before the hooked layer (captum marks
    the layer's output as requiring grad), so the forward costs about what a plain one does.
    """
    with preserved(model):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)
        yield


def grad_cam(
    model: nn.Module,
    x: torch.Tensor,
    layer: str = "layer4",
    target: int | None = None,
    top_k: int = 5,
) -> CamResult:
    """Grad-CAM (Selvaraju et al. 2017) of one image at one layer.

    Args:
        model: a classifier with ``layerN`` / ``layerN.M`` submodules (ours or torchvision's).
            It is left exactly as it was: mode, ``requires_grad`` flags, ``.grad`` and hooks.
        x: the input, shape ``(1, C, H, W)``, on the model's device; it is not modified.
        layer: a stage (``layer4``) or block (``layer3.5``) name; see `cam_layers`.
        target: class to explain; ``None`` explains the model's top prediction.
        top_k: how many top classes to report.

    Returns:
        A `CamResult`.
    """
    module = get_layer(model, layer)
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}.")
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"Grad-CAM takes one image shaped (1, C, H, W), got {tuple(x.shape)}.")
    recorded: list[torch.Tensor] = []

    def forward(inputs: torch.Tensor) -> torch.Tensor:
        logits = model(inputs)
        recorded.append(logits.detach())
        num_classes = logits.shape[1]
        chosen = logits.detach().argmax(1) if target is None else _checked(target, num_classes)
        # Returning the chosen logit (one value per example) lets captum explain the top-1 class
        # from this very forward pass, instead of running a second forward to find it.
        return logits.gather(1, chosen.view(-1, 1).to(logits.device)).squeeze(1)

    with pristine(model):
        raw = LayerGradCam(forward, module).attribute(x.detach())
    logits = recorded[-1]
    chosen = int(logits.argmax(1)) if target is None else operator.index(target)
    return _result(raw, tuple(x.shape[-2:]), layer, chosen, logits, top_k)


def _result(raw: torch.Tensor, size: tuple[int, int], layer: str, target: int,
            logits: torch.Tensor, top_k: int) -> CamResult:
    probs = torch.softmax(logits.float(), dim=1)[0]
    top = torch.topk(probs, min(top_k, probs.numel()))
    return CamResult(
        heatmap=upsample_cam(raw, size)[0, 0].detach(),
        raw=raw[0, 0].detach(),
        layer=layer,
        target=target,
        top_classes=tuple(int(i) for i in top.indices),
        top_probs=tuple(float(p) for p in top.values),
    )


def _checked(target: int, num_classes: int) -> torch.Tensor:
    try:
        value = None if isinstance(target, bool) else operator.index(target)
    except TypeError:
        value = None
    if value is None or not 0 <= value < num_classes:
        raise ValueError(f"The target class must be a whole number from 0 to {num_classes - 1}.")
    return torch.tensor([value])


def upsample_cam(raw: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """ReLU a ``(N, 1, h, w)`` map, upsample it bilinearly to ``size`` and scale it into [0, 1]."""
    cam = F.interpolate(F.relu(raw), size=size, mode="bilinear", align_corners=False)
    peak = cam.amax(dim=(2, 3), keepdim=True)
    return torch.where(peak > 0, cam / peak.clamp_min(torch.finfo(cam.dtype).tiny), 0.0)


def grad_cam_grid(
    model: nn.Module,
    x: torch.Tensor,
    layers: Sequence[str] | None = None,
    target: int | None = None,
) -> list[CamResult]:
    """Grad-CAM at several layers for one class (by default every stage, shallow to deep).

    The target is fixed from the first map (the top-1 prediction unless given), so every panel
    explains the same class. Each heatmap is scaled to its own maximum.
    """
    if layers is None:
        layers = [name for name in cam_layers(model) if "." not in name]
    results: list[CamResult] = []
    for layer in layers:
        results.append(grad_cam(model, x, layer, target))
        target = results[0].target
    return results


METHODS = ("grad_cam", "integrated_gradients", "occlusion")


def attribute(
    model: nn.Module,
    x: torch.Tensor,
    method: str = "integrated_gradients",
    target: int | None = None,
    layer: str = "layer4",
    n_steps: int = 16,
    window: int = 32,
    stride: int = 16,
) -> CamResult:
    """Other captum attributions on the same side-effect-free path as `grad_cam`.

    Args:
        method: ``grad_cam``, ``integrated_gradients`` (from an all-zero baseline, ``n_steps``
            forward+backward passes) or ``occlusion`` (a ``window`` square of zeros slid by
            ``stride`` pixels: about ``(H / stride)²`` forward passes, batched 16 at a time).
        target: class to explain; ``None`` explains the top prediction.
        layer: used by ``grad_cam`` only.

    Returns:
        A `CamResult` whose ``raw`` is the input-resolution map summed over channels (signed)
        and whose ``heatmap`` keeps the positive evidence, scaled to [0, 1]; ``layer`` is
        ``"input"`` for the input-space methods.
    """
    if method == "grad_cam":
        return grad_cam(model, x, layer, target)
    if method not in METHODS:
        raise ValueError(f"Unknown method {method!r}; choose one of {', '.join(METHODS)}.")
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"Attribution takes one image shaped (1, C, H, W), got {tuple(x.shape)}.")
    x = x.detach()
    with pristine(model):
        with torch.no_grad():
            logits = model(x)
        chosen = int(logits.argmax(1)) if target is None else int(_checked(target, logits.shape[1]))
        if method == "integrated_gradients":
            maps = IntegratedGradients(model).attribute(x, target=chosen, n_steps=n_steps)
        else:
            maps = Occlusion(model).attribute(
                x, target=chosen, sliding_window_shapes=(x.shape[1], window, window),
                strides=(x.shape[1], stride, stride), perturbations_per_eval=16)
    return _result(maps.sum(dim=1, keepdim=True), tuple(x.shape[-2:]), "input", chosen, logits, 5)


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
