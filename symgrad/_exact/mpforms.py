"""φ and φ' compiled for mpmath at a given precision, constants evaluated once.

Lambdified expressions re-evaluate constant subexpressions on every call (SELU's
erfc(1/√2) and friends), which dominates long chains.  Here each maximal constant
subexpression becomes an argument, evaluated once at the requested precision.

Every value must also be correct to the working precision *relative to itself*: a
chain near a kink at 0 (ELU with a negative weight: z_k alternates sign and shrinks)
or deep in saturation (tanh' at z = 100 is 5.5·10⁻⁸⁷) lives on values far below the
precision's absolute resolution.  Written as the registry writes them, α(eᶻ − 1) at
|z| < 2^−prec rounds to exactly 0, the kink, whose one-sided slope is then the wrong
one; 1 − tanh²(100) rounds to 0, a gradient that is not 0.  So before compiling,
:func:`stable` rewrites the subtractions that cancel into their cancellation-free
forms (the C library's expm1/log1p; Goldberg 1991, "What every computer scientist
should know about floating-point arithmetic", §4):

* c·eᵘ − c → c·expm1(u), log(1 + u) → log1p(u)
* c − c·tanh²(u) → c·sech²(u)          (from tanh u while |tanh u| ≤ ½)
* c + c·erf(u) → c·erfc(−u), c + c·tanh(u) → 2c / (1 + e^{−2u})   (GELU as z → −∞)
* rational pieces with rational coefficients are factored (softsign' = 1/(1 − z)²)

>>> import mpmath, sympy
>>> elu = 2 * (sympy.exp(z) - 1)            # an ELU piece with α = 2
>>> both, phi, dphi = compiled(elu, sympy.diff(elu, z), 120)
>>> with mpmath.workprec(120):
...     mpmath.nstr(phi(mpmath.mpf("1e-40")), 10)   # 2·expm1(1e-40), not 0
'2.0e-40'
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import mpmath
import sympy
from sympy.codegen.cfunctions import expm1, log1p
from sympy.utilities.lambdify import implemented_function

from symgrad._core.symbols import z

__all__ = ["compiled", "logistic", "softplus", "stable", "well_conditioned"]

_Fn = Callable[[Any], Any]

# erfc(−u) = 1 + erf(u), kept whole: SymPy would turn erfc(−u) back into 2 − erfc(u).
_erfc_neg = implemented_function("erfc_neg", lambda u: mpmath.erfc(-u))


_HALF = mpmath.mpf(0.5)


def _sech2_mp(u: Any, t: Any) -> Any:
    """sech² u from t = tanh u (shared with φ): 1 − t² ≥ ¾ loses at most a bit while
    |t| ≤ ½; closer to ±1 it cancels, so sech u is evaluated instead."""
    if abs(t) <= _HALF:
        return 1 - t * t
    return mpmath.sech(u) ** 2


_sech2 = implemented_function("sech2", _sech2_mp)


def stable(expr: Any) -> Any:
    """``expr`` with the cancelling subtractions of the module docstring rewritten.

    >>> from sympy import exp, log, tanh
    >>> stable((exp(z) - 1) / 2), stable(log(exp(z) + 1)), stable(1 - tanh(z)**2)
    (expm1(z)/2, log1p(exp(z)), sech2(z, tanh(z)))
    """
    if not isinstance(expr, sympy.Basic) or not expr.args:
        return expr
    args = [stable(a) for a in expr.args]
    if any(new is not old for new, old in zip(args, expr.args, strict=True)):
        expr = expr.func(*args)
    if isinstance(expr, sympy.log):
        const, rest = expr.args[0].as_coeff_Add()
        if const == 1 and rest != 0:
            return log1p(rest)
    if isinstance(expr, sympy.Add):
        return _stable_sum(expr)
    return expr


def _complement(factor: Any, sign: int) -> Any:
    """f + sign, rewritten without cancellation, for the f that need it (else ``None``)."""
    if isinstance(factor, sympy.exp) and sign == -1:
        return expm1(factor.args[0])  # eᵘ − 1
    if isinstance(factor, sympy.erf):
        u = factor.args[0]
        return _erfc_neg(u) if sign == 1 else -sympy.erfc(u)  # erf u ± 1
    if isinstance(factor, sympy.tanh):
        u = factor.args[0]  # tanh u ± 1 = ±2/(1 + e^{∓2u})
        return sign * 2 / (1 + sympy.exp(-2 * sign * u))
    if factor.is_Pow and factor.exp == 2 and isinstance(factor.base, sympy.tanh) and sign == -1:
        u = factor.base.args[0]
        return -_sech2(u, sympy.tanh(u))  # tanh² u − 1 = −sech² u
    return None


def _stable_sum(expr: sympy.Add) -> sympy.Expr:
    """c·f(u) ± c → c·(f(u) ± 1) without cancellation (see :func:`_complement`);
    a rational function of z with rational coefficients is factored
    (softsign' = z/(1 − z)² + 1/(1 − z) = 1/(1 − z)²)."""
    terms = list(expr.args)
    for i, term in enumerate(terms):
        coeff, factor = term.as_independent(z, as_Add=False)
        if coeff.free_symbols or not factor.free_symbols:
            continue
        for j, other in enumerate(terms):
            if j == i or other.free_symbols:
                continue
            for sign in (1, -1):
                if sympy.expand(other - sign * coeff) != 0:
                    continue
                rewritten = _complement(factor, sign)
                if rewritten is not None:
                    rest = [t for m, t in enumerate(terms) if m not in (i, j)]
                    return stable(sympy.Add(coeff * rewritten, *rest))
    if expr.is_rational_function(z):
        num, den = sympy.fraction(sympy.together(expr))
        if all(sympy.Poly(p, z).domain in (sympy.ZZ, sympy.QQ) for p in (num, den)):
            return sympy.factor(expr)
    return expr


def _hoist(expr: Any, table: dict[Any, sympy.Dummy]) -> Any:
    if isinstance(expr, sympy.Expr) and not expr.free_symbols and not expr.is_Rational:
        if expr not in table:
            table[expr] = sympy.Dummy(f"c{len(table)}")
        return table[expr]
    if not expr.args:
        return expr
    return expr.func(*[_hoist(a, table) for a in expr.args])


# ---- softplus and the logistic, whose written forms lose everything for large z ----


class softplus(sympy.Function):  # type: ignore[misc]
    """log(1 + eᵘ), evaluated as u + log1p(e^{−u}) for u > 0 (eᵘ itself would carry
    only the relative accuracy |u|·2^−prec there)."""


class logistic(sympy.Function):  # type: ignore[misc]
    """eᵘ/(eᵘ + 1), evaluated as 1/(1 + e^{−u}) for u > 0."""


def _logistic_mul(e: sympy.Expr) -> sympy.Expr | None:
    """c·eᵘ·(eᵘ + 1)⁻¹ → c·logistic(u)."""
    if not isinstance(e, sympy.Mul):
        return None
    for f in e.args:
        if isinstance(f, sympy.exp):
            den = sympy.Pow(f + 1, -1)
            if den in e.args:
                rest = [a for a in e.args if a is not f and a != den]
                return sympy.Mul(*rest, logistic(f.args[0]))
    return None


def well_conditioned(expr: sympy.Expr) -> sympy.Expr:
    """log1p(eᵘ) → softplus(u) and c·eᵘ/(eᵘ + 1) → c·logistic(u) (after :func:`stable`),
    for ball arithmetic, where eᵘ itself would lose the relative accuracy at large u.

    >>> u = sympy.Symbol("u")
    >>> well_conditioned(sympy.exp(u) / (sympy.exp(u) + 1))
    logistic(u)
    """
    expr = expr.replace(lambda e: isinstance(e, log1p) and isinstance(e.args[0], sympy.exp),
                        lambda e: softplus(e.args[0].args[0]))
    return expr.replace(lambda e: _logistic_mul(e) is not None, _logistic_mul)


@functools.lru_cache(maxsize=128)
def compiled(phi: sympy.Expr, derivative: sympy.Expr, prec: int
             ) -> tuple[Callable[[Any], list[Any]], _Fn, _Fn]:
    """(both, φ, φ') for mpmath at ``prec`` bits: ``both(z)`` returns [φ(z), φ'(z)];
    ``phi`` and ``derivative`` are SymPy expressions in z.

    ``both`` shares subexpressions (tanh' = 1 − tanh²) unless φ is a ``Piecewise``,
    whose branches must stay lazy (softsign's z/(1 − z) is undefined at z = 1).
    """
    table: dict[Any, sympy.Dummy] = {}
    expr = _hoist(stable(phi), table)
    deriv = _hoist(stable(derivative), table)
    symbols = list(table.values())
    with mpmath.workprec(prec + 20):
        values = [c._to_mpmath(prec + 20) for c in table]
    args = [z, *symbols]
    f = sympy.lambdify(args, expr, modules="mpmath")
    df = sympy.lambdify(args, deriv, modules="mpmath")

    def value(v: Any) -> Any:
        return f(v, *values)

    def slope(v: Any) -> Any:
        return df(v, *values)

    if expr.has(sympy.Piecewise) or deriv.has(sympy.Piecewise):

        def both(v: Any) -> list[Any]:
            return [f(v, *values), df(v, *values)]

    else:
        fused = sympy.lambdify(args, [expr, deriv], modules="mpmath", cse=True)

        def both(v: Any) -> list[Any]:
            return fused(v, *values)  # type: ignore[no-any-return]

    return both, value, slope
