"""``python -m explorer summary --preset resnet50 [--json]``: the stage table of a network."""

from __future__ import annotations

import argparse
import json
import sys

from explorer.cli.main import add_design_flags, design_changes, int_list

SPEC_FLAGS = ("block", "layers", "widths", "base_width", "stem", "skip", "shortcut",
              "stride_on", "norm", "in_channels", "num_classes", "image_size",
              "zero_init_residual")


def add_parsers(commands: argparse._SubParsersAction) -> None:
    summary = commands.add_parser("summary", help="print the stage table of a network")
    summary.add_argument("--preset", help="start from a preset, e.g. resnet50")
    summary.add_argument("--block", choices=("basic", "bottleneck", "d2l"))
    summary.add_argument("--layers", type=int_list, help="blocks per stage, e.g. 3,4,6,3")
    summary.add_argument("--widths", type=int_list, help="channels per stage, e.g. 64,128")
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
    add_design_flags(summary)
    summary.add_argument("--batch-size", type=int, default=1)
    summary.add_argument("--json", action="store_true", help="print machine-readable JSON")
    summary.set_defaults(run=run)


def spec_from_args(args: argparse.Namespace):
    from explorer.nets.spec import NetSpec
    from explorer.nets.presets import preset

    if args.spec:
        from pathlib import Path

        base = NetSpec.from_json(Path(args.spec).read_text())
    else:
        base = preset(args.preset) if args.preset else NetSpec()
    changes = {k: getattr(args, k) for k in SPEC_FLAGS if getattr(args, k) is not None}
    return base.replace(**changes, **design_changes(args))


def run(args: argparse.Namespace) -> int:
    from explorer.analysis.tables import stage_frame
    from explorer.nets.measure import stage_table

    try:
        spec = spec_from_args(args)
        table = stage_table(spec, args.batch_size)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(table.to_dict(), indent=2))
    else:
        frame = stage_frame(table)
        frame["activation MB"] = frame["activation MB"].round(2)
        print(frame.to_string(index=False))
    return 0
