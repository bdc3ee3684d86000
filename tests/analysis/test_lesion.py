"""Lesion study: hand-checked deletions on tiny nets; the model comes back as it was."""

import math

import pytest
import torch

from explorer.analysis.lesion import (deleted, draw_subsets, is_deletable, lesion_study,
                                      planned_evaluations, planned_work)

from why_util import TINY, assert_unchanged, batch, snapshot, tiny_pair


def own_predictions(model, x):
    with torch.no_grad():
        return x, model(x).argmax(1)


def silence_branches(model):
    """Zero every block's last BatchNorm: F(x) = 0, so deleting a block changes nothing."""
    with torch.no_grad():
        for _, block in model.blocks():
            block.last_norm.weight.zero_()
            block.last_norm.bias.zero_()


def test_deleting_a_silent_residual_block_leaves_accuracy_unchanged():
    residual, _ = tiny_pair()
    silence_branches(residual)
    x, _ = batch()
    data = own_predictions(residual, x)  # the intact net is right on every image: baseline 1
    result = lesion_study(residual, data, draws=3)
    assert result.baseline == 1.0
    assert [b.block for b in result.blocks] == ["layer1.0", "layer1.1", "layer2.0"]
    assert all(b.deletable and b.accuracy == 1.0 for b in result.blocks)
    assert all(r.accuracies == (1.0,) * len(r.accuracies) for r in result.random)
    assert result.chance == 1 / TINY.num_classes


def test_deleted_block_computes_its_shortcut_and_logits_match_a_hand_built_net():
    residual, _ = tiny_pair()
    x, _ = batch()
    with torch.no_grad():
        with deleted(residual, ["layer1.1"]):
            got = residual(x)
        h = residual.relu(residual.bn1(residual.conv1(x)))
        h = residual.layer1[0](h)  # layer1.1 is gone: its output is relu(h) = h
        want = residual.fc(torch.flatten(residual.avgpool(residual.layer2(h)), 1))
    assert torch.allclose(got, want, atol=1e-6)
    assert "forward" not in residual.layer1[1].__dict__


def test_plain_blocks_that_change_shape_cannot_be_deleted():
    residual, plain = tiny_pair()
    assert [is_deletable(b) for _, b in plain.blocks()] == [True, True, False]
    assert all(is_deletable(b) for _, b in residual.blocks())
    x, y = batch()
    result = lesion_study(plain, (x, y), draws=2)
    assert result.blocks[2].accuracy is None and not result.blocks[2].deletable
    assert [r.k for r in result.random] == [1, 2]  # only the two deletable blocks are drawn
    with pytest.raises(ValueError, match="cannot be deleted"):
        with deleted(plain, ["layer2.0"]):
            pass


def test_accuracies_are_the_evaluations_of_each_deletion():
    residual, _ = tiny_pair()
    x, y = batch(n=20)
    result = lesion_study(residual, (x, y), draws=2, seed=3)
    for b in result.blocks:
        with deleted(residual, [b.block]), torch.no_grad():
            want = float((residual(x).argmax(1) == y).float().mean())
        assert b.accuracy == pytest.approx(want)
    data = result.to_dict()
    assert set(data) == {"baseline", "chance", "blocks", "random"}
    assert all(r["min"] <= r["mean"] <= r["max"] for r in data["random"])


def test_planned_evaluations_are_counted_by_hand_and_are_what_the_study_runs():
    residual, plain = tiny_pair()  # three blocks; the plain net's layer2.0 changes the shape
    x, y = batch(n=8)
    # residual: intact + 3 single blocks + 2 of the 3 pairs + the one triple = 7
    # plain: intact + 2 single blocks + the one pair = 4; without random k: intact + singles
    for model, want, singles_only in ((residual, 7, 4), (plain, 4, 3)):
        assert planned_evaluations(model, draws=2) == want
        assert planned_evaluations(model, draws=2, random_k=False) == singles_only
        assert lesion_study(model, (x, y), draws=2).evaluations == want
    # a deleted block of three saves a third: 1 + 3·2/3 + 2·1/3 + 0 and 1 + 2·2/3 + 1/3
    assert planned_work(residual, draws=2) == pytest.approx(1 + 2 + 2 / 3)
    assert planned_work(plain, draws=2) == pytest.approx(1 + 4 / 3 + 1 / 3)


def test_draws_are_distinct_seeded_and_capped_by_the_number_of_subsets():
    pool = ["a", "b", "c", "d"]
    subsets = draw_subsets(pool, draws=5, seed=0)
    assert {k: len(v) for k, v in subsets.items()} == {k: min(5, math.comb(4, k)) for k in
                                                        range(1, 5)}
    assert all(len(set(v)) == len(v) for v in subsets.values())
    assert subsets == draw_subsets(pool, draws=5, seed=0)


def test_the_model_comes_back_exactly_as_it_was():
    residual, _ = tiny_pair()
    residual.layer1.train()  # a mixed mode must survive too
    handle = residual.register_forward_hook(lambda *a: None)
    before = snapshot(residual)
    lesion_study(residual, batch(), draws=2)
    assert_unchanged(residual, before)
    handle.remove()


def test_bad_draws_are_refused():
    residual, _ = tiny_pair()
    with pytest.raises(ValueError, match="draws"):
        lesion_study(residual, batch(), draws=0)
