"""``symgrad chain``: the exact layer-by-layer trace of a scalar chain."""

from __future__ import annotations

import argparse
from typing import Any

import mpmath

from symgrad._core.validate import as_digits
from symgrad.cli.args import activation_from_args, decimal_number
from symgrad.cli.output import emit
from symgrad.depth.trace import chain_trace, residual_trace
from symgrad.errors import InvalidArgument

_MAX_DEPTH = 10**18  # the trace indexes its layers with machine-size integers


def _number(text: str, name: str) -> Any:
    return decimal_number(text, f"--{name}")  # exact: 0.1, 5/3, sqrt(2)


def _numbers(text: str, name: str) -> Any:
    parts = text.split(",")
    if len(parts) == 1:
        return _number(parts[0], name)
    return [_number(p, f"{name}[{i}]") for i, p in enumerate(parts)]


def run(args: argparse.Namespace) -> int:
    if not 1 <= args.depth <= _MAX_DEPTH:
        raise InvalidArgument(f"--depth must be an integer in [1, 10^18], got {args.depth}")
    as_digits(args.dps, "--dps")  # the API's own bound on working precision
    if args.rows < 2:
        raise InvalidArgument(f"--rows must be an integer >= 2, got {args.rows}")
    act = activation_from_args(args)
    trace = (residual_trace if args.residual else chain_trace)(
        act,
        depth=args.depth,
        weight=_numbers(args.weight, "weight"),
        bias=_numbers(args.bias, "bias"),
        x=_number(args.x, "x"),
        upstream=_number(args.upstream, "upstream"),
        lr=None if args.lr is None else _number(args.lr, "lr"),
        dps=args.dps,
    )
    text = trace.to_markdown(max_rows=args.rows)
    if not args.json:
        emit(None, as_json=False, text=text)
        return 0
    n = trace.depth
    shown = (list(range(1, n + 1)) if n <= args.rows else
             [*range(1, args.rows // 2 + 1), *range(n - (args.rows - args.rows // 2) + 1, n + 1)])
    rows = []
    for k in shown:
        r = trace.rows[k - 1]
        rows.append({"layer": k, "z": _num(r.z), "a": _num(r.a), "slope": _num(r.slope),
                     "grad_a": _num(r.grad_a), "grad_z": _num(r.grad_z),
                     "grad_w": _num(r.grad_w), "update": _num(r.update),
                     "log10_grad": _num(r.log10_grad)})
    payload = {
        "activation": act.label,
        "architecture": trace.architecture.value,
        "depth": n,
        "dps": trace.dps,
        "product": _num(trace.product()),
        "ratio": _num(trace.ratio()),
        "log10_ratio": _log10(trace.ratio()),
        "stationary_from": trace.stationary_from,
        "period": trace.period,
        "rows": rows,
    }
    emit(payload, as_json=True, text=text)
    return 0


def _num(value: Any) -> Any:
    """A float when float64 holds it; else the mpmath digits as a string (no inf, no 0)."""
    if value is None or not mpmath.isfinite(value) or value == 0:
        return None if value is None else float(value)
    if mpmath.mpf("1e-300") <= abs(value) <= mpmath.mpf("1e300"):
        return float(value)
    return mpmath.nstr(value, 17)


def _log10(value: Any) -> Any:
    with mpmath.workdps(20):
        return mpmath.log10(abs(value)) if value != 0 else -mpmath.inf
