"""``python -m explorer train``: train a preset on a dataset and save checkpoints with metrics.

Every recipe flag is a field of ``TrainConfig`` with its default, so the command line, the page
and the saved metadata agree. With no flags but ``--out``, ``--preset resnet20`` trains ResNet-20
and its plain twin on the synthetic shapes (a few minutes on a 2-core CPU) and writes
``OUT/`` and ``OUT-plain/``: ``model.safetensors``, ``spec.json``, ``metrics.json`` (test accuracy,
the reproducing command, the config) and ``history.json`` (every step's loss, every epoch).
"""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys

from explorer.cli.main import add_design_flags, design_changes, design_flags, int_list
from explorer.training.config import TrainConfig
from explorer.data.registry import TRAINABLE
from explorer.devices import DEVICE_CHOICES

CHOICES = {"dataset": TRAINABLE, "device": DEVICE_CHOICES}
HELP = {"train_size": "images per epoch", "val_size": "held-out images evaluated after each epoch",
        "test_size": "images of the test split measured at the end", "lr": "peak learning rate",
        "warmup_epochs": "linear warm-up, in epochs (at most a fifth of the run)",
        "twin": "also train the plain (no-skip) twin from the same weights",
        "amp": "mixed precision + channels_last on CUDA", "image_size": "default: the dataset's"}


def add_parsers(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("train", help="train a network (and its plain twin) and save it")
    p.add_argument("--preset", default="resnet20", help="architecture to start from")
    p.add_argument("--layers", type=int_list, help="blocks per stage, e.g. 9,9,9")
    p.add_argument("--base-width", type=int)
    p.add_argument("--skip", action=argparse.BooleanOptionalAction, default=None,
                   help="the main net's skips (default: the preset's)")
    add_design_flags(p)  # --spec FILE, --order, --skip-design, --skip-scale, --gate-bias
    defaults = TrainConfig()
    for field in dataclasses.fields(TrainConfig):
        flag, default = "--" + field.name.replace("_", "-"), getattr(defaults, field.name)
        help_text = HELP.get(field.name, "") + f" (default {default})"
        if isinstance(default, bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                           help=help_text)
        else:
            kind = {"lr": float, "warmup_epochs": float, "weight_decay": float,
                    "momentum": float, "dataset": str, "device": str}.get(field.name, int)
            p.add_argument(flag, type=kind, default=default, choices=CHOICES.get(field.name),
                           help=help_text)
    p.add_argument("--download", action="store_true", help="fetch a torchvision dataset")
    p.add_argument("--threads", type=int, help="torch CPU threads (bit-exact reruns need the same)")
    p.add_argument("--out", required=True, help="checkpoint folder (a twin adds OUT-plain)")
    p.set_defaults(run=run)


def config_from_args(args: argparse.Namespace) -> TrainConfig:
    return TrainConfig(**{f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)})


def command_line(args: argparse.Namespace) -> str:
    """The explicit command that reproduces a run: every option spelled out."""
    spec_flags = []
    if args.layers:
        spec_flags.append("--layers " + ",".join(map(str, args.layers)))
    if args.base_width:
        spec_flags.append(f"--base-width {args.base_width}")
    if args.skip is not None:
        spec_flags.append("--skip" if args.skip else "--no-skip")
    spec_flags += design_flags(args)
    extra = ["--download"] * args.download + [f"--threads {args.threads}"] * bool(args.threads)
    return config_from_args(args).command(args.preset, shlex.quote(str(args.out)),
                                          " ".join(spec_flags), " ".join(extra), explicit=True)


def run(args: argparse.Namespace) -> int:
    """Handle ``python -m explorer train``; returns the exit status."""
    from explorer.training.runner import print_progress, spec_for, train_and_save

    try:
        config = config_from_args(args)
        changes = dict(layers=args.layers, base_width=args.base_width, skip=args.skip,
                       **design_changes(args))
        if args.spec:  # a saved network, fitted to the run's dataset like a preset
            from pathlib import Path

            from explorer.nets.spec import NetSpec

            spec = config.fit(NetSpec.from_json(Path(args.spec).read_text())).replace(
                **{k: v for k, v in changes.items() if v is not None})
        else:
            spec = spec_for(args.preset, config, **changes)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    try:
        saved = train_and_save(spec, config, args.out, command=command_line(args),
                               download=args.download, on_progress=print_progress)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for folder, metrics in saved.items():
        print(f"[{metrics['variant']}] test accuracy {metrics['test_accuracy']:.2%} -> {folder}")
    return 0
