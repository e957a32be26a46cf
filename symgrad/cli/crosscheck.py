"""``symgrad crosscheck``: formulas against simulated networks (z·SE tolerances)."""

from __future__ import annotations

import argparse
from dataclasses import asdict

from symgrad.cli.output import emit
from symgrad.errors import InvalidArgument
from symgrad.numeric.checks.table import check_names, crosscheck


def run(args: argparse.Namespace) -> int:
    if args.list and args.check:

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
