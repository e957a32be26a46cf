"""The ``symgrad`` command: one sub-command per question, each with ``--json``.

Every sub-command lives in ``symgrad/_commands/<name>.py`` and exposes
``register(subparsers)``; bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from symgrad._format import jsonable
from symgrad.errors import SymgradError

__all__ = ["emit", "main"]

# Sub-command modules in symgrad/_commands, in the order --help lists them.
_COMMANDS = ("list", "activation", "chain", "claims", "report", "crosscheck", "meanfield", "gain")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def emit(payload: Any, *, as_json: bool, text: str) -> None:
    """Print ``text`` for people, or ``payload`` as JSON for scripts."""
    if as_json:
        print(json.dumps(jsonable(payload), indent=2, sort_keys=False, ensure_ascii=False))
    else:
        print(text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgrad",
        description="The vanishing and exploding gradient problem, made exact.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _COMMANDS:
        importlib.import_module(f"symgrad._commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
    except SymgradError as exc:
        print(f"symgrad {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return int(status or 0)
