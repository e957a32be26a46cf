"""``symgrad meanfield NAME --sigma-w W --sigma-b B``: q*, χ₁, c*, depth scales and phase."""

from __future__ import annotations

import argparse
from typing import Any

from symgrad._core.format import number_text
from symgrad.cli.args import (
    activation_from_args,
    add_activation_arguments,
    decimal_number,
)
from symgrad.cli.main import emit
from symgrad.meanfield.field import MeanFieldMode, mean_field

EPILOG = """\
examples:
  symgrad meanfield tanh --sigma-w 1.5 --sigma-b 0.05
  symgrad meanfield relu --sigma-w 1.2 --sigma-b 0.1 --json
  symgrad meanfield tanh --sigma-w 10 --sigma-b 0.5 --mode precise
"""


def register(sub: Any) -> None:
    parser = sub.add_parser(
        "meanfield",
        help="mean-field q*, χ₁, c*, depth scales and phase of a wide network",
        description="Solve the mean-field variance and correlation maps of a wide random "
        "network (W_ij ~ N(0, σ_w²/n), b_i ~ N(0, σ_b²)): q*, χ₁, c*, χ_c*, ξ_c, ξ_∇ and "
        "the phase (Poole et al. 2016; Schoenholz et al. 2017).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_activation_arguments(parser)
    parser.add_argument("--sigma-w", metavar="W", required=True, help="weight scale σ_w > 0")
    parser.add_argument("--sigma-b", metavar="B", required=True, help="bias scale σ_b ≥ 0")
    parser.add_argument("--mode", choices=[m.value for m in MeanFieldMode], default="auto",
                        help="exact closed forms (auto where they exist), fast quadrature or "
                        "mpmath precise")
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    act = activation_from_args(args)
    mf = mean_field(act, sigma_w=decimal_number(args.sigma_w, "--sigma-w"),
                    sigma_b=decimal_number(args.sigma_b, "--sigma-b"), mode=args.mode)
    payload = {
        "activation": mf.activation, "sigma_w": mf.sigma_w, "sigma_b": mf.sigma_b,
        "mode": mf.mode.value, "fixed_point": mf.fixed_point.value, "q_star": mf.q_star,
        "chi1": mf.chi1, "c_star": mf.c_star, "chi_c": mf.chi_c, "xi_c": mf.xi_c,
        "xi_grad": mf.xi_grad, "phase": mf.phase.value, "exactness": mf.exactness.value,
        "relative_errors": dict(mf.errors), "statement": mf.statement,
    }
    rows = [(label, value if isinstance(value, str) else number_text(value, 12))
            for label, value in mf.summary()]
    rows.append(("mode", f"{mf.mode.value} ({mf.exactness.value})"))
    if mf.errors:
        rows.append(("est. rel. errors", ", ".join(f"{k} {v:.1e}" for k, v in mf.errors)))
    width = max(len(label) for label, _ in rows)
    text = "\n".join([mf.title()] + [f"  {label:<{width}}  {value}" for label, value in rows])
    emit(payload, as_json=args.json, text=text)
    return 0
