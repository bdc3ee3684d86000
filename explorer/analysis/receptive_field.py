"""Receptive fields: the theoretical one (exact, from the spec) and the effective one (Luo et al.).

Theoretical: exact from the spec (`explorer.nets.windows`).

Effective (Luo, Li, Urtasun & Zemel 2016): the gradient of the centre unit of a layer's output,
summed over channels, with respect to the input; absolute value summed over input channels and
averaged over images. BatchNorm runs in eval mode, so the images of a batch do not interact and
one backward of the summed centre units gives every image's own gradient.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import torch
from torch import nn

from explorer.analysis.inputs import Data, Progress, as_batch, model_device, no_progress
from explorer.nets.preserved import preserved
from explorer.nets.windows import theoretical_window

ERF_BATCH = 64
MASS_FRACTION = 0.95
_LAYER = re.compile(r"stem|layer\d+(\.\d+)?")


@dataclass(frozen=True)
class ErfResult:
    """An effective receptive field map and the theoretical window it lives in.

    ``erf`` is ``(H, W)`` at input resolution: mean over images of ``|∂ centre / ∂ input|``
    summed over input channels. ``centre`` is the input pixel ``(row, col)`` the unit is
    centred on; ``layer_shape`` the layer's ``(h, w)``. ``whole_image``: a squeeze-and-excitation
    gate (a mean over the whole map) lies on the path, so every input pixel can reach the unit
    and the map may spread beyond the ``theoretical`` window of the convs.
    """

    layer: str
    theoretical: int
    stride: int
    centre: tuple[float, float]
    layer_shape: tuple[int, int]
    erf: torch.Tensor
    images: int
    whole_image: bool = False

    def to_dict(self) -> dict:
        """The CLI's JSON shape: layer, theoretical and the map."""
        return {"layer": self.layer, "theoretical": self.theoretical,
                "erf": self.erf.tolist()}

    def mass_side(self, fraction: float = MASS_FRACTION) -> int | None:
        """Side of the smallest square around the centre holding ``fraction`` of the map's mass."""
        return mass_side(self.erf, self.centre, fraction)


def mass_side(erf: torch.Tensor, centre: tuple[float, float],
              fraction: float = MASS_FRACTION) -> int | None:
    """Side ``2r+1`` (or ``2r`` for a centre between pixels) of the smallest square centred on
    ``centre`` whose pixels hold ``fraction`` of ``erf``'s total; ``None`` for an all-zero map."""
    total = float(erf.sum())
    if total <= 0:
        return None
    rows = torch.arange(erf.shape[0], dtype=torch.float64)[:, None]
    cols = torch.arange(erf.shape[1], dtype=torch.float64)[None, :]
    # Chebyshev distance from the centre: a pixel is inside a square of side 2d+1 (odd centre).
    distance = torch.maximum((rows - centre[0]).abs(), (cols - centre[1]).abs())
    for reach in sorted(set(distance.flatten().tolist())):
        if float(erf[distance <= reach].sum()) >= fraction * total - 1e-12:
            return int(round(2 * reach + 1))
    return int(round(2 * float(distance.max()) + 1))


class _Reached(Exception):
    """Raised by a forward hook to stop the forward once the chosen layer has run."""


def forward_until(model: nn.Module, layer: str, x: torch.Tensor) -> torch.Tensor:
    """The output of ``layer`` (a stage or block name, or ``stem``) without running the rest.

    The network's later layers are never computed: a forward hook on the layer stops the pass.
    """
    if not _LAYER.fullmatch(layer):
        raise ValueError(f"Layer names look like stem, layer2 or layer2.1; got {layer!r}.")
    if layer == "stem":
        target = model.maxpool
    else:
        try:
            target = model.get_submodule(layer)
        except AttributeError:
            raise ValueError(f"The network has no layer {layer!r}.") from None
    caught: list[torch.Tensor] = []

    def stop(module, inputs, output):
        caught.append(output)
        raise _Reached

    handle = target.register_forward_hook(stop)
    try:
        model(x)
    except _Reached:
        pass
    finally:
        handle.remove()
    return caught[0]


def effective_receptive_field(model: nn.Module, data: Data, layer: str, batch: int = ERF_BATCH,
                              on_progress: Progress = no_progress) -> ErfResult:
    """Luo et al.'s effective receptive field of the centre unit of ``layer``.

    Args:
        model: a `ResNet` (it carries its ``spec``); it comes back exactly as it was.
        data: ``(images, labels)`` tensors or a dataset with ``get_batch``; labels are unused.
        layer: ``stem``, a stage (``layer2``) or a block (``layer2.1``).
        batch: images per forward+backward.
        on_progress: called as ``(done, total, message)`` after each batch.

    Returns:
        An `ErfResult` with the mean map at input resolution (on the CPU).
    """
    window = theoretical_window(model.spec, layer)
    images, _ = as_batch(data)
    device = model_device(model)
    total = torch.zeros(images.shape[-2:], dtype=torch.float64)
    starts = range(0, len(images), batch)
    with preserved(model):
        model.eval()
        for p in model.parameters():
            p.requires_grad_(False)  # only the input's gradient is wanted: skip the weights'
        for done, start in enumerate(starts, start=1):
            x = images[start:start + batch].to(device).requires_grad_(True)
            out = forward_until(model, layer, x)
            h, w = out.shape[-2:]
            out[:, :, h // 2, w // 2].sum().backward()
            total += x.grad.abs().sum(1).sum(0).double().cpu()
            on_progress(done, len(starts), f"images {start + 1}-{start + len(x)}")
    centre = (window.start + (h // 2) * window.jump, window.start + (w // 2) * window.jump)
    return ErfResult(layer, window.size, window.jump, centre, (h, w),
                     (total / len(images)).float(), len(images), window.whole_image)
