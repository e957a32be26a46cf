"""The one SymPy → Arb emitter on what the chain engine needs: Piecewise decided on the
ball (three-valued conditions) and the cancellation-free forms, in both of its call
styles — the certified engine's tables (``compile_ball``: REAL, DUAL, COMPLEX) and Arb's
own methods (``Calls.ARB``, what ``symgrad.depth`` runs for 10⁶ layers).

References: mpmath at 50 digits (600 bits for the tight ones) evaluating each piece and
each function as written, at points sampled across the ball.
"""

from __future__ import annotations

import mpmath
import pytest
import sympy
from flint import acb, arb, fmpq
from sympy.codegen.cfunctions import expm1, log1p

from symgrad._core.symbols import z
from symgrad._exact.ball import Calls, ball_source, build_source, working_precision
from symgrad._exact.ball_constants import BallConstants
from symgrad._exact.ball_function import compile_ball
from symgrad._exact.mpforms import logistic, softplus, stable
from symgrad.errors import NoClosedForm

THIRD = sympy.Rational(1, 3)
#: Two pieces far apart at the boundary 1/3: sin(1) ≈ 0.84 below, 10/9 above.
PW = sympy.Piecewise((sympy.sin(3 * z), z < THIRD), (z**2 + 1, True))
PIECES = (lambda t: mpmath.sin(3 * t), lambda t: t**2 + 1)
SLOPES = (lambda t: 3 * mpmath.cos(3 * t), lambda t: 2 * t)


def _arb_style(expr):
    """The chain engine's style: Arb's methods called directly, constants bound."""
    constants = {}
    fn = build_source(ball_source("f", [expr], constants, calls=Calls.ARB), Calls.ARB)["f"]
    balls = BallConstants(constants)
    return lambda x: arb(fn(x, balls()))


STYLES = {"table": compile_ball, "arb": _arb_style}


def _ball(lo, hi):
    return arb(lo).union(arb(hi))


def _interval(ball):
    """[mid − rad, mid + rad] as mpmath numbers (exact: both are binary numbers)."""
    with mpmath.workprec(600):
        mid, rad = mpmath.mpf(ball.mid()), mpmath.mpf(ball.rad())
        return mid - rad, mid + rad


def _grid(lo, hi, n=40):
    lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
    return [lo + (hi - lo) * k / n for k in range(n + 1)]


def _inside(ball, v, slack=None):
    slack = mpmath.mpf(10) ** -30 if slack is None else slack
    lo, hi = _interval(ball)
    return lo - slack <= v <= hi + slack


@pytest.mark.parametrize("style", STYLES)
def test_a_ball_straddling_the_boundary_unites_both_pieces(style):
    # [1/5, 1/2] holds 1/3: the condition z < 1/3 is undecided, so the value is the union
    # of both pieces evaluated over the whole ball (whichever side the true point is on).
    f = STYLES[style](PW)
    with working_precision(128):
        value = f(_ball(fmpq(1, 5), fmpq(1, 2)))
    assert value.is_finite()
    with mpmath.workdps(50):
        for t in _grid("0.2", "0.5"):
            for piece in PIECES:
                assert _inside(value, piece(t)), (style, t)
            assert _inside(value, PIECES[0](t) if t < mpmath.mpf(1) / 3 else PIECES[1](t))


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("lo", "hi", "side"), [("0.05", "0.3", 0), ("0.34", "0.5", 1)])
def test_a_ball_on_one_side_takes_that_piece_only(style, lo, hi, side):
    f = STYLES[style](PW)
    with working_precision(128):
        value = f(_ball(arb(lo), arb(hi)))
    with mpmath.workdps(50):
        ts = _grid(lo, hi)
        for t in ts:
            assert _inside(value, PIECES[side](t)), (style, t)
        low, high = _interval(value)
        if style == "table":  # exact ranges (end points, even powers); Arb's x·x is wider
            values = [PIECES[side](t) for t in _grid(lo, hi, 400)]
            assert min(values) - mpmath.mpf("1e-2") <= low
            assert high <= max(values) + mpmath.mpf("1e-2")
        # and nothing of the other piece
        other = [PIECES[1 - side](t) for t in ts]
        assert not any(low <= v <= high for v in other)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("relation", "expected"), [("<=", -1), ("<", 1)])
def test_at_the_boundary_exactly_the_condition_decides(style, relation, expected):
    # The kink convention: a point on the boundary belongs to the piece whose condition
    # holds there (z ≤ 0 at z = 0 holds; z < 0 does not).
    cond = sympy.Le(z, 0) if relation == "<=" else sympy.Lt(z, 0)
    f = STYLES[style](sympy.Piecewise((z - 1, cond), (z + 1, True)))
    with working_precision(64):
        value = f(arb(0))
    assert value.is_exact() and value == expected


@pytest.mark.parametrize("style", STYLES)
def test_and_or_conditions_are_three_valued(style):
    box = sympy.Piecewise((z + 5, (z > 0) & (z < 1)), (z - 5, True))
    ring = sympy.Piecewise((z - 5, (z < 0) | (z > 1)), (z + 5, True))
    for expr in (box, ring):
        f = STYLES[style](expr)
        with working_precision(64):
            inside, outside, across = (f(_ball(fmpq(1, 5), fmpq(4, 5))), f(arb(3)),
                                       f(_ball(fmpq(1, 2), fmpq(3, 2))))
        assert inside.contains(arb(fmpq(26, 5))) and not inside.contains(arb(-4))
        assert outside == -2
        # across z = 1: both pieces over [1/2, 3/2], from 1/2 − 5 up to 3/2 + 5
        assert across.contains(arb(fmpq(-9, 2))) and across.contains(arb(fmpq(13, 2)))


def test_the_derivative_of_a_straddling_ball_unites_both_slopes():
    with working_precision(128):
        value, slope = compile_ball(PW).with_derivative(_ball(fmpq(1, 5), fmpq(1, 2)))
    with mpmath.workdps(50):
        for t in _grid("0.2", "0.5"):
            for piece, d in zip(PIECES, SLOPES, strict=True):
                assert _inside(value, piece(t)) and _inside(slope, d(t)), t
    with working_precision(128):
        _, below = compile_ball(PW).with_derivative(_ball(fmpq(1, 10), fmpq(1, 5)))
    assert not below.contains(arb(fmpq(2, 5)))  # 2t at t = 1/5: the other piece's slope


def test_complex_pieces_are_analytic_only_inside_one_piece():
    f = compile_ball(PW)
    with working_precision(64):
        inside = f.complex(acb(_ball(fmpq(1, 2), fmpq(3, 4))), True)
        across = f.complex(acb(_ball(fmpq(1, 5), fmpq(1, 2))), True)
        united = f.complex(acb(_ball(fmpq(1, 5), fmpq(1, 2))), False)
    assert inside.is_finite() and inside.imag.contains(0)
    with mpmath.workdps(30):
        assert _inside(inside.real, PIECES[1](mpmath.mpf("0.6")))
    assert not across.is_finite()  # two pieces at once are not one analytic function
    assert united.is_finite() and united.real.contains(arb(1).sin())


def test_a_condition_no_ball_can_decide_is_refused():
    with pytest.raises(NoClosedForm, match="condition"):
        compile_ball(sympy.Piecewise((z, sympy.Eq(z, 1)), (2 * z, True)))


# ---- the cancellation-free forms: tight relative to the value, in both styles ----

FORMS = [
    (expm1(z), mpmath.expm1, ("1e-40", "-0.5", "3")),
    (log1p(z), mpmath.log1p, ("1e-40", "-0.5", "3")),
    (softplus(z), lambda t: mpmath.log1p(mpmath.exp(t)), ("-60", "0", "60")),
    (logistic(z), lambda t: 1 / (1 + mpmath.exp(-t)), ("-60", "0", "60")),
    (stable(1 - sympy.tanh(z) ** 2), lambda t: mpmath.sech(t) ** 2, ("0.1", "-2", "40")),
    (stable(1 + sympy.erf(z)), lambda t: 1 + mpmath.erf(t), ("-12", "0.5", "3")),
]


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize(("expr", "ref", "points"), FORMS, ids=[str(f[0]) for f in FORMS])
def test_cancellation_free_forms_are_tight_relative_to_their_value(style, expr, ref, points):
    f = STYLES[style](expr)
    for text in points:
        with working_precision(200):
            value = f(arb(text))
        with mpmath.workprec(600):
            expected = ref(mpmath.mpf(text))
            low, high = _interval(value)
            assert low <= expected <= high, (expr, text)
            assert high - low <= mpmath.mpf(2) ** -180 * abs(expected), (expr, text, value)


@pytest.mark.parametrize(("expr", "ref", "points"), FORMS, ids=[str(f[0]) for f in FORMS])
def test_cancellation_free_forms_have_derivatives(expr, ref, points):
    f = compile_ball(expr)
    for text in points:
        with working_precision(128):
            _, slope = f.with_derivative(arb(text))
            real, complex_ = f(arb(text)), f.complex(acb(arb(text)), True)
        with mpmath.workdps(50):
            d = mpmath.diff(ref, mpmath.mpf(text))
            assert _inside(slope, d, abs(d) * mpmath.mpf(10) ** -25 + mpmath.mpf(10) ** -60)
        assert complex_.real.overlaps(real) and complex_.imag.contains(0)
