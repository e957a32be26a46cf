"""``symgrad spectrum NAME --sigma-w W --depth L``: the Jacobian's singular-value spectrum, or
with ``--widths n_0,…,n_L`` the finite-width law of ln‖Ju‖².

Every number is printed with how it was obtained (exact, certified — only proven digits —,
estimated with its error); ``--json`` prints the record (:meth:`Record.as_dict`).
"""

from __future__ import annotations

import argparse
import re
from typing import Any

import sympy

from symgrad._core.format import number_text
from symgrad.cli.args import activation_from_args, decimal_number
from symgrad.cli.output import emit
from symgrad.errors import InvalidArgument
from symgrad.records import Certified, Estimated, How, Record
from symgrad.spectrum import gradient_norm_distribution, jacobian_spectrum

__all__ = ["run"]

_SYMBOL = re.compile(r"[A-Za-z]\w*")
_MAX_WIDTHS_TEXT = 100_000


def _depth(text: str | None) -> int | sympy.Symbol | None:
    if text is None:
        return None
    text = text.strip()
    if _SYMBOL.fullmatch(text):
        return sympy.Symbol(text, positive=True, integer=True)
    try:
        value = int(text)
    except ValueError:
        raise InvalidArgument(f"--depth must be a positive integer or a symbol such as L, got "
                              f"{text!r}") from None
    return value


def _widths(text: str) -> tuple[int, ...]:
    if len(text) > _MAX_WIDTHS_TEXT:
        raise InvalidArgument(f"--widths is longer than {_MAX_WIDTHS_TEXT} characters")
    parts = [p.strip() for p in text.split(",")]
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise InvalidArgument(f"--widths must be comma-separated integers n_0,…,n_L, got "
                              f"{text!r}") from None


def _shown(value: Any, how: How | None) -> str:
    if value is None:
        return "—"
    text = value if isinstance(value, str) else _number(value)
    if how is None:
        return text
    if isinstance(how, Estimated):
        error = float(how.error) * (abs(float(value)) if how.relative else 1.0)
        return f"{text}  (estimated, error ≈ {error:.1e})"
    if isinstance(how, Certified):
        return f"{text}  (certified)"
    return f"{text}  ({how.kind.value})"


def _number(value: Any) -> str:
    """Exact forms as they are when short (or symbolic in L), else 15 digits."""
    expr = sympy.sympify(value)
    if expr.free_symbols:
        return str(sympy.sstr(expr))
    if expr.is_Rational and len(sympy.sstr(expr)) > 40:
        return f"{sympy.sstr(expr.evalf(15))} (an exact rational of {len(str(expr.p))} digits)"
    return number_text(expr, 15)


def _how(record: Record, name: str) -> How | None:
    return record.provenance.get(name)


def _spectrum_rows(s: Any) -> list[tuple[str, str]]:
    rows = [("q*", _shown(s.q_star, _how(s, "q_star"))), ("χ₁", _shown(s.chi1, _how(s, "chi1")))]
    rows += [(f"m_{k}", _shown(m, _how(s, f"moments[{k}]")))
             for k, m in enumerate(s.moments, start=1)]
    if s.variance is not None:
        rows.append(("m_2/m_1² − 1", _shown(s.variance, _how(s, "variance"))))
    if s.lambda_max is not None:
        rows.append(("λ_max", _shown(s.lambda_max, _how(s, "lambda_max"))))
    if s.moments:
        rows.append(("atom at 0", _shown(s.atom_at_zero, _how(s, "atom_at_zero"))))
    rows.append(("spectrum", s.statement))
    if s.density_log_x:
        rows.append(("density", f"{len(s.density_log_x)} samples of λρ(λ) over ln λ in "
                                f"[{s.density_log_x[0]:.4g}, {s.density_log_x[-1]:.4g}] (--json)"))
    elif s.density_note and not s.density_note.startswith("not sampled (density_points=0)"):
        rows.append(("density", s.density_note))
    return rows


def _law_rows(law: Any) -> list[tuple[str, str]]:
    rows = [("method", law.method.value), ("β = Σ 1/n_l", _shown(law.beta, _how(law, "beta"))),
            ("E ln X | X > 0", _shown(law.mean_log, _how(law, "mean_log"))),
            ("Var ln X | X > 0", _shown(law.var_log, _how(law, "var_log")))]
    if law.p_zero is not None:
        rows.append(("P(X = 0)", _shown(law.p_zero, _how(law, "p_zero"))))
    if law.naive_var_log is not None:
        rows.append(("Var ln X, per-layer noise only", _shown(
            law.naive_var_log, _how(law, "naive_var_log")) + "  — rejected prediction"))
    rows.append(("statement", law.statement))
    return rows


def _text(title: str, rows: list[tuple[str, str]]) -> str:
    width = max(len(label) for label, _ in rows)
    return "\n".join([title] + [f"  {label:<{width}}  {value}" for label, value in rows])


def run(args: argparse.Namespace) -> int:
    act = activation_from_args(args)
    sigma_w = decimal_number(args.sigma_w, "--sigma-w")
    sigma_b = decimal_number(args.sigma_b, "--sigma-b")
    depth = _depth(args.depth)
    if args.widths is not None:
        widths = _widths(args.widths)
        if depth is not None and depth != len(widths) - 1:
            raise InvalidArgument(f"--depth {args.depth} disagrees with --widths, which lists "
                                  f"n_0 … n_L with L = {len(widths) - 1}")
        if args.weights != "gaussian":
            raise InvalidArgument("--widths gives the law of ln‖Ju‖² for Gaussian weights only; "
                                  "drop --weights orthogonal")
        if args.moments is not None or args.density_points:
            raise InvalidArgument("--moments and --density-points describe the spectrum; with "
                                  "--widths symgrad prints the law of ln‖Ju‖²")
        law = gradient_norm_distribution(act, widths, sigma_w=sigma_w, sigma_b=sigma_b)
        emit(law.as_dict(), as_json=args.json, text=_text(law.title(), _law_rows(law)))
        return 0
    if depth is None:
        raise InvalidArgument("give --depth L (or --widths n_0,…,n_L for the gradient-norm law)")
    s = jacobian_spectrum(act, sigma_w=sigma_w, sigma_b=sigma_b, depth=depth,
                          weights=args.weights,
                          moments=4 if args.moments is None else args.moments,
                          density_points=args.density_points)
    emit(s.as_dict(), as_json=args.json, text=_text(s.title(), _spectrum_rows(s)))
    return 0
