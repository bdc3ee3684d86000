"""Effective receptive field: its support is the theoretical window of hand-computed nets."""

import pytest
import torch

from explorer import NetSpec, build
from explorer.analysis.receptive_field import effective_receptive_field, forward_until, mass_side
from explorer.nets.windows import theoretical_window, windows

from why_util import TINY, assert_unchanged, batch, snapshot, tiny_pair

# One stage of one basic block after a 3x3 stem: 3 + 2 + 2 = 7 pixels.
ONE_BLOCK = NetSpec(layers=(1,), base_width=4, stem="cifar", norm="none", num_classes=2,
                    image_size=16, shortcut="B")


def support_box(erf):
    rows, cols = torch.nonzero(erf > 0, as_tuple=True)
    return int(rows.min()), int(rows.max()), int(cols.min()), int(cols.max())


@pytest.mark.parametrize("skip", [True, False])
def test_erf_of_a_net_of_known_receptive_field_fills_exactly_its_window(skip):
    model = build(ONE_BLOCK.replace(skip=skip), seed=0)
    x, y = batch(ONE_BLOCK, n=16)
    result = effective_receptive_field(model, (x, y), "layer1")
    assert result.theoretical == 7 and result.stride == 1
    assert result.centre == (8.0, 8.0) and result.erf.shape == (16, 16)
    assert support_box(result.erf) == (5, 11, 5, 11)  # 8 ± 3


def test_strided_net_window_and_centre():
    spec = ONE_BLOCK.replace(layers=(1, 1), image_size=32)
    # layer2.0: a 3x3/2 conv at jump 1 (+2) then a 3x3 conv at jump 2 (+4): 7 + 2 + 4 = 13.
    assert theoretical_window(spec, "layer2").size == 13
    model = build(spec, seed=0)
    result = effective_receptive_field(model, batch(spec, n=8), "layer2")
    assert result.layer_shape == (16, 16) and result.centre == (16.0, 16.0)
    assert support_box(result.erf) == (10, 22, 10, 22)


def test_imagenet_stem_windows_by_hand():
    spec = NetSpec(layers=(1, 1), base_width=4, num_classes=2, image_size=64)
    found = windows(spec)
    assert (found["stem"].size, found["stem"].jump) == (11, 4)  # 7x7/2, then 3x3/2 pool: 7+2*2
    assert (found["layer1"].size, found["layer1"].jump) == (27, 4)  # + 2 convs * 2 * 4
    assert (found["layer2"].size, found["layer2"].jump) == (51, 8)  # + 2*4 + 2*8


def test_bottleneck_stride_placement_changes_the_window():
    base = NetSpec(block="bottleneck", layers=(1, 1), base_width=4, stem="cifar",
                   num_classes=2, image_size=32)
    # 3x3 stem (3); layer1: one 3x3 (+2) = 5; layer2 with the stride on the 3x3: +2 at jump 1
    # = 7; with the stride on the first 1x1 the 3x3 runs at jump 2: +4 = 9.
    assert theoretical_window(base, "layer2").size == 7
    assert theoretical_window(base.replace(stride_on="1x1"), "layer2").size == 9


def test_mass_side_of_hand_made_maps():
    erf = torch.zeros(9, 9)
    erf[4, 4] = 1.0
    assert mass_side(erf, (4.0, 4.0)) == 1
    erf[2, 4] = 1.0  # half the mass two rows up: a 5x5 square is needed for all of it
    assert mass_side(erf, (4.0, 4.0), fraction=0.95) == 5
    assert mass_side(erf, (4.0, 4.0), fraction=0.5) == 1
    assert mass_side(torch.zeros(3, 3), (1.0, 1.0)) is None


def test_forward_until_stops_at_the_layer_and_matches_the_full_forward():
    residual, _ = tiny_pair()
    x, _ = batch()
    seen = []
    residual.fc.register_forward_hook(lambda *a: seen.append(1))
    with torch.no_grad():
        out = forward_until(residual, "layer1", x)
        want = residual.layer1(residual.relu(residual.bn1(residual.conv1(x))))
    assert torch.equal(out, want) and not seen  # the head never ran
    with pytest.raises(ValueError):
        forward_until(residual, "layer9", x)
    with pytest.raises(ValueError):
        forward_until(residual, "__import__('os')", x)


def test_model_comes_back_exactly_and_json_shape():
    residual, _ = tiny_pair()
    residual.fc.weight.requires_grad_(False)
    before = snapshot(residual)
    result = effective_receptive_field(residual, batch(), "layer2.0", batch=5)
    assert_unchanged(residual, before)
    data = result.to_dict()
    assert set(data) == {"layer", "theoretical", "erf"}
    assert len(data["erf"]) == TINY.image_size and len(data["erf"][0]) == TINY.image_size


def test_batches_give_the_same_map_as_one_batch():
    residual, _ = tiny_pair()
    data = batch(n=10)
    one = effective_receptive_field(residual, data, "layer1", batch=10).erf
    many = effective_receptive_field(residual, data, "layer1", batch=3).erf
    assert torch.allclose(one, many, rtol=1e-5, atol=1e-8)
