"""``symgrad list``: the registered activations."""

from __future__ import annotations

import argparse
from typing import Any

import sympy

from symgrad.activations.record import _REGISTRY, activation, activation_names
from symgrad.cli.main import emit

EPILOG = """\
examples:
  symgrad list
  symgrad list --json
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "list",
        help="list the registered activations",
        description="List every registered activation with its parameters and reference.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    rows = []
    for name in activation_names():
        act = activation(name)
        entry = _REGISTRY[name]
        rows.append({
            "name": name,
            "family": act.family,
            "params": {k: str(v) for k, v in act.params},
            "fixed": bool(entry.fixed),
            "phi": sympy.sstr(act.expr),
            "reference": act.reference,
        })
    width = max(len(r["name"]) for r in rows)
    lines = []
    for r in rows:
        params = ", ".join(f"{k}={v}" for k, v in r["params"].items())
        kind = f"= {r['family']}({params})" if r["fixed"] else (f"({params})" if params else "")
        lines.append(f"{r['name']:<{width}}  {kind:<28}  {r['reference']}")
    emit(rows, as_json=args.json, text="\n".join(lines))
    return 0
