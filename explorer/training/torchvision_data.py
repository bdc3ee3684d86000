"""CIFAR-10 and Fashion-MNIST from torchvision, for online users: downloaded only when asked."""

from __future__ import annotations

from pathlib import Path

from torch.utils.data import Dataset


TORCHVISION = {
    # name: (torchvision class, mean, std) with the usual published statistics.
    "cifar10": ("CIFAR10", (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)),
    "fashion-mnist": ("FashionMNIST", (0.2860,), (0.3530,)),
}


def torchvision_dataset(name: str, root: str | Path, train: bool = True, download: bool = False,
                        image_size: int | None = None) -> Dataset:
    """CIFAR-10 or Fashion-MNIST from torchvision, normalised, optionally resized.

    Args:
        name: ``cifar10`` or ``fashion-mnist``.
        root: cache directory holding (or to receive) the files.
        train: the training split, else the test split.
        download: fetch the files when missing. Off by default: nothing is downloaded unless asked.
        image_size: resize to this side (e.g. 96 for the d2l ResNet-18); ``None`` keeps it.

    Raises:
        ValueError: unknown name.
        RuntimeError: the files are missing (and ``download`` is off) or the download failed.
    """
    import torchvision
    from torchvision import transforms

    if name not in TORCHVISION:
        raise ValueError(f"Unknown dataset {name!r}; choose one of {', '.join(TORCHVISION)}.")
    cls_name, mean, std = TORCHVISION[name]
    steps = [transforms.Resize(image_size)] if image_size else []
    steps += [transforms.ToTensor(), transforms.Normalize(mean, std)]
    try:
        return getattr(torchvision.datasets, cls_name)(
            str(root), train=train, download=download, transform=transforms.Compose(steps))
    except (RuntimeError, OSError) as exc:  # OSError: URLError and friends (offline, disk full)
        if download:
            raise RuntimeError(f"Could not download {name} into {root}: {exc}") from exc
        raise RuntimeError(f"{name} is not in {root}. Pass download=True (needs internet) to "
                           f"fetch it, or use the synthetic 'shapes' dataset.") from exc
