"""The edge λ_max and the density, against closed forms derived or quoted here.

* Fuss–Catalan edge (L + 1)^{L+1}/L^L and Marchenko–Pastur edges (1 + √c)²;
* orthogonal relu: by hand, χ̃(w) = w/(1 + w)·((1 + w)/(2(½ + w)))^L has its turn at
  w_c = ½/(L/2 − 1) for L > 2, else the top is at w → ∞ with λ̃ = 2^L;
* the Marchenko–Pastur density √(x(4 − x))/(2πx) and the Fuss–Catalan density in
  Haagerup and Möller's parametrisation (s = L + 1, 0 < u < π/s):
  x(u) = sin(su)^s/(sin u·sin((s−1)u)^{s−1}), ρ = sin²u·sin((s−1)u)^{s−2}/(π sin(su)^{s−1}).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import sympy

from symgrad.records import Provenance
from symgrad.spectrum import jacobian_spectrum
from symgrad.spectrum.edge import exact_edge, numeric_edge

L = sympy.Symbol("L", positive=True, integer=True)
RELU = ((sympy.Integer(0), sympy.Rational(1, 2)), (sympy.Integer(1), sympy.Rational(1, 2)))


@pytest.mark.parametrize("depth", [1, 2, 3, 6])
def test_linear_gaussian_edge_is_fuss_catalan(depth):
    s = jacobian_spectrum("identity", sigma_w=1, depth=depth, density_points=0)
    assert sympy.simplify(s.lambda_max - sympy.Integer(depth + 1) ** (depth + 1)
                          / sympy.Integer(depth) ** depth) == 0
    assert s.how("lambda_max").kind is Provenance.EXACT


def test_symbolic_linear_edge():
    s = jacobian_spectrum("identity", sigma_w=1, depth=L, density_points=0)
    assert sympy.simplify(s.lambda_max - (L + 1) ** (L + 1) / L**L) == 0


def test_one_relu_layer_edge_is_marchenko_pastur_of_ratio_one_half():
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=1, density_points=0)
    assert sympy.simplify(s.lambda_max - 2 * (1 + sympy.sqrt(sympy.Rational(1, 2))) ** 2) == 0


def _orthogonal_relu_edge(depth: int) -> sympy.Expr:
    if depth <= 2:
        return sympy.Integer(2) ** depth
    w = sympy.Rational(1, 2) / (sympy.Rational(depth, 2) - 1)
    chi = w / (1 + w) * ((1 + w) / (2 * (sympy.Rational(1, 2) + w))) ** depth
    return 1 / chi


@pytest.mark.parametrize("depth", [1, 2, 3, 7, 20])
def test_orthogonal_relu_edge_matches_the_hand_derivation(depth):
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=depth, weights="orthogonal",
                          density_points=0)
    assert sympy.simplify(s.lambda_max - _orthogonal_relu_edge(depth)) == 0


def test_symbolic_orthogonal_relu_edge_is_piecewise_in_depth():
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=L, weights="orthogonal",
                          density_points=0)
    for depth in (1, 2, 3, 9):
        value = s.lambda_max.subs(L, depth)
        assert sympy.simplify(value - _orthogonal_relu_edge(depth)) == 0


@pytest.mark.parametrize("gaussian", [True, False])
@pytest.mark.parametrize("depth", [3, 10, 40])
def test_float_edge_search_agrees_with_the_exact_root(gaussian, depth):
    _, exact = exact_edge(RELU, depth, gaussian=gaussian)
    _, numeric = numeric_edge(np.array([0.0, 2.0]), np.array([0.5, 0.5]), depth,
                              gaussian=gaussian)
    assert numeric == pytest.approx(float(exact), rel=1e-10)


def test_deep_relu_edge_is_certified_and_matches_a_direct_maximisation():
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=200, density_points=0)
    how = s.how("lambda_max")
    assert how.kind is Provenance.CERTIFIED
    with mpmath.workdps(40):
        # 1/λ̃ = max over y ∈ (0, ½) of χ̃ = w^{1−L}(1 + w)^{−1}y^L, w = y/(1 − 2y).
        def log_chi(y):
            w = y / (1 - 2 * y)
            return (1 - 200) * mpmath.log(w) - mpmath.log(1 + w) + 200 * mpmath.log(y)

        lo, hi = mpmath.mpf(10) ** -6, mpmath.mpf(1) / 2 - mpmath.mpf(10) ** -6
        for _ in range(300):  # ternary search: log χ̃ is unimodal on (0, ½)
            a, b = lo + (hi - lo) / 3, hi - (hi - lo) / 3
            if log_chi(a) < log_chi(b):
                lo = a
            else:
                hi = b
        edge = mpmath.exp(-log_chi((lo + hi) / 2))
        assert mpmath.mpf(str(how.lower)) <= edge * (1 + mpmath.mpf(10) ** -25)
        assert edge * (1 - mpmath.mpf(10) ** -25) <= mpmath.mpf(str(how.upper))


def test_tanh_edge_error_covers_a_finer_discretisation():
    from symgrad.activations import as_activation
    from symgrad.spectrum._law import slope_law

    s = jacobian_spectrum("tanh", sigma_w=1.4, sigma_b=0.3, depth=6, weights="orthogonal",
                          density_points=0)
    law = slope_law(as_activation("tanh"), s.q_star, panels=96)
    x = law.nodes / np.dot(law.weights, law.nodes)
    _, fine = numeric_edge(x, law.weights, 6, gaussian=False)
    assert abs(fine * float(s.chi1) ** 6 - float(s.lambda_max)) <= float(
        s.how("lambda_max").error)


def _samples(s):
    return np.exp(np.array(s.density_log_x)), np.array(s.density_values)


def test_marchenko_pastur_density():
    s = jacobian_spectrum("identity", sigma_w=1, depth=1, density_points=200)
    x, x_rho = _samples(s)
    inside = (x > 1e-3) & (x < 4 - 1e-3)
    expected = np.sqrt(x[inside] * (4 - x[inside])) / (2 * math.pi)
    np.testing.assert_allclose(x_rho[inside], expected, rtol=1e-7, atol=1e-12)


def test_fuss_catalan_density_for_two_layers():
    s = jacobian_spectrum("identity", sigma_w=1, depth=2, density_points=300)
    x, x_rho = _samples(s)
    order = 3

    def x_of(u):
        return np.sin(order * u) ** order / (np.sin(u) * np.sin((order - 1) * u) ** (order - 1))

    # x(u) decreases from the edge (u → 0) to 0 (u → π/s): invert it at our samples.
    lo = np.full(x.shape, 1e-12)
    hi = np.full(x.shape, math.pi / order - 1e-12)
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        above = x_of(mid) > x
        lo = np.where(above, mid, lo)
        hi = np.where(above, hi, mid)
    u = 0.5 * (lo + hi)
    rho = (np.sin(u) ** 2 * np.sin((order - 1) * u) ** (order - 2)
           / (math.pi * np.sin(order * u) ** (order - 1)))
    # Near the edge the Newton solve sees rounding of F ~ 1e−13·L: ~1e−6 relative.
    np.testing.assert_allclose(x_rho, x * rho, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_relu_density_accounts_for_mass_mean_and_second_moment(weights):
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=5, weights=weights,
                          density_points=300)
    assert s.atom_at_zero == sympy.Rational(1, 2)
    assert max(abs(e) for e in s.density_errors) < 1e-3
    assert s.how("density").kind is Provenance.ESTIMATED


# ---- densities that fail their own checks are withheld, deep ones pass them ----


def test_deep_tanh_density_accounts_for_its_mass():
    # The log-spectrum of 1000 factors spreads over thousands of decades: a grid capped at
    # 300 decades lost 5 % of the mass.  Mass, m_1 and m_2 must now close within 2e-3.
    from symgrad.meanfield import critical_sigma_w

    sb = sympy.Rational(3, 10)
    sw = critical_sigma_w("tanh", sigma_b=sb).sigma_w
    s = jacobian_spectrum("tanh", sigma_w=sw, sigma_b=sb, depth=1000, moments=2,
                          density_points=150)
    assert s.density_values and max(abs(e) for e in s.density_errors) <= 2e-3
    # the density of ln λ integrates (trapezoid, here) to the mass the checks state
    mass = np.trapezoid(np.asarray(s.density_values), np.asarray(s.density_log_x))
    assert abs(mass - 1) < 0.05  # the samples returned are thinned: a coarse check


@pytest.mark.parametrize(("act", "kwargs", "note"), [
    ("erf", dict(sigma_w=10, depth=10), "failed its own checks"),
    ("selu", dict(sigma_w=sympy.Rational(6, 5), sigma_b=sympy.Rational(1, 10), depth=2,
                  weights="orthogonal"), "atom of mass"),
])
def test_bad_densities_are_withheld_with_the_reason(act, kwargs, note):
    s = jacobian_spectrum(act, moments=2, density_points=100, **kwargs)
    assert s.density_values == () and "density" not in s.provenance
    assert s.density_note.startswith("withheld") and note in s.density_note
    assert ("density", s.density_note) in s.summary()
