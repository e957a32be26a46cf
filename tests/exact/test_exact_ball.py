"""SymPy → Arb compilation: every enclosure contains the true value.

References: mpmath at 60 digits evaluating the same expressions as written (lambdify),
at sample points inside each ball; mpmath's numerical derivative for the derivative
enclosures; the real evaluator for the complex one on the real axis.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy
from _exact_refs import mp_function
from flint import acb, arb, ctx, fmpq
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad._core.symbols import z
from symgrad._exact.ball import (
    CAP_BITS,
    START_BITS,
    bits_for_digits,
    erfcx,
    precision_ladder,
    working_precision,
)
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.ball_function import compile_ball
from symgrad.errors import InvalidArgument, NoClosedForm

EXPRESSIONS = [
    sympy.erf(z / sympy.sqrt(2)) * z / 2 + z / 2,
    1 / (1 + sympy.exp(-3 * z / 2)),
    sympy.tanh(sympy.sqrt(2 / sympy.pi) * (z + sympy.Rational(44715, 10**6) * z**3)),
    z * sympy.tanh(sympy.log(1 + sympy.exp(z))),
    sympy.erfc(z) * sympy.exp(z**2) - erfcx(z) + z**4 / (1 + z**2),
    sympy.atan(z) ** 3 - sympy.asinh(z) + sympy.cosh(z / 3) - sympy.sinh(z / 5),
    sympy.sqrt(1 + z**2) + (2 + z**2) ** sympy.Rational(-1, 3) + sympy.Abs(z - 1),
    sympy.Max(z, z**2 / 4) - sympy.Min(sympy.Integer(0), z),
    sympy.sin(z) * sympy.cos(2 * z) + sympy.exp(-z**2) * sympy.erfc(1 / sympy.sqrt(2)),
    2**z + sympy.Float(0.1) * z,
]


def _ball_of(v, digits=60):
    """A ball around an mpmath value, radius 10^(2 − digits)·|v| (built at 256 bits, not
    FLINT's default 53)."""
    with working_precision(256):
        mid = arb(mpmath.nstr(v, digits))
        return mid + arb(0, mpmath.nstr(abs(v) * mpmath.mpf(10) ** (2 - digits) + 1e-200, 5))


def _points(center, radius):
    return [center - radius, center - radius / 3, center, center + radius / 2, center + radius]


@pytest.mark.parametrize("expr", EXPRESSIONS, ids=range(len(EXPRESSIONS)))
@settings(max_examples=25)
@given(center=st.integers(-400, 400), radius=st.sampled_from([0, 1, 7, 300]))
def test_ball_contains_every_value(expr, center, radius):
    f, ref = compile_ball(expr), mp_function(expr)
    c, r = fmpq(center, 100), fmpq(radius, 1000)
    with working_precision(100):
        ball = arb(c).union(arb(c - r)).union(arb(c + r))
        value = f(ball)
    assert value.is_finite()
    with mpmath.workdps(70):
        for x in _points(mpmath.mpf(center) / 100, mpmath.mpf(radius) / 1000):
            v = ref(x)
            assert value.overlaps(_ball_of(v)), (expr, x, v, value)


@pytest.mark.parametrize("expr", EXPRESSIONS[:7], ids=range(7))
@settings(max_examples=12)
@given(center=st.integers(-300, 300), radius=st.sampled_from([0, 1, 50]))
def test_derivative_encloses_the_slope(expr, center, radius):
    f, ref = compile_ball(expr), mp_function(expr)
    c, r = fmpq(center, 100), fmpq(radius, 1000)
    with working_precision(100):
        ball = arb(c).union(arb(c - r)).union(arb(c + r))
        _value, slope = f.with_derivative(ball)
    with mpmath.workdps(50):
        for x in _points(mpmath.mpf(center) / 100, mpmath.mpf(radius) / 1000):
            d = mpmath.diff(ref, x)
            assert slope.overlaps(_ball_of(d, 30)) or abs(d) < 1e-25


@pytest.mark.parametrize("expr", EXPRESSIONS[:4], ids=range(4))
def test_complex_agrees_on_the_real_axis(expr):
    f = compile_ball(expr)
    with working_precision(120):
        for x in (arb("-1.25"), arb("0.5"), arb(3)):
            real, complex_ = f(x), f.complex(acb(x), False)
            assert complex_.real.overlaps(real)
            assert complex_.imag.contains(0)


def test_branch_cuts_refused_when_analytic():
    f = compile_ball(sympy.log(z) + sympy.sqrt(z))
    with working_precision(64):
        touching = acb(-1, arb(0, 0.01))  # its imaginary part contains 0: on the cut
        assert not f.complex(touching, True).is_finite()
        assert f.complex(acb(-1, 0.01), True).is_finite()  # off the cut: analytic
        assert f.complex(acb(2, arb(0, 0.01)), True).is_finite()


def test_monotone_rule_is_tighter_than_arb_on_wide_balls():
    with working_precision(64):
        wide = arb(fmpq(3, 2), fmpq(1, 2))
        ours = compile_ball(sympy.erf(z))(wide)
        assert ours.upper() < 1  # erf < 1; Arb's own wide-ball bound exceeds 1
        assert ours.contains(arb(1).erf()) and ours.contains(arb(2).erf())


def test_even_power_of_a_ball_straddling_zero_starts_at_zero():
    with working_precision(64):
        value = compile_ball(z**2 + 1)(arb(0, 1))
        # [1, 2] up to the 30-bit radius rounding; x·x on [−1, 1] would start at 0
        assert value.lower() >= 1 - 2**-25


@pytest.mark.parametrize(
    ("expr", "value"),
    [(sympy.erfc(1 / sympy.sqrt(2)), "0.31731050786291410283"),
     (sympy.pi**2 / 6, "1.6449340668482264365"), (sympy.asin(sympy.Rational(2, 3)),
                                                   "0.72972765622696636345")],
)
def test_constants(expr, value):
    with working_precision(128):
        ball = constant_ball(expr)
    with mpmath.workdps(40):
        assert ball.overlaps(_ball_of(mpmath.mpf(sympy.N(expr, 45)), 35))
    assert ball.str(20, radius=False) == value


def test_erfcx_against_mpmath():
    x = sympy.Symbol("x")
    assert sympy.diff(erfcx(x), x) == 2 * x * erfcx(x) - 2 / sympy.sqrt(sympy.pi)
    with mpmath.workdps(40):
        for v in ("-3.5", "0.25", "40"):
            expected = mpmath.exp(mpmath.mpf(v) ** 2) * mpmath.erfc(mpmath.mpf(v))
            assert abs(sympy.N(erfcx(sympy.Float(v, 40)), 35) - sympy.Float(
                mpmath.nstr(expected, 35), 35)) < sympy.Float(10) ** -25 * abs(expected)
    assert erfcx(0) == 1


@pytest.mark.parametrize(
    "expr",
    [sympy.Piecewise((z, sympy.Eq(z, 0)), (2 * z, True)), sympy.sign(z), sympy.Heaviside(z),
     sympy.gamma(z), sympy.I * z],
)
def test_unsupported_functions_are_named(expr):
    with pytest.raises(NoClosedForm, match="no ball-arithmetic rule"):
        compile_ball(expr)


@pytest.mark.parametrize("expr", [z + sympy.Symbol("w"), "z + 1", sympy.Eq(z, 1)])
def test_invalid_expressions(expr):
    with pytest.raises((InvalidArgument, NoClosedForm)):
        f = compile_ball(expr)
        with working_precision(64):
            f(arb(1))


@pytest.mark.parametrize("bits", [8, CAP_BITS + 1, 64.0, True])
def test_invalid_precision(bits):
    with pytest.raises(InvalidArgument), working_precision(bits):
        pass


def test_precision_is_restored_even_on_errors():
    saved = ctx.prec
    with pytest.raises(ZeroDivisionError), working_precision(333):
        assert ctx.prec == 333
        raise ZeroDivisionError
    assert ctx.prec == saved


def test_precision_policy():
    ladder = list(precision_ladder(START_BITS, 1024))
    assert ladder == [128, 256, 512, 1024]
    assert list(precision_ladder(1000, 1500)) == [1000, 1500]
    assert bits_for_digits(40) >= 40 * 3.32 and bits_for_digits(1) == START_BITS
