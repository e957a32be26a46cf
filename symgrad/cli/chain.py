"""``symgrad chain``: the exact layer-by-layer trace of a scalar chain."""

from __future__ import annotations

import argparse
from decimal import Decimal
from typing import Any

from symgrad.cli.args import activation_from_args, decimal_number
from symgrad.cli.main import emit
from symgrad.errors import InvalidArgument

EPILOG = """\
examples:
  symgrad chain sigmoid --depth 4 --weight 0.1            the classic worked example
  symgrad chain sigmoid --depth 4 --weight 0.1,0.2,0.3,0.4 --lr 0.5
  symgrad chain sigmoid --depth 1000000 --weight 0.9 --rows 6
  symgrad chain relu --depth 50 --weight 0.5 --residual --json
  symgrad chain leaky_relu --param alpha=0.2 --depth 5 --weight -1
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "chain",
        help="trace a scalar chain forward and backward, exactly",
        description="Trace a_k = φ(w_k a_{k−1} + b_k) (or, with --residual, "
        "y_k = y_{k−1} + w_k φ(y_{k−1} + b_k)) forward and backward in mpmath and print "
        "z_k, a_k, φ'(z_k), ∂L/∂a_k, ∂L/∂z_k, ∂L/∂w_k per layer.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("name", metavar="NAME", help="activation name (see `symgrad list`)")
    parser.add_argument("--param", metavar="KEY=VALUE", action="append", default=[],
                        help="activation parameter (repeatable), e.g. alpha=0.2")
    parser.add_argument("--depth", metavar="D", required=True, type=int, help="number of layers")
    parser.add_argument("--weight", metavar="W", required=True,
                        help="weight: one number, or one per layer separated by commas")
    parser.add_argument("--bias", metavar="B", default="0",
                        help="bias: one number or one per layer (default 0)")
    parser.add_argument("--x", metavar="X", default="1", help="input a_0 (default 1)")
    parser.add_argument("--upstream", metavar="G", default="1",
                        help="∂L/∂a_depth arriving at the top (default 1)")
    parser.add_argument("--lr", metavar="LR", default=None,
                        help="learning rate: adds the update −lr·∂L/∂w_k")
    parser.add_argument("--residual", action="store_true", help="trace the residual chain")
    parser.add_argument("--dps", metavar="N", type=int, default=30,
                        help="significant digits (default 30)")
    parser.add_argument("--rows", metavar="N", type=int, default=20,
                        help="rows shown; the middle is elided past N (default 20)")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


_MAX_DEPTH = 10**18  # the trace indexes its layers with machine-size integers
_MAX_DPS = 10_000    # mpmath at 10,000 digits is already slow; a billion would never return


def _number(text: str, name: str) -> Decimal:
    return decimal_number(text, f"--{name}")


def _numbers(text: str, name: str) -> Decimal | list[Decimal]:
    parts = text.split(",")
    if len(parts) == 1:
        return _number(parts[0], name)
    return [_number(p, f"{name}[{i}]") for i, p in enumerate(parts)]


def run(args: argparse.Namespace) -> int:
    from symgrad.depth.trace import chain_trace, residual_trace

    if not 1 <= args.depth <= _MAX_DEPTH:
        raise InvalidArgument(f"--depth must be an integer in [1, 10^18], got {args.depth}")
    if not 5 <= args.dps <= _MAX_DPS:
        raise InvalidArgument(f"--dps must be an integer in [5, {_MAX_DPS}], got {args.dps}")
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
    import mpmath

    if value is None or not mpmath.isfinite(value) or value == 0:
        return None if value is None else float(value)
    if mpmath.mpf("1e-300") <= abs(value) <= mpmath.mpf("1e300"):
        return float(value)
    return mpmath.nstr(value, 17)


def _log10(value: Any) -> Any:
    import mpmath

    with mpmath.workdps(20):
        return mpmath.log10(abs(value)) if value != 0 else -mpmath.inf
