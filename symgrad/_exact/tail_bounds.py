"""Enclosures over a whole half-line [a, ∞) of the bounded factors of a tail form.

Each bounded expression is turned once into a *plan*: a function of the start point a
returning an Arb enclosure valid for every z ≥ a (None when not proven there):

* z^k·e^{G(z)} is non-increasing on [a, ∞) once k + z·G'(z) ≤ 0 there — checked on the
  Taylor coefficients of that polynomial at a (all ≤ 0) — so it lies in
  [0, a^k·e^{G(a)}];
* a monotone h (erf, erfc, erfcx, tanh, atan) of a polynomial P that is monotone on
  [a, ∞) lies between h(P(a)) and h(P(±∞));
* sums, products, powers and other functions combine the enclosures of their parts
  (ball arithmetic, so every combination is again an enclosure).

>>> from flint import arb
>>> from symgrad._core.symbols import z
>>> from symgrad._exact.ball import working_precision
>>> with working_precision(64):
...     print(plan(z**2 * sympy.exp(-z))(arb(8)).upper() < 0.022)
True
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import sympy
from flint import arb

from symgrad._core.symbols import z
from symgrad._exact.ball import erfcx
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_rules import REAL
from symgrad._exact.tail_terms import FUNCTION_NAMES, ZERO, NotTail, bounded, terms_of

__all__ = ["Plan", "coefficients", "decay_plan", "eventually", "plan"]

# ---- enclosures on [a, ∞] ----
#
# Each bounded expression is turned once into a plan: a function of the start point a
# returning an enclosure over [a, ∞) (None: not proven bounded there).

Plan = Callable[[arb], "arb | None"]


@lru_cache(maxsize=4096)
def coefficients(poly: sympy.Expr) -> tuple[sympy.Expr, ...]:
    return tuple(sympy.Poly(poly, z).all_coeffs())


def _horner(coeffs: tuple[sympy.Expr, ...], a: arb) -> arb:
    total = arb(0)
    for c in coeffs:
        total = total * a + constant_ball(c)
    return total


def eventually(poly: sympy.Expr, a: arb) -> int:
    """+1 (−1) when poly ≥ 0 (≤ 0) on [a, ∞), read off the coefficients of poly(a + s)."""
    coeffs = [constant_ball(c) for c in coefficients(poly)]
    # Taylor shift by repeated synthetic division (Horner): coeffs[-1 - j] ← poly^(j)(a)/j!
    n = len(coeffs)
    for i in range(n - 1):
        for j in range(1, n - i):
            coeffs[j] += coeffs[j - 1] * a
    if all(c >= 0 for c in coeffs):
        return 1
    if all(c <= 0 for c in coeffs):
        return -1
    return 0


@lru_cache(maxsize=4096)
def decay_plan(k: sympy.Rational, g: sympy.Expr) -> Plan:
    """z^k·e^{g(z)} on [a, ∞): in [0, a^k·e^{g(a)}] once k + z·g'(z) ≤ 0 there."""
    if k == 0 and g == 0:
        return lambda a: arb(1)
    g_coeffs = coefficients(g) if g != 0 else (ZERO,)
    degree = len(g_coeffs) - 1
    # k + z·g'(z) = k + Σ i·c_i·z^i
    slope = sympy.Add(k, *[(degree - j) * c * z ** (degree - j)
                           for j, c in enumerate(g_coeffs) if degree - j > 0])

    def bound(a: arb) -> arb | None:
        if slope == 0 or eventually(slope, a) >= 0:
            return None
        at_a = REAL["rpow"](a, int(k.p), int(k.q)) if k != 0 else arb(1)
        return arb(0).union(at_a * REAL["exp"](_horner(g_coeffs, a)))

    return bound


_LIMITS = {  # h(−∞), h(+∞) for monotone h (None: unbounded)
    sympy.erf: (-1, 1), sympy.erfc: (2, 0), erfcx: (None, 0), sympy.tanh: (-1, 1),
    sympy.atan: (-2, 2),  # in units of π/4
}


def _limit_ball(kind: type, value: int | None) -> arb | None:
    if value is None:
        return None
    return arb.pi() / 4 * value if kind is sympy.atan else arb(value)


@lru_cache(maxsize=4096)
def plan(e: sympy.Expr) -> Plan:
    """The plan of a bounded expression e."""
    if not e.has(z):
        return lambda a: constant_ball(e)
    if isinstance(e, sympy.Add):
        return _sum_plan(tuple(plan(arg) for arg in e.args))
    k, g, others = sympy.Integer(0), ZERO, []
    for f in sympy.Mul.make_args(e):
        if f == z:
            k += 1
        elif isinstance(f, sympy.Pow) and f.base == z and f.exp.is_Rational:
            k += f.exp
        elif isinstance(f, sympy.exp) and f.args[0].is_polynomial(z):
            g += f.args[0]
        else:
            others.append(_single_plan(f))
    return _product_plan(decay_plan(sympy.Rational(k), sympy.expand(g)), tuple(others))


def _sum_plan(parts: tuple[Plan, ...]) -> Plan:
    def run(a: arb) -> arb | None:
        total = arb(0)
        for part in parts:
            v = part(a)
            if v is None:
                return None
            total += v
        return total

    return run


def _product_plan(mono: Plan, parts: tuple[Plan, ...]) -> Plan:
    def run(a: arb) -> arb | None:
        total = mono(a)
        for part in parts:
            if total is None:
                return None
            v = part(a)
            total = None if v is None else total * v
        return total

    return run


def _single_plan(f: sympy.Expr) -> Plan:
    if not f.has(z) or isinstance(f, sympy.Add | sympy.Mul):
        return plan(f)
    if isinstance(f, sympy.Pow):
        base, n = plan(f.base), f.exp
        if not n.is_Rational:
            return lambda a: None

        def power(a: arb) -> arb | None:
            b = base(a)
            if b is None:
                return None
            if n.is_Integer:
                value: arb = (REAL["ipow"](b, int(n)) if n > 0
                              else 1 / REAL["ipow"](b, int(-n)))
                return value
            root: arb = REAL["rpow"](b, int(n.p), int(n.q))
            return root

        return power
    kind, arg = type(f), f.args[0]
    if kind in (sympy.sin, sympy.cos):
        return lambda a: arb(0, 1)  # [−1, 1]
    name = FUNCTION_NAMES.get(kind)
    if name is None:
        return lambda a: None
    if kind in _LIMITS and arg.is_polynomial(z) and arg.has(z):
        return _monotone_plan(kind, name, sympy.expand(arg))
    inner = _argument_plan(arg)

    def apply(a: arb) -> arb | None:
        v = inner(a)
        return None if v is None else REAL[name](v)

    return apply


def _argument_plan(u: sympy.Expr) -> Plan:
    """An argument u enclosed through its own tail terms when they are all bounded
    (z/(2z + 1) = 1/2 − (1/(4z))·(1 + 1/(2z))⁻¹: bounded, though z alone is not)."""
    try:
        terms = terms_of(u)
        limited = bounded(terms)
    except NotTail:
        return plan(u)
    if not limited:
        return plan(u)
    parts = tuple(_product_plan(decay_plan(t.power, t.exponent),
                                (plan(t.coeff), plan(t.bounded))) for t in terms)
    return _sum_plan(parts)


def _monotone_plan(kind: type, name: str, arg: sympy.Expr) -> Plan:
    """h(P(z)) for monotone h and a polynomial P, monotone on [a, ∞): between h(P(a)) and
    h(P(±∞))."""
    slope = sympy.diff(arg, z)
    coeffs = coefficients(arg)

    def run(a: arb) -> arb | None:
        direction = eventually(slope, a)
        limit = _limit_ball(kind, _LIMITS[kind][1 if direction > 0 else 0]) if direction else None
        if limit is None:
            return None
        value: arb = REAL[name](_horner(coeffs, a)).union(limit)
        return value

    return run
