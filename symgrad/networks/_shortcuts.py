"""Direct routes to the expressions SymPy's general algorithms return, where the form is
known: the same expressions, without the general machinery's cost on a first call.

* :func:`radsimp` — ``sympy.radsimp`` with π held as a positive symbol;
* :func:`polynomial_integral` — ∫ of a polynomial with rational coefficients between
  rational ends, by its antiderivative (``sympy.integrate``'s import alone costs 0.2 s);
* :func:`limit_inf`, :func:`growth_exponent` — lim_{L→∞} and the exponent κ of L^κ for a
  rational function of the depth L with rational coefficients, from degrees and leading
  coefficients (Gruntz's algorithm: a tenth of a second per limit);
* :func:`nonzero` — whether a constant is not 0, first from an Arb ball.

Each falls back to SymPy's own algorithm outside its form; ``tests/networks/
test_networks_shortcuts.py`` compares each with SymPy's answer, expression for expression.

>>> limit_inf(1 + 1 / (4 * L)), growth_exponent(L * (1 + 1 / (4 * L) - 1))
(1, 0)
"""

from __future__ import annotations

import sympy
from flint import arb

from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad.errors import NoClosedForm
from symgrad.networks.blocks import L

__all__ = ["growth_exponent", "limit_inf", "nonzero", "polynomial_integral", "radsimp"]

#: π as a positive symbol while :func:`radsimp` works (see there).
_PI = sympy.Symbol("pi", positive=True)
_TINY = arb(10) ** -20


def radsimp(expr: sympy.Expr) -> sympy.Expr:
    """``sympy.radsimp(expr)``, the same expression, with π held as a positive symbol.

    SymPy's radsimp asks ``nsimplify`` whether a numeric denominator such as √π is a
    rational number in disguise (a PSLQ search: a tenth of a second per √π, and always
    "no" for a power of π); with π a positive symbol it skips that question and
    rationalises the same way, and π goes back in without re-evaluating the
    rationalised form (√π/π, not 1/√π).
    """
    if not expr.has(sympy.pi):
        return sympy.radsimp(expr)
    held = sympy.radsimp(expr.xreplace({sympy.pi: _PI}))
    with sympy.evaluate(False):
        out: sympy.Expr = held.xreplace({_PI: sympy.pi})
    return out


def polynomial_integral(g: sympy.Expr, u: sympy.Symbol, lo: sympy.Expr,
                        hi: sympy.Expr) -> sympy.Expr:
    """∫_lo^hi g(u) du: for a polynomial with rational coefficients between rational
    ends the antiderivative's difference (a rational number, as SymPy's integrate
    gives), else ``sympy.integrate``."""
    if lo.is_Rational and hi.is_Rational and g.is_polynomial(u):
        poly = sympy.Poly(g, u)
        if poly.domain.is_QQ or poly.domain.is_ZZ:
            antiderivative = poly.integrate()
            return sympy.Rational(antiderivative.eval(hi) - antiderivative.eval(lo))
    return sympy.integrate(g, (u, lo, hi))


def _rational_in_l(expr: sympy.Expr) -> tuple[sympy.Poly, sympy.Poly] | None:
    """(numerator, denominator) of ``expr`` as polynomials in L with rational
    coefficients (not cancelled: a common factor changes neither the degree difference
    nor the ratio of leading coefficients), or None when it is not such a rational
    function."""
    num, den = expr.as_numer_denom()
    try:
        polys = sympy.Poly(num, L), sympy.Poly(den, L)
    except sympy.PolynomialError:
        return None
    if not all(p.domain.is_ZZ or p.domain.is_QQ for p in polys) or polys[0].is_zero:
        return None
    return polys


def limit_inf(expr: sympy.Expr) -> sympy.Expr:
    """lim_{L→∞} expr: for a rational function of L with rational coefficients from the
    degrees and leading coefficients (the rational number or ±∞ Gruntz's algorithm
    returns), otherwise ``sympy.limit``."""
    if not expr.has(L):
        return expr
    polys = _rational_in_l(expr)
    if polys is None:
        return sympy.limit(expr, L, sympy.oo)
    num, den = polys
    ratio = sympy.Rational(num.LC()) / sympy.Rational(den.LC())
    if num.degree() < den.degree():
        return sympy.Integer(0)
    if num.degree() == den.degree():
        return ratio
    return sympy.oo if ratio > 0 else -sympy.oo


def growth_exponent(expr: sympy.Expr) -> sympy.Expr:
    """κ = lim_{L→∞} log|expr|/log L: the degree difference of a rational function of L
    with rational coefficients (not identically 0), else ``sympy.limit``."""
    polys = _rational_in_l(expr)
    if polys is None:
        return sympy.limit(sympy.log(sympy.Abs(expr)) / sympy.log(L), L, sympy.oo)
    return sympy.Integer(polys[0].degree() - polys[1].degree())


def nonzero(expr: sympy.Expr) -> bool:
    """Whether a constant expression is not 0: SymPy's own answer, else 30 digits (a value
    whose 30-digit evaluation is clearly away from 0 is not 0).  First an Arb ball: one
    that proves |expr| > 1e−20 settles it as both would (SymPy's assumptions cost tens of
    milliseconds on π/(π − 1) − 1)."""
    try:
        with working_precision(64):
            if abs(constant_ball(expr)) > _TINY:
                return True
    except NoClosedForm:  # a function without a ball rule: SymPy decides
        pass
    if expr.is_zero is not None:
        return not expr.is_zero
    return bool(abs(sympy.N(expr, 30)) > sympy.Float(10) ** -20)
