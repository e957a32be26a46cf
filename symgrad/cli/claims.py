"""``symgrad claims FILE``: verdicts on the quantitative claims in a TOML file."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from symgrad._core.format import number_text
from symgrad.claims import Verdict, check_claims
from symgrad.cli.output import emit
from symgrad.errors import InvalidArgument


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    text = number_text(value, 8)
    return text.split(" ≈ ")[-1]  # the decimal; --json and the audit keep the exact form


def run(args: argparse.Namespace) -> int:
    if not args.file.strip():
        raise InvalidArgument("FILE must not be empty; give the path of a TOML claims file")
    results = check_claims(args.file)
    width = max(len(r.id) for r in results)
    lines = [f"{'id':<{width}}  verdict  value                 witness"]
    for r in results:
        lines.append(f"{r.id:<{width}}  {r.verdict.value:<7}  {_cell(r.value):<20}  "
                     f"{_cell(r.witness)}")
    errors = [r for r in results if r.verdict is Verdict.ERROR]
    # Every reason goes with the table on stdout; stderr gets one line.
    lines.extend(f"error: {r.error}" for r in errors)
    emit([r.as_dict() for r in results], as_json=args.json, text="\n".join(lines))
    if errors:
        more = f" (and {len(errors) - 1} more, in the output)" if len(errors) > 1 else ""
        print(f"symgrad claims: error: {errors[0].error}{more}", file=sys.stderr)
        return 2
    return 1 if any(r.verdict is Verdict.FAILS for r in results) else 0
