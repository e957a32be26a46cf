"""jacobian_spectrum's moments against independent references.

* Fuss–Catalan numbers binom((L+1)k, k)/(Lk + 1), written here from the closed form;
* free multiplicative convolution by non-crossing partitions (``_free_reference``), a
  combinatorial algorithm sharing nothing with the S-transform / Lagrange-inversion code;
* Narayana polynomials for a Wishart matrix of aspect ratio ½ (one relu layer);
* the spread L·μ_2/μ_1² (Gaussian), L·(μ_2/μ_1² − 1) (orthogonal) from μ_k integrated here
  with mpmath at 30 digits.
"""

from __future__ import annotations

import json
import time
from fractions import Fraction
from math import comb

import mpmath
import pytest
import sympy
from _free_reference import jacobian_moments
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad.errors import InvalidArgument
from symgrad.records import Provenance
from symgrad.spectrum import jacobian_spectrum
from symgrad.spectrum.moments import normalized_moments

L = sympy.Symbol("L", positive=True, integer=True)


def fuss_catalan(depth: int, k: int) -> int:
    return comb((depth + 1) * k, k) // (depth * k + 1)


@pytest.mark.parametrize("depth", [1, 2, 3, 5, 8])
def test_linear_gaussian_nets_give_fuss_catalan_numbers(depth):
    s = jacobian_spectrum("identity", sigma_w=1, depth=depth, moments=6, density_points=0)
    assert s.moments == tuple(fuss_catalan(depth, k) for k in range(1, 7))
    assert all(s.how(f"moments[{k}]").kind is Provenance.EXACT for k in range(1, 7))


def test_weight_scale_multiplies_m_k_by_sigma_w_to_the_2lk():
    s = jacobian_spectrum("identity", sigma_w=sympy.Rational(3, 2), depth=2, moments=4,
                          density_points=0)
    assert s.moments == tuple(sympy.Rational(9, 4) ** (2 * k) * fuss_catalan(2, k)
                              for k in range(1, 5))


def test_symbolic_depth_gives_the_fuss_catalan_polynomials():
    s = jacobian_spectrum("identity", sigma_w=1, depth=L, moments=6, density_points=0)
    for k, m in enumerate(s.moments, start=1):
        expected = sympy.binomial((L + 1) * k, k) / (L * k + 1)
        assert sympy.simplify(sympy.expand_func(expected) - m) == 0


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_relu_moments_match_non_crossing_partitions(weights, depth):
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=depth, weights=weights,
                          moments=5, density_points=0)
    ref = jacobian_moments([Fraction(1, 2)] * 5, Fraction(2), depth, weights == "gaussian")
    assert s.moments == tuple(sympy.Rational(r.numerator, r.denominator) for r in ref)


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_off_critical_leaky_relu_matches_non_crossing_partitions(weights):
    alpha, sw = sympy.Rational(1, 5), sympy.Rational(6, 5)
    s = jacobian_spectrum(_leaky(alpha), sigma_w=sw, depth=3, weights=weights, moments=4,
                          density_points=0)
    # φ'² is α² or 1 with probability ½ each: μ_k = (α^{2k} + 1)/2.
    mus = [(Fraction(1, 25) ** k + 1) / 2 for k in range(1, 5)]
    ref = jacobian_moments(mus, Fraction(36, 25), 3, weights == "gaussian")
    assert s.moments == tuple(sympy.Rational(r.numerator, r.denominator) for r in ref)


def _leaky(alpha):
    from symgrad import activation

    return activation("leaky_relu", alpha=alpha)


def test_symbolic_relu_polynomials_agree_with_partitions_at_integer_depths():
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=L, moments=4, density_points=0)
    assert s.variance == 2 * L  # Pennington et al. 2017: σ² = 2L for Gaussian relu
    for depth in (1, 2, 5):
        ref = jacobian_moments([Fraction(1, 2)] * 4, Fraction(2), depth, True)
        got = [m.subs(L, depth) for m in s.moments]
        assert got == [sympy.Rational(r.numerator, r.denominator) for r in ref]


def test_one_relu_layer_is_twice_a_wishart_of_ratio_one_half():
    # W D² Wᵀ = 2·(W P)(W P)ᵀ with P a projection of rank N/2: Narayana polynomials.
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=1, moments=6, density_points=0)
    half = Fraction(1, 2)
    for k, m in enumerate(s.moments, start=1):
        narayana = sum(Fraction(comb(k, j) * comb(k, j - 1), k) * half**j
                       for j in range(1, k + 1))
        assert m == sympy.Rational(2**k * narayana.numerator, narayana.denominator)


def _mu(act: str, q, power: int):
    from symgrad import activation

    a = activation(act)
    with mpmath.workdps(40):
        root = mpmath.sqrt(mpmath.mpf(str(sympy.N(q, 50))))
        return mpmath.quad(lambda x: a.mpmath_prime(root * x) ** power * mpmath.npdf(x),
                           [-mpmath.inf, 0, mpmath.inf])


@pytest.mark.parametrize("weights", ["gaussian", "orthogonal"])
def test_tanh_spread_matches_directly_integrated_slope_moments(weights):
    s = jacobian_spectrum("tanh", sigma_w=1.4, sigma_b=0.3, depth=7, weights=weights,
                          density_points=0)
    q_how = s.how("q_star")
    q_mid = (q_how.lower + q_how.upper) / 2
    mu1, mu2 = _mu("tanh", q_mid, 2), _mu("tanh", q_mid, 4)
    with mpmath.workdps(40):
        ratio = mu2 / mu1**2
        expected = 7 * (ratio if weights == "gaussian" else ratio - 1)
    how = s.how("variance")
    # q* is certified (a proven sign change of G(q) − q), μ_k by Arb integration: the
    # enclosure of the spread holds mpmath's value at q* (40-digit quadrature).
    assert how.kind is Provenance.CERTIFIED
    assert q_how.kind is Provenance.CERTIFIED and float(q_how.upper - q_how.lower) < 1e-20
    with mpmath.workdps(40):
        lower, upper = mpmath.mpf(str(how.lower)), mpmath.mpf(str(how.upper))
        assert lower - mpmath.mpf(10) ** -28 <= expected <= upper + mpmath.mpf(10) ** -28
        assert upper - lower < mpmath.mpf(10) ** -18
    assert abs(float(s.chi1) - 1.4**2 * float(mu1)) < 1e-14


def test_degenerate_fixed_point_is_the_limit_of_small_q():
    s = jacobian_spectrum("tanh", sigma_w=1, depth=4, weights="orthogonal", density_points=0)
    assert s.degenerate and s.q_star == 0
    assert s.moments == (1, 1, 1, 1) and s.lambda_max == 1
    assert "q* = 0" in s.statement


def test_diverging_variance_has_no_spectrum_but_relu_does():
    s = jacobian_spectrum("tanh", sigma_w=1, sigma_b=0.1, depth=3, density_points=0)
    assert s.q_star != sympy.oo  # tanh is bounded: a finite fixed point
    e = jacobian_spectrum("elu", sigma_w=3, sigma_b=0, depth=3, density_points=0)
    assert e.moments == () and e.lambda_max is None and "no spectrum" in e.statement
    r = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), sigma_b=1, depth=3, density_points=0)
    assert r.q_star == sympy.oo and r.variance == 6  # the relu slope law ignores q*


def test_exact_moments_at_depth_100_are_fast_and_huge_depths_stay_compact():
    start = time.perf_counter()
    s = jacobian_spectrum("relu", sigma_w=sympy.sqrt(2), depth=100, moments=6,
                          density_points=0)
    assert time.perf_counter() - start < 5.0  # the benchmark times it; here a loose guard
    assert s.variance == 200
    deep = jacobian_spectrum("relu", sigma_w=sympy.Rational(6, 5), depth=10**6, moments=2,
                             density_points=0)
    assert deep.moment_ratios[1] == 2 * 10**6 + 1  # exact
    # m_2 = (18/25)^{2·10⁶}·(2·10⁶ + 1) has 10⁷ digits: stored as a certified enclosure.
    how = deep.how("moments[2]")
    assert how.kind is Provenance.CERTIFIED
    with mpmath.workdps(40):
        exact = mpmath.mpf(18) / 25
        log10 = 2 * 10**6 * mpmath.log10(exact) + mpmath.log10(2 * 10**6 + 1)
        assert abs(log10 - mpmath.log10(mpmath.mpf(str(deep.moments[1])))) < 1e-25
        assert mpmath.mpf(str(how.lower)) <= mpmath.mpf(str(deep.moments[1])) <= mpmath.mpf(
            str(how.upper))


@settings(max_examples=60)
@given(low=st.fractions(min_value=0, max_value=1, max_denominator=12),
       mass=st.fractions(min_value=Fraction(1, 12), max_value=1, max_denominator=12),
       depth=st.integers(min_value=1, max_value=40),
       gaussian=st.booleans())
def test_moment_sequences_are_hankel_positive(low, mass, depth, gaussian):
    # A two-atom slope law {low², 1} with P(1) = mass; the moments of any law on [0, ∞)
    # satisfy m_k² ≤ m_{k−1}m_{k+1} (Cauchy–Schwarz), and spreading never shrinks them.
    mus = [mass + (1 - mass) * low ** (2 * k) for k in range(1, 6)]
    tilde = [m / mus[0] ** k for k, m in enumerate(mus, start=1)]
    p = normalized_moments(tilde, depth, gaussian=gaussian)
    m = [Fraction(1), *p]
    for k in range(1, 5):
        assert m[k] ** 2 <= m[k - 1] * m[k + 1]
    assert p[1] - 1 == depth * (tilde[1] if gaussian else tilde[1] - 1)  # −L·s_1


def test_record_is_json_ready_with_provenance_per_number():
    s = jacobian_spectrum("tanh", sigma_w=1.4, sigma_b=0.3, depth=3, moments=2,
                          density_points=40)
    d = json.loads(json.dumps(s.as_dict()))
    assert d["provenance"]["moments[2]"]["kind"] == "certified"
    assert d["provenance"]["density"]["kind"] == "estimated"
    assert len(d["density_log_x"]) == len(d["density_values"]) > 20
    assert "Jacobian spectrum" in s._repr_markdown_()


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(sigma_w=0, depth=3), "sigma_w"),
    (dict(sigma_w=1, depth=0), "depth"),
    (dict(sigma_w=1, depth=10**6 + 1), "depth"),
    (dict(sigma_w=1, depth=2.0), "depth"),
    (dict(sigma_w=1, depth=sympy.Symbol("n", negative=True)), "depth"),
    (dict(sigma_w=1, depth=3, moments=13), "moments"),
    (dict(sigma_w=1, depth=3, moments=0), "moments"),
    (dict(sigma_w=1, depth=3, weights="uniform"), "weights"),
    (dict(sigma_w=1, depth=3, density_points=5), "density_points"),
    (dict(sigma_w=1, sigma_b=-1, depth=3), "sigma_b"),
])
def test_invalid_arguments_are_refused(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        jacobian_spectrum("tanh", **kwargs)
