"""A network and its plain twin, with where their weights came from: one type, one loader.

Every analysis that compares a residual net with its plain twin (Grad-CAM, gradient flow, the
"why skips work" analyses, the command line) takes a `Twins`. Its weights come from one of:

- ``shipped``: a checkpoint committed with the app (offline), and its shipped twin if any;
- ``random``: the spec's seeded initialisation, and the same seed with the skips toggled;
- ``upload``: the user's checkpoint for a spec, or the Training page's zip (with its twin);
- ``torchvision``: torchvision's pretrained ImageNet weights (downloaded when asked; no twin);
- ``session``: a pair trained in this session (`explorer.training.handover`).

Shipped and pretrained weights never change, so one loaded copy may serve every session; whoever
hooks such a model holds `Twins.lock` (see the architecture document's shared-server rules).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Literal

from torch import nn

from explorer.budget import check_fits
from explorer.io.bundle import is_bundle, read_bundle
from explorer.io.checkpoints import apply_checkpoint, headline, load_checkpoint, looks_like
from explorer.io.labels import classes_for
from explorer.io.weights import load_shipped, pretrained_torchvision, shipped_checkpoints, twin_of
from explorer.nets.model import build
from explorer.nets.spec import NetSpec
from explorer.units import pct

Source = Literal["shipped", "random", "upload", "torchvision", "session"]


@dataclass
class Twins:
    """A network (``model``) and its twin with the skips toggled (``None`` when there is none).

    ``normalization`` and ``classes`` are those of the data the weights learned; ``dataset``
    names it (``shapes``, ``imagenet``) or is ``None`` when the classes mean nothing.
    """

    model: nn.Module
    spec: NetSpec
    source: Source
    description: str  # markdown, for the page: what these weights are
    twin: nn.Module | None = None
    normalization: str | tuple = "imagenet"  # a preprocess name, or (mean, std)
    classes: tuple[str, ...] = ()
    dataset: str | None = None
    checkpoint: str | None = None  # the folder(s) or file the weights came from
    seed: int = 0
    # Which weights these are, the same in every session that loads them (results computed from
    # them can be shared); None: a session's own.
    key: tuple | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)
    _init: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def trained(self) -> bool:
        return self.source != "random"

    @property
    def residual(self) -> nn.Module:
        return self.model if self.spec.skip or self.twin is None else self.twin

    @property
    def plain(self) -> nn.Module | None:
        if self.twin is None:
            return None if self.spec.skip else self.model
        return self.twin if self.spec.skip else self.model

    @property
    def residual_spec(self) -> NetSpec:
        return self.residual.spec

    def nets(self) -> dict[str, nn.Module]:
        """``{"residual": ..., "plain": ...}``, the plain one only when there is one."""
        found = {"residual": self.residual}
        if self.plain is not None and self.plain is not self.residual:
            found["plain"] = self.plain
        return found


    def init_nets(self, device) -> dict[str, nn.Module]:
        """The same architectures at random init (seed ``self.seed``), built once, for contrast."""
        if not self._init:
            for name, model in self.nets().items():
                self._init[name] = build(model.spec, self.seed, device).eval()
        return self._init


class CheckpointMismatch(ValueError):
    """Uploaded weights that do not fit the chosen network, with what they look like."""

    def __init__(self, sentence: str, details: str, preset: str | None, classes: int | None):
        super().__init__(sentence)
        self.sentence, self.details, self.preset, self.classes = sentence, details, preset, classes


def shipped_twins(name: str, device="cpu") -> Twins:
    """A shipped checkpoint and its shipped twin (if any), in eval mode."""
    model, spec = load_shipped(name, device)
    twin_name = twin_of(name)
    twin = load_shipped(twin_name, device)[0] if twin_name else None
    accuracy = shipped_checkpoints()[name].accuracy
    acc = f", {accuracy:.1%} held-out accuracy" if accuracy is not None else ""
    folders = ", ".join(f"checkpoints/{n}" for n in (name, twin_name) if n)
    return Twins(model, spec, "shipped",
                 f"shipped checkpoint{'s' * bool(twin_name)} **{folders}** (trained on "
                 f"synthetic shapes{acc})", twin,
                 "shapes", classes_for(spec, "shapes"), "shapes", folders,
                 key=("shipped", name, str(device)))


def random_twins(spec: NetSpec, seed: int = 0, device="cpu") -> Twins:
    """``spec`` at its seeded initialisation, and the same seed with the skips toggled."""
    check_fits(spec, 1, device)
    model = build(spec, seed, device).eval()
    try:
        twin = build(spec.replace(skip=not spec.skip), seed, device).eval()
    except ValueError:  # e.g. a shape-changing stage that only a shortcut can bridge
        twin = None
    return Twins(model, spec, "random",
                 f"**random weights** (seed {seed}): untrained, so they show the architecture, "
                 f"not learning", twin, "imagenet", classes_for(spec), seed=seed)


def torchvision_twins(preset_name: str, spec: NetSpec, device="cpu") -> Twins:
    """torchvision's pretrained ImageNet weights for a preset (downloaded once; no twin)."""
    model = pretrained_torchvision(preset_name, device)
    return Twins(model, spec, "torchvision",
                 f"torchvision's pretrained **{preset_name}** (ImageNet)", None, "imagenet",
                 classes_for(spec, "imagenet"), "imagenet", f"torchvision {preset_name}",
                 key=("torchvision", preset_name, str(device)))


def uploaded_twins(data: bytes, filename: str, spec: NetSpec, seed: int = 0,
                   device="cpu") -> Twins:
    """The user's file: the Training page's zip (its own nets, with the twin), or a checkpoint
    for ``spec``.

    Raises:
        CheckpointMismatch: a checkpoint that does not fit ``spec`` (with what it looks like).
        ValueError: a damaged or refused file, or a network over the memory budget.
    """
    if is_bundle(filename):
        return _from_bundle(data, filename, device)
    check_fits(spec, 1, device)
    state_dict, report = load_checkpoint(data, spec, filename)
    if not report.ok:
        guess = looks_like(state_dict)
        preset, _, classes = (guess or "").partition(" with ")
        raise CheckpointMismatch(headline(report, state_dict), report.summary(), preset or None,
                                 int(classes.split()[0]) if classes else None)
    model = apply_checkpoint(build(spec, seed), state_dict).to(device).eval()
    return Twins(model, spec, "upload", "your uploaded checkpoint", None, "imagenet",
                 classes_for(spec), checkpoint=filename, seed=seed)


def _from_bundle(data: bytes, filename: str, device) -> Twins:
    """The nets of a Training-page zip, with the facts of the dataset they learned."""
    nets = read_bundle(data)
    main = nets[0]
    check_fits(main.spec, 1, device)
    model = apply_checkpoint(build(main.spec), main.state_dict).to(device).eval()
    twin = next((n for n in nets[1:] if n.spec == main.spec.replace(skip=not main.spec.skip)),
                None)
    twin_model = (apply_checkpoint(build(twin.spec), twin.state_dict).to(device).eval()
                  if twin else None)
    accuracy = main.metrics.get("val_accuracy")
    held_out = f", {pct(accuracy)} held-out accuracy" if isinstance(accuracy, float) else ""
    early = ", stopped early" if main.metrics.get("stopped_early") else ""
    dataset = main.metrics.get("dataset")
    return Twins(model, main.spec, "upload",
                 f"your uploaded trained **{main.folder}** net ({dataset or '?'}{held_out}{early})",
                 twin_model, main.normalization, main.classes or classes_for(main.spec),
                 dataset if isinstance(dataset, str) else None, filename)
