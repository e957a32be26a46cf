"""``symgrad gain NAME``: the gain by second-moment preservation and by criticality."""

from __future__ import annotations

import argparse
from typing import Any

from symgrad._core.format import number_text
from symgrad.cli.args import activation_from_args, add_activation_arguments
from symgrad.cli.main import emit
from symgrad.errors import InvalidArgument
from symgrad.initialization.gains import Principle, gain

EPILOG = """\
examples:
  symgrad gain tanh
  symgrad gain leaky_relu --param alpha=0.2 --json
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "gain",
        help="weight gain of an activation by second moment and by criticality",
        description="The gain g (Var(w) = g²/fan_in) that preserves the forward second "
        "moment, 1/√E[φ(Z)²], and the one that makes χ₁ = 1 at σ_b = 0 (mean field).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_arguments(parser)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    act = activation_from_args(args)
    payload: dict[str, Any] = {"activation": act.label}
    lines = [f"Gains of {act.label}"]
    for principle in Principle:
        try:
            g = gain(act, principle=principle)
        except InvalidArgument as exc:
            payload[principle.value] = {"value": None, "note": str(exc)}
            lines.append(f"  {principle.value:<14} none: {exc}")
            continue
        payload[principle.value] = {"value": g.value, "exactness": g.exactness.value,
                                    "text": number_text(g.value, 15)}
        lines.append(f"  {principle.value:<14} {number_text(g.value, 15)} ({g.exactness.value})")
    emit(payload, as_json=args.json, text="\n".join(lines))
    return 0
