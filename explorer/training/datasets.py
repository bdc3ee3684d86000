"""The one registry of datasets: every fact about a dataset is spelled here and nowhere else.

``DATASETS[name]`` is a :class:`DatasetInfo`: its channels, classes and their names, native image
size, normalisation, whether it works offline (or how big its download is), and a factory for its
train/val/test splits. The synthetic shapes set is rendered on the fly (offline, instant);
CIFAR-10 and Fashion-MNIST come from torchvision and are downloaded only when asked. ImageNet is
listed for its class names (shipped inside torchvision's weight metadata); it cannot be trained on
here. Importing this module costs no torch.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from torch.utils.data import Dataset

    from explorer.training.config import TrainConfig

SHAPES_CLASSES = ("circle", "square", "triangle", "cross", "star", "ring", "heart", "crescent")
# Per-channel mean/std of pixels in [0, 1] over 20 000 train images (seed 0, 32 px), measured by
# `python -m explorer.training.shapes`. Shipped checkpoints were trained with these: never change.
SHAPES_MEAN = (0.4982, 0.5013, 0.4997)
SHAPES_STD = (0.2857, 0.2854, 0.2849)
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse",
                   "ship", "truck")
FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                         "Sneaker", "Bag", "Ankle boot")
DATA_ROOT = Path(os.environ.get("RESNET_EXPLORER_DATA",
                                Path.home() / ".cache" / "resnet-explorer" / "data"))


@functools.lru_cache(maxsize=1)
def _imagenet_classes() -> tuple[str, ...]:
    from torchvision.models import ResNet18_Weights  # lazy: only ImageNet heads need it

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


@dataclass(frozen=True)
class DatasetInfo:
    """What the app and the command line need to know about one dataset."""

    name: str
    title: str  # how the UI names it
    channels: int
    num_classes: int
    native_size: int
    mean: tuple[float, ...]
    std: tuple[float, ...]
    download_mb: int | None  # None: works offline, nothing to download
    trainable: bool = True
    torchvision_class: str | None = None
    _classes: tuple[str, ...] | Callable[[], tuple[str, ...]] = ()

    @property
    def offline(self) -> bool:
        return self.download_mb is None

    @property
    def classes(self) -> tuple[str, ...]:
        return self._classes() if callable(self._classes) else self._classes

    @property
    def normalization(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        return self.mean, self.std

    @property
    def chance(self) -> float:
        return 1 / self.num_classes

    def describe(self) -> str:
        """e.g. ``CIFAR-10 (170 MB download)`` or ``synthetic shapes (offline, instant)``."""
        return self.title + (" (offline, instant)" if self.offline
                             else f" ({self.download_mb} MB download)")

    def splits(self, config: "TrainConfig", image_size: int,
               download: bool = False) -> tuple["Dataset", "Dataset", "Dataset"]:
        """Train, val and test sets of the sizes ``config`` asks for, at ``image_size`` px.

        torchvision sets have no validation split: val is the head of their test split.

        Raises:
            ValueError: the dataset cannot be trained on, or its files are missing/unreachable.
        """
        if not self.trainable:
            raise ValueError(f"{self.title} can not be trained on here.")
        if self.name == "shapes":
            from explorer.training.shapes import ShapesDataset

            return (ShapesDataset(config.train_size, image_size, config.seed, "train"),
                    ShapesDataset(config.val_size, image_size, config.seed, "val"),
                    ShapesDataset(config.test_size, image_size, config.seed, "test"))
        from torch.utils.data import Subset

        train = self._torchvision(True, download, image_size)
        test = self._torchvision(False, download, image_size)
        return (Subset(train, range(min(config.train_size, len(train)))),
                Subset(test, range(min(config.val_size, len(test)))),
                Subset(test, range(min(config.test_size, len(test)))))

    def _torchvision(self, train: bool, download: bool, image_size: int) -> "Dataset":
        import torchvision
        from torchvision import transforms

        steps = [] if image_size == self.native_size else [transforms.Resize(image_size)]
        steps += [transforms.ToTensor(), transforms.Normalize(self.mean, self.std)]
        try:
            return getattr(torchvision.datasets, self.torchvision_class)(
                str(DATA_ROOT), train=train, download=download,
                transform=transforms.Compose(steps))
        except (RuntimeError, OSError) as exc:  # OSError: URLError and friends (offline, disk)
            if download:
                raise ValueError(f"Could not download {self.title} into {DATA_ROOT}: {exc}") from None
            raise ValueError(f"{self.title} is not in {DATA_ROOT}. Tick “download” (needs "
                             f"internet) or use the synthetic shapes, which work offline.") from None


DATASETS: dict[str, DatasetInfo] = {
    "shapes": DatasetInfo("shapes", "synthetic shapes", 3, len(SHAPES_CLASSES), 32, SHAPES_MEAN,
                          SHAPES_STD, None, _classes=SHAPES_CLASSES),
    "cifar10": DatasetInfo("cifar10", "CIFAR-10", 3, 10, 32, (0.4914, 0.4822, 0.4465),
                           (0.2470, 0.2435, 0.2616), 170, torchvision_class="CIFAR10",
                           _classes=CIFAR10_CLASSES),
    "fashion-mnist": DatasetInfo("fashion-mnist", "Fashion-MNIST", 1, 10, 28, (0.2860,),
                                 (0.3530,), 30, torchvision_class="FashionMNIST",
                                 _classes=FASHION_MNIST_CLASSES),
    "imagenet": DatasetInfo("imagenet", "ImageNet", 3, 1000, 224, (0.485, 0.456, 0.406),
                            (0.229, 0.224, 0.225), None, trainable=False,
                            _classes=_imagenet_classes),
}
TRAINABLE = tuple(name for name, info in DATASETS.items() if info.trainable)


def dataset(name: str) -> DatasetInfo:
    """The registry entry for ``name``, or a ValueError naming the choices."""
    if name not in DATASETS:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(DATASETS)}.")
    return DATASETS[name]
