"""φ and φ' compiled for mpmath at a given precision, constants evaluated once.

Lambdified expressions re-evaluate constant subexpressions on every call (SELU's
erfc(1/√2) and friends), which dominates long chains.  Here each maximal constant
subexpression becomes an argument, evaluated once at the requested precision.

>>> import mpmath
>>> from symgrad import activation
>>> both, phi, dphi = compiled(activation("selu"), 120)
>>> with mpmath.workprec(120):
...     mpmath.nstr(phi(mpmath.mpf(-1)), 10)
'-1.111330738'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import mpmath
import sympy

from symgrad.activations import Activation, z

__all__ = ["compiled"]

_Fn = Callable[[Any], Any]


def _hoist(expr: Any, table: dict[Any, sympy.Dummy]) -> Any:
    if isinstance(expr, sympy.Expr) and not expr.free_symbols and not expr.is_Rational:
        if expr not in table:
            table[expr] = sympy.Dummy(f"c{len(table)}")
        return table[expr]
    if not expr.args:
        return expr
    return expr.func(*[_hoist(a, table) for a in expr.args])


@functools.lru_cache(maxsize=128)
def compiled(act: Activation, prec: int) -> tuple[Callable[[Any], list[Any]], _Fn, _Fn]:
    """(both, φ, φ') for mpmath at ``prec`` bits: ``both(z)`` returns [φ(z), φ'(z)].

    ``both`` shares subexpressions (tanh' = 1 − tanh²) unless φ is a ``Piecewise``,
    whose branches must stay lazy (softsign's z/(1 − z) is undefined at z = 1).
    """
    table: dict[Any, sympy.Dummy] = {}
    expr = _hoist(act.expr, table)
    deriv = _hoist(act.derivative, table)
    symbols = list(table.values())
    with mpmath.workprec(prec + 20):
        values = [c._to_mpmath(prec + 20) for c in table]
    args = [z, *symbols]
    f = sympy.lambdify(args, expr, modules="mpmath")
    df = sympy.lambdify(args, deriv, modules="mpmath")

    def phi(v: Any) -> Any:
        return f(v, *values)

    def dphi(v: Any) -> Any:
        return df(v, *values)

    if expr.has(sympy.Piecewise) or deriv.has(sympy.Piecewise):

        def both(v: Any) -> list[Any]:
            return [f(v, *values), df(v, *values)]

    else:
        fused = sympy.lambdify(args, [expr, deriv], modules="mpmath", cse=True)

        def both(v: Any) -> list[Any]:
            return fused(v, *values)  # type: ignore[no-any-return]

    return both, phi, dphi
