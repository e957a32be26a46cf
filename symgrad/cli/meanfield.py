"""``symgrad meanfield NAME --sigma-w W --sigma-b B``: q*, χ₁, c*, depth scales and phase."""

from __future__ import annotations

import argparse

from symgrad._core.format import number_text
from symgrad.cli.args import (
    activation_from_args,
    decimal_number,
)
from symgrad.cli.output import emit
from symgrad.meanfield.field import mean_field
from symgrad.meanfield.record import NUMBERS


def run(args: argparse.Namespace) -> int:
    act = activation_from_args(args)
    mf = mean_field(act, sigma_w=decimal_number(args.sigma_w, "--sigma-w"),
                    sigma_b=decimal_number(args.sigma_b, "--sigma-b"), mode=args.mode)
    errors = {k: mf.error(k) for k in NUMBERS if mf.error(k)}
    payload = {
        "activation": mf.activation, "sigma_w": mf.sigma_w, "sigma_b": mf.sigma_b,
        "mode": mf.mode.value, "fixed_point": mf.fixed_point.value, "q_star": mf.q_star,
        "chi1": mf.chi1, "c_star": mf.c_star, "chi_c": mf.chi_c, "xi_c": mf.xi_c,
        "xi_grad": mf.xi_grad, "phase": mf.phase.value,
        "provenance": {k: how.kind.value for k, how in mf.provenance.items()},
        "relative_errors": errors, "statement": mf.statement, "notes": list(mf.notes),
    }
    rows = [(label, value if isinstance(value, str) else number_text(value, 12))
            for label, value in mf.summary()]
    kinds = {how.kind.value for how in mf.provenance.values()}
    weakest = next(k for k in ("estimated", "certified", "exact") if k in kinds | {"exact"})
    rows.append(("mode", f"{mf.mode.value} ({weakest})"))
    if errors:
        rows.append(("est. rel. errors", ", ".join(f"{k} {v:.1e}" for k, v in errors.items())))
    width = max(len(label) for label, _ in rows)
    text = "\n".join([mf.title()] + [f"  {label:<{width}}  {value}" for label, value in rows])
    emit(payload, as_json=args.json, text=text)
    return 0
