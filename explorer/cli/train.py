"""``python -m explorer train``: train a preset on a dataset and save checkpoints with metrics.

Example (the shipped ResNet-20 pair)::

    python -m explorer train --preset resnet20 --dataset shapes --epochs 2 --twin \\
        --out checkpoints/resnet20

writes ``checkpoints/resnet20/`` and, for the plain twin, ``checkpoints/resnet20-plain/``: each
``model.safetensors`` + ``spec.json`` (see ``explorer.io.checkpoints``) + ``metrics.json`` with the
reproducing command and the accuracy on a fresh seeded test split.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

import torch
from torch.utils.data import Dataset, Subset

from explorer.io.checkpoints import save_checkpoint
from explorer.training.shapes import CLASSES, ShapesDataset
from explorer.training.torchvision_data import TORCHVISION, torchvision_dataset
from explorer.devices import resolve_device
from explorer.nets.spec import NetSpec, preset
from explorer.training.train import ProgressEvent, evaluate, train

CHECK_SIZE = 500  # metrics.json also records accuracy on this many test images, for the tests
NATIVE = {"shapes": (3, len(CLASSES), 32), "cifar10": (3, 10, 32), "fashion-mnist": (1, 10, 28)}
OPTIONS = ("preset", "dataset", "epochs", "batch_size", "lr", "weight_decay", "seed",
           "train_size", "val_size", "test_size", "image_size")


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}")


def add_parsers(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register the ``train`` subcommand on ``python -m explorer``'s subparsers."""
    p = commands.add_parser("train", help="train a network and save a checkpoint")
    p.add_argument("--preset", default="resnet20", help="architecture to start from")
    p.add_argument("--layers", type=_int_list, help="blocks per stage, e.g. 9,9,9")
    p.add_argument("--base-width", type=int)
    p.add_argument("--skip", action=argparse.BooleanOptionalAction, default=None)
    p.add_argument("--dataset", choices=tuple(NATIVE), default="shapes")
    p.add_argument("--data-root", default=".cache/data", help="torchvision datasets' folder")
    p.add_argument("--download", action="store_true", help="fetch a torchvision dataset")
    p.add_argument("--image-size", type=int, help="default: the dataset's own (shapes: 32)")
    p.add_argument("--epochs", type=int, required=True)
    p.add_argument("--out", required=True, help="checkpoint folder (a twin adds DIR-plain)")
    p.add_argument("--twin", action="store_true", help="also train the plain (no-skip) twin")
    p.add_argument("--batch-size", type=int, default=128)
    p.add_argument("--lr", type=float, default=0.1)
    p.add_argument("--weight-decay", type=float, default=5e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-size", type=int, default=20_000, help="shapes: images per epoch")
    p.add_argument("--val-size", type=int, default=1000)
    p.add_argument("--test-size", type=int, default=2000)
    p.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    p.set_defaults(run=run)
    return p


def command_line(args: argparse.Namespace) -> str:
    """The explicit command that reproduces a run (every option spelled out)."""
    parts = ["python -m explorer train"]
    for name in OPTIONS:
        value = getattr(args, name)
        if value is not None:
            parts.append(f"--{name.replace('_', '-')} {value}")
    if args.layers:
        parts.append("--layers " + ",".join(map(str, args.layers)))
    if args.base_width:
        parts.append(f"--base-width {args.base_width}")
    if args.skip is not None:
        parts.append("--skip" if args.skip else "--no-skip")
    parts += ["--twin"] * args.twin + [f"--out {shlex.quote(str(args.out))}"]
    return " ".join(parts)


def make_spec(args: argparse.Namespace) -> NetSpec:
    channels, classes, size = NATIVE[args.dataset]
    changes = {"in_channels": channels, "num_classes": classes,
               "image_size": args.image_size or size}
    for key in ("layers", "base_width", "skip"):
        if getattr(args, key) is not None:
            changes[key] = getattr(args, key)
    return preset(args.preset).replace(**changes)


def make_datasets(args: argparse.Namespace, size: int) -> tuple[Dataset, Dataset, Dataset]:
    """Train, val and test sets. torchvision sets: val is the head of the test split."""
    if args.dataset == "shapes":
        return (ShapesDataset(args.train_size, size, args.seed, "train"),
                ShapesDataset(args.val_size, size, args.seed, "val"),
                ShapesDataset(args.test_size, size, args.seed, "test"))
    resize = None if size == NATIVE[args.dataset][2] else size
    train_set = torchvision_dataset(args.dataset, args.data_root, True, args.download, resize)
    test_set = torchvision_dataset(args.dataset, args.data_root, False, args.download, resize)
    train_set = Subset(train_set, range(min(args.train_size, len(train_set))))
    return (train_set, Subset(test_set, range(min(args.val_size, len(test_set)))),
            Subset(test_set, range(min(args.test_size, len(test_set)))))


def _print_progress(event: ProgressEvent) -> None:
    if event.kind == "epoch":
        val = "" if event.val_accuracy is None else f" val acc {event.val_accuracy:.3f}"
        print(f"[{event.variant}] epoch {event.epoch}/{event.epochs} loss {event.loss:.3f} "
              f"train acc {event.accuracy:.3f}{val} {event.images_per_s:.0f} img/s", flush=True)
    elif event.step % 50 == 0:
        print(f"[{event.variant}] step {event.step}/{event.total_steps} loss {event.loss:.3f} "
              f"lr {event.lr:.4f} eta {event.eta_s:.0f}s", flush=True)


def run(args: argparse.Namespace) -> int:
    """Handle ``python -m explorer train``; returns the exit status."""
    try:
        spec = make_spec(args)
        device = resolve_device(args.device)
        train_set, val_set, test_set = make_datasets(args, spec.image_size)
    except (ValueError, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    started = time.time()
    result = train(spec, train_set, args.epochs, args.batch_size, args.lr, args.seed, device,
                   on_progress=_print_progress, val_dataset=val_set, twin=args.twin,
                   weight_decay=args.weight_decay)
    for name, model in result.models.items():
        out = Path(args.out if name == next(iter(result.models)) else f"{args.out}-{name}")
        save_checkpoint(model, result.specs[name], out)
        metrics = _metrics(args, name, result, model, val_set, test_set, time.time() - started)
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
        print(f"[{name}] test accuracy {metrics['test_accuracy']:.4f} -> {out}")
    return 0


def _metrics(args, name, result, model, val_set, test_set, seconds) -> dict:
    history = result.histories[name]
    check = Subset(test_set, range(min(CHECK_SIZE, len(test_set))))
    return {
        "variant": name,
        "command": command_line(args),
        "dataset": args.dataset,
        "image_size": result.specs[name].image_size,
        "depth": result.specs[name].depth,
        "params": sum(p.numel() for p in model.parameters()),
        "test_accuracy": evaluate(model, test_set),
        "test_size": len(test_set),
        "seed": args.seed,
        "test_split": f"{args.dataset} test split, seed {args.seed}",
        "check_accuracy": evaluate(model, check),
        "check_size": len(check),
        "val_accuracy": evaluate(model, val_set),
        "final_train_loss": history.epochs[-1]["loss"] if history.epochs else None,
        "final_train_accuracy": history.epochs[-1]["train_accuracy"] if history.epochs else None,
        "train_seconds": round(seconds, 1),
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        "device": str(result.config["device"]),
        "config": result.config,
        "epochs_history": history.epochs,
    }
