"""What the "Trust the map" page runs: the sanity cascade and the localisation scores on a pair.

The analyses themselves are `explorer.analysis.sanity` and `explorer.analysis.localize`; this
module decides which weights they can be run on (and says why not in a sentence), which images
and classes they explain, which seed draws the random weights, what a run costs, and turns the
results into table rows.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

from explorer.analysis.cam_methods import (CAM_LABELS, GRADIENT_FREE, SCORE_CAM_BATCH,
                                          checked_method)
from explorer.analysis.gradcam import get_layer
from explorer.analysis.inputs import Progress, no_progress
from explorer.analysis.localize import Localization, localization_scores
from explorer.analysis.sanity import SanityCurve, cascade_order, sanity_cascade
from explorer.data.heldout import heldout_for, heldout_masks
from explorer.data.shapes import denormalize
from explorer.io.twins import Twins
from explorer.io.weights import shipped_checkpoints
from explorer.nets.preserved import preserved

SHAPES = "shapes"
MAX_SANITY_IMAGES = 64
MAX_LOCALISATION_IMAGES = 1000
GRADIENT_PASSES = 3  # a forward and a backward cost about three forwards


def check_images(n: int, most: int, what: str) -> int:
    """``n`` as a whole number of images from 1 to ``most``, or a ValueError in words."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= most:
        raise ValueError(f"{what} needs from 1 to {most:,} images, not {n!r}.")
    return int(n)


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    if not methods:
        raise ValueError("Pick at least one method.")
    return tuple(checked_method(m) for m in methods)


def sanity_refusal(pair: Twins) -> str | None:
    """Why the cascade cannot run on these weights, or None when it can."""
    if not hasattr(pair.model, "spec") or not hasattr(pair.model, "blocks"):
        return ("The sanity check redraws each part's weights with the explorer's own builder, so "
                "it needs one of the explorer's networks; these weights are another library's "
                "model. Pick shipped weights, or weights trained on the Training page.")
    if not pair.trained:
        return ("These weights are a random initialisation: there is nothing learned for the "
                "cascade to randomise, so every map would compare random weights with random "
                "weights. Pick shipped weights, or weights trained on the Training page.")
    return None


def localisation_refusal(pair: Twins) -> str | None:
    """Why the maps of these weights cannot be scored against the shapes' masks, or None."""
    if pair.dataset == SHAPES:
        return None
    learned = ("random weights, which learned nothing" if not pair.trained else
               f"weights that learned {pair.dataset}" if pair.dataset else
               "weights whose training data is not recorded (a bare checkpoint)")
    return ("Localisation scores each map against the objects' masks of the synthetic shapes, "
            "so it needs a network trained on those shapes, explaining the class it learned "
            f"to recognise; these are {learned}. Pick shipped weights, train on shapes on the "
            "Training page, or upload the Training page's zip of a shapes run.")


def training_seed(pair: Twins) -> int:
    """The seed the weights were initialised from before training (where it is recorded)."""
    if pair.source == "shipped":
        for shipped in shipped_checkpoints().values():
            if shipped.spec == pair.spec:
                seed = dict(shipped.metrics).get("seed")
                if isinstance(seed, int):
                    return seed
    return pair.seed


def cascade_seed(pair: Twins) -> int:
    """The seed of the cascade's random weights: never the training's own, which would put back
    the very weights training started from (and the trained ones still carry part of them)."""
    return training_seed(pair) + 1


def predicted_classes(model: nn.Module, images: torch.Tensor) -> torch.Tensor:
    with torch.no_grad(), preserved(model):
        model.eval()
        return model(images.to(next(model.parameters()).device)).argmax(1).cpu()


def explained_classes(model: nn.Module, images: torch.Tensor, labels: torch.Tensor,
                      dataset: str | None) -> torch.Tensor:
    """The class every map explains: the true class for a shapes network, else the class the
    trained network predicts (the shapes' labels mean nothing to it)."""
    return labels if dataset == SHAPES else predicted_classes(model, images)


def heldout_accuracy(model: nn.Module, images: int) -> float:
    """The share of the first ``images`` held-out shapes (seed 0) the net classifies correctly:
    the images the localisation scores explain."""
    x, labels = heldout_for(model.spec, check_images(images, MAX_LOCALISATION_IMAGES,
                                                     "Localisation"))
    return float((predicted_classes(model, x) == labels).float().mean())


def sanity_for(model: nn.Module, dataset: str | None, images: int, layer: str,
               methods: Sequence[str], seed: int, on_progress: Progress = no_progress
               ) -> list[SanityCurve]:
    """The cascade on the first ``images`` held-out shapes (seed 0), explaining
    `explained_classes`."""
    x, labels = heldout_for(model.spec, check_images(images, MAX_SANITY_IMAGES, "The sanity check"))
    targets = explained_classes(model, x, labels, dataset)
    return sanity_cascade(model, x, targets, layer, check_methods(methods), seed, on_progress)


def localisation_for(model: nn.Module, images: int, methods: Sequence[str],
                     on_progress: Progress = no_progress) -> Localization:
    """Pointing game and energy inside the mask at every stage, on the first ``images`` held-out
    shapes (seed 0), explaining their true class."""
    n = check_images(images, MAX_LOCALISATION_IMAGES, "Localisation")
    x, labels = heldout_for(model.spec, n)
    return localization_scores(model, x, labels, heldout_masks(model.spec, n),
                               check_methods(methods), None, on_progress)


def example_picture(spec, index: int = 0) -> np.ndarray:
    """The ``index``-th held-out image as ``(H, W, 3)`` uint8, as a person would see it."""
    x, _ = heldout_for(spec.replace(in_channels=3), index + 1)
    return (denormalize(x[index]).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)


def layer_channels(model: nn.Module, layer: str) -> int:
    """The channels of a layer's output: Score-CAM draws one masked image per channel."""
    convs = [m for m in get_layer(model, layer).modules() if isinstance(m, nn.Conv2d)]
    return convs[-1].out_channels


def _map_cost(model: nn.Module, layer: str, method: str, images: int) -> float:
    """One method's maps of ``images`` images, in forwards of one image through the net."""
    if method in GRADIENT_FREE:
        return images * (1 + layer_channels(model, layer))
    return images * GRADIENT_PASSES


def sanity_work(model: nn.Module, layer: str, methods: Sequence[str], images: int) -> float:
    """The cascade's cost in single-image forwards (for a time estimate)."""
    steps = len(cascade_order(model)) + 1
    return steps * sum(_map_cost(model, layer, m, images) for m in methods)


def localisation_work(model: nn.Module, methods: Sequence[str], images: int) -> float:
    """The localisation scores' cost in single-image forwards (for a time estimate)."""
    return sum(_map_cost(model, stage, m, images) for stage in model.stage_names
               if len(getattr(model, stage)) for m in methods)


def largest_batch(methods: Sequence[str], images: int) -> int:
    """The most images one forward pass of these runs takes (for the memory check)."""
    return max(images, SCORE_CAM_BATCH if set(methods) & GRADIENT_FREE else 0)


TRAINED = "trained"


def step_label(part: str | None) -> str:
    """A cascade step's name on the page: ``trained`` for the untouched model, else the part
    randomised at that step (everything before it in the cascade is random too)."""
    return TRAINED if part is None else part


def inside(part: str | None, layer: str) -> bool:
    """Whether a randomised part is the map's layer or a block within it."""
    return part is not None and (part == layer or part.startswith(layer + "."))


def layer_randomised_index(curve: SanityCurve) -> int | None:
    """The step after which every weight of the map's own layer (and above) is random: the last
    step inside the layer (None when no step is, e.g. a map taken at the stem)."""
    found = [i for i, step in enumerate(curve.steps) if inside(step.randomized, curve.layer)]
    return found[-1] if found else None


def sanity_rows(results: dict[str, list[SanityCurve]]) -> list[dict]:
    """One row per net, method and cascade step (the page's table and CSV): ``method`` is the
    method's name as the page writes it, ``method_id`` the command line's."""
    return [{"net": net, "method": CAM_LABELS[curve.method], "method_id": curve.method,
             "layer": curve.layer, "step": i, "randomised": step_label(step.randomized),
             "spearman": step.spearman, "ssim": step.ssim}
            for net, curves in results.items() for curve in curves
            for i, step in enumerate(curve.steps)]


def localisation_rows(results: dict[str, Localization],
                      accuracy: dict[str, float]) -> list[dict]:
    """One row per net, method and stage, with the chance line and the net's accuracy on the
    same images beside the scores (``method`` and ``method_id`` as in `sanity_rows`)."""
    return [{"net": net, "method": CAM_LABELS[s.method], "method_id": s.method, "stage": s.layer,
             "pointing": s.pointing, "energy": s.energy, "chance": found.chance,
             "accuracy": accuracy[net], "images": found.images}
            for net, found in results.items() for s in found.scores]
