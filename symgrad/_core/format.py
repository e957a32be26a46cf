"""One place that turns SymPy objects into LaTeX, text and JSON, with fixed settings.

Records' ``_repr_latex_``, the reports and the CLI all go through these, so the same
number is written the same way everywhere.
"""

from __future__ import annotations

import math
from typing import Any

import mpmath
import sympy

__all__ = ["deviation_text", "interval_text", "jsonable", "latex", "number_text", "set_text"]

_LATEX_SETTINGS: dict[str, Any] = {"ln_notation": True, "mul_symbol": None}


def latex(expr: Any) -> str:
    """``sympy.latex`` with symgrad's fixed settings."""
    return str(sympy.latex(sympy.sympify(expr), **_LATEX_SETTINGS))


def number_text(value: Any, digits: int = 12) -> str:
    """A number for people: exact form if short, else ``digits`` significant digits.

    >>> number_text(sympy.Rational(1, 4))
    '1/4'
    >>> number_text(sympy.log(3 + 2 * sympy.sqrt(2)))
    'log(2*sqrt(2) + 3) ≈ 1.76274717404'
    """
    if isinstance(value, mpmath.mpf):
        return str(mpmath.nstr(value, digits))
    expr = sympy.sympify(value)
    if expr in (sympy.oo, -sympy.oo):
        return "∞" if expr == sympy.oo else "-∞"
    if expr.is_Float:
        return str(sympy.sstr(expr.evalf(digits)))
    if expr.is_Rational:
        return str(sympy.sstr(expr))
    exact = str(sympy.sstr(expr))
    approx = str(sympy.sstr(expr.evalf(digits)))
    return approx if len(exact) > 40 else f"{exact} ≈ {approx}"


def jsonable(value: Any) -> Any:
    """JSON-ready form: SymPy and mpmath numbers become floats (±∞ become strings)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, bool | int | str) or value is None:
        return value
    real_number = getattr(value, "is_number", False) and value.is_extended_real is not False
    if isinstance(value, sympy.Basic) and not real_number:
        return str(sympy.sstr(value))  # a set, a relation, an expression in symbols
    if isinstance(value, float | mpmath.mpf | sympy.Basic):
        as_float = float(value)
        if as_float in (float("inf"), float("-inf")):
            return "inf" if as_float > 0 else "-inf"
        return as_float
    return str(value)


def interval_text(interval: sympy.Interval) -> str:
    """(a, b) with ∞ signs, for step texts.

    >>> interval_text(sympy.Interval.Lopen(-sympy.oo, 2))
    '(−∞, 2]'
    """
    lo = "−∞" if interval.start == -sympy.oo else sympy.sstr(interval.start)
    hi = "∞" if interval.end == sympy.oo else sympy.sstr(interval.end)
    return f"{'(' if interval.left_open else '['}{lo}, {hi}{')' if interval.right_open else ']'}"


def set_text(points: sympy.Set, digits: int = 12) -> str:
    """A union of intervals and points, for sentences: ∞ signs, ∪, ``number_text`` ends.

    >>> set_text(sympy.Union(sympy.Interval.Lopen(-3, 3), sympy.FiniteSet(5)))
    '(−3, 3] ∪ {5}'
    >>> set_text(sympy.S.Reals), set_text(sympy.S.EmptySet)
    ('ℝ', '∅')
    """
    if points == sympy.S.Reals:
        return "ℝ"
    if points == sympy.S.EmptySet:
        return "∅"
    parts = points.args if isinstance(points, sympy.Union) else (points,)
    shown = []
    for part in parts:
        if isinstance(part, sympy.FiniteSet):
            shown.append("{" + ", ".join(_end(p, digits) for p in part) + "}")
        elif isinstance(part, sympy.Interval):
            left = "(" if part.left_open else "["
            right = ")" if part.right_open else "]"
            shown.append(f"{left}{_end(part.start, digits)}, {_end(part.end, digits)}{right}")
        else:
            shown.append(str(sympy.sstr(part)))
    return " ∪ ".join(shown)


def _end(value: sympy.Expr, digits: int) -> str:
    if value == sympy.oo:
        return "∞"
    if value == -sympy.oo:
        return "−∞"
    text = number_text(value, digits)
    return text.replace("-", "−", 1) if text.startswith("-") else text


#: Below this a difference between two float64 computations is rounding noise: its digits
#: depend on the NumPy/BLAS/libm release, so only its order of magnitude is printed.
NOISE_LEVEL = 1e-9


def deviation_text(x: float) -> str:
    """A measured deviation or error estimate for a table: two digits when it is
    statistical, only an upper power of ten when it is rounding noise (< 1e-9), so a
    report reads the same on every machine.

    >>> deviation_text(0.0123), deviation_text(3.2e-16), deviation_text(1.6e-16), deviation_text(0)
    ('0.012', '< 1e-15', '< 1e-15', '0')
    """
    x = abs(float(x))
    if x == 0:
        return "0"
    if x < NOISE_LEVEL:
        return f"< 1e{math.floor(math.log10(x)) + 1}"
    return f"{x:.2g}"
