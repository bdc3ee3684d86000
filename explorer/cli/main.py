"""``python -m explorer``: one parser, one module per subcommand.

Building the parser imports no torch, so ``--help`` and argument errors answer at once; each
subcommand's ``run`` imports what it needs.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path
from typing import Sequence

# Modules of explorer.cli that each define add_parsers(commands) and set `run` on their parsers.
SUBCOMMANDS = ("summary", "train", "analyses", "gradflow", "attributions")


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's default prints the whole usage
        self.exit(2, f"error: {message}\n")


def int_list(text: str) -> tuple[int, ...]:
    """``"3,4,6,3"`` → ``(3, 4, 6, 3)`` (an argparse type)."""
    try:
        return tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}")


# He et al. 2016's fields, flags of every subcommand that takes a network (`add_design_flags`).
DESIGN_FIELDS = ("order", "skip_design", "skip_scale", "gate_bias")


def add_design_flags(parser: argparse.ArgumentParser) -> None:
    """``--spec FILE`` and He et al. 2016's ``--order``, ``--skip-design``, ``--skip-scale`` and
    ``--gate-bias`` (each default: the preset's or the file's)."""
    from typing import get_args

    from explorer.nets.spec import Order, SkipDesign  # plain data: no torch

    parser.add_argument("--spec", help="a spec JSON file (a run's spec.json) instead of a preset")
    parser.add_argument("--order", choices=get_args(Order),
                        help="activation order (He et al. 2016, Fig. 4)")
    parser.add_argument("--skip-design", choices=get_args(SkipDesign),
                        help="what the skip carries (He et al. 2016, Fig. 2)")
    parser.add_argument("--skip-scale", type=float,
                        help="the scaled design's shortcut factor, 0 to 1 (default 0.5)")
    parser.add_argument("--gate-bias", type=float, help="the gates' initial bias (default -6)")


def design_changes(args: argparse.Namespace) -> dict:
    """The He et al. 2016 fields the flags set (``None`` ones left out)."""
    return {k: getattr(args, k) for k in DESIGN_FIELDS if getattr(args, k) is not None}


def design_flags(args: argparse.Namespace) -> list[str]:
    """``--spec`` and the design flags as given, spelled for a reproducing command."""
    import shlex

    flags = [f"--spec {shlex.quote(args.spec)}"] if args.spec else []
    return flags + [f"--{k.replace('_', '-')} {v:g}" if isinstance(v, float)
                    else f"--{k.replace('_', '-')} {v}" for k, v in design_changes(args).items()]


def make_parser() -> argparse.ArgumentParser:
    called = Path(sys.argv[0]).name
    prog = called if called == "resnet-explorer" else "python -m explorer"
    parser = OneLineParser(prog=prog, description="ResNet Explorer tools.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=OneLineParser)
    for name in SUBCOMMANDS:
        importlib.import_module(f"explorer.cli.{name}").add_parsers(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return args.run(args)
