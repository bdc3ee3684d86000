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
SUBCOMMANDS = ("summary", "train", "analyses", "gradflow")


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse's default prints the whole usage
        self.exit(2, f"error: {message}\n")


def int_list(text: str) -> tuple[int, ...]:
    """``"3,4,6,3"`` → ``(3, 4, 6, 3)`` (an argparse type)."""
    try:
        return tuple(int(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated whole numbers, got {text!r}")


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
