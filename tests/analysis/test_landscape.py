"""Loss landscape: the centre is the plain evaluation; directions are filter-normalised."""

import pytest
import torch
import torch.nn.functional as F

from explorer.analysis.landscape import (filter_normalized_direction, grid_axis, loss_landscape)

from why_util import TINY, assert_unchanged, batch, snapshot, tiny_pair


def plain_evaluation(model, x, y):
    with torch.no_grad():
        return float(F.cross_entropy(model(x), y))


def test_the_centre_of_the_grid_is_the_plain_evaluation():
    residual, _ = tiny_pair()
    x, y = batch()
    result = loss_landscape(residual, (x, y), steps=5, dims=2)
    assert result.center_loss == pytest.approx(plain_evaluation(residual, x, y), rel=1e-6)
    assert result.loss[2][2] == result.center_loss  # θ + 0·δ + 0·η is θ, bit for bit
    assert len(result.loss) == 5 and all(len(row) == 5 for row in result.loss)
    assert result.alphas == result.betas == (-1.0, -0.5, 0.0, 0.5, 1.0)


def test_a_grid_point_is_the_loss_of_the_moved_weights():
    residual, _ = tiny_pair()
    x, y = batch()
    result = loss_landscape(residual, (x, y), steps=3, dims=2, span=0.5, seed=4)
    first = filter_normalized_direction(residual, 4, 0)
    second = filter_normalized_direction(residual, 4, 1)
    moved = {k: v + 0.5 * first[k] - 0.5 * second[k] for k, v in residual.named_parameters()}
    with torch.no_grad():
        logits = torch.func.functional_call(residual, moved, (x,))
    assert result.loss[0][2] == pytest.approx(float(F.cross_entropy(logits, y)), rel=1e-5)


def test_directions_are_filter_normalised_and_zero_on_biases_and_norms():
    residual, plain = tiny_pair()
    direction = filter_normalized_direction(residual, seed=0, index=0)
    for name, p in residual.named_parameters():
        d = direction[name]
        if p.dim() <= 1:
            assert not d.any(), name
        else:
            assert torch.allclose(d.flatten(1).norm(dim=1), p.flatten(1).norm(dim=1), rtol=1e-5)
    twin = filter_normalized_direction(plain, seed=0, index=0)  # same names, same weights
    assert all(torch.equal(direction[k], twin[k]) for k in twin)
    other = filter_normalized_direction(residual, seed=0, index=1)
    assert not torch.equal(direction["conv1.weight"], other["conv1.weight"])


def test_one_dimensional_slice_and_sharpness_probes():
    residual, _ = tiny_pair()
    x, y = batch()
    result = loss_landscape(residual, (x, y), steps=7, dims=1, radius=0.25)
    assert result.betas is None and len(result.loss) == 7
    assert result.loss[3] == result.center_loss and len(result.rises) == 1
    data = result.to_dict()
    assert set(data) == {"alphas", "betas", "loss", "center_loss"} and data["betas"] is None


def test_weights_and_modes_come_back_exactly():
    residual, _ = tiny_pair()
    residual.layer2.train()
    before = snapshot(residual)
    loss_landscape(residual, batch(), steps=3, dims=2)
    assert_unchanged(residual, before)


def test_a_stopped_run_restores_the_weights():
    residual, _ = tiny_pair()
    before = snapshot(residual)

    def stop(done, total, message):
        if done == 3:
            raise KeyboardInterrupt  # what a stop button does to the running script
    with pytest.raises(KeyboardInterrupt):
        loss_landscape(residual, batch(), steps=3, on_progress=stop)
    assert_unchanged(residual, before)


@pytest.mark.parametrize("steps, span", [(1, 1.0), (500, 1.0), (5, 0.0), (5, float("nan"))])
def test_bad_grids_are_refused(steps, span):
    with pytest.raises(ValueError):
        grid_axis(steps, span)
