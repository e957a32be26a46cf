"""The ``symgrad`` command: one sub-command per question, each with ``--json``.

Every sub-command lives in ``symgrad/cli/<name>.py`` and exposes
``register(subparsers)``; bad input exits 2 with one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from symgrad._core.format import jsonable
from symgrad.errors import SymgradError

__all__ = ["emit", "main"]

# Sub-command modules in symgrad/cli, in the order --help lists them.
_COMMANDS = ("list", "activation", "chain", "claims", "report", "crosscheck", "meanfield", "gain")


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error on stderr and exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def emit(payload: Any, *, as_json: bool, text: str) -> None:
    """Print ``text`` for people, or ``payload`` as JSON for scripts."""
    if as_json:
        print(json.dumps(_strict_json(jsonable(payload)), indent=2, sort_keys=False,
                         ensure_ascii=False, allow_nan=False))
    else:
        print(text)


def _strict_json(value: Any) -> Any:
    """NaN becomes the string "nan" (JSON has no NaN; ±∞ are already strings)."""
    if isinstance(value, dict):
        return {k: _strict_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strict_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="symgrad",
        description="The vanishing and exploding gradient problem, made exact.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in _COMMANDS:
        importlib.import_module(f"symgrad.cli.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        status = args.run(args)
        sys.stdout.flush()
    except SymgradError as exc:
        print(f"symgrad {args.command}: error: {_one_line(exc)}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # The reader (`| head`) went away: stop quietly, as other Unix tools do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except KeyboardInterrupt:
        print(f"symgrad {args.command}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        # A bug, not bad input: one line (exit 70, EX_SOFTWARE), the traceback on request.
        if os.environ.get("SYMGRAD_TRACEBACK"):
            raise
        print(f"symgrad {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)}"
              " (a bug in symgrad; rerun with SYMGRAD_TRACEBACK=1 for the traceback)",
              file=sys.stderr)
        return 70
    return int(status or 0)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
