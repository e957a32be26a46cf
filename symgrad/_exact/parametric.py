"""Roots and values of f(z; p) when the parameter p is itself a certified number.

A mean-field correlation fixed point solves C(c; q*) = c where q* is only known as an
enclosure.  Compiling f with p as a ball parameter
(:func:`~symgrad._exact.ball_function.compile_ball` with ``params``) makes every
evaluation an enclosure over the whole parameter ball, so a sign proven at a rational z
holds for every p in it.  :func:`parametric_root` bisects between two such signs; the
caller supplies the proof that f(·; p) has at most one root in (lo, hi) for every p
(convexity, monotonicity), since bisection alone cannot.

>>> from fractions import Fraction
>>> from symgrad._core.symbols import z
>>> p = sympy.Symbol("p", positive=True)
>>> two = CertifiedNumber.exact(2)
>>> parametric_root(z**2 - p, (p,), (two,), Fraction(1), Fraction(2), digits=15).text()
'1.41421356237310'
"""

from __future__ import annotations

from fractions import Fraction

import sympy
from flint import arb, fmpq

from symgrad._exact.ball import (
    CAP_BITS,
    START_BITS,
    bits_for_digits,
    precision_ladder,
    working_precision,
)
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad.errors import NoClosedForm

__all__ = ["parametric_root", "parametric_value"]

_SIGN_CAP = 2048


def _point(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


def parametric_value(f: sympy.Expr, params: tuple[sympy.Symbol, ...],
                     values: tuple[CertifiedNumber, ...], at: CertifiedNumber, *,
                     digits: int) -> CertifiedNumber:
    """An enclosure of f(z; p) over z in ``at`` and p in ``values`` (as narrow as those
    enclosures allow, up to ``digits`` digits)."""
    fn = compile_ball(f, params)
    best: CertifiedNumber | None = None
    for bits in precision_ladder(bits_for_digits(digits), CAP_BITS):
        with working_precision(bits):
            value = fn(at.ball(), tuple(v.ball() for v in values))
        if not value.is_finite():
            raise NoClosedForm(f"{f} is not finite on the enclosures given")
        number = CertifiedNumber.from_arb(value, digits)
        if best is not None and number.width >= best.width / 2:
            return number if number.width < best.width else best
        best = number
        if best.digits >= digits:
            return best
    return best if best is not None else CertifiedNumber.exact(0)


def parametric_root(f: sympy.Expr, params: tuple[sympy.Symbol, ...],
                    values: tuple[CertifiedNumber, ...], lo: Fraction, hi: Fraction, *,
                    digits: int) -> CertifiedNumber:
    """The root of f(·; p) in (lo, hi), enclosed for every p in ``values``.

    f(lo; p) and f(hi; p) must have proven opposite signs for every p (else
    :class:`NoClosedForm`); uniqueness of the root in between is the caller's proof.
    """
    fn = compile_ball(f, params)

    def sign(x: Fraction) -> int:
        for bits in precision_ladder(START_BITS, _SIGN_CAP):
            with working_precision(bits):
                v = fn(_point(x), tuple(p.ball() for p in values))
            if v > 0:
                return 1
            if v < 0:
                return -1
        return 0

    s_lo, s_hi = sign(lo), sign(hi)
    if s_lo * s_hi != -1:
        raise NoClosedForm(f"no proven sign change of {f} on [{lo}, {hi}]")
    target = Fraction(1, 10 ** (digits + 2)) * max(abs(lo), abs(hi), Fraction(1))
    while hi - lo > target:
        mid = (lo + hi) / 2
        s = sign(mid)
        if s == 0:  # the parameters' enclosures, not the precision, limit the root
            break
        if s == s_lo:
            lo = mid
        else:
            hi = mid
    return CertifiedNumber(lo, hi, digits)
