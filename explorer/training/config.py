"""``TrainConfig``: one training run's settings, passed whole from the page, the CLI and the job
into the result and the saved checkpoint's metadata. Its defaults are the page's and the CLI's.

The defaults were chosen by measurement on a 2-core CPU (see README "Training"): a twin run of
ResNet-20-sized networks on the synthetic shapes reaches ≥ 80 % held-out accuracy in a few
minutes. Importing this module costs no torch.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from explorer.data.registry import DATASETS, TRAINABLE
from explorer.devices import DEVICE_CHOICES

if TYPE_CHECKING:
    from explorer.nets.spec import NetSpec

TAIL_STEPS = 50  # a run's final training loss is the mean over its last steps

LIMITS = {  # field: (lowest, highest, what the user calls it)
    "train_size": (8, 1_000_000, "Training images"),
    "val_size": (1, 100_000, "Held-out images"),
    "test_size": (1, 100_000, "Test images"),
    "epochs": (1, 1000, "Epochs"),
    "batch_size": (1, 4096, "Batch size"),
    "seed": (0, 2**31 - 1, "Seed"),
}


@dataclass(frozen=True)
class TrainConfig:
    """How to train: data, schedule, optimiser, seed, twin, device.

    Attributes:
        dataset: a trainable name in ``explorer.data.registry.DATASETS``.
        image_size: pixels per side; ``None`` means the dataset's native size.
        train_size, val_size, test_size: images in each split (val: after every epoch; test:
            once at the end, never seen in training).
        epochs, batch_size: each epoch takes ``train_size // batch_size`` full batches.
        lr: the peak learning rate of SGD with ``momentum`` and ``weight_decay``.
        warmup_epochs: linear warm-up length, in epochs (at most a fifth of the run); then
            cosine decay to zero.
        seed: initial weights, shuffling and the synthetic data.
        twin: also train the plain (skip-free) twin from identical weights, in lockstep.
        device: ``auto``, ``cpu`` or ``cuda``.
        amp: mixed precision and channels_last on CUDA (ignored on the CPU).
    """

    dataset: str = "shapes"
    image_size: int | None = None
    train_size: int = 12_000
    val_size: int = 1000
    test_size: int = 2000
    epochs: int = 2
    batch_size: int = 32
    lr: float = 0.02
    warmup_epochs: float = 1.0
    weight_decay: float = 5e-4
    momentum: float = 0.9
    seed: int = 0
    twin: bool = True
    device: str = "auto"
    amp: bool = True

    def __post_init__(self) -> None:
        if self.dataset not in TRAINABLE:
            raise ValueError(f"Dataset must be one of {', '.join(TRAINABLE)}, "
                             f"got {self.dataset!r}.")
        for name, (low, high, label) in LIMITS.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{label} must be a whole number from {low:,} to {high:,}, "
                                 f"got {value!r}.")
        if self.image_size is not None and not (isinstance(self.image_size, int)
                                                and 8 <= self.image_size <= 1024):
            raise ValueError(f"Image size must be a whole number from 8 to 1,024, "
                             f"got {self.image_size!r}.")
        if self.batch_size > self.train_size:
            raise ValueError(f"Batch size ({self.batch_size}) must not exceed the training "
                             f"images ({self.train_size}).")
        for name, label, low, high in (("lr", "Peak learning rate", 1e-6, 10.0),
                                       ("weight_decay", "Weight decay", 0.0, 1.0),
                                       ("momentum", "Momentum", 0.0, 0.999),
                                       ("warmup_epochs", "Warm-up", 0.0, 1000.0)):
            value = getattr(self, name)
            if not (isinstance(value, (int, float)) and math.isfinite(value)
                    and low <= value <= high):
                raise ValueError(f"{label} must be a number from {low:g} to {high:g}, "
                                 f"got {value!r}.")
        if self.device not in DEVICE_CHOICES:
            raise ValueError(f"Device must be {', '.join(DEVICE_CHOICES[:-1])} or "
                             f"{DEVICE_CHOICES[-1]}, got {self.device!r}.")

    def schedule(self, images: int | None = None) -> tuple[int, int, int]:
        """(steps per epoch, total steps, warm-up steps) for ``images`` training images
        (default ``train_size``). Warm-up: ``warmup_epochs`` epochs, at most a fifth of the run,
        at least one step."""
        per_epoch = max(1, (self.train_size if images is None else images) // self.batch_size)
        total = self.epochs * per_epoch
        return per_epoch, total, max(1, min(round(self.warmup_epochs * per_epoch), total // 5))

    @property
    def steps_per_epoch(self) -> int:
        return self.schedule()[0]

    @property
    def total_steps(self) -> int:
        return self.schedule()[1]

    @property
    def warmup_steps(self) -> int:
        return self.schedule()[2]

    def resolved_image_size(self) -> int:
        return self.image_size or DATASETS[self.dataset].native_size

    def fit(self, spec: "NetSpec") -> "NetSpec":
        """``spec`` adapted to this run's dataset: its channels, classes and image size."""
        info = DATASETS[self.dataset]
        return spec.replace(in_channels=info.channels, num_classes=info.num_classes,
                            image_size=self.resolved_image_size())

    def splits(self, image_size: int, download: bool = False):
        """Train, val and test sets of this run's sizes at ``image_size`` px
        (`explorer.data.splits.splits`)."""
        from explorer.data.splits import splits

        return splits(self.dataset, (self.train_size, self.val_size, self.test_size), self.seed,
                      image_size, download)

    def replace(self, **changes: Any) -> "TrainConfig":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "TrainConfig":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"Unknown training setting(s): {', '.join(unknown)}.")
        return cls(**data)

    def command(self, preset: str | None = None, out: str = "OUT", spec_flags: str = "",
                extra: str = "", explicit: bool = False) -> str:
        """The ``python -m explorer train`` command that reproduces this config.

        Args:
            preset: adds ``--preset``.
            out: the ``--out`` folder.
            spec_flags: the network's own flags (``--layers 9,9,9``), spelled by the caller.
            extra: flags that are not settings of the run (``--download``, ``--threads 2``).
            explicit: spell out every setting, not only those that differ from the defaults.
        """
        parts = ["python -m explorer train"] + [f"--preset {preset}"] * bool(preset)
        parts += [spec_flags] * bool(spec_flags)
        default = TrainConfig()
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None or (value == getattr(default, field.name) and not explicit):
                continue
            flag = field.name.replace("_", "-")
            if isinstance(value, bool):
                parts.append(f"--{flag}" if value else f"--no-{flag}")
            else:
                parts.append(f"--{flag} {value}")
        return " ".join(parts + [extra] * bool(extra) + [f"--out {out}"])
