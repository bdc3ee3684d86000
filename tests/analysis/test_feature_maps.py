"""Feature maps and the skip's parts: checked against a hand-run block."""

import pytest
import torch

from explorer.analysis.feature_maps import skip_parts, stage_feature_maps

from why_util import TINY, assert_unchanged, batch, snapshot, tiny_pair


def one_image():
    return batch(n=1)[0]


def test_top_k_channels_are_the_highest_means_of_the_stage_output():
    residual, _ = tiny_pair()
    x = one_image()
    maps = stage_feature_maps(residual, x, top_k=3)
    assert [m.stage for m in maps] == ["layer1", "layer2"]
    with torch.no_grad():
        out = residual.layer1(residual.relu(residual.bn1(residual.conv1(x))))[0]
    means = out.mean(dim=(1, 2))
    assert list(maps[0].channels) == torch.argsort(means, descending=True)[:3].tolist()
    assert torch.equal(maps[0].maps, out[list(maps[0].channels)])
    assert list(maps[0].means) == sorted(maps[0].means, reverse=True)
    assert maps[1].total_channels == 8


def test_skip_parts_add_up_for_a_residual_block():
    residual, _ = tiny_pair()
    parts = skip_parts(residual, one_image(), "layer1.1")
    assert parts.skip and torch.equal(parts.shortcut, parts.inputs)  # an identity shortcut
    assert torch.allclose(parts.summed, parts.branch + parts.inputs)
    assert torch.allclose(torch.relu(parts.summed), parts.output)
    assert parts.branch_ratio == pytest.approx(float(parts.branch.norm() / parts.inputs.norm()))


def test_option_a_shortcut_subsamples_and_pads():
    residual, _ = tiny_pair()
    parts = skip_parts(residual, one_image(), "layer2.0")
    assert parts.inputs.shape == (4, 16, 16) and parts.shortcut.shape == (8, 8, 8)
    assert torch.equal(parts.shortcut[:4], parts.inputs[:, ::2, ::2])
    assert not parts.shortcut[4:].any()


def test_plain_block_has_no_shortcut():
    _, plain = tiny_pair()
    parts = skip_parts(plain, one_image(), "layer1.0")
    assert not parts.skip and parts.shortcut is None and parts.summed is None
    assert torch.allclose(torch.relu(parts.branch), parts.output)
    assert parts.branch_ratio is None


def test_model_comes_back_and_bad_input_is_refused():
    residual, _ = tiny_pair()
    before = snapshot(residual)
    stage_feature_maps(residual, one_image(), top_k=2)
    skip_parts(residual, one_image(), "layer1.0")
    assert_unchanged(residual, before)
    with pytest.raises(ValueError, match="No block"):
        skip_parts(residual, one_image(), "layer7.0")
    with pytest.raises(ValueError, match="top_k"):
        stage_feature_maps(residual, one_image(), top_k=0)
    with pytest.raises(ValueError, match="one image"):
        stage_feature_maps(residual, batch(n=2)[0])
