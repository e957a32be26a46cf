"""``symgrad report``: regenerate the derivation reports in ``proofs/`` (or check them)."""

from __future__ import annotations

import argparse
import sys
import time

from symgrad.cli.output import emit
from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import worker_count
from symgrad.reports import (
    Timing,
    build_reports,
    check_reports,
    load_plugins,
    owned_output,
    registered_reports,
    report_names,
)


def run(args: argparse.Namespace) -> int:
    loaded = load_plugins(args.plugin or [], entry_points=not args.no_entry_points)
    if loaded and not args.json:
        print(f"plugins registered: {', '.join(loaded)}", file=sys.stderr)
    activations = args.activation or None
    if args.jobs is None:  # every CPU this process may use (taskset, cgroups)
        args.jobs = worker_count()
    for name in args.only or ():
        if name not in report_names():
            raise InvalidArgument(f"unknown report {name!r}; `symgrad report --list` shows "
                                  "the names")

    if args.list:
        if args.check or args.only:
            raise InvalidArgument("--list prints every report name; it takes no --check or --only")
        rows = [{"name": r.name, "title": r.title, "path": r.path} for r in registered_reports()]
        emit(rows, as_json=args.json, text="\n".join(f"{r['name']}\t{r['title']}" for r in rows))
        return 0
    if not str(args.out).strip():
        raise InvalidArgument("--out must not be empty; give a directory such as proofs")
    out = owned_output(args.out, writing=not args.check)
    if args.check:
        diff = check_reports(out, only=args.only, activations=activations, jobs=args.jobs)
        if args.json:
            emit({"out": str(out), "current": not diff, "diff": diff}, as_json=True, text="")
        elif diff:
            sys.stdout.write(diff)
            print(f"symgrad report: {out} is out of date; run `symgrad report`", file=sys.stderr)
        else:
            count = len(args.only or ()) + len(activations or ()) or len(report_names())
            print(f"{out} is current ({count} reports)")
        return 1 if diff else 0
    timings: list[Timing] = []
    started = time.perf_counter()
    try:
        files = build_reports(out, only=args.only, activations=activations, timings=timings,
                              jobs=args.jobs)
    except OSError as exc:  # the pipeline writes atomically: out is left as it was
        raise InvalidArgument(f"cannot write --out {str(out)!r}: {exc.strerror or exc}") from None
    payload = {
        "out": str(out),
        "files": sorted(files),
        "reports": [{"name": t.name, "seconds": round(t.seconds, 3), "files": t.files}
                    for t in timings],
    }
    total = time.perf_counter() - started  # wall time: with --jobs N the reports overlap
    emit(payload, as_json=args.json,
         text=f"wrote {len(files)} files for {len(timings)} reports to {out} in {total:.1f} s")
    return 0
