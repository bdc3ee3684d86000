"""Deletion curves (Petsiuk et al. 2018) by hand, on models whose logit reads known pixels."""

import math

import pytest
import torch
from torch import nn

from explorer.analysis.deletion import deletion_curve, random_order_heatmap


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


class PixelReader(nn.Module):
    """Two classes: class 0's logit is ``Σ weights · pixels`` of a one-channel image, class 1's is
    0, so class 0's probability is ``sigmoid(Σ weights · pixels)``. The dropout makes a forward in
    train mode give other numbers: the hand values hold only if the curve is taken in eval mode."""

    def __init__(self, weights: list[float]) -> None:
        super().__init__()
        self.drop = nn.Dropout(0.5)
        self.read = nn.Linear(len(weights), 1, bias=False)
        with torch.no_grad():
            self.read.weight.copy_(torch.tensor([weights]))

    def forward(self, x):
        logit = self.read(self.drop(x.flatten(1)))
        return torch.cat([logit, torch.zeros_like(logit)], dim=1)


def one_pixel_model(side: int, pixel: int, weight: float = 1.0) -> PixelReader:
    weights = [0.0] * (side * side)
    weights[pixel] = weight
    return PixelReader(weights)


def test_removing_the_one_pixel_the_logit_reads_first_drops_the_probability_at_step_one():
    model = one_pixel_model(4, pixel=5)
    x = torch.full((1, 1, 4, 4), 2.0)
    heatmap = torch.zeros(4, 4)
    heatmap.view(-1)[5] = 1.0  # the map points at the pixel the model reads
    curve = deletion_curve(model, x, heatmap, target=0, steps=16)
    assert curve.fractions == tuple(k / 16 for k in range(17))
    start = sigmoid(2.0)
    assert curve.probabilities[0] == pytest.approx(start)
    assert curve.probabilities[1:] == pytest.approx([0.5] * 16)  # gone from the first step on
    assert curve.area == pytest.approx((start + 0.5) / 2 / 16 + 0.5 * 15 / 16)


def test_the_same_pixel_removed_last_keeps_the_probability_to_the_end_and_a_larger_area():
    model = one_pixel_model(4, pixel=5)
    x = torch.full((1, 1, 4, 4), 2.0)
    heatmap = torch.ones(4, 4)
    heatmap.view(-1)[5] = 0.0  # ranked last
    curve = deletion_curve(model, x, heatmap, target=0, steps=16)
    start = sigmoid(2.0)
    assert curve.probabilities[:16] == pytest.approx([start] * 16)
    assert curve.probabilities[16] == pytest.approx(0.5)
    assert curve.area == pytest.approx(start * 15 / 16 + (start + 0.5) / 2 / 16)


def test_area_of_a_two_step_curve_by_hand():
    # 2×2 image of ones, logit = 3·p0 + 1·p1; the map ranks p0, p1, p2, p3: two pixels a step.
    model = PixelReader([3.0, 1.0, 0.0, 0.0])
    x = torch.ones(1, 1, 2, 2)
    heatmap = torch.tensor([[4.0, 3.0], [2.0, 1.0]])
    curve = deletion_curve(model, x, heatmap, target=0, steps=2)
    assert curve.fractions == (0.0, 0.5, 1.0)
    assert curve.probabilities == pytest.approx((sigmoid(4.0), 0.5, 0.5))
    assert curve.area == pytest.approx((sigmoid(4.0) + 0.5) / 2 * 0.5 + 0.5 * 0.5)
    other_class = deletion_curve(model, x, heatmap, target=1, steps=2)
    assert other_class.probabilities == pytest.approx((1 - sigmoid(4.0), 0.5, 0.5))


def test_the_model_comes_back_as_it_was():
    model = one_pixel_model(4, pixel=0)
    model.train()
    model.drop.eval()  # a mixed state must come back mixed, module by module
    model.read.weight.requires_grad_(False)
    calls = []
    model.register_forward_hook(lambda *args: calls.append(1))
    deletion_curve(model, torch.ones(1, 1, 4, 4), torch.rand(4, 4), target=0, steps=4)
    assert model.training and not model.drop.training and model.read.training
    assert not model.read.weight.requires_grad and model.read.weight.grad is None
    assert calls == [1]  # one batched forward, and the caller's own hook still there
    assert len(model._forward_hooks) == 1


def test_the_input_is_not_modified():
    x = torch.full((1, 1, 4, 4), 2.0)
    deletion_curve(one_pixel_model(4, 3), x, torch.rand(4, 4), target=0)
    assert torch.equal(x, torch.full((1, 1, 4, 4), 2.0))


@pytest.mark.parametrize("x_shape, map_shape", [
    ((2, 1, 4, 4), (4, 4)),  # two images
    ((1, 4, 4), (4, 4)),  # no batch dimension
    ((1, 1, 4, 4), (4, 5)),  # a map of another size
    ((1, 1, 4, 4), (1, 4, 4)),  # a map with a batch dimension
])
def test_bad_shapes_are_refused_with_both_shapes_named(x_shape, map_shape):
    with pytest.raises(ValueError, match=r"Need one image \(1, C, H, W\) and an \(H, W\) heatmap"):
        deletion_curve(one_pixel_model(4, 0), torch.ones(x_shape), torch.rand(map_shape), 0)


@pytest.mark.parametrize("steps", [0, 257])
def test_step_counts_out_of_range_are_refused(steps):
    with pytest.raises(ValueError, match=f"steps must be from 1 to 256, got {steps}"):
        deletion_curve(one_pixel_model(4, 0), torch.ones(1, 1, 4, 4), torch.rand(4, 4), 0, steps)


def test_the_random_order_is_reproducible_per_seed():
    first = random_order_heatmap((8, 6), seed=3)
    assert first.shape == (8, 6)
    assert torch.equal(first, random_order_heatmap((8, 6), seed=3))
    assert not torch.equal(first, random_order_heatmap((8, 6), seed=4))
    assert first.flatten().unique().numel() == 48  # a strict order: no ties to break
