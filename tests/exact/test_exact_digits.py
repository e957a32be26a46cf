"""The proven-digit printer: only digits every point of the enclosure rounds to.

References: the decimal module's ROUND_HALF_EVEN quantisation of the enclosure's end
points and of points inside it, enclosures built by hand to sit on rounding boundaries,
and 80-digit mpmath values for numbers the engine certifies.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, localcontext
from fractions import Fraction

import mpmath
import pytest
import sympy
from _exact_refs import assert_proven
from flint import arb, ctx
from hypothesis import given
from hypothesis import strategies as st

from symgrad._exact.ball import working_precision
from symgrad._exact.digits import CertifiedNumber, proven_rounding
from symgrad.errors import InvalidArgument
from symgrad.records import Certified

F = Fraction


def _round(x: Fraction, places: int) -> Decimal:
    with localcontext() as c:
        c.prec = 400
        exact = Decimal(x.numerator) / Decimal(x.denominator)
        return exact.quantize(Decimal(1).scaleb(-places), ROUND_HALF_EVEN)


@pytest.mark.parametrize(
    ("lo", "hi", "text"),
    [
        (F(99999, 100000), F(100001, 100000), "1.0000"),  # no common prefix, 5 digits proven
        (F(149, 1000), F(151, 1000), "0.15"),  # 0.15 proven although 0.1 vs 0.2 is not
        (F(12499, 100000), F(12501, 100000), "0.1250"),
        (F(1, 8), F(1, 8), "0.1250000000000000000000000000000000000000"),  # all proven
        (F(-31416, 10000), F(-31415, 10000), "-3.142"),
        (F(123456789), F(123456790), "1.2345679e+8"),  # no unproven zeros shown
        (F(1, 10**30) * 3, F(1, 10**30) * 3 + F(1, 10**40), "3.000000000e-30"),
        (F(-1, 10**20), F(1, 10**20), "0 ± 5e-20"),  # |x| ≤ ½·10^-19, not ½·10^-20
        (F(0), F(0), "0"),
    ],
)
def test_text_on_rounding_boundaries(lo, hi, text):
    assert CertifiedNumber(lo, hi).text() == text


def test_tie_at_the_cap_rounds_to_even():
    # 0.125 at 2 significant digits: every point (one) rounds to 0.12, not 0.13
    assert CertifiedNumber(F(1, 8), F(1, 8), max_digits=2).text() == "0.12"
    assert CertifiedNumber(F(3, 8), F(3, 8), max_digits=2).text() == "0.38"


def test_cap_limits_shown_digits():
    third = CertifiedNumber(F(1, 3), F(1, 3), max_digits=7)
    assert third.text() == "0.3333333"
    assert third.digits == 7
    assert third.with_digits(3).text() == "0.333"


@st.composite
def enclosures(draw):
    num = draw(st.integers(-(10**12), 10**12))
    width = draw(st.integers(0, 10**8))
    scale = draw(st.integers(0, 20))
    lo = F(num, 10**scale) + F(draw(st.integers(0, 999)), 1000 * 10**scale)
    return lo, lo + F(width, 10 ** (scale + draw(st.integers(0, 10))))


@given(enclosures(), st.integers(1, 30))
def test_every_point_rounds_to_the_text(enclosure, cap):
    lo, hi = enclosure
    n, k = proven_rounding(lo, hi, cap)
    for x in (lo, hi, (lo + hi) / 2, lo + (hi - lo) / 3):
        assert _round(x, k) == Decimal(n).scaleb(-k)
    # and no finer place within the cap is proven: k is the largest
    top = max(abs(lo), abs(hi))
    for finer in (k + 1, k + 2):
        shown = abs(round(top * F(10) ** finer))
        if hi > lo and n != 0 and len(str(shown)) <= cap:
            assert _round(lo, finer) != _round(hi, finer)


@pytest.mark.parametrize(
    ("expr", "digits"),
    [(sympy.pi, 40), (sympy.exp(-sympy.Integer(50)), 30), (sympy.sqrt(2) * 10**12, 35),
     (sympy.erfc(10), 40), (-sympy.E / 7, 25)],
)
def test_certified_constants_against_80_digit_references(expr, digits):
    from symgrad._exact.ball_constants import constant_ball

    with working_precision(200):
        ball = constant_ball(expr)
    number = CertifiedNumber.from_arb(ball, digits)
    assert number.digits == digits
    with mpmath.workdps(80):
        reference = mpmath.mpf(sympy.N(expr, 90))
    assert_proven(number.text(), reference)


def test_from_arb_ends_do_not_depend_on_the_current_precision():
    with working_precision(300):
        third = arb(1) / 3
    saved = ctx.prec
    number = CertifiedNumber.from_arb(third, 60)
    assert ctx.prec == saved
    assert number.digits == 60


def test_views():
    assert CertifiedNumber(F(2718281, 10**6), F(2718282, 10**6)).text() == "2.71828"
    x = CertifiedNumber(F(27182815, 10**7), F(27182816, 10**7))  # the tie rounds to even
    assert str(x) == x.text() == "2.718282"
    assert x.sympy_float() == sympy.Float("2.718282", 7)
    assert float(x) == pytest.approx(2.71828155)
    lo, hi = x.bounds()
    assert lo == sympy.Rational(27182815, 10**7) and hi == sympy.Rational(27182816, 10**7)
    how = x.certified("test")
    assert isinstance(how, Certified) and how.lower == lo and how.method == "test"
    assert x.contains(F(271828155, 10**8)) and not x.contains(F(3))
    assert x.sign() == 1 and CertifiedNumber(F(-1), F(1)).sign() == 0
    with working_precision(64):
        assert x.ball().contains(arb("2.71828155"))


@pytest.mark.parametrize(
    ("lo", "hi", "cap"),
    [(F(2), F(1), 10), (1.0, F(2), 10), (F(1), F(2), 0), (F(1), F(2), 10**6)],
)
def test_invalid_enclosures(lo, hi, cap):
    with pytest.raises(InvalidArgument):
        CertifiedNumber(lo, hi, cap)


def test_from_arb_refuses_infinite_balls():
    with pytest.raises(InvalidArgument):
        CertifiedNumber.from_arb(arb("inf"))
