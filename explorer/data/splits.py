"""Train, val and test datasets for a registry entry: rendered shapes, or torchvision's files."""

from __future__ import annotations

from typing import TYPE_CHECKING

from explorer.data.registry import DATA_ROOT, DatasetInfo, dataset

if TYPE_CHECKING:
    from torch.utils.data import Dataset


def splits(name: str, sizes: tuple[int, int, int], seed: int, image_size: int,
           download: bool = False) -> tuple["Dataset", "Dataset", "Dataset"]:
    """Train, val and test sets of ``sizes`` images each, at ``image_size`` px.

    torchvision sets have no validation split: val is the head of their test split.

    Raises:
        ValueError: the dataset cannot be trained on, or its files are missing/unreachable.
    """
    info = dataset(name)
    if not info.trainable:
        raise ValueError(f"{info.title} can not be trained on here.")
    train_size, val_size, test_size = sizes
    if info.name == "shapes":
        from explorer.data.shapes import ShapesDataset

        return (ShapesDataset(train_size, image_size, seed, "train"),
                ShapesDataset(val_size, image_size, seed, "val"),
                ShapesDataset(test_size, image_size, seed, "test"))
    from torch.utils.data import Subset

    train = _torchvision(info, True, download, image_size)
    test = _torchvision(info, False, download, image_size)
    return (Subset(train, range(min(train_size, len(train)))),
            Subset(test, range(min(val_size, len(test)))),
            Subset(test, range(min(test_size, len(test)))))


def _torchvision(info: DatasetInfo, train: bool, download: bool, image_size: int) -> "Dataset":
    import torchvision
    from torchvision import transforms

    steps = [] if image_size == info.native_size else [transforms.Resize(image_size)]
    steps += [transforms.ToTensor(), transforms.Normalize(info.mean, info.std)]
    try:
        return getattr(torchvision.datasets, info.torchvision_class)(
            str(DATA_ROOT), train=train, download=download, transform=transforms.Compose(steps))
    except (RuntimeError, OSError) as exc:  # OSError: URLError and friends (offline, disk)
        if download:
            raise ValueError(f"Could not download {info.title} into {DATA_ROOT}: {exc}") from None
        raise ValueError(f"{info.title} is not in {DATA_ROOT}. Tick “download” (needs "
                         f"internet) or use the synthetic shapes, which work offline.") from None
