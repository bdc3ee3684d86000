"""The one registry of datasets: every fact about a dataset is spelled here and nowhere else.

``DATASETS[name]`` is a :class:`DatasetInfo`: its channels, classes and their names, native image
size, normalisation, whether it works offline (or how big its download is). The registry is data;
`explorer.data.splits` makes the datasets. The synthetic shapes set is rendered on the fly
(offline, instant); CIFAR-10 and Fashion-MNIST come from torchvision and are downloaded only when asked. ImageNet is
listed for its class names (shipped inside torchvision's weight metadata); it cannot be trained on
here. Importing this module costs no torch.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

SHAPES_CLASSES = ("circle", "square", "triangle", "cross", "star", "ring", "heart", "crescent")
# Per-channel mean/std of pixels in [0, 1] over 20 000 train images (seed 0, 32 px), measured by
# `python -m explorer.data.shapes`. Shipped checkpoints were trained with these: never change.
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
