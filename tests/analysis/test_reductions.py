"""The fast reductions gradient flow reads its numbers with: equal to the plain float64 ones,
or refusing (``None``) where float32 cannot be trusted."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from explorer.analysis.reductions import batch_norm_stds, l2_norm, l2_norms, std


def randn(*shape: int, seed: int = 0) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_stds_equal_the_stds_of_input_and_output(affine):
    bn = nn.BatchNorm2d(6, affine=affine).train()
    if affine:
        with torch.no_grad():
            bn.weight.copy_(randn(6, seed=1).abs() + 0.2)
            bn.bias.copy_(randn(6, seed=2) * 0.5)
    x = randn(4, 6, 5, 7) * (randn(1, 6, 1, 1, seed=3).abs() + 0.1) + 0.3 * randn(1, 6, 1, 1)
    with torch.no_grad():
        out = bn(x)
    pre, post = batch_norm_stds(x, bn)
    assert pre.item() == pytest.approx(x.double().std().item(), rel=1e-6)
    assert post.item() == pytest.approx(out.double().std().item(), rel=1e-5)


def test_batch_norm_stds_refuse_what_float32_cannot_tell():
    bn = nn.BatchNorm2d(3).train()
    shifted = randn(2, 3, 4, 4) + torch.tensor([0.0, 0.0, 1e4]).view(1, 3, 1, 1)
    assert batch_norm_stds(shifted, bn) is None  # channel 3's variance cancels
    assert batch_norm_stds(randn(2, 3, 4, 4).double(), bn) is None  # not float32
    assert batch_norm_stds(randn(2, 3, 4, 4) * 1e30, bn) is None  # squares overflow
    assert batch_norm_stds(randn(2, 3, 1, 1), bn) is None  # one value per channel and image


def test_l2_norms_equal_l2_norm_one_by_one():
    tensors = [randn(3, 4), torch.zeros(5), randn(7) * 1e-30, randn(2, 2) * 1e25,
               torch.empty(0), randn(3).double()]
    got = l2_norms(tensors)
    for t, norm in zip(tensors, got):
        assert norm.item() == pytest.approx(l2_norm(t).item(), rel=1e-6)
        assert norm.item() == pytest.approx(t.double().norm().item(), rel=1e-6)


def test_std_trusts_float32_only_where_it_is_exact():
    for t in (randn(1000), randn(1000) * 1e-25, randn(1000) * 1e20 + 3e20, randn(10) + 1e6):
        assert std(t).item() == pytest.approx(t.double().std().item(), rel=1e-6)
