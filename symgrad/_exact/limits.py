"""Limits of f(z) as z → ±∞, read off the tail form instead of SymPy's ``limit``.

Towards side·∞, :func:`~symgrad._exact.tails.tail_form` writes f(side·z) = z^N·e^{E(z)}·T(z)
with T bounded and every term of T except the dominant class tending to 0.  So

* if the scale z^N·e^{E} → 0 (E eventually decreasing, or E = 0 and N < 0), f → 0;
* if it → ∞, f → ±∞ with the sign of T, proven by an enclosure of T over [a, ∞) that
  excludes 0;
* if the scale is 1 (N = 0, E = 0), f → the sum of the dominant terms' coefficients when
  their bounded factors are all 1 (exact); otherwise the limit is only enclosed, by T's
  enclosure over [a, ∞] for growing a (and :attr:`Limit.value` is None).

Every verdict is an algebraic identity plus finitely many ball operations (the rules of
:mod:`symgrad._exact.tail_terms`); nothing is guessed from sample points, and nothing waits
on SymPy's Gruntz algorithm (seconds for gelu_tanh's φ').

>>> from symgrad._core.symbols import z
>>> limit_at(1 / (1 + sympy.exp(-z)), 1).value, limit_at(1 / (1 + sympy.exp(-z)), -1).value
(1, 0)
>>> limit_at(z * sympy.exp(z), 1).value
oo
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy

from symgrad._core.symbols import z
from symgrad._exact.ball import START_BITS, working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.digits import CertifiedNumber, arb_bounds
from symgrad._exact.tail_terms import growth_order
from symgrad._exact.tails import TailForm, tail_form
from symgrad.errors import NoClosedForm

__all__ = ["Limit", "limit_at"]

_STARTS = 60  # enclosures of T are tried on [4·2^j, ∞) for j < 60
_ENCLOSE_BITS = 256


@dataclass(frozen=True)
class Limit:
    """lim f(z) as z → side·∞: ``value`` exact (a SymPy number, ±oo allowed) or None when
    only ``enclosure`` (an enclosure of a finite limit) is proven; ``how`` in words."""

    side: int
    value: sympy.Expr | None
    enclosure: CertifiedNumber | None
    how: str

    @property
    def infinite(self) -> bool:
        return self.value in (sympy.oo, -sympy.oo)


def limit_at(f: sympy.Expr, side: int, *, digits: int = 40) -> Limit:
    """lim f(z) as z → side·∞ (side = ±1), by the tail form of f (cached).

    Raises :class:`NoClosedForm` when f has no tail form or the sign of an unbounded
    limit cannot be proven.
    """
    return _limit(sympy.sympify(f), side, digits)


def _exact(value: sympy.Expr, side: int, how: str, digits: int) -> Limit:
    if value in (sympy.oo, -sympy.oo):
        return Limit(side, value, None, how)
    with working_precision(max(START_BITS, int(digits * 3.33) + 64)):
        number = CertifiedNumber.from_arb(constant_ball(value), digits)
    return Limit(side, value, number, how)


@lru_cache(maxsize=1024)
def _limit(f: sympy.Expr, side: int, digits: int) -> Limit:
    towards = "+∞" if side > 0 else "−∞"
    if not f.has(z):
        return _exact(f, side, "constant", digits)
    form = tail_form(f, side)
    growth = growth_order(form.exponent, form.power, sympy.Integer(0), sympy.Integer(0))
    if growth < 0:
        return _exact(sympy.Integer(0), side, f"f = {sympy.sstr(form.scale)}·T towards "
                      f"{towards} with T bounded and the scale tending to 0", digits)
    if growth > 0:
        sign = _eventual_sign(form)
        return _exact(sign * sympy.oo, side, f"f = {sympy.sstr(form.scale)}·T towards "
                      f"{towards}, the scale unbounded and T of one sign", digits)
    dominant = [t for t in form.terms if t.power == 0 and t.exponent == 0]
    if all(t.bounded == 1 for t in dominant):
        value = sympy.Add(*[t.coeff for t in dominant])
        return _exact(value, side, "the constant terms of the tail form (the others decay)",
                      digits)
    return Limit(side, None, _enclosed(form, digits), "enclosed by the tail form's range "
                 f"far towards {towards}")


def _eventual_sign(form: TailForm) -> int:
    with working_precision(START_BITS):
        for j in range(_STARTS):
            enclosure = form.enclosure_beyond(Fraction(4 * 2**j))
            if enclosure is not None and (enclosure > 0 or enclosure < 0):
                return 1 if enclosure > 0 else -1
    raise NoClosedForm(f"cannot prove the sign of {form} far out")


def _enclosed(form: TailForm, digits: int) -> CertifiedNumber:
    """T's range over [a, ∞] contains the limit; the narrowest one found."""
    best: CertifiedNumber | None = None
    with working_precision(_ENCLOSE_BITS):
        for j in range(_STARTS):
            enclosure = form.enclosure_beyond(Fraction(4 * 2**j))
            if enclosure is None or not enclosure.is_finite():
                continue
            lo, hi = arb_bounds(enclosure)
            if best is None or hi - lo < best.width:
                best = CertifiedNumber(lo, hi, digits)
    if best is None:
        raise NoClosedForm(f"cannot enclose the limit of {form}")
    return best
