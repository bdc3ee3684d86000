"""Human-readable class names for the datasets the explorer knows.

ImageNet's 1000 names ship inside torchvision (the weights' metadata), so nothing is downloaded.
A spec describes an architecture, not a dataset, so names for a spec are a best guess from its
head and input; pass ``dataset=`` or ``names=`` when you know better.
"""

from __future__ import annotations

from typing import Sequence

from explorer.nets.spec import NetSpec
from explorer.nets.presets import PRESETS
from explorer.data.registry import CIFAR10_CLASSES as CIFAR10  # noqa: F401  (re-exported)
from explorer.data.registry import DATASETS
from explorer.data.registry import dataset as registry


def dataset_classes(dataset: str) -> tuple[str, ...]:
    """Class names of a dataset in the registry (``explorer.data.registry.DATASETS``)."""
    return registry(dataset).classes


def guess_dataset(spec: NetSpec) -> str | None:
    """The dataset a network's head and input most likely belong to, or ``None``."""
    if spec.num_classes == 1000 and spec.in_channels == 3:
        return "imagenet"
    if spec.num_classes == 10:
        return "fashion-mnist" if spec.in_channels == 1 else "cifar10"
    if spec.num_classes == DATASETS["shapes"].num_classes and spec.in_channels == 3:
        return "shapes"
    return None


def classes_for(spec: NetSpec, dataset: str | None = None) -> tuple[str, ...]:
    """Class names for ``spec``'s head: the dataset's when they fit, else ``class 0``…"""
    dataset = dataset or guess_dataset(spec)
    names = dataset_classes(dataset) if dataset else ()
    if len(names) != spec.num_classes:
        names = tuple(f"class {i}" for i in range(spec.num_classes))
    return names


def domain_warning(dataset: str | None, photos: int, shapes: int, photo_weights_hint: str = ""
                   ) -> str | None:
    """Say so when weights' classes cannot describe the images shown (rules, not guesses).

    Args:
        dataset: what the weights learned (``shapes``, ``imagenet``) or ``None``.
        photos, shapes: how many photos (or uploads) and synthetic shapes are shown.
        photo_weights_hint: where to find weights for photos, appended to the warning.
    """
    if dataset == "shapes" and photos:
        return ("These weights know only the synthetic shapes' classes, so for any other image "
                "their answer just says which shape it resembles most." +
                (f" {photo_weights_hint}" if photo_weights_hint else ""))
    if dataset == "imagenet" and shapes:
        return ("ImageNet's 1000 classes contain no plain geometric shapes, so for the synthetic "
                "images the top classes are only the nearest objects it knows.")
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
