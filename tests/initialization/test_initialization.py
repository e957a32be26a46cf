"""Initialization: variances against the published formulas, gains against mpmath
quadratures computed here, the framework table against independent χ₁ solves."""

from __future__ import annotations

from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import (
    InvalidArgument,
    activation,
    gain,
    gain_table,
    he_variance,
    moment_factor,
    xavier_variance,
)
from symgrad.initialization.gains import FanMode, Principle

_fans = st.integers(min_value=1, max_value=4096)


def ref_second_moment(name: str, **params: Any) -> Any:
    """E[φ(Z)²] by mpmath.quad at 30 digits, split at 0, ±3 and φ's kinks."""
    act = activation(name, **params)
    cuts = sorted({0.0, -3.0, 3.0} | {float(b) for b in act.breakpoints})
    with mpmath.workdps(30):
        return mpmath.quad(lambda t: act.mpmath(t) ** 2 * mpmath.npdf(t),
                           [-mpmath.inf, *cuts, mpmath.inf])


# ---- Xavier / He against Glorot and Bengio 2010, He et al. 2015 ----


@settings(max_examples=30, deadline=None)
@given(_fans, _fans)
def test_xavier_matches_glorot(n_in: int, n_out: int) -> None:
    v = xavier_variance(n_in, n_out)
    assert v.variance == sympy.Rational(2, n_in + n_out)
    assert v.uniform_bound == sympy.sqrt(sympy.Rational(6, n_in + n_out))
    assert sympy.simplify(v.uniform_bound**2 / 3 - v.variance) == 0  # Var U(−a, a) = a²/3


@settings(max_examples=30, deadline=None)
@given(_fans, _fans)
def test_he_matches_kaiming(n_in: int, n_out: int) -> None:
    assert he_variance(n_in, n_out).variance == sympy.Rational(2, n_in)
    assert he_variance(n_in, n_out, mode="fan_out").variance == sympy.Rational(2, n_out)
    assert he_variance(n_in, n_out, mode=FanMode.FAN_IN).uniform_bound == sympy.sqrt(
        sympy.Rational(6, n_in))


def test_symbolic_fans_give_the_formulas() -> None:
    n_in, n_out = sympy.symbols("n_in n_out", positive=True)
    assert sympy.simplify(xavier_variance(n_in, n_out).variance - 2 / (n_in + n_out)) == 0
    assert he_variance(n_in, n_out).variance == 2 / n_in


def test_xavier_with_relu_halves_the_second_moment_per_layer() -> None:
    n, depth = sympy.Symbol("n", positive=True), sympy.Symbol("L", positive=True)
    factor = moment_factor("relu", xavier_variance(n, n).variance, fan_in=n)
    assert factor.value == sympy.Rational(1, 2) and factor.scale_free
    assert factor.after(depth) == sympy.Rational(1, 2) ** depth
    assert moment_factor("relu", he_variance(n, n).variance, fan_in=n).value == 1


# ---- gains ----


def test_exact_gains() -> None:
    assert gain("relu", principle="second_moment").value == sympy.sqrt(2)
    assert gain("identity", principle="second_moment").value == 1
    assert gain("relu", principle=Principle.CRITICALITY).value == sympy.sqrt(2)
    assert gain("tanh", principle="criticality").value == 1
    assert gain("erf", principle="criticality").value == sympy.sqrt(sympy.pi) / 2
    # erf: E[erf(Z)²] = (2/π)·asin(2/3) (arc-sine kernel, Williams 1997), checked numerically.
    g = gain("erf", principle="second_moment")
    assert g.exact
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(sympy.N(g.value, 35)) - 1 / mpmath.sqrt(ref_second_moment("erf"))
                   ) < mpmath.mpf(10) ** -25


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=-9, max_value=9).map(lambda n: sympy.Rational(n, 10)))
def test_leaky_relu_gain_formula(alpha: sympy.Expr) -> None:
    g = gain(activation("leaky_relu", alpha=alpha), principle="second_moment").value
    assert sympy.simplify(g - sympy.sqrt(2 / (1 + alpha**2))) == 0


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "gelu", "softplus", "hard_tanh", "elu"])
def test_second_moment_gains_match_quadrature(name: str) -> None:
    g = gain(name, principle="second_moment")
    with mpmath.workdps(30):
        ref = 1 / mpmath.sqrt(ref_second_moment(name))
        assert abs(mpmath.mpf(sympy.N(g.value, 35)) / ref - 1) < mpmath.mpf(10) ** -20


def test_gelu_has_no_criticality_gain_from_unit_input() -> None:
    # From q⁰ = 1 the iteration falls to q* = 0 (χ₁ = σ_w²/4) below the second-moment gain
    # and diverges (χ₁ → σ_w²/2) above it: χ₁ jumps across 1 there.
    with pytest.raises(InvalidArgument, match="jumps"):
        gain("gelu", principle="criticality")


@pytest.mark.parametrize("name", ["softsign", "hard_tanh", "elu"])
def test_criticality_gain_on_the_zero_branch(name: str) -> None:
    # φ(0) = 0 and σ_b = 0: q* = 0 is the fixed point below criticality, where
    # χ₁ = σ_w²·φ'(0)², so the critical gain is 1/|φ'(0)|; φ'(0) from SymPy's derivative
    # here (every one of these has φ'(0) = 1 on both sides).
    act = activation(name)
    # The branch argument needs φ(0) = 0 and |φ(z)| ≤ |z| (so G(q) ≤ σ_w² q: q⁰ = 1 falls
    # to 0 below σ_w = 1); both checked here on a grid.
    assert act.mpmath(0) == 0
    grid = np.linspace(-6, 6, 241)
    assert np.all(np.abs(act.numpy(grid)) <= np.abs(grid) + 1e-15)
    with mpmath.workdps(30):
        slope0 = mpmath.diff(act.mpmath, mpmath.mpf(10) ** -12)
    g = float(gain(name, principle="criticality").value)
    # |φ'(10⁻¹²) − φ'(0)| ≤ 10⁻¹²·sup|φ''|, and the numeric gains are certified to ~1e-13.
    assert abs(g - 1 / float(slope0)) <= 1e-11


def test_sigmoid_criticality_gain_has_chi1_one() -> None:
    # σ(0) = 1/2, so q* > 0 and the gain is a certified number: recheck χ₁ = 1 there with
    # q* by mpmath.findroot on the 30-digit quadrature map (independent of symgrad).
    g = gain("sigmoid", principle="criticality")
    assert not g.exact
    sig = activation("sigmoid")
    with mpmath.workdps(30):
        w2 = mpmath.mpf(sympy.N(g.value, 35)) ** 2

        def m(q: Any, f: Any) -> Any:
            r = mpmath.sqrt(q)
            return mpmath.quad(lambda t: f(r * t) ** 2 * mpmath.npdf(t),
                               [-mpmath.inf, -5 / r, -1 / r, 0, 1 / r, 5 / r, mpmath.inf])

        q = mpmath.mpf(1)
        for _ in range(30):  # the map contracts (slope < 1 below the diverging regime)
            q = w2 * m(q, sig.mpmath)
        q = mpmath.findroot(lambda x: w2 * m(x, sig.mpmath) - x, q)
        chi = w2 * m(q, sig.mpmath_prime)
    # the gain is certified to ≥ 1e-12 relative; χ₁ ∝ σ_w² near it: ≤ 1e-10.
    assert abs(chi - 1) <= mpmath.mpf(10) ** -10, chi


# ---- the framework table ----


def test_framework_table() -> None:
    # The frameworks' own six (the whole catalogue, slow, is tests/networks/test_advice.py's).
    six = ("identity", "sigmoid", "tanh", "relu", "leaky_relu", "selu")
    rows = {r.activation.split("(")[0]: r for r in gain_table(names=six).rows}
    assert rows["relu"].agrees == "both" and rows["identity"].agrees == "both"
    assert rows["leaky_relu"].agrees == "both"
    assert rows["tanh"].agrees == "neither" and rows["sigmoid"].agrees == "neither"
    # χ₁ of tanh at 5/3 (σ_b = 0), recomputed here: q* by mpmath.findroot, then E[sech⁴].
    tanh = activation("tanh")
    with mpmath.workdps(30):
        def m(q: Any, f: Any) -> Any:
            r = mpmath.sqrt(q)
            return mpmath.quad(lambda t: f(r * t) ** 2 * mpmath.npdf(t),
                               [-mpmath.inf, -1, 0, 1, mpmath.inf])
        w2 = mpmath.mpf(25) / 9
        q = mpmath.findroot(lambda x: w2 * m(x, tanh.mpmath) - x, 1)
        chi = w2 * m(q, tanh.mpmath_prime)
    assert abs(float(rows["tanh"].chi1) / float(chi) - 1) < 1e-9
    assert float(rows["tanh"].chi1) > 1  # 5/3 is on the chaotic side for tanh
    # selu's 3/4 preserves neither; selu's own second-moment gain is 1 (by design).
    assert abs(float(rows["selu"].second_moment) - 1) < 1e-12


# ---- invalid input ----


@pytest.mark.parametrize(("call", "message"), [
    (lambda: xavier_variance(0, 3), "fan_in"),
    (lambda: xavier_variance(3, -1), "fan_out"),
    (lambda: xavier_variance(3.0, 3), "fan_in"),
    (lambda: xavier_variance("3", 3), "fan_in"),
    (lambda: he_variance(3, 3, mode="fan_avg"), "mode"),
    (lambda: he_variance(sympy.Symbol("n", negative=True), 3), "fan_in"),
    (lambda: gain("tanh", principle="variance"), "principle"),
    (lambda: gain("nope", principle="second_moment"), "unknown activation"),
    (lambda: moment_factor("relu", -1, fan_in=3), "variance"),
])
def test_invalid_arguments(call: Any, message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        call()
