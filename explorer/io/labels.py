"""Human-readable class names for the datasets the explorer knows.

ImageNet's 1000 names ship inside torchvision (the weights' metadata), so nothing is downloaded.
A spec describes an architecture, not a dataset, so names for a spec are a best guess from its
head and input; pass ``dataset=`` or ``names=`` when you know better.
"""

from __future__ import annotations

import functools
from typing import Sequence

from explorer.nets.spec import PRESETS, NetSpec

CIFAR10 = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
FASHION_MNIST = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
    "Ankle boot",
)
DATASETS = ("imagenet", "cifar10", "fashion-mnist", "shapes")


@functools.lru_cache(maxsize=1)
def imagenet_classes() -> tuple[str, ...]:
    """The 1000 ImageNet-1k category names, in torchvision's class-index order."""
    from torchvision.models import ResNet18_Weights  # lazy: only needed for ImageNet heads

    return tuple(ResNet18_Weights.IMAGENET1K_V1.meta["categories"])


def shapes_classes() -> tuple[str, ...]:
    """The synthetic shapes dataset's classes (`explorer.training.shapes.CLASSES`)."""
    from explorer.training.shapes import CLASSES  # lazy: the dataset module is heavier than a list of names

    return tuple(CLASSES)


def dataset_classes(dataset: str) -> tuple[str, ...]:
    """Class names of a dataset: ``imagenet``, ``cifar10``, ``fashion-mnist`` or ``shapes``."""
    if dataset == "imagenet":
        return imagenet_classes()
    if dataset == "cifar10":
        return CIFAR10
    if dataset == "fashion-mnist":
        return FASHION_MNIST
    if dataset == "shapes":
        return shapes_classes()
    raise ValueError(f"Unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}.")


def guess_dataset(spec: NetSpec) -> str | None:
    """The dataset a network's head and input most likely belong to, or ``None``."""
    if spec.num_classes == 1000 and spec.in_channels == 3:
        return "imagenet"
    if spec.num_classes == 10:
        return "fashion-mnist" if spec.in_channels == 1 else "cifar10"
    if spec.num_classes == len(shapes_classes()) and spec.in_channels == 3:
        return "shapes"
    return None


def class_names(
    spec_or_name: NetSpec | str,
    names: Sequence[str] | None = None,
    dataset: str | None = None,
) -> list[str]:
    """One name per output class.

    Args:
        spec_or_name: a `NetSpec`, a preset name (``resnet50``) or a dataset name (``cifar10``).
        names: explicit names (e.g. from a training run); checked against the spec's head.
        dataset: force a dataset instead of guessing from the spec.

    Returns:
        A list of ``num_classes`` names; ``class 0``, ``class 1``... when nothing fits.
    """
    if isinstance(spec_or_name, str) and spec_or_name not in PRESETS:
        if names is not None or dataset is not None:
            raise ValueError("Give either a dataset name or a spec with names/dataset, not both.")
        return list(dataset_classes(spec_or_name))
    spec = PRESETS[spec_or_name] if isinstance(spec_or_name, str) else spec_or_name
    if names is not None:
        chosen = tuple(str(n) for n in names)
    else:
        dataset = dataset or guess_dataset(spec)
        chosen = dataset_classes(dataset) if dataset else ()
        if not chosen:
            return [f"class {i}" for i in range(spec.num_classes)]
    if len(chosen) != spec.num_classes:
        raise ValueError(f"The network has {spec.num_classes} classes but {len(chosen)} names "
                         f"were given.")
    return list(chosen)
