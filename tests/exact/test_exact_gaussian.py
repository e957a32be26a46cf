"""Gaussian expectations: exact by rules, certified by integration, estimated otherwise.

References: closed forms derived here by hand (GELU's E[φ'²] = 1/3 + 2/(3√3·π) at q = 1,
erf's E[φ'²] = 4/(π√(1 + 4q)) and arc-sine kernel, σ² = σ − σ'), and mpmath's
tanh-sinh quadrature at 50 digits of the activation derivatives as written, for every
catalogue activation at q ∈ {1/4, 1, 3}.
"""

from __future__ import annotations

from fractions import Fraction

import mpmath
import pytest
import sympy
from _exact_refs import assert_proven, gaussian_quad

from symgrad import activation, activation_names
from symgrad._core.symbols import z
from symgrad._exact.gaussian_rules import E, gaussian_expectation
from symgrad._exact.integrate import gaussian_integral
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Certified, Estimated, Exact

Q = sympy.Symbol("q", positive=True)
QS = [sympy.Rational(1, 4), sympy.Integer(1), sympy.Integer(3)]
SIGMA = 1 / (1 + sympy.exp(-z))
SQRT2 = sympy.sqrt(2)


def _pieces(act, which):
    if which == "phi'":
        return [(p.lo, p.hi, p.derivative) for p in act.pieces]
    if which == "phi'^2":
        return [(p.lo, p.hi, p.derivative**2) for p in act.pieces]
    return [(p.lo, p.hi, p.expr**2) for p in act.pieces]


def _agrees(result, reference):
    """Exact values equal the reference to 45 digits; certified enclosures contain it and
    print only digits it rounds to."""
    how = result.how("value")
    if isinstance(how, Exact):
        with mpmath.workdps(60):
            value = mpmath.mpf(sympy.N(result.value, 60))
            assert abs(value - reference) < mpmath.mpf(10) ** -45 * (1 + abs(reference))
        return
    assert isinstance(how, Certified)
    with mpmath.workdps(60):
        assert result.certified.lower <= Fraction(mpmath.nstr(reference, 55)) \
            <= result.certified.upper
    assert result.certified.digits >= 30
    assert_proven(result.certified.text(), reference)


def _check_catalogue(name, q, kinds=("phi'", "phi'^2", "phi^2")):
    act = activation(name)
    for which in kinds:
        pieces = _pieces(act, which)
        result = gaussian_expectation(pieces if len(pieces) > 1 else pieces[0][2], q=q)
        _agrees(result, gaussian_quad(pieces, q))


@pytest.mark.parametrize("name", activation_names())
def test_catalogue_square_slope_against_quadrature(name):
    # E[φ'(Z)²]: the mean-field χ₁/σ_w² at q = 1
    _check_catalogue(name, sympy.Integer(1), ("phi'^2",))


@pytest.mark.slow
@pytest.mark.parametrize("q", QS)
@pytest.mark.parametrize("name", activation_names())
def test_catalogue_against_quadrature(name, q):
    _check_catalogue(name, q)


# ---- parity ----


@pytest.mark.parametrize(
    ("name", "params"),
    [("gelu", {}), ("gelu_tanh", {}), ("silu", {}), ("swish", {"beta": sympy.Rational(3, 7)}),
     ("swish", {"beta": 5}), ("softplus", {}), ("softplus", {"beta": sympy.Rational(1, 3)})],
)
@pytest.mark.parametrize("q", QS)
def test_half_by_parity(name, params, q):
    # φ' − 1/2 is odd for each of these, so E[φ'(√q Z)] = 1/2 for every q
    r = gaussian_expectation(activation(name, **params).derivative, q=q)
    assert r.value == sympy.Rational(1, 2)
    assert r.how("value") == Exact("parity")


# ---- Gaussian integrals ----


def test_gelu_slope_square_by_hand():
    # φ' = Φ(z) + zϕ(z);  E[Φ(Z)²] = 1/3,  E[ZΦ(Z)ϕ(Z)] = 1/(2√3·π),
    # E[Z²ϕ(Z)²] = 1/(6√3·π):  together 1/3 + 2/(3√3·π)
    r = gaussian_expectation(activation("gelu").derivative ** 2, q=1)
    by_hand = sympy.Rational(1, 3) + 2 / (3 * sympy.sqrt(3) * sympy.pi)
    assert sympy.simplify(r.value - by_hand) == 0
    assert isinstance(r.how("value"), Exact)


def test_gelu_for_every_q():
    general = gaussian_expectation(activation("gelu").derivative ** 2, q=Q).value
    assert sympy.simplify(general.subs(Q, 1) - sympy.Rational(1, 3)
                          - 2 / (3 * sympy.sqrt(3) * sympy.pi)) == 0
    for q in (QS[0], QS[2]):
        with mpmath.workdps(60):
            reference = gaussian_quad([(-sympy.oo, sympy.oo,
                                        activation("gelu").derivative ** 2)], q)
            assert abs(mpmath.mpf(sympy.N(general.subs(Q, q), 60)) - reference) < 1e-45


def test_erf_by_hand():
    act = activation("erf")
    # φ' = (2/√π)e^{−z²}:  E[φ'] = 2/√(π(1 + 2q)),  E[φ'²] = (4/π)/√(1 + 4q)
    assert sympy.simplify(gaussian_expectation(act.derivative, q=Q).value
                          - 2 / sympy.sqrt(sympy.pi * (1 + 2 * Q))) == 0
    assert sympy.simplify(gaussian_expectation(act.derivative**2, q=Q).value
                          - 4 / (sympy.pi * sympy.sqrt(1 + 4 * Q))) == 0
    # Williams 1997: E[erf(√q Z)²] = (2/π)·asin(2q/(1 + 2q))
    assert sympy.simplify(gaussian_expectation(act.expr**2, q=Q).value
                          - 2 / sympy.pi * sympy.asin(2 * Q / (1 + 2 * Q))) == 0


@pytest.mark.parametrize(
    "phi",
    [z * (1 - sympy.erfc(z / SQRT2) / 2), (z + z * sympy.erf(z * SQRT2 / 2)) / 2,
     z * sympy.erfc(-z / SQRT2) / 2],
    ids=["erfc", "erf-expanded", "erfc-reflected"],
)
def test_gelu_written_differently_gets_the_same_answers(phi):
    gelu = activation("gelu")
    d = sympy.diff(phi, z)
    for mine, theirs in ((d, gelu.derivative), (d**2, gelu.derivative**2),
                         (phi**2, gelu.expr**2)):
        a = gaussian_expectation(mine, q=Q)
        b = gaussian_expectation(theirs, q=Q)
        assert isinstance(a.how("value"), Exact)
        assert sympy.simplify(a.value - b.value) == 0


# ---- logistic algebra ----


@pytest.mark.parametrize("beta", [1, sympy.Rational(1, 2), 3])
def test_softplus_square_slope_reduces_to_half_minus_sigma_prime(beta):
    r = gaussian_expectation(activation("softplus", beta=beta).derivative ** 2, q=1)
    # σ² = σ − σ' and E[σ(βZ)] = 1/2, so E[σ(βZ)²] = 1/2 − E[σ'(βZ)]
    sigma_prime = sympy.exp(-beta * z) / (1 + sympy.exp(-beta * z)) ** 2
    assert sympy.simplify(r.reduced - (sympy.Rational(1, 2) - E(sigma_prime))) == 0
    assert r.exact_part == sympy.Rational(1, 2)
    _agrees(r, gaussian_quad([(-sympy.oo, sympy.oo, SIGMA.subs(z, beta * z) ** 2)], 1))


@pytest.mark.parametrize(
    ("phi", "rate"),
    [(sympy.log(1 + sympy.exp(z)) - sympy.log(2), 1),  # shifted
     (2 * sympy.log(1 + sympy.exp(z / 2)), sympy.Rational(1, 2)),  # rescaled
     (sympy.log(1 + sympy.exp(2 * z)) / 2 + 3, 2)],
)
def test_user_softplus_variants(phi, rate):
    d = sympy.diff(phi, z)
    assert gaussian_expectation(d, q=3).value == sympy.Rational(1, 2)
    r = gaussian_expectation(d**2, q=3)
    sigma_prime = sympy.exp(-rate * z) / (1 + sympy.exp(-rate * z)) ** 2
    assert sympy.simplify(r.reduced - (sympy.Rational(1, 2) - E(sigma_prime))) == 0
    _agrees(r, gaussian_quad([(-sympy.oo, sympy.oo, d**2)], 3))


def test_stein_on_the_logistic():
    # E[Zσ(Z)] = E[σ'(Z)] (integration by parts): no exact part, one certified rest
    r = gaussian_expectation(z * SIGMA, q=1)
    assert r.exact_part == 0 and r.reduced == E(sympy.exp(-z) / (1 + sympy.exp(-z)) ** 2)
    _agrees(r, gaussian_quad([(-sympy.oo, sympy.oo, z * SIGMA)], 1))


# ---- integration: certified, estimated, refused ----


def test_bounded_oscillation_is_certified():
    # E[cos(√2 Z)] = e^{−1}
    r = gaussian_integral([(-sympy.oo, sympy.oo, sympy.cos(z))], q=2, digits=25)
    assert isinstance(r.how, Certified)
    with mpmath.workdps(40):
        assert_proven(r.certified.text(), mpmath.exp(-1))


def test_estimated_fallback_is_labelled_with_an_error():
    # √|z| is not analytic at 0 on the real line: no certified integral, an estimate
    r = gaussian_integral([(-sympy.oo, sympy.oo, sympy.sqrt(sympy.Abs(z)))], q=2, digits=25)
    assert isinstance(r.how, Estimated) and r.certified is None
    assert r.how.error >= sympy.Float(10) ** -50  # never below the working precision
    # E|X|^(1/2) for X ~ N(0, 2): σ^p·2^(p/2)·Γ((p + 1)/2)/√π = √2·Γ(3/4)/√π
    exact = sympy.sqrt(2) * sympy.gamma(sympy.Rational(3, 4)) / sympy.sqrt(sympy.pi)
    assert abs(sympy.N(r.value - exact, 40)) < 10 * r.how.error


def test_fast_growth_is_refused():
    with pytest.raises(InvalidArgument, match="diverge"):
        gaussian_integral([(-sympy.oo, sympy.oo, sympy.exp(z**2 / 4))], q=1)


def test_exponential_growth_is_certified():
    # E[e^{3√q Z}] = e^{9q/2}
    r = gaussian_integral([(-sympy.oo, sympy.oo, sympy.exp(3 * z))], q=1, digits=30)
    assert isinstance(r.how, Certified)
    with mpmath.workdps(50):
        assert_proven(r.certified.text(), mpmath.exp(mpmath.mpf(9) / 2))


def test_symbolic_q_needs_a_closed_form():
    with pytest.raises(NoClosedForm, match="symbolic q"):
        gaussian_expectation(activation("tanh").derivative, q=Q)


@pytest.mark.parametrize(
    ("pieces", "q", "digits"),
    [(z, 0, 30), (z, -1, 30), (z, sympy.Symbol("x", real=True), 30), (z, 1, 0),
     (z, 1, 301), ([], 1, 30)],
)
def test_invalid_arguments(pieces, q, digits):
    with pytest.raises(InvalidArgument):
        gaussian_expectation(pieces, q=q, digits=digits)


def test_piece_ends_must_be_rational():
    with pytest.raises(InvalidArgument, match="rational"):
        gaussian_integral([(-sympy.oo, sympy.sqrt(2), z), (sympy.sqrt(2), sympy.oo, 1)], q=1)
