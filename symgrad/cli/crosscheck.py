"""``symgrad crosscheck``: formulas against simulated networks (z·SE tolerances)."""

from __future__ import annotations

import argparse
from dataclasses import asdict
from typing import Any

from symgrad.cli.main import emit
from symgrad.numeric.checks.table import check_names, crosscheck

EPILOG = """\
examples:
  symgrad crosscheck
  symgrad crosscheck --check he_vs_xavier --check lstm_carousel --seed 3
  symgrad crosscheck --list
  symgrad crosscheck --json

exit status: 0 when every row is within its tolerance, 1 when one is not, 2 on bad input.
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "crosscheck",
        help="check closed forms against simulated networks",
        description="Compare symgrad's closed forms with NumPy simulations; statistical rows"
                    " use z·SE tolerances, exact rows float64 rounding bounds.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--check", action="append", metavar="NAME",
                        help="run only this check (repeatable; see --list)")
    parser.add_argument("--seed", type=int, default=0, help="root seed (default 0)")
    parser.add_argument("-z", type=float, default=4.5, help="z of the z·SE tolerance")
    parser.add_argument("--list", action="store_true", help="list the check names and exit")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list and args.check:
        from symgrad.errors import InvalidArgument

        raise InvalidArgument("--list and --check exclude each other; --list takes no names")
    if args.list:
        names = list(check_names())
        emit(names, as_json=args.json, text="\n".join(names))
        return 0
    report = crosscheck(args.check, rng=args.seed, z=args.z)
    payload = {"ok": report.ok, "seed": report.seed, "z": report.z,
               "rows": [asdict(row) for row in report.rows]}
    emit(payload, as_json=args.json, text=report.markdown())
    return 0 if report.ok else 1
