"""The ``symgrad`` command: one sub-command per question, each with ``--json``.

The arguments of every sub-command are in :mod:`symgrad.cli.parser` (argparse only);
the one that runs is imported afterwards from ``symgrad/cli/<name>.py`` and its
``run(args)`` called.  Bad input exits 2 with one line on stderr; a bug exits 70 with
one line (``SYMGRAD_TRACEBACK=1`` shows the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
from collections.abc import Sequence

from symgrad.cli.parser import build_parser
from symgrad.errors import SymgradError

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        # The lazy step of the command line (as the façade's): only the chosen command loads.
        command = importlib.import_module(f"symgrad.cli.{args.command}")
        status = command.run(args)
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
