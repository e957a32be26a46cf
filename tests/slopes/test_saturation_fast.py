"""The shortcuts inside saturation(), each against the route it replaces.

* the region's boundary read off its arguments' ends, against SymPy's ``Union.boundary``
  (set differences with every other argument's interior);
* |φ'(a)| < ε decided on a compiled Arb function, against SymPy's exact sign of
  |φ'(a)| − ε after substitution and against mpmath at 50 digits;
* ``together`` with cached terms, against ``sympy.together`` on every f ∓ ε the
  isolation meets (both sides, the tail's z → −z included);
* the ε-free part of the symbolic boundary kept between calls: the formulas at one ε
  do not depend on which ε was asked before.
"""

from __future__ import annotations

import importlib

import mpmath
import pytest
import sympy

from symgrad import EPSILON, activation, activation_names, saturation, z
from symgrad._exact.combine import together
from symgrad._exact.roots import _parametric_shape
from symgrad._exact.signs import abs_exact, sign_of

sat = importlib.import_module("symgrad.slopes.saturation")

NAMES = activation_names()
EPS = [sympy.Rational(1, 10), sympy.Rational(1, 10000), sympy.Rational(1, 2),
       sympy.Rational(3, 10)]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("eps", EPS, ids=str)
def test_boundary_is_sympys_union_boundary(name, eps):
    region = saturation(name, eps).region
    expected = {p for p in region.boundary if p.is_finite}
    found = sat._boundary(region)
    assert len(found) == len(set(found))
    assert set(found) == expected


def test_boundary_of_touching_and_isolated_parts():
    # (−∞, −1) ∪ (−1, 0) ∪ {2} ∪ [3, 4): −1 stays a boundary point between two parts.
    region = sympy.Union(sympy.Interval.open(-sympy.oo, -1), sympy.Interval.open(-1, 0),
                         sympy.FiniteSet(2), sympy.Interval.Ropen(3, 4))
    assert set(sat._boundary(region)) == set(region.boundary) - {-sympy.oo}
    assert sat._boundary(sympy.S.EmptySet) == []
    assert sat._boundary(sympy.S.Reals) == []


POINTS = [sympy.Integer(k) for k in (-30, -7, -3, -1, 0, 2, 5, 11, 40)] + [
    sympy.Rational(-5, 3), sympy.Rational(1, 7), sympy.Rational(123456789, 10**8)]


def _mp_below(d: sympy.Expr, at: sympy.Expr, eps: sympy.Expr) -> bool | None:
    with mpmath.workdps(50):
        value = abs(sympy.lambdify(z, d, "mpmath")(mpmath.mpf(at.p) / at.q))
        e = mpmath.mpf(eps.p) / eps.q
        if abs(value - e) < mpmath.mpf(10) ** -40:
            return None
        return bool(value < e)


@pytest.mark.parametrize("name", NAMES)
def test_ball_decision_matches_exact_sign_and_mpmath(name):
    decided = 0
    for piece in activation(name).pieces:
        d = piece.derivative
        for at in POINTS:
            if not piece.interval.contains(at):
                continue
            for eps in EPS:
                fast = sat._ball_below(d, at, eps)
                exact = (sign_of(abs_exact(d.subs(z, at)) - eps) or 0) < 0
                assert sat._below(d, at, eps) == exact
                if fast is None:
                    continue
                decided += 1
                assert fast == exact, (name, at, eps)
                reference = _mp_below(d, at, eps)
                assert reference is None or fast == reference, (name, at, eps)
    assert decided > 0 or all(not p.derivative.has(z) for p in activation(name).pieces)


def test_ball_decision_refuses_an_overlap():
    # |φ'(0)| = 1/4 for the sigmoid: ε = 1/4 is no place to decide, the old route is.
    d = activation("sigmoid").derivative
    assert sat._ball_below(d, sympy.Integer(0), sympy.Rational(1, 4)) is None
    assert sat._below(d, sympy.Integer(0), sympy.Rational(1, 4)) is False


@pytest.mark.parametrize("name", NAMES)
def test_together_is_sympys_together(name):
    for piece in activation(name).pieces:
        d = piece.derivative
        if not d.has(z):
            continue
        for eps in EPS[:2]:
            for f in (d - eps, d + eps, (d - eps).subs(z, -z), (d - eps).rewrite(sympy.exp)):
                assert together(f) == sympy.together(f)


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softsign", "elu", "selu"])
def test_symbolic_boundary_does_not_depend_on_the_order_of_calls(name):
    first, second = sympy.Rational(1, 10), sympy.Rational(1, 1000)

    def fresh_caches():
        _parametric_shape.cache_clear()
        sat._saturation.cache_clear()

    fresh_caches()
    alone = saturation(name, second).formulas
    fresh_caches()
    saturation(name, first)
    after = saturation(name, second).formulas
    assert alone and after == alone
    # and the formulas are the boundary at that ε, point for point
    at_second = sorted(sympy.N(f.subs(EPSILON, second), 30) for f in after)
    boundary = sorted(sympy.N(b, 30) for b in saturation(name, second).boundary)
    assert len(at_second) == len(boundary)
    for x, y in zip(at_second, boundary, strict=True):
        assert abs(x - y) < 1e-25
