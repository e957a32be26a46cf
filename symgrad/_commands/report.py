"""``symgrad report``: regenerate the derivation reports in ``proofs/`` (or check them)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from symgrad.cli import emit

EPILOG = """\
examples:
  symgrad report                         regenerate proofs/ (atomically)
  symgrad report --check                 exit 1 and print a diff if proofs/ is stale
  symgrad report -j 2                    the same, on two worker processes
  symgrad report --only sigmoid-bound --out /tmp/proofs
  symgrad report --list
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "report",
        help="regenerate the derivation reports in proofs/",
        description="Regenerate every derivation report (Markdown + LaTeX + SVG) "
        "deterministically; with --check, write nothing and fail on drift.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", metavar="DIR", default="proofs",
                        help="output directory (default: proofs)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; print a unified diff and exit 1 if DIR is stale")
    parser.add_argument("--only", metavar="NAME", action="append",
                        help="only this report (repeatable); see --list")
    parser.add_argument("--jobs", "-j", metavar="N", type=int, default=1,
                        help="build the reports on N worker processes (same output; "
                             "default 1)")
    parser.add_argument("--list", action="store_true", help="list the report names and exit")
    parser.add_argument("--json", action="store_true", help="print a JSON summary")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from symgrad.reports import (
        Timing,
        build_reports,
        check_reports,
        report_names,
    )
    from symgrad.reports.registry import all_reports

    if args.list:
        rows = [{"name": r.name, "title": r.title, "path": r.path} for r in all_reports()]
        emit(rows, as_json=args.json, text="\n".join(f"{r['name']}\t{r['title']}" for r in rows))
        return 0
    out = Path(args.out)
    if args.check:
        diff = check_reports(out, only=args.only, jobs=args.jobs)
        if args.json:
            emit({"out": str(out), "current": not diff, "diff": diff}, as_json=True, text="")
        elif diff:
            sys.stdout.write(diff)
            print(f"symgrad report: {out} is out of date; run `symgrad report`", file=sys.stderr)
        else:
            print(f"{out} is current ({len(args.only or report_names())} reports)")
        return 1 if diff else 0
    timings: list[Timing] = []
    files = build_reports(out, only=args.only, timings=timings, jobs=args.jobs)
    payload = {
        "out": str(out),
        "files": sorted(files),
        "reports": [{"name": t.name, "seconds": round(t.seconds, 3), "files": t.files}
                    for t in timings],
    }
    total = sum(t.seconds for t in timings)
    emit(payload, as_json=args.json,
         text=f"wrote {len(files)} files for {len(timings)} reports to {out} in {total:.1f} s")
    return 0
