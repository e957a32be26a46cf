"""Tail forms: f(side·w) = w^N·e^{E(w)}·T(w), and the enclosure of T over [a, ∞).

References: mpmath at 60 digits evaluating f and the tail form's pieces at sample points
far out (where f itself under- or overflows fixed precision), for every catalogue φ''
and φ' − ε.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy
from _exact_refs import mp_function
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import activation, activation_names
from symgrad._core.symbols import z
from symgrad._exact.ball import working_precision
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.tails import tail_form
from symgrad.errors import NoClosedForm


def _cases():
    for name in activation_names():
        act = activation(name)
        for piece in act.pieces:
            d = piece.derivative
            if not d.has(z):
                continue
            for side, end in ((1, piece.hi), (-1, piece.lo)):
                if not end.is_finite:
                    yield name, sympy.diff(d, z), side
                    yield name, d - sympy.Rational(1, 100), side


CASES = list(_cases())


@pytest.mark.parametrize(("name", "f", "side"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_tail_form_is_an_identity(name, f, side):
    for w in (Fraction(5), Fraction(47, 4)):
        _identity_at(f, side, w)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "f", "side"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
@settings(max_examples=10, deadline=None)
@given(w=st.fractions(min_value=4, max_value=40))
def test_tail_form_is_an_identity_far_out(name, f, side, w):
    _identity_at(f, side, w)


def _identity_at(f, side, w):
    form = tail_form(f, side)
    lhs, scale, rest = mp_function(f), mp_function(form.scale), mp_function(form.expr)
    with mpmath.workdps(60):
        x = mpmath.mpf(w.numerator) / w.denominator
        size = scale(x)  # a monomial: no cancellation at any precision
    # f as written cancels down to its size (1 − tanh² ≈ e^{−2u}): work 60 digits below it
    extra = max(0, -int(mpmath.floor(mpmath.log10(abs(size))))) if size != 0 else 0
    with mpmath.workdps(60 + extra):
        x = mpmath.mpf(w.numerator) / w.denominator
        left = lhs(side * x)
        right = scale(x) * rest(x)
        assert abs(left - right) <= mpmath.mpf(10) ** -40 * abs(right)


@pytest.mark.parametrize(("name", "f", "side"), CASES,
                         ids=[f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)])
def test_enclosure_holds_on_the_whole_half_line(name, f, side):
    form = tail_form(f, side)
    rest = mp_function(form.expr)
    with working_precision(128):
        for j in range(40):
            a = Fraction(4 * 2**j)
            enclosure = form.enclosure_beyond(a)
            if enclosure is not None:
                break
    assert enclosure is not None
    bounds = CertifiedNumber.from_arb(enclosure, 10)
    with mpmath.workdps(60):
        for factor in (1, 10, 1000, 10**12):
            w = a * factor
            value = rest(mpmath.mpf(w.numerator) / w.denominator)
            as_fraction = Fraction(mpmath.nstr(value, 50)) if value != 0 else Fraction(0)
            # 10^-45 of slack for the 50-digit reading of an mpmath value
            slack = Fraction(1, 10**45) * (1 + abs(as_fraction))
            assert bounds.lower - slack <= as_fraction <= bounds.upper + slack


def test_oscillation_is_bounded_but_has_no_sign():
    form = tail_form(z + sympy.sin(z), 1)
    with working_precision(64):
        enclosure = form.enclosure_beyond(Fraction(8))
    assert form.scale == z and enclosure.contains(1) and not enclosure.contains(0)
    wobble = tail_form(sympy.sin(z) * sympy.exp(-z), 1)
    with working_precision(64):
        assert wobble.enclosure_beyond(Fraction(8)).contains(0)  # no sign: no tail proof


def test_scale_is_the_dominant_growth():
    form = tail_form(z**2 * sympy.exp(3 * z) + sympy.exp(z) * z**5, 1)
    assert form.scale == z**2 * sympy.exp(3 * z)
    left = tail_form(z**2 * sympy.exp(3 * z) + sympy.exp(z) * z**5, -1)
    assert left.scale == z**5 * sympy.exp(-z)  # towards −∞ e^{z}·z⁵ dominates


@pytest.mark.parametrize(
    "expr",
    [sympy.exp(sympy.exp(z)), z * sympy.log(z),
     1 / (1 + sympy.exp(-z)) + 1 / (1 + sympy.exp(z)) - 1],  # the last vanishes identically
)
def test_outside_the_rules_is_refused(expr):
    with pytest.raises(NoClosedForm):
        tail_form(expr, 1)
