"""Every root of f on an interval, each a certified enclosure, with a proof none was missed.

:func:`isolate_roots` covers the interval (lo, hi) by cells, each with a verdict proven
in ball arithmetic (:mod:`symgrad._exact.ball`):

* ``EXCLUDED``: 0 ∉ f(I);
* ``MONOTONE``: 0 ∉ f'(I) and f has the same sign at both ends — no root;
* ``ROOT``: 0 ∉ f'(I) and f changes sign — exactly one root, refined by interval Newton
  (N(I) = m − f(m)/f'(I) keeps the root, so its intersection with I does) until the
  requested digits are proven;
* ``EXACT_ROOT``: 0 ∉ f'(I) and f vanishes at an end point, proven exactly by SymPy
  (roots at subdivision points such as tanh''(0) = 0).

On |z| ≤ 4 f itself is evaluated; beyond, its tail form T (f = z^N·e^{E}·T, see
:mod:`symgrad._exact.tails`), which has the same roots and stays well conditioned where
f under- or overflows any fixed precision.  Unbounded sides end with a tail proof: an
enclosure of T over all of [a, ∞) that excludes 0.  Cells that cannot be decided down
to width 2⁻⁶⁴·max(1, |z|) (a double root, a tangency) raise :class:`NoClosedForm`
naming the place — the engine refuses rather than guesses.

>>> from symgrad._core.symbols import z
>>> r = isolate_roots(z**2 - 2, digits=20)
>>> [str(x.value) for x in r.roots]
['-1.4142135623730950488', '1.4142135623730950488']
>>> r.complete, len(r.tails)
(True, 2)
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from flint import arb, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball import (
    CAP_BITS,
    START_BITS,
    bits_for_digits,
    precision_ladder,
    working_precision,
)
from symgrad._exact.digits import CertifiedNumber, as_fraction
from symgrad._exact.isolation import Cell, Isolation, Region, Root, Tail, Verdict
from symgrad._exact.signs import simplifiable
from symgrad._exact.tails import TailForm, tail_form
from symgrad.errors import InvalidArgument, NoClosedForm

__all__ = ["Cell", "Isolation", "Root", "Tail", "Verdict", "isolate_roots", "refine_root"]

#: Inside |z| ≤ R0, f is evaluated directly; beyond, its tail form.
R0 = Fraction(4)
_MAX_TAIL_DOUBLINGS = 80  # tail proofs are tried at a = 4·2^j, j ≤ 80
_MIN_WIDTH = Fraction(1, 2**64)
_SIGN_BITS = 1024  # precision tried before an undecided point sign is tested exactly
_MAX_CELLS = 20_000


# ---- points and balls ----


def _arb(x: Fraction) -> arb:
    return arb(fmpq(x.numerator, x.denominator))


def _ball(a: Fraction, b: Fraction) -> arb:
    return _arb(a).union(_arb(b))


def _exact_zero(original: sympy.Expr, at: Fraction) -> bool:
    value = original.subs(z, sympy.Rational(at.numerator, at.denominator))
    if value == 0:
        return True
    if not simplifiable(value):  # a point left undecided is reported (NoClosedForm)
        return False
    try:
        return bool(sympy.simplify(value) == 0)
    except OverflowError:  # mpmath's exp beyond its exponent range: undecided too
        return False


class _Search:
    """The cell-by-cell proof on one region."""

    def __init__(self, region: Region, digits: int,
                 ends: tuple[Fraction | None, ...] = ()) -> None:
        self.region, self.digits, self.ends = region, digits, ends  # ends: open, in w
        self.f = region.f
        self.cells: list[Cell] = []
        self.roots: list[Root] = []
        self.bits = START_BITS
        self.capped = False
        self.signs: dict[Fraction, int] = {}

    def z_of(self, w: Fraction) -> Fraction:
        return w * self.region.side

    def cell(self, a: Fraction, b: Fraction, verdict: Verdict) -> None:
        lo, hi = sorted((self.z_of(a), self.z_of(b)))
        self.cells.append(Cell(lo, hi, verdict, self.region.tail))

    def sign_at(self, w: Fraction) -> int:
        found = self.signs.get(w)
        if found is not None:
            return found
        sign = 0
        for bits in precision_ladder(START_BITS, _SIGN_BITS):
            with working_precision(bits):
                v = self.f(_arb(w))
            if v > 0 or v < 0:
                sign = 1 if v > 0 else -1
                break
        else:
            if not _exact_zero(self.region.original, self.z_of(w)):
                raise NoClosedForm(f"cannot decide the sign of {self.region.original} at "
                                   f"z = {self.z_of(w)} within {_SIGN_BITS} bits")
        self.signs[w] = sign
        return sign

    def run(self, points: list[Fraction]) -> None:
        stack = [(points[i], points[i + 1]) for i in range(len(points) - 1)][::-1]
        while stack:
            a, b = stack.pop()
            if len(self.cells) > _MAX_CELLS:
                raise NoClosedForm(f"more than {_MAX_CELLS} cells for {self.region.original}")
            if not self.decide(a, b):
                if b - a < _MIN_WIDTH * max(Fraction(1), abs(a)):
                    raise NoClosedForm(
                        f"cannot separate the roots of {self.region.original} near z = "
                        f"{float(self.z_of(a)):.17g}: a multiple root or a tangency")
                m = (a + b) / 2
                stack += [(m, b), (a, m)]

    def decide(self, a: Fraction, b: Fraction) -> bool:
        with working_precision(START_BITS):
            x = _ball(a, b)
            y = self.f(x)
            if y.is_finite() and (y > 0 or y < 0):
                self.cell(a, b, Verdict.EXCLUDED)
                return True
            d = self.f.derivative(x)
        if not (d.is_finite() and (d > 0 or d < 0)):
            return False
        sa, sb = self.sign_at(a), self.sign_at(b)
        if sa * sb > 0:
            self.cell(a, b, Verdict.MONOTONE)
        elif sa * sb < 0:
            self.cell(a, b, Verdict.ROOT)
            self.roots.append(self.refine(a, b, self.digits))
        else:
            self.cell(a, b, Verdict.EXACT_ROOT)
            at = a if sa == 0 else b
            crossing = (1 if d > 0 else -1) * self.region.side
            if at not in self.ends:
                exact = self.z_of(at)
                self.roots.append(Root(CertifiedNumber.exact(exact, self.digits),
                                       sympy.Rational(exact.numerator, exact.denominator),
                                       crossing, self.region))
        return True

    def refine(self, lo: Fraction, hi: Fraction, digits: int) -> Root:
        """Interval Newton on [lo, hi] (dyadic ends), where f' has one sign and f one
        simple root; bisection by the sign of f(m) whenever Newton does not halve it."""
        region = self.region
        exact_bits = max(_bits(lo), _bits(hi)) + 2  # the ends are exact at this precision
        with working_precision(max(START_BITS, min(exact_bits, CAP_BITS))):
            d = self.f.derivative(_ball(lo, hi))
        crossing = (1 if d > 0 else -1) * region.side
        sa = -1 if d > 0 else 1  # the sign of f at lo
        magnitude = max(abs(lo), abs(hi), Fraction(1))
        start = max(bits_for_digits(digits) + int(magnitude).bit_length(), exact_bits)
        for bits in precision_ladder(min(start, CAP_BITS), CAP_BITS):
            self.bits = max(self.bits, bits)
            with working_precision(bits):
                for _ in range(4 * bits):
                    number = _number(lo, hi, region.side, digits)
                    if number.digits >= digits:
                        return Root(number, None, crossing, region)
                    m = (lo + hi) / 2
                    if _bits(m) > bits:
                        break  # the midpoint is not exact here: more precision
                    fm = self.f(_arb(m))
                    if not (fm > 0 or fm < 0):
                        if fm.is_finite() and _exact_zero(region.original, self.z_of(m)):
                            v = self.z_of(m)
                            return Root(CertifiedNumber.exact(v, digits),
                                        sympy.Rational(v.numerator, v.denominator), crossing,
                                        region)
                        break  # f(m) needs more precision
                    d = self.f.derivative(_ball(lo, hi))
                    newton = _arb(m) - fm / d
                    if d.is_finite() and newton.is_finite():
                        new_lo = max(lo, as_fraction(newton.lower()))
                        new_hi = min(hi, as_fraction(newton.upper()))
                        if new_lo <= new_hi and new_hi - new_lo <= (hi - lo) / 2:
                            lo, hi = new_lo, new_hi
                            continue
                    if (fm > 0) == (sa > 0):
                        lo = m
                    else:
                        hi = m
        self.capped = True
        return Root(_number(lo, hi, region.side, digits), None, crossing, region)


def _bits(x: Fraction) -> int:
    """Bits needed to hold the dyadic x exactly (its numerator's length)."""
    return max(abs(x.numerator).bit_length(), 1)


def _number(lo: Fraction, hi: Fraction, side: int, digits: int) -> CertifiedNumber:
    a, b = lo * side, hi * side
    return CertifiedNumber(min(a, b), max(a, b), digits)


# ---- the driver ----


def _end(value: Any, name: str) -> Fraction | None:
    e = sympy.sympify(value)
    if e in (sympy.oo, -sympy.oo):
        return None
    if not e.is_Rational:
        raise InvalidArgument(f"{name} must be a rational number or ±oo, got {e}")
    return Fraction(int(e.p), int(e.q))


def _grid(a: Fraction, b: Fraction, tail: bool) -> list[Fraction]:
    """Initial subdivision points: integers near 0, or powers of 2 in a tail."""
    if tail:
        inner = [R0 * 2**j for j in range(1, 200) if a < R0 * 2**j < b]
    else:
        inner = [Fraction(k) for k in range(-3, 4) if a < k < b]
    return [a, *inner, b]


def isolate_roots(f: sympy.Expr, lo: Any = -sympy.oo, hi: Any = sympy.oo, *,
                  digits: int = 40) -> Isolation:
    """Every root of f in the open interval (lo, hi), certified to ``digits`` digits.

    ``f`` is a SymPy expression in z (parameters substituted, no ``Piecewise``: pass one
    smooth piece at a time); ``lo``/``hi`` are rationals or ±oo.  Raises
    :class:`NoClosedForm` when completeness cannot be proven (a multiple root, an
    expression without ball rules or tail form), never returning a partial list.
    """
    expr = sympy.sympify(f)
    if not isinstance(expr, sympy.Expr) or expr.free_symbols - {z}:
        raise InvalidArgument(f"f must be a SymPy expression in z only, got {expr!r}")
    if not isinstance(digits, int) or isinstance(digits, bool) or not 1 <= digits <= 1000:
        raise InvalidArgument(f"digits must be an integer in [1, 1000], got {digits!r}")
    a, b = _end(lo, "lo"), _end(hi, "hi")
    if a is not None and b is not None and not a < b:
        raise InvalidArgument(f"need lo < hi, got ({lo}, {hi})")
    searches: list[_Search] = []
    tails: list[Tail] = []
    mid_lo = max(a, -R0) if a is not None else -R0
    mid_hi = min(b, R0) if b is not None else R0
    if mid_lo < mid_hi:
        s = _Search(Region(1, expr, expr, False), digits, (a, b))
        s.run(_grid(mid_lo, mid_hi, False))
        searches.append(s)
    for side, near, far in ((1, a, b), (-1, b, a)):
        start = max(near * side, R0) if near is not None else R0
        if far is not None and far * side <= start:
            continue
        ends = tuple(e * side if e is not None else None for e in (a, b))
        search, tail = _tail_side(expr, side, start, far, digits, ends)
        searches.append(search)
        if tail is not None:
            tails.append(tail)
    roots = {r.value.lower: r for s in searches for r in s.roots}
    cells = sorted((c for s in searches for c in s.cells), key=lambda c: c.lo)
    return Isolation(expr, sympy.sympify(lo), sympy.sympify(hi),
                     tuple(roots[k] for k in sorted(roots)), tuple(cells), tuple(tails),
                     digits, max(s.bits for s in searches) if searches else START_BITS,
                     any(s.capped for s in searches))


def _tail_side(expr: sympy.Expr, side: int, start: Fraction, far: Fraction | None,
               digits: int, ends: tuple[Fraction | None, ...]) -> tuple[_Search, Tail | None]:
    try:
        form: TailForm | None = tail_form(expr, side)
    except NoClosedForm:
        if far is None:
            raise
        form = None
    if form is not None:
        region = Region(side, form.expr, expr, True)
    else:
        region = Region(side, expr.subs(z, side * z), expr, False)
    proof = None
    if far is not None:
        end = far * side
    elif form is not None:
        proof = _prove_tail(form, start)
        end = proof.beyond
    search = _Search(region, digits, ends)
    if start < end:
        search.run(_grid(start, end, True))
    return search, proof


def _prove_tail(form: TailForm, start: Fraction) -> Tail:
    with working_precision(START_BITS):
        for j in range(_MAX_TAIL_DOUBLINGS):
            a = start * 2**j
            enclosure = form.enclosure_beyond(a)
            if enclosure is not None and (enclosure > 0 or enclosure < 0):
                lo, hi = as_fraction(enclosure.lower()), as_fraction(enclosure.upper())
                return Tail(form.side, a, form.scale, (lo, hi))
    raise NoClosedForm(f"cannot prove the sign of {form.expr} towards "
                       f"{'+' if form.side > 0 else '-'}∞ (tail form up to z = "
                       f"{start * 2**_MAX_TAIL_DOUBLINGS})")


def refine_root(root: Root, digits: int) -> Root:
    """The same root refined to ``digits`` digits (exact roots are returned as they are)."""
    if root.exact is not None or root.value.digits >= digits or root._region is None:
        return root if root.exact is None else Root(
            CertifiedNumber.exact(as_fraction(root.exact), digits), root.exact,
            root.crossing, root._region)
    region = root._region
    search = _Search(region, digits)
    side = region.side
    lo, hi = sorted((root.value.lower * side, root.value.upper * side))
    return search.refine(lo, hi, digits)
