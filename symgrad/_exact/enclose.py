"""Certified values at certified points, and proven signs on intervals.

:func:`enclose` evaluates an expression on the enclosure of a point — a root from
:func:`~symgrad._exact.isolate.isolate_roots` (refined further when its enclosure is too
wide for the digits asked), a :class:`~symgrad._exact.digits.CertifiedNumber`, or an exact
SymPy number — raising the precision until the digits are proven or the cap is reached
(then the result simply proves fewer digits: ``.digits`` says how many).

:func:`exclude` proves that f has no root on [lo, hi] (ends may be ±oo) and returns its
sign, with the isolation certificate as evidence.

>>> from symgrad._core.symbols import z
>>> r = isolate_roots(sympy.diff(z * sympy.exp(-z**2), z), 0, sympy.oo, digits=30).roots[0]
>>> enclose(z * sympy.exp(-z**2), r, digits=25).text()
'0.4288819424803533982400948'
>>> exclude(sympy.exp(-z) + z**2, -sympy.oo, sympy.oo).sign
1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy
from flint import arb

from symgrad._core.symbols import z
from symgrad._exact.ball import CAP_BITS, bits_for_digits, precision_ladder, working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.isolate import Isolation, Root, isolate_roots, refine_root
from symgrad._exact.precision import MAX_EXACT_BITS
from symgrad.errors import InvalidArgument, NoClosedForm

__all__ = ["Exclusion", "constant_number", "enclose", "exclude"]

_REFINEMENTS = 6


def _value(f: Any, point: arb) -> arb:
    value: arb = f(point)
    return value


def enclose(expr: sympy.Expr, at: Root | CertifiedNumber | Any, *,
            digits: int = 40) -> CertifiedNumber:
    """A certified value of ``expr`` (in z) at ``at``, to ``digits`` digits when possible."""
    if not isinstance(digits, int) or not 1 <= digits <= 1000:
        raise InvalidArgument(f"digits must be an integer in [1, 1000], got {digits!r}")
    e = sympy.sympify(expr)
    if not isinstance(at, Root | CertifiedNumber):
        point = sympy.sympify(at)
        if not point.is_number:
            raise InvalidArgument(f"at must be a number, a Root or a CertifiedNumber, got {at!r}")
        return _constant(e.subs(z, point), digits)
    f = compile_ball(e)
    root = at if isinstance(at, Root) else None
    number = at.value if isinstance(at, Root) else at
    best = None
    for _ in range(_REFINEMENTS):
        for bits in precision_ladder(bits_for_digits(digits), CAP_BITS):
            with working_precision(bits):
                value = _value(f, number.ball())
                at_mid = _value(f, arb(number.ball().mid()))
            if not value.is_finite():
                raise NoClosedForm(f"{e} is not finite near z = {number.text(20)}")
            best = CertifiedNumber.from_arb(value, digits)
            if best.digits >= digits:
                return best
            if at_mid.is_finite() and CertifiedNumber.from_arb(at_mid, digits).digits >= digits:
                break  # the point's enclosure, not the precision, limits the digits
        if root is None:
            break
        root = refine_root(root, 2 * max(root.value.digits, digits) + 10)
        number = root.value
    assert best is not None
    return best


def constant_number(value: sympy.Expr, digits: int = 40) -> CertifiedNumber:
    """A certified enclosure of a real z-free closed form, to ``digits`` digits when the
    precision cap allows (``.digits`` says how many are proven).

    >>> constant_number(sympy.sqrt(2), 20).text()
    '1.4142135623730950488'
    """
    return _constant(sympy.sympify(value), digits)


class BeyondRationals(NoClosedForm):
    """A ball too far from 1 (in magnitude or precision) to write as exact fractions;
    ``ball`` is its (rigorous) Arb enclosure."""

    def __init__(self, ball: arb, message: str) -> None:
        super().__init__(message)
        self.ball = ball


def _too_far(ball: arb) -> bool:
    """Whether an end point of ``ball`` needs more than MAX_EXACT_BITS bits as a fraction
    (φ'(−10²⁵) for GELU is about 2^(−7·10⁴⁹))."""
    for part in (ball.mid(), ball.rad()):
        if part != 0:
            man, exp = part.man_exp()
            if abs(int(exp)) + int(man).bit_length() > MAX_EXACT_BITS:
                return True
    return False


def _constant(value: sympy.Expr, digits: int) -> CertifiedNumber:
    best = None
    for bits in precision_ladder(bits_for_digits(digits), CAP_BITS):
        with working_precision(bits):
            ball = constant_ball(value)
        if not ball.is_finite():
            raise NoClosedForm(f"{value} is not finite")
        if _too_far(ball):
            raise BeyondRationals(ball, f"{value} lies beyond 2^±{MAX_EXACT_BITS}: no exact "
                                  "rational enclosure is written out")
        best = CertifiedNumber.from_arb(ball, digits)
        if best.digits >= digits:
            break
    assert best is not None
    return best


@dataclass(frozen=True)
class Exclusion:
    """f has no root on the interval and the sign ``sign`` there; ``isolation`` is the
    certificate (its cells and tails)."""

    sign: int
    isolation: Isolation

    def statement(self) -> str:
        return (f"f {'>' if self.sign > 0 else '<'} 0 on [{sympy.sstr(self.isolation.lo)}, "
                f"{sympy.sstr(self.isolation.hi)}]: " + self.isolation.statement())


def exclude(f: sympy.Expr, lo: Any, hi: Any) -> Exclusion:
    """Prove f ≠ 0 on [lo, hi] (closed at finite ends) and return its sign.

    Raises :class:`NoClosedForm` when f has a root there (the message lists them) or the
    proof fails.
    """
    e = sympy.sympify(f)
    isolation = isolate_roots(e, lo, hi, digits=3)
    if isolation.roots:
        where = ", ".join(r.value.text() for r in isolation.roots[:5])
        raise NoClosedForm(f"{e} has {len(isolation.roots)} root(s) in ({lo}, {hi}): {where}")
    signs = set()
    ends = [sympy.sympify(x) for x in (lo, hi) if sympy.sympify(x).is_finite]
    inside = _inside(sympy.sympify(lo), sympy.sympify(hi))
    for point in [*ends, inside]:
        value = _constant(e.subs(z, point), 3)
        if value.sign() == 0:
            raise NoClosedForm(f"cannot prove {e} ≠ 0 at z = {point}")
        signs.add(value.sign())
    if len(signs) != 1:  # pragma: no cover - no root inside means one sign
        raise NoClosedForm(f"{e} changes sign on [{lo}, {hi}] without a root: not continuous")
    return Exclusion(signs.pop(), isolation)


def _inside(lo: sympy.Expr, hi: sympy.Expr) -> sympy.Expr:
    if lo.is_finite and hi.is_finite:
        return (lo + hi) / 2
    if lo.is_finite:
        return lo + 1
    if hi.is_finite:
        return hi - 1
    return sympy.Integer(0)
