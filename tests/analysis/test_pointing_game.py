"""Grad-CAM on the shipped checkpoints points at the object: the pointing game.

A hit is when the Grad-CAM map's maximum (for the true class) falls inside the object's mask.
Measured on 200 held-out synthetic images (seed 1, test split), layer3 (8×8 map upsampled to
32×32): ResNet-20 76.5%, plain-20 75.5%. A random point would hit the object's area, 16.5% of
the image on average. The bounds below leave a few points for platform noise.
"""

import pytest
import torch

from explorer.data.shapes import ShapesDataset
from explorer.analysis.gradcam import grad_cam
from explorer.io.weights import load_shipped

IMAGES = 200


@pytest.fixture(scope="module")
def held_out():
    return ShapesDataset(IMAGES, 32, seed=1, split="test")


def pointing_score(model, data: ShapesDataset, layer: str) -> float:
    hits = 0
    for i in range(len(data)):
        x, label = data[i]
        heatmap = grad_cam(model, x[None], layer, target=label).heatmap
        hits += bool(data.mask(i).flatten()[int(torch.argmax(heatmap))])
    return hits / len(data)


def chance(data: ShapesDataset) -> float:
    return sum(float(data.mask(i).float().mean()) for i in range(len(data))) / len(data)


@pytest.mark.parametrize("name", ["resnet20", "resnet20-plain"])
def test_grad_cam_points_at_the_object(name, held_out):
    model, _ = load_shipped(name)
    score = pointing_score(model, held_out, "layer3")
    print(f"pointing game, {name}, layer3: {score:.1%} (chance {chance(held_out):.1%})")
    assert score >= 0.70
    assert score >= 4 * chance(held_out)
