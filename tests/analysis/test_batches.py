"""Analysis batches: shapes and labels fit the network whatever the source."""

import pytest
import torch
from PIL import Image

from explorer import PRESETS, NetSpec
from explorer.analysis.batches import analysis_batch, fit_channels
from explorer.data.shapes import ShapesDataset


def test_fit_channels_by_hand():
    rgb = torch.arange(2 * 3 * 2 * 2, dtype=torch.float).view(2, 3, 2, 2)
    assert torch.equal(fit_channels(rgb, 1), rgb.mean(1, keepdim=True))
    five = fit_channels(rgb, 5)
    assert torch.equal(five[:, 3], rgb[:, 0]) and torch.equal(five[:, 4], rgb[:, 1])
    assert fit_channels(rgb, 3) is rgb


@pytest.mark.parametrize("source", ["random", "shapes"])
def test_batches_fit_the_spec(source):
    spec = PRESETS["d2l-resnet18"]  # 1 channel, 96 px, 10 classes
    x, y = analysis_batch(spec, source, 4, seed=0)
    assert x.shape == (4, 1, 96, 96) and y.shape == (4,)
    assert int(y.max()) < spec.num_classes


def test_shapes_batch_uses_the_true_labels():
    spec = NetSpec(layers=(1,), stem="cifar", num_classes=8, image_size=32)
    x, y = analysis_batch(spec, "shapes", 5, seed=3)
    want_x, want_y = ShapesDataset(5, 32, seed=3, split="test").get_batch(list(range(5)))
    assert torch.equal(x, want_x) and torch.equal(y, want_y)


def test_uploaded_images_are_preprocessed_and_required():
    spec = NetSpec(layers=(1,), stem="cifar", num_classes=10, image_size=16)
    images = [Image.new("RGB", (40, 30), (255, 0, 0)), Image.new("L", (8, 8), 100)]
    x, y = analysis_batch(spec, "uploaded", 99, seed=0, images=images)
    assert x.shape == (2, 3, 16, 16) and y.shape == (2,)
    with pytest.raises(ValueError, match="Upload at least one image"):
        analysis_batch(spec, "uploaded", 4, seed=0)
    with pytest.raises(ValueError, match="Unknown data source"):
        analysis_batch(spec, "webcam", 4, seed=0)
