"""The CAM family side by side: every map's deletion curve with the random order's, and rank
agreement between maps, checked against the single-curve function and hand-ranked maps."""

import pytest
import torch

from explorer import NetSpec, build
from explorer.analysis.deletion import deletion_curve, random_order_heatmap
from explorer.analysis.family_faithfulness import RANDOM_ORDER, family_deletion, rank_agreement

SPEC = NetSpec(layers=(1, 1), base_width=8, stem="cifar", num_classes=10, image_size=16)


@pytest.fixture
def model():
    return build(SPEC, seed=0)


@pytest.fixture
def x():
    return torch.randn(1, 3, 16, 16, generator=torch.Generator().manual_seed(2))


def test_every_map_gets_its_curve_and_the_random_order_comes_last(model, x):
    maps = {"centre first": torch.zeros(16, 16), "corner first": torch.zeros(16, 16)}
    maps["centre first"][6:10, 6:10] = 1.0
    maps["corner first"][:4, :4] = 1.0
    curves = family_deletion(model, x, maps, target=3, steps=4, seed=5)
    assert list(curves) == ["centre first", "corner first", RANDOM_ORDER]
    for name, heatmap in maps.items():
        assert curves[name] == deletion_curve(model, x, heatmap, 3, 4)
    assert curves[RANDOM_ORDER] == deletion_curve(model, x, random_order_heatmap((16, 16), 5), 3, 4)
    assert curves[RANDOM_ORDER] != family_deletion(model, x, {}, 3, 4, seed=6)[RANDOM_ORDER]


def test_a_map_may_not_take_the_reference_curves_name(model, x):
    with pytest.raises(ValueError, match="names the reference curve"):
        family_deletion(model, x, {RANDOM_ORDER: torch.rand(16, 16)}, target=0)


def test_rank_agreement_of_hand_ranked_maps():
    rising = torch.arange(16.0).view(4, 4)
    agreement = rank_agreement({"a": rising, "b": rising * 3 + 1, "c": 15 - rising})
    assert list(agreement) == [("a", "b"), ("a", "c"), ("b", "c")]
    assert agreement[("a", "b")] == pytest.approx(1.0)  # the same order at another scale
    assert agreement[("a", "c")] == pytest.approx(-1.0)  # the reverse order
    swapped = rising.clone().view(-1)
    swapped[[0, 1]] = swapped[[1, 0]]  # one adjacent pair swapped: 1 − 6·2 / (16·(16²−1))
    assert rank_agreement({"a": rising, "s": swapped.view(4, 4)})[("a", "s")] == pytest.approx(
        1 - 6 * 2 / (16 * 255))


def test_rank_agreement_needs_maps_of_one_size():
    assert rank_agreement({"only": torch.rand(4, 4)}) == {}
    with pytest.raises(ValueError, match="one size"):
        rank_agreement({"a": torch.rand(4, 4), "b": torch.rand(4, 5)})
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        rank_agreement({"a": torch.rand(1, 4, 4), "b": torch.rand(1, 4, 4)})
