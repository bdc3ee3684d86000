"""Command line: ``python -m explorer summary --preset resnet50 [--json]``."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from explorer.cli import train as train_cli
from explorer.nets.spec import NetSpec, preset
from explorer.analysis.tables import stage_table


class _OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's default prints the whole usage
        self.exit(2, f"error: {message}\n")


def _int_list(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}")


def make_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="python -m explorer", description="ResNet Explorer tools.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    summary = commands.add_parser("summary", help="print the stage table of a network")
    summary.add_argument("--preset", help="start from a preset, e.g. resnet50")
    summary.add_argument("--block", choices=("basic", "bottleneck", "d2l"))
    summary.add_argument("--layers", type=_int_list, help="blocks per stage, e.g. 3,4,6,3")
    summary.add_argument("--widths", type=_int_list, help="channels per stage, e.g. 64,128")
    summary.add_argument("--base-width", type=int)
    summary.add_argument("--stem", choices=("imagenet", "cifar"))
    summary.add_argument("--skip", action=argparse.BooleanOptionalAction, default=None)
    summary.add_argument("--shortcut", choices=("A", "B", "C"))
    summary.add_argument("--stride-on", choices=("3x3", "1x1"))
    summary.add_argument("--norm", choices=("batch", "none"))
    summary.add_argument("--in-channels", type=int)
    summary.add_argument("--num-classes", type=int)
    summary.add_argument("--image-size", type=int)
    summary.add_argument("--zero-init-residual", action=argparse.BooleanOptionalAction,
                         default=None)
    summary.add_argument("--batch-size", type=int, default=1)
    summary.add_argument("--json", action="store_true", help="print machine-readable JSON")
    train_cli.add_parser(commands)
    return parser


SPEC_FLAGS = ("block", "layers", "widths", "base_width", "stem", "skip", "shortcut",
              "stride_on", "norm", "in_channels", "num_classes", "image_size",
              "zero_init_residual")


def spec_from_args(args: argparse.Namespace) -> NetSpec:
    base = preset(args.preset) if args.preset else NetSpec()
    changes = {k: getattr(args, k) for k in SPEC_FLAGS if getattr(args, k) is not None}
    return base.replace(**changes)


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.command == "train":
        return train_cli.run(args)
    try:
        spec = spec_from_args(args)
        table = stage_table(spec, args.batch_size)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(table.to_dict(), indent=2))
    else:
        frame = table.to_frame()
        frame["activation MB"] = frame["activation MB"].round(2)
        print(frame.to_string(index=False))
    return 0
