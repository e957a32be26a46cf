"""``symgrad activation NAME``: φ, φ', sup |φ'| and the saturation thresholds."""

from __future__ import annotations

import argparse
from decimal import Decimal

import sympy

from symgrad._core.format import number_text
from symgrad.cli.args import (
    activation_from_args,
    decimal_number,
)
from symgrad.cli.output import emit
from symgrad.slopes.saturation import saturation
from symgrad.slopes.sup import max_slope


def region_text(region: sympy.Set) -> str:
    """A union of intervals written with ∪, each end as number_text."""
    if region == sympy.S.EmptySet:
        return "∅ (never saturated)"
    if region == sympy.S.Reals:
        return "ℝ (everywhere)"
    parts = region.args if isinstance(region, sympy.Union) else (region,)
    shown = []
    for part in parts:
        if isinstance(part, sympy.FiniteSet):
            shown.append("{" + ", ".join(number_text(p, 8) for p in part) + "}")
            continue
        lo = "-∞" if part.start == -sympy.oo else number_text(part.start, 8)
        hi = "∞" if part.end == sympy.oo else number_text(part.end, 8)
        shown.append(f"{'(' if part.left_open else '['}{lo}, {hi}{')' if part.right_open else ']'}")
    return " ∪ ".join(shown)


def run(args: argparse.Namespace) -> int:
    act = activation_from_args(args)
    defaults = [Decimal("0.1"), Decimal("0.01"), Decimal("0.001")]
    epsilons = [decimal_number(e, "--eps") for e in args.eps] or defaults
    sup = max_slope(act)
    sats = [saturation(act, e) for e in epsilons]
    payload = {
        "name": act.label,
        "phi": sympy.sstr(act.expr),
        "phi_prime": sympy.sstr(act.derivative),
        "max_slope": {
            "value": sup.value,
            "value_exact": sympy.sstr(sup.value),
            "at": sup.at,
            "reach": sup.reach.value,
            "attained": sup.attained,
            "argmax": sympy.sstr(sup.argmax),
            "where": sup.where(),
            "exact": sup.exact,
            "provenance": sup.how("value").kind.value,
            "completeness": sup.completeness,
            "convention": sup.convention or None,
        },
        "saturation": [
            {
                "eps": s.eps,
                "region": sympy.sstr(s.region),
                "left_threshold": s.left_threshold,
                "right_threshold": s.right_threshold,
                "exact": s.exact,
                "completeness": s.completeness or None,
                "convention": s.convention or None,
            }
            for s in sats
        ],
    }
    lines = [
        f"{act.label}",
        f"  φ(z)  = {sympy.sstr(act.expr)}",
        f"  φ'(z) = {sympy.sstr(act.derivative)}",
        f"  sup |φ'| = {number_text(sup.value)}  ({sup.where()}; "
        f"{sup.how('value').kind.value})",
    ]
    if sup.convention:
        lines.append(f"  {sup.convention}")
    lines.append("  saturation {z : |φ'(z)| < ε}:")
    for s in sats:
        lines.append(f"    ε = {number_text(s.eps)}: {region_text(s.region)}"
                     f"  [{'exact' if s.exact else 'certified'}]")
    emit(payload, as_json=args.json, text="\n".join(lines))
    return 0
