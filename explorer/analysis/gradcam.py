"""Grad-CAM and its family, without side effects on the model it is handed.

captum's `LayerGradCam` does Grad-CAM; Grad-CAM++, Layer-CAM and Score-CAM weigh the same
layer's activations their own way (`explorer.analysis.cam_weights`). Around them this module
adds what a shared server needs: layers chosen by name and validated, the model put in eval mode
and restored in ``finally``, parameter ``requires_grad`` flags restored, no gradients or hooks
left behind, and the class prediction taken from the *same* forward pass as the attribution, so
one Grad-CAM costs one forward plus a backward that stops at the chosen layer.
"""

from __future__ import annotations

import operator
import re
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from captum.attr import IntegratedGradients, LayerGradCam, Occlusion
from torch import nn

from explorer.analysis.cam_methods import GRADIENT_FREE, SCORE_CAM_BATCH, checked_method
from explorer.analysis.cam_weights import gradient_map, score_weights
from explorer.analysis.inputs import Progress, no_progress
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
        raise ValueError(f"Unknown layer {layer!r} for a class activation map; choose one of {shown}.")
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


@dataclass(frozen=True)
class CamBatch:
    """One method's maps of a batch of images at one layer.

    Attributes:
        raw: ``(N, h, w)`` signed maps at the layer's resolution (Grad-CAM: exactly captum's).
        heatmaps: ``(N, H, W)`` at the input's resolution, ReLU'd and each divided by its maximum.
        targets: ``(N,)`` the class each map explains.
        logits: ``(N, classes)`` of the unmasked images, from the pass the maps came from.
    """

    raw: torch.Tensor
    heatmaps: torch.Tensor
    targets: torch.Tensor
    logits: torch.Tensor


def cam_batch(
    model: nn.Module,
    x: torch.Tensor,
    layer: str = "layer4",
    targets: torch.Tensor | Sequence[int] | None = None,
    method: str = "gradcam",
    on_progress: Progress = no_progress,
    chunk: int = SCORE_CAM_BATCH,
) -> CamBatch:
    """A CAM method's maps of every image in ``x`` at one layer, in one forward (and backward).

    Args:
        model: a classifier with ``layerN`` / ``layerN.M`` submodules; left exactly as it was.
        x: ``(N, C, H, W)`` images on the model's device; not modified.
        layer: a stage or block name; see `cam_layers`.
        targets: the class to explain per image; ``None`` explains each image's top prediction.
        method: ``gradcam``, ``gradcam++``, ``layercam`` or ``scorecam`` (Score-CAM runs
            ``N × channels`` masked images, ``chunk`` per forward pass, and reports progress).
    """
    module = get_layer(model, layer)
    checked_method(method)
    if x.dim() != 4 or len(x) == 0:
        raise ValueError(f"CAM takes images shaped (N, C, H, W), got {tuple(x.shape)}.")
    x = x.detach()
    chosen: list[torch.Tensor] = []

    def pick(logits: torch.Tensor) -> torch.Tensor:
        if not chosen:
            chosen.append(logits.detach().argmax(1) if targets is None
                          else _checked_targets(targets, len(logits), logits.shape[1], x.device))
        return chosen[0]

    with pristine(model):
        if method == "gradcam":
            recorded: list[torch.Tensor] = []

            def forward(inputs: torch.Tensor) -> torch.Tensor:
                logits = model(inputs)
                recorded.append(logits.detach())
                # The chosen logit per example lets captum explain the top-1 class from this
                # very forward pass, instead of running a second forward to find it.
                return logits.gather(1, pick(logits).view(-1, 1)).squeeze(1)

            raw = LayerGradCam(forward, module).attribute(x)[:, 0]
            logits = recorded[-1]
        else:
            activations, grads, logits = _layer_pass(model, module, x, pick,
                                                     needs_grads=method not in GRADIENT_FREE)
            if method in GRADIENT_FREE:
                with torch.no_grad():
                    weights = score_weights(
                        model, x, activations, pick(logits), chunk,
                        lambda done, total: on_progress(done, total, "Score-CAM: masked images"))
                raw = (weights[:, :, None, None] * activations).sum(dim=1)
            else:
                raw = gradient_map(method, activations, grads)
    heatmaps = upsample_cam(raw[:, None], tuple(x.shape[-2:]))[:, 0]
    return CamBatch(raw.detach(), heatmaps.detach(), pick(logits), logits)


def _layer_pass(model: nn.Module, module: nn.Module, x: torch.Tensor, pick,
                needs_grads: bool) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor]:
    """The layer's activations, the target logits' gradient with respect to them, the logits."""
    seen: list[torch.Tensor] = []

    def keep(_module, _inputs, output):
        leaf = output.detach().requires_grad_(needs_grads)
        seen.append(leaf)
        return leaf.clone()  # later in-place ops then act on a copy, never on the leaf

    handle = module.register_forward_hook(keep)
    try:
        with torch.set_grad_enabled(needs_grads):
            logits = model(x)
            if not needs_grads:
                return seen[-1], None, logits.detach()
            score = logits.gather(1, pick(logits).view(-1, 1)).sum()
            (grads,) = torch.autograd.grad(score, seen[-1])
    finally:
        handle.remove()
    return seen[-1].detach(), grads, logits.detach()


def _checked_targets(targets, n: int, num_classes: int, device: torch.device) -> torch.Tensor:
    try:
        values = torch.as_tensor(targets).reshape(-1)
    except (TypeError, ValueError, RuntimeError):
        values = torch.tensor([0.5])  # refused below with the same message as any other
    if (len(values) != n or values.is_floating_point() or values.dtype == torch.bool
            or bool(((values < 0) | (values >= num_classes)).any())):
        raise ValueError(f"The target class must be a whole number from 0 to {num_classes - 1}"
                         + (f", one per image ({n})." if n > 1 else "."))
    return values.to(device=device, dtype=torch.long)


def grad_cam(
    model: nn.Module,
    x: torch.Tensor,
    layer: str = "layer4",
    target: int | None = None,
    top_k: int = 5,
    method: str = "gradcam",
    on_progress: Progress = no_progress,
) -> CamResult:
    """Grad-CAM (Selvaraju et al. 2017), or another of its family, of one image at one layer.

    Args:
        model: a classifier with ``layerN`` / ``layerN.M`` submodules (ours or torchvision's).
            It is left exactly as it was: mode, ``requires_grad`` flags, ``.grad`` and hooks.
        x: the input, shape ``(1, C, H, W)``, on the model's device; it is not modified.
        layer: a stage (``layer4``) or block (``layer3.5``) name; see `cam_layers`.
        target: class to explain; ``None`` explains the model's top prediction.
        top_k: how many top classes to report.
        method: ``gradcam`` (captum's), ``gradcam++``, ``layercam`` or ``scorecam``.

    Returns:
        A `CamResult`.
    """
    get_layer(model, layer)
    if top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}.")
    if x.dim() != 4 or x.shape[0] != 1:
        raise ValueError(f"Grad-CAM takes one image shaped (1, C, H, W), got {tuple(x.shape)}.")
    found = cam_batch(model, x, layer, None if target is None else [target], method, on_progress)
    return _result(found.raw[:, None], tuple(x.shape[-2:]), layer, int(found.targets[0]),
                   found.logits, top_k)


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
    method: str = "gradcam",
    on_progress: Progress = no_progress,
) -> list[CamResult]:
    """Grad-CAM, or another CAM ``method``, at several layers for one class (by default every
    stage, shallow to deep).

    The target is fixed from the first map (the top-1 prediction unless given), so every panel
    explains the same class. Each heatmap is scaled to its own maximum. ``on_progress`` gets
    each layer's progress as `grad_cam` reports it (Score-CAM's masked images).
    """
    checked_method(method)
    if layers is None:
        layers = [name for name in cam_layers(model) if "." not in name]
    results: list[CamResult] = []
    for layer in layers:
        results.append(grad_cam(model, x, layer, target, method=method, on_progress=on_progress))
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
