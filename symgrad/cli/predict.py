"""``symgrad predict --arch SPEC``: per-layer gradients and the depth law of an architecture.

SPEC is an architecture written as text (:mod:`symgrad.networks.spec`), e.g.
``"repeat(residual(serial(dense(1.0), activation(relu)), scale=0.5), 50)"`` or a recipe
such as ``"pre_ln(gelu, 48)"``; it is parsed, never evaluated.
"""

from __future__ import annotations

import argparse
import math
from typing import Any

import sympy

from symgrad._core.format import number_text
from symgrad.cli.args import decimal_number
from symgrad.cli.output import emit
from symgrad.errors import InvalidArgument
from symgrad.networks.prediction import Prediction, predict
from symgrad.networks.spec import parse_network
from symgrad.records import how_text


def _exact(value: Any) -> str:
    """An exact number for people: short forms as they are, long ones as their value."""
    text = number_text(value, 15)
    if len(text) <= 60:
        return text
    return (f"{sympy.N(value, 15)} (exact: {len(sympy.sstr(value))} characters; --json has"
            " it as jacobian_exact_text)")


def _rows(p: Prediction, shown: int) -> list[int]:
    layers = list(range(p.depth + 1))
    if shown >= len(layers):
        return layers
    head = shown // 2
    return [*layers[:head], -1, *layers[len(layers) - (shown - head):]]


def _table(p: Prediction, shown: int) -> list[str]:
    lines = ["  l      E[h_l²]           J^{L,l}           ‖∂L/∂W_l‖²"]
    for layer in _rows(p, shown):
        if layer < 0:
            lines.append("  …")
            continue
        grad_w = f"{p.grad_w_sq[layer - 1]:.6g}" if layer > 0 else "—"
        lines.append(f"  {layer:<6} {p.second_moment[layer]:<17.6g} "
                     f"{p.grad_h_sq[layer]:<17.6g} {grad_w}")
    return lines


def run(args: argparse.Namespace) -> int:
    net = parse_network(args.arch)
    q0 = decimal_number(args.q0, "--q0")
    c0 = None if args.c0 is None else decimal_number(args.c0, "--c0")
    if args.rows < 2:
        raise InvalidArgument(f"--rows must be at least 2, got {args.rows}")
    p = predict(net, q0=q0, c0=c0, width=args.width)
    law = p.law
    lines = [p.title(), f"  depth            {p.depth}",
             f"  J^(L,0)          {p.grad_h_sq[0]:.12g}"
             f"  (log10 {p.log10_grad_h_sq[0]:.6f}; {how_text(p.how('grad_h_sq'))})"]
    if p.jacobian_exact is not None:
        lines.append(f"  J^(L,0) exactly  {_exact(p.jacobian_exact)}")
    if p.grad_w_sq[-1] > 0 and math.isfinite(p.grad_w_sq[0] / p.grad_w_sq[-1]):
        lines.append(f"  ‖∂L/∂W_1‖²/‖∂L/∂W_L‖²  {p.grad_w_sq[0] / p.grad_w_sq[-1]:.6g}")
    if law is not None:
        how = law.how("constant").kind.value
        lines.append(f"  depth law        {law.kind.value}, constant"
                     f" {number_text(law.constant, 12)} ({how})")
        if law.kind.value == "stretched_exponential":
            lines.append(f"                   power of L: {sympy.sstr(law.power)}")
        lines.append(f"                   {law.statement}")
    lines += _table(p, args.rows)
    payload: dict[str, Any] = p.as_dict()
    emit(payload, as_json=args.json, text="\n".join(lines))
    return 0
