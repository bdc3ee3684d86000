"""Localisation scores by hand: the pointing game and the energy inside the mask."""

import pytest
import torch

from explorer import NetSpec, build
from explorer.analysis.localize import energy_inside, localization_scores, pointing_hits


def test_pointing_game_by_hand():
    mask = torch.zeros(1, 4, 4, dtype=torch.bool)
    mask[0, 1:3, 1:3] = True
    inside, outside, flat = torch.zeros(3, 4, 4)
    inside[2, 2], outside[0, 3] = 1.0, 1.0
    inside[0, 0] = outside[1, 1] = 0.5  # a lower value on the other side
    hits = pointing_hits(torch.stack([inside, outside, flat]), mask.expand(3, 4, 4))
    assert hits.tolist() == [True, False, False]  # a flat map points nowhere


def test_energy_inside_by_hand():
    mask = torch.zeros(1, 2, 2, dtype=torch.bool)
    mask[0, 0, 0] = True
    heat = torch.tensor([[[3.0, 1.0], [-5.0, 0.0]], [[0.0, 0.0], [0.0, -1.0]]])
    # positive part: 3 of 4 inside; a map with nothing positive: 0
    assert energy_inside(heat, mask.expand(2, 2, 2)).tolist() == [0.75, 0.0]


def test_scores_every_method_and_stage_with_chance_the_masks_area():
    model = build(NetSpec(layers=(1, 1), base_width=4, stem="cifar", num_classes=3,
                          image_size=8), seed=0)
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(4, 3, 8, 8, generator=gen), torch.tensor([0, 1, 2, 0])
    masks = torch.zeros(4, 8, 8, dtype=torch.bool)
    masks[:, :2] = True  # a quarter of every image
    found = localization_scores(model, x, y, masks, ("gradcam", "scorecam"))
    assert found.chance == 0.25 and found.images == 4
    assert [(s.method, s.layer) for s in found.scores] == [
        ("gradcam", "layer1"), ("gradcam", "layer2"), ("scorecam", "layer1"),
        ("scorecam", "layer2")]
    assert all(0 <= s.pointing <= 1 and 0 <= s.energy <= 1 for s in found.scores)
    assert set(found.as_json()) == {"chance", "images", "methods"}
    with pytest.raises(ValueError, match="one \\(H, W\\) mask per image"):
        localization_scores(model, x, y, masks[:3])


def test_the_shipped_resnet20s_maps_point_at_the_object():
    from explorer.data.heldout import heldout_for, heldout_masks
    from explorer.io.weights import load_shipped

    model, spec = load_shipped("resnet20")
    x, y = heldout_for(spec, 64)
    found = localization_scores(model, x, y, heldout_masks(spec, 64), layers=("layer3",))
    for score in found.scores:  # measured: 0.77 to 0.83 pointing, 0.41 to 0.43 energy
        assert score.pointing >= 3 * found.chance, score
        assert score.energy >= 2 * found.chance, score
