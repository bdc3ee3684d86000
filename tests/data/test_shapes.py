"""The synthetic shapes dataset: determinism, masks against hand-computed geometry, statistics."""

import math

import numpy as np
import pytest
import torch

from explorer.data.shapes import CLASSES, MEAN, STD, ShapesDataset, denormalize, sdf_polygon
import explorer.data.splits as splits_module
from explorer.training.config import TrainConfig
from explorer.data.registry import DATASETS


def test_items_are_reproducible_by_seed_split_and_index():
    a = ShapesDataset(600, 24, seed=3)
    b = ShapesDataset(600, 24, seed=3)
    # b renders item 517 first, in a different chunk order and inside a batch: same pixels.
    batch, labels = b.get_batch([517, 7])
    assert torch.equal(batch[0], a[517][0]) and torch.equal(batch[1], a[7][0])
    assert labels.tolist() == [a[517][1], a[7][1]]
    assert not torch.equal(a[7][0], ShapesDataset(600, 24, seed=4)[7][0])
    assert not torch.equal(a[7][0], ShapesDataset(600, 24, seed=3, split="test")[7][0])
    assert not torch.equal(a[7][0], a[15][0])  # same class, different image


def test_shapes_dtypes_and_balanced_labels():
    data = ShapesDataset(2 * len(CLASSES), 16, seed=0)
    image, label = data[5]
    assert image.shape == (3, 16, 16) and image.dtype == torch.float32
    assert isinstance(label, int)
    images, labels = data.get_batch(torch.arange(len(data)))
    assert images.shape == (len(data), 3, 16, 16) and labels.dtype == torch.int64
    assert sorted(labels.tolist()) == sorted(list(range(len(CLASSES))) * 2)
    assert data.mask(0).shape == (16, 16) and data.mask(0).dtype == torch.bool
    assert len(CLASSES) >= 6 and len(set(CLASSES)) == len(CLASSES)
    with pytest.raises(IndexError):
        data[len(data)]
    with pytest.raises(ValueError, match="split"):
        ShapesDataset(4, split="training")


def _pixel_centres(size):
    axis = (np.arange(size) + 0.5) / size * 2 - 1  # the documented pixel-centre convention
    y, x = np.meshgrid(axis, axis, indexing="ij")
    return x, y


def _local(params, size):
    x, y = _pixel_centres(size)
    cx, cy = params["center"].double().tolist()
    a, r = float(params["angle"]), float(params["radius"])
    dx, dy = x - cx, y - cy
    return (math.cos(a) * dx + math.sin(a) * dy) / r, (-math.sin(a) * dx + math.cos(a) * dy) / r


@pytest.mark.parametrize("index", [0, 8, 16, 1, 9, 17])  # circles and squares
def test_masks_match_hand_computed_geometry(index):
    size = 40
    data = ShapesDataset(24, size, seed=11)
    params = data.params(index)
    u, v = _local(params, size)
    if CLASSES[data[index][1]] == "circle":
        expected = np.hypot(u, v) <= 0.9
        margin = np.abs(np.hypot(u, v) - 0.9) * float(params["radius"])
    else:
        assert CLASSES[data[index][1]] == "square"
        expected = np.maximum(np.abs(u), np.abs(v)) <= 0.72
        margin = np.abs(np.maximum(np.abs(u), np.abs(v)) - 0.72) * float(params["radius"])
    mask = data.mask(index).numpy()
    assert expected.sum() > 20
    disagree = mask != expected
    assert (margin[disagree] < 1e-5).all()  # only float ties on the boundary may differ


def test_object_colour_fills_its_mask_and_nothing_else_much():
    data = ShapesDataset(3 * len(CLASSES), 48, seed=5)
    for i in range(len(data)):
        mask = data.mask(i)
        inner = mask.clone()  # eroded: away from the anti-aliased rim
        inner[1:-1, 1:-1] &= mask[:-2, 1:-1] & mask[2:, 1:-1] & mask[1:-1, :-2] & mask[1:-1, 2:]
        inner[[0, -1]] = False
        inner[:, [0, -1]] = False
        assert inner.sum() > 10, CLASSES[data[i][1]]
        pixels = data.raw(i).float() / 255
        colour = data.params(i)["colour"]
        inside = pixels[:, inner]
        assert torch.allclose(inside.mean(1), colour, atol=0.03)  # only noise (sd 0.04) on top
        assert ((inside - colour[:, None]).abs() < 0.2).float().mean() > 0.99
        outside = pixels[:, ~mask]
        assert (outside - colour[:, None]).abs().mean() > 0.15


def test_sdf_polygon_against_hand_computed_distances():
    square = [(-1, -1), (1, -1), (1, 1), (-1, 1)]
    points = torch.tensor([[0.0, 0.0], [0.5, 0.0], [3.0, 0.0], [2.0, 2.0], [1.0, 0.3]])
    expected = torch.tensor([-1.0, -0.5, 2.0, math.sqrt(2), 0.0])
    assert torch.allclose(sdf_polygon(points, square), expected, atol=1e-6)
    triangle = [(0, 0), (4, 0), (0, 3)]  # hypotenuse 3x + 4y = 12
    inner = sdf_polygon(torch.tensor([[1.0, 1.0]]), triangle)
    assert torch.allclose(inner, torch.tensor([-1.0]))  # nearest are the legs, 1 away


def test_mean_and_std_constants_match_the_data():
    data = ShapesDataset(1024, 24, seed=7, split="val")
    pixels = denormalize(data.get_batch(range(len(data)))[0])
    assert torch.allclose(pixels.mean((0, 2, 3)), torch.tensor(MEAN), atol=0.015)
    assert torch.allclose(pixels.std((0, 2, 3)), torch.tensor(STD), atol=0.015)


def test_torchvision_datasets_never_download_unless_asked(tmp_path, monkeypatch):
    monkeypatch.setattr(splits_module, "DATA_ROOT", tmp_path)
    config = TrainConfig(dataset="cifar10", train_size=64)
    for name in ("cifar10", "fashion-mnist"):
        with pytest.raises(ValueError, match="Tick “download”"):
            config.replace(dataset=name).splits(DATASETS[name].native_size)
    assert list(tmp_path.iterdir()) == [] or all(p.is_dir() for p in tmp_path.rglob("*"))
    with pytest.raises(ValueError, match="can not be trained on"):
        splits_module.splits("imagenet", (64, 8, 8), 0, 224)


def test_the_registry_agrees_with_the_shapes_module():
    shapes = DATASETS["shapes"]
    assert shapes.classes == CLASSES and shapes.normalization == (MEAN, STD)
    assert shapes.offline and not DATASETS["cifar10"].offline
    train, val, test = TrainConfig(train_size=40, val_size=8, test_size=16).splits(24)
    assert (len(train), len(val), len(test)) == (40, 8, 16)
    assert torch.equal(test[3][0], ShapesDataset(16, 24, seed=0, split="test")[3][0])