"""The critical-point shortcuts against the routes they replace.

* one solve per (φ, σ_b, mode) and process: the cached point is the one a fresh
  ``critical_points`` call derives;
* σ_w = value written unevaluated: the same Eq SymPy's evaluation returns;
* the erf branch's σ_b-free part (q(s), s·V(q(s)), s₀) kept: F(s) is the one derived
  from scratch, and its root satisfies χ₁ = 1 at the fixed point (mpmath, 30 digits).
"""

from __future__ import annotations

import importlib

import mpmath
import pytest
import sympy

from symgrad import activation, critical_sigma_w
from symgrad.meanfield.kernels import Q, closed_kernels

cr = importlib.import_module("symgrad.meanfield.criticality")


@pytest.mark.parametrize(("name", "sb"), [("tanh", sympy.Rational(1, 20)), ("relu", 0),
                                          ("selu", 0), ("erf", sympy.Rational(1, 2)),
                                          ("sigmoid", 0)])
def test_cached_point_is_a_fresh_solve(name, sb):
    first = critical_sigma_w(name, sigma_b=sb)
    assert critical_sigma_w(name, sigma_b=sb) is first
    fresh = cr.critical_points(activation(name), [sympy.sympify(sb)])[0]
    assert fresh == first and fresh is not first


def test_unsolvable_points_stay_errors_when_cached():
    for _ in range(2):
        with pytest.raises(Exception, match="no σ_w gives χ₁ = 1 for gelu"):
            critical_sigma_w("gelu", sigma_b=0)


@pytest.mark.parametrize("name", ["identity", "relu", "leaky_relu", "tanh", "erf", "selu"])
def test_unevaluated_equation_is_what_evaluation_gives(name):
    value = critical_sigma_w(name, sigma_b=0).sigma_w
    assert cr._sigma_w_is(value) == sympy.Eq(sympy.Symbol("sigma_w"), value)
    assert type(cr._sigma_w_is(value)) is sympy.Equality


@pytest.mark.parametrize("sb", [sympy.Rational(1, 20), sympy.Rational(1, 2)])
def test_erf_equation_is_the_one_derived_from_scratch(sb):
    k = closed_kernels(activation("erf"))
    s = sympy.Symbol("s", positive=True)
    q_of_s = sympy.solve(sympy.Eq(s * k.S, 1), Q)[0]
    F = sympy.simplify(q_of_s - s * k.V.subs(Q, q_of_s) - sb**2)
    point = critical_sigma_w("erf", sigma_b=sb)
    assert point.steps[0].math == sympy.Eq(F, 0)
    # independent check: at s = σ_w², χ₁ = s·S(q) = 1 and q = s·V(q) + σ_b² (mpmath)
    with mpmath.workdps(30):
        sw2 = mpmath.mpf(str(point.sigma_w)) ** 2
        S = sympy.lambdify(Q, k.S, "mpmath")
        V = sympy.lambdify(Q, k.V, "mpmath")
        # the fixed point q* of q ↦ σ_w²·V(q) + σ_b², then χ₁ there
        q = mpmath.findroot(lambda x: sw2 * V(x) + mpmath.mpf(sb.p) ** 2 / sb.q**2 - x,
                            (mpmath.mpf("1e-6"), mpmath.mpf(100)), solver="anderson")
        assert abs(sw2 * S(q) - 1) < mpmath.mpf(10) ** -20
