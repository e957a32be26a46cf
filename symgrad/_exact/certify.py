"""Roots of f(z) = 0 that SymPy cannot solve: isolated and certified.

Interval arithmetic (:mod:`symgrad._exact.intervals`) excludes roots from
sub-intervals and proves a root's uniqueness where f' keeps its sign; each root is
then a bracket with a verified sign change, bisected to ≥ 30 significant digits.  On
unbounded pieces the window reaches |z| = 2**30 and the tails beyond it are enclosed
on [2**30, ∞] directly; the record says when that enclosure is not conclusive.

>>> roots, _ = certified_roots(sympy.exp(z) - 3 * z, 0, 2)   # z = −W(−1/3), both branches
>>> [mpmath.nstr(r.mid, 12) for r in roots]
['0.619061286736', '1.51213455166']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import z
from symgrad._exact.intervals import MP as _MP
from symgrad._exact.intervals import erfcx, interval, iv_function, sign
from symgrad._exact.precision import BRACKET_DIGITS, WINDOW
from symgrad.errors import NoClosedForm

__all__ = ["CertifiedRoot", "Tails", "certified_roots"]

_DIGITS = BRACKET_DIGITS
_iv = interval
_sign = sign


@dataclass(frozen=True)
class CertifiedRoot:
    """A root inside ``[lo, hi]`` (mpmath numbers), proven by a sign change of f."""

    lo: mpmath.mpf
    hi: mpmath.mpf

    @property
    def mid(self) -> mpmath.mpf:
        return (self.lo + self.hi) / 2


@dataclass(frozen=True)
class Tails:
    """How far roots were excluded on an unbounded piece."""

    proven_to_infinity: bool
    window: sympy.Expr


_TAIL = 4  # beyond |z| = 4 the tail forms (dominant exponential divided out) are used


def _partition(lo: sympy.Expr, hi: sympy.Expr) -> list[mpmath.mpf]:
    """Points 0, ±2**k (k = −4..30) inside (lo, hi), with the (window-clipped) ends."""
    window = float(WINDOW)
    a = -window if lo == -sympy.oo else float(lo)
    b = window if hi == sympy.oo else float(hi)
    points = {_MP.mpf(0)} | {s * _MP.mpf(2) ** k for k in range(-4, 31) for s in (-1, 1)}
    inner = sorted(p for p in points if a < p < b)
    # All arithmetic on subdivision points happens in the private high-precision context.
    first = _MP.mpf(lo.evalf(80)) if lo != -sympy.oo else _MP.mpf(a)
    last = _MP.mpf(hi.evalf(80)) if hi != sympy.oo else _MP.mpf(b)
    return [first, *inner, last]


def _expand(expr: sympy.Expr) -> sympy.Expr:
    """Expand products but keep each exponential whole: exp(a)·exp(b) → exp(a + b)."""
    return sympy.powsimp(sympy.expand(expr, power_exp=False), combine="exp")


def _numerator(f: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr]:
    """(N, D) with f = c·N/D, c a nonzero constant times exponentials (never zero).

    Denominators are only cleared when they involve z through more than exponentials;
    clearing e^{−z²/2} would multiply every term by e^{z²/2} and ruin the enclosures.
    """
    f = f.rewrite(sympy.exp)
    num, den = sympy.fraction(sympy.together(f))
    if all(not b.has(z) or isinstance(b, sympy.exp) for b in _bases(den)):
        num, den = f, sympy.Integer(1)
    kept = []
    # Exponentials split (exp(z + 1/2) → e^{1/2}·e^z) so common factors come out.
    for base in _bases(sympy.factor_terms(sympy.expand(num))):
        if base.has(z) and not isinstance(base, sympy.exp):
            kept.append(_expand(base))
    return sympy.Mul(*kept), den


def _bases(product: sympy.Expr) -> list[sympy.Expr]:
    return [
        f.base if f.is_Pow and f.exp.is_positive else f for f in sympy.Mul.make_args(product)
    ]


def _tail_form(n: sympy.Expr, side: int) -> sympy.Expr:
    """n·exp(−E(z)), same roots, with E the dominant exponent towards side·∞.

    Every term of n is a product of exp(E_t(z)) (E_t polynomial) and bounded or
    polynomial factors; dividing by the fastest-growing exponential keeps every term
    bounded on the wide tail intervals (e^{±z} in sigmoid-like forms, e^{−z²} in
    erf-like ones, e^{2c(z + k z³)} in gelu_tanh).
    """
    n = _expand(_erf_tails(n, side))
    exponents = []
    for term in sympy.Add.make_args(n):
        e = sympy.expand(sum((a.args[0] for a in term.atoms(sympy.exp)), sympy.Integer(0)))
        if not e.is_polynomial(z):
            return n
        exponents.append(e)
    dominant = exponents[0]
    for e in exponents[1:]:
        gap = sympy.Poly(sympy.expand(e - dominant), z)
        if not gap.is_zero and float(gap.LC()) * side ** gap.degree() > 0:
            dominant = e
    if dominant == 0:
        return n
    return _expand(n * sympy.exp(-dominant))


def _erf_tails(n: sympy.Expr, side: int) -> sympy.Expr:
    """erf(x) = ±(1 − erfcx(±x)·e^{−x²}) towards side·∞, so 1 + erf(x) cancels exactly."""

    def swap(e: sympy.Expr) -> sympy.Expr:
        x = e.args[0]
        if not x.is_polynomial(z) or not x.has(z):
            return e
        poly = sympy.Poly(x, z)
        s = 1 if poly.LC() * side ** poly.degree() > 0 else -1
        return s * (1 - erfcx(s * x) * sympy.exp(-(x**2)))

    return n.replace(lambda e: isinstance(e, sympy.erf), swap)


@dataclass(frozen=True)
class _Region:
    f: Callable[[Any], Any]
    fp: Callable[[Any], Any]


def _regions(n: sympy.Expr) -> tuple[_Region, _Region, _Region]:
    def region(expr: sympy.Expr) -> _Region:
        return _Region(iv_function(expr), iv_function(sympy.diff(expr, z)))

    return region(_tail_form(n, -1)), region(n), region(_tail_form(n, 1))


def certified_roots(
    f: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr
) -> tuple[list[CertifiedRoot], Tails]:
    """Every root of f in (lo, hi), each bracketed with a verified sign change.

    Raises :class:`NoClosedForm` when a root cannot be certified (a multiple root, or an
    expression without an interval enclosure).
    """
    lo, hi = sympy.sympify(lo), sympy.sympify(hi)
    n, den = _numerator(f)
    if not n.has(z):  # f is a nonzero constant times exponentials: no roots at all
        return [], Tails(proven_to_infinity=True, window=WINDOW)
    try:
        left, mid, right = _regions(n)
        D = iv_function(den)

        def pick(a: Any, b: Any) -> _Region:
            return right if a >= _TAIL else left if b <= -_TAIL else mid

        points = _partition(lo, hi)
        roots = []
        stack = [(points[i], points[i + 1]) for i in range(len(points) - 1)][::-1]
        min_width = _MP.mpf(10) ** -_DIGITS
        while stack:
            a, b = stack.pop()
            r = pick(a, b)
            if _sign(r.f(_iv(a, b))) != 0:
                continue
            sa, sb = _sign(r.f(_iv(a, a))), _sign(r.f(_iv(b, b)))
            monotone = _sign(r.fp(_iv(a, b))) != 0
            if monotone and sa * sb == 1:
                continue
            if monotone and sa * sb == 0 and sa + sb != 0:
                # One end's enclosure straddles 0: an exact root at a subdivision point
                # (f is monotone here, so there is no other root in the interval).
                at = a if sa == 0 else b
                if _is_exact_zero(f, at):
                    roots.append(CertifiedRoot(at, at))
                    continue
            if monotone and sa * sb == -1:
                root = _refine(r.f, a, b, sa)
                if _sign(D(_iv(root.lo, root.hi))) == 0:
                    raise NoClosedForm(f"{f} has a pole near z = {mpmath.nstr(root.mid, 20)}")
                roots.append(root)
                continue
            if b - a < min_width * max(1, abs(a)):
                raise NoClosedForm(
                    f"cannot certify the roots of {f} near z = {mpmath.nstr(a, 20)}:"
                    " a multiple root or a root at a subdivision point"
                )
            # Split slightly off-centre so exact roots at dyadic points are not hit.
            m = a + (b - a) * _MP.mpf("0.4970703125")
            stack += [(m, b), (a, m)]
        tails = _tails(left.f, right.f, lo, hi)
    except (TypeError, NameError, AttributeError, ZeroDivisionError) as exc:
        raise NoClosedForm(f"no interval enclosure for {f}: {exc}") from None
    unique = {(r.lo, r.hi): r for r in roots}
    return sorted(unique.values(), key=lambda r: r.lo), tails


def _is_exact_zero(f: sympy.Expr, at: Any) -> bool:
    man, exp = _MP.mpf(at).man_exp  # subdivision points are exact binary fractions
    point = sympy.Integer(man) * sympy.Integer(2) ** exp
    return bool(sympy.simplify(f.subs(z, point)) == 0)


def _refine(F: Callable[[Any], Any], a: Any, b: Any, sa: int) -> CertifiedRoot:
    """Bisect a verified sign change down to relative width 10**−_DIGITS."""
    target = _MP.mpf(10) ** -_DIGITS
    while b - a > target * max(1, abs(a), abs(b)):
        m = (a + b) / 2
        sm = _sign(F(_iv(m, m)))
        if sm == 0:  # the enclosure at m straddles 0: stop at the last verified bracket
            break
        if sm == sa:
            a = m
        else:
            b = m
    return CertifiedRoot(a, b)


def _tails(
    left: Callable[[Any], Any], right: Callable[[Any], Any], lo: sympy.Expr, hi: sympy.Expr
) -> Tails:
    window = float(WINDOW)
    proven = True
    if hi == sympy.oo:
        proven &= _sign(right(interval(window, "+inf"))) != 0
    if lo == -sympy.oo:
        proven &= _sign(left(interval("-inf", -window))) != 0
    return Tails(proven_to_infinity=proven, window=WINDOW)
