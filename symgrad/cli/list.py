"""``symgrad list``: the registered activations."""

from __future__ import annotations

import argparse

import sympy

from symgrad.activations.registry import activation, activation_names, entry
from symgrad.cli.output import emit


def run(args: argparse.Namespace) -> int:
    rows = []
    for name in activation_names():
        act = activation(name)
        found = entry(name)
        rows.append({
            "name": name,
            "family": act.family,
            "params": {k: str(v) for k, v in act.params},
            "fixed": bool(found.fixed),
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
