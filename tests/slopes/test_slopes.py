"""sup |φ'|, saturation regions, φ'(z₀) and E[φ'(√q Z)^p], each checked twice.

Independent references: closed forms derived here by hand (σ'(z) = s(1 − s) ≤ 1/4,
tanh thresholds atanh(√(1 − ε))), dense float64 grids of |φ'| (the NumPy kernels) for
the supremum, mpmath evaluations just inside and just outside every saturation boundary
(laws: membership agrees with |φ'| < ε), mpmath quadrature and Monte Carlo sampling for
the Gaussian expectations.  The hand-written derivatives of every catalogue activation,
and the proven-digit checks against 80-digit references, are in tests/slopes/.
"""

from __future__ import annotations

import math
from decimal import Decimal

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings

from symgrad import (
    EPSILON,
    Reach,
    activation,
    activation_names,
    expected_slope,
    max_slope,
    register_activation,
    saturation,
    slope,
    unregister_activation,
    z,
)
from symgrad.errors import InvalidArgument
from symgrad.strategies import activations, preactivations, tolerances

NAMES = activation_names()
GRID = np.linspace(-40.0, 40.0, 400_001)  # spacing 2e-4


@pytest.fixture(scope="module", autouse=True)
def user_activations():
    """User registrations with the awkward shapes: a negative lobe larger than the
    positive peak, and a tie between two equal maxima."""
    # φ' = 1 − 3e^{−z²}: a lobe down to −2 at 0, while the positive side only tends to 1.
    register_activation("deep_lobe", z - 3 * sympy.sqrt(sympy.pi) / 2 * sympy.erf(z),
                        replace=True)
    register_activation("twin_peaks", z * sympy.exp(-((z - 2) ** 2))
                        + z * sympy.exp(-((z + 2) ** 2)), replace=True)
    yield
    unregister_activation("deep_lobe")
    unregister_activation("twin_peaks")


ALL = [*NAMES, "deep_lobe", "twin_peaks"]


# ---- sup |φ'| ----


@pytest.mark.parametrize("name", ALL)
def test_sup_bounds_a_dense_grid_and_is_approached(name):
    act = activation(name)
    m = max_slope(act)
    sup = float(m.value)
    values = np.abs(act.numpy_prime(GRID))
    # float64 evaluation: ≤ 1e-14 relative.  The grid cannot exceed the sup...
    assert values.max() <= sup * (1 + 1e-13)
    if m.reach in (Reach.POINT, Reach.INTERVAL, Reach.LEFT_LIMIT, Reach.RIGHT_LIMIT):
        # ...and comes within φ''-times-spacing of it when the sup sits inside the grid:
        # |φ'(x)| ≥ sup − max|φ''|·1e-4 for the nearest grid point; max|φ''| < 10 here.
        assert values.max() >= sup - 1e-3
    else:
        # Approached at ±∞: the far end of the grid is already close.
        end = GRID[-1] if m.at == sympy.oo else GRID[0]
        assert abs(float(act.numpy_prime(np.array([end]))[0])) == pytest.approx(sup, rel=1e-9)


# Where the sup is reached, against the hand-written φ' of every catalogue activation (not
# against φ' at its own maximiser): tests/slopes/test_reach.py.


@settings(max_examples=40, deadline=None)
@given(act=activations(), x=preactivations(bound=50.0))
def test_no_point_exceeds_the_sup(act, x):
    m = max_slope(act)
    with mpmath.workdps(50):
        assert abs(act.mpmath_prime(mpmath.mpf(x))) <= mpmath.mpf(sympy.N(m.value, 50)) * (
            1 + mpmath.mpf(10) ** -35)


def test_sigmoid_exact():
    m = max_slope("sigmoid")
    assert m.exact and m.attained and m.value == sympy.Rational(1, 4) and m.at == 0
    # Without calculus: s(1 − s) = 1/4 − (s − 1/2)² ≤ 1/4 for s = σ(z).
    s = sympy.Symbol("s", real=True)
    assert sympy.expand(s * (1 - s) - (sympy.Rational(1, 4) - (s - sympy.Rational(1, 2)) ** 2)) \
        == 0
    assert sympy.simplify(activation("sigmoid").derivative
                          - sympy.exp(-z) / (1 + sympy.exp(-z)) ** 2) == 0


def test_tanh_erf_and_gelu_exact():
    assert (max_slope("tanh").value, max_slope("tanh").at) == (1, 0)
    erf = max_slope("erf")
    assert erf.exact and sympy.simplify(erf.value - 2 / sympy.sqrt(sympy.pi)) == 0
    gelu = max_slope("gelu")
    # gelu'' = (2 − z²)·φ(z) vanishes at ±√2; gelu'(√2) = Φ(√2) + √2·φ(√2).
    expected = (1 + sympy.erf(1)) / 2 + sympy.sqrt(2) * sympy.exp(-1) / sympy.sqrt(2 * sympy.pi)
    assert gelu.exact and gelu.at == sympy.sqrt(2)
    assert sympy.simplify(gelu.value - expected) == 0


# Hand derivations (φ' at a kink is the value of the piece containing it, left pieces
# here): relu' = 0 on z ≤ 0 and 1 on z > 0, so the sup 1 is attained exactly on (0, ∞);
# hard_tanh' = 1 on (−1, 1] (the kink 1 belongs to the middle piece, −1 to the left);
# elu'(z) = e^z on z ≤ 0 reaches 1 at 0 and elu' = 1 on z > 0: [0, ∞).
@pytest.mark.parametrize(
    ("name", "params", "value", "at", "reach", "argmax"),
    [
        ("relu", {}, 1, 0, Reach.INTERVAL, sympy.Interval.open(0, sympy.oo)),
        ("leaky_relu", {"alpha": 3}, 3, 0, Reach.INTERVAL, sympy.Interval(-sympy.oo, 0)),
        ("leaky_relu", {"alpha": -1}, 1, 0, Reach.INTERVAL, sympy.S.Reals),
        ("leaky_relu", {"alpha": sympy.Rational(1, 2)}, 1, 0, Reach.INTERVAL,
         sympy.Interval.open(0, sympy.oo)),
        # the kink belongs to the left piece (z ≤ 0), so φ'(0) = α is attained there
        ("elu", {"alpha": 2}, 2, 0, Reach.POINT, sympy.FiniteSet(0)),
        ("elu", {}, 1, 0, Reach.INTERVAL, sympy.Interval(0, sympy.oo)),
        ("hard_tanh", {}, 1, 0, Reach.INTERVAL, sympy.Interval.Lopen(-1, 1)),
        ("hard_sigmoid", {}, sympy.Rational(1, 6), 0, Reach.INTERVAL,
         sympy.Interval.Lopen(-3, 3)),
        ("softplus", {"beta": 2}, 1, sympy.oo, Reach.INFINITY, sympy.S.EmptySet),
        ("softsign", {}, 1, 0, Reach.POINT, sympy.FiniteSet(0)),
        ("identity", {}, 1, 0, Reach.INTERVAL, sympy.S.Reals),
    ],
)
def test_piecewise_and_asymptotic_shapes(name, params, value, at, reach, argmax):
    m = max_slope(activation(name, **params))
    assert (m.value, m.at, m.reach, m.argmax, m.exact) == (value, at, reach, argmax, True)
    assert m.attained == (argmax != sympy.S.EmptySet)


def test_relu_is_not_attained_at_its_kink_and_says_why():
    m = max_slope("relu")
    assert not m.argmax.contains(0) and m.where() == "attained on (0, ∞)"
    assert "z = 0 is not in the argmax" in m.convention and "kink" in m.convention
    # the kink convention itself, checked on the kernel the frameworks' way: relu'(0) = 0
    assert float(activation("relu").numpy_prime(np.zeros(1))[0]) == 0.0
    # smooth activations: the convention decides nothing, and nothing is said
    assert max_slope("tanh").convention == "" and max_slope("elu").convention == ""


def test_selu_sup_is_lambda_alpha_at_the_kink():
    selu = activation("selu")
    m = max_slope(selu)
    # λα is the left limit at 0, and φ'(0) = λα only by the kink convention.
    assert m.reach is Reach.POINT and m.attained and m.exact and m.at == 0
    assert m.argmax == sympy.FiniteSet(0)
    assert selu.one_sided_derivatives(0)[0] == m.value
    assert "only under this convention" in m.convention
    lam_alpha = 1.0507009873554804934 * 1.6732632423543772848  # Klambauer et al. 2017
    assert float(m.value) == pytest.approx(lam_alpha, rel=1e-15)


@pytest.mark.parametrize(("name", "digits"), [("swish", "1.0998393"), ("mish", "1.0884981"),
                                               ("gelu_tanh", "1.1289930")])
def test_certified_sups_carry_brackets(name, digits):
    m = max_slope(name)
    assert not m.exact and m.attained and m.value_bracket is not None
    lo, hi = m.value_bracket
    assert (hi - lo) < 1e-38
    # the printed value is the enclosure rounded at its last place: within half a unit
    text = str(m.value)
    unit = sympy.Rational(1, 10 ** len(text.split(".")[1]))
    shown = sympy.Rational(text)
    assert abs(shown - lo) <= unit / 2 and abs(shown - hi) <= unit / 2
    assert text.startswith(digits) and len(text) >= 30
    assert "cells proven in ball arithmetic" in m.completeness
    # The location is a root of φ'' to 30 digits: a centred difference of φ' is ~0 there.
    act = activation(name)
    with mpmath.workdps(60):
        at, h = mpmath.mpf(sympy.N(m.at, 60)), mpmath.mpf(10) ** -25
        assert abs(act.mpmath_prime(at + h) - act.mpmath_prime(at - h)) / (2 * h) < 1e-28


def test_negative_lobe_and_tie_do_not_fool_the_sup():
    lobe = max_slope("deep_lobe")
    # φ'(0) = 1 − 3 = −2: the largest |φ'| is the negative lobe at 0.
    assert lobe.value == 2 and lobe.at == 0 and lobe.exact
    twins = max_slope("twin_peaks")
    # Symmetric in z ↦ −z: two equal maxima, and both belong to argmax.
    points = sorted(float(p) for p in twins.argmax)
    assert len(points) == 2 and points[0] == pytest.approx(-points[1], rel=1e-25)


# ---- saturation ----


def test_sigmoid_and_tanh_thresholds_are_closed_forms():
    for eps in (sympy.Rational(1, 10), sympy.Rational(1, 1000), sympy.Rational(1, 5)):
        # σ' = s(1 − s) = ε  ⇔  s = (1 ± √(1 − 4ε))/2  ⇔  z = ±log((1 + r)/(1 − r)), r = √(1 − 4ε)
        r = sympy.sqrt(1 - 4 * eps)
        t = sympy.log((1 + r) / (1 - r))
        sat = saturation("sigmoid", eps)
        assert sat.exact
        assert sympy.simplify(sat.right_threshold - t) == 0
        assert sympy.simplify(sat.left_threshold + t) == 0
        # tanh' = 1 − tanh² = ε  ⇔  |z| = atanh(√(1 − ε))
        th = saturation("tanh", eps)
        assert th.exact
        # atanh(r) = log((1 + r)/(1 − r))/2, so e^{2t} must equal (1 + r)/(1 − r) exactly.
        r = sympy.sqrt(1 - eps)
        assert sympy.radsimp(sympy.exp(2 * th.right_threshold) - (1 + r) / (1 - r)) == 0


@pytest.mark.parametrize("name", ["sigmoid", "tanh", "softplus", "erf", "elu", "selu"])
def test_general_epsilon_formulas_hold_at_other_epsilons(name):
    formulas = saturation(name, sympy.Rational(1, 10)).formulas
    assert formulas
    for other in (sympy.Rational(1, 20), sympy.Rational(1, 1000), sympy.Rational(3, 100000)):
        sat = saturation(name, other)
        assert len(sat.boundary) == len(formulas)
        for formula, point in zip(formulas, sat.boundary, strict=True):
            assert abs(sympy.N(formula.subs(EPSILON, other) - point, 50)) < 1e-45


@pytest.mark.parametrize(
    ("name", "eps", "region"),
    [
        ("sigmoid", sympy.Rational(1, 4), sympy.S.Reals - sympy.FiniteSet(0)),
        ("sigmoid", 1, sympy.S.Reals),
        ("tanh", 2, sympy.S.Reals),
        ("identity", sympy.Rational(1, 2), sympy.S.EmptySet),
        ("relu", sympy.Rational(1, 2), sympy.Interval(-sympy.oo, 0)),
        ("hard_tanh", sympy.Rational(1, 2),
         sympy.Union(sympy.Interval(-sympy.oo, -1), sympy.Interval.open(1, sympy.oo))),
        ("softplus", sympy.Rational(1, 10), sympy.Interval.open(-sympy.oo, -sympy.log(9))),
        ("softplus", 1, sympy.S.Reals),
    ],
)
def test_saturation_regions_of_every_kind(name, eps, region):
    assert saturation(name, eps).region == region


def _check_boundaries(act, sat):
    with mpmath.workdps(60):
        eps = mpmath.mpf(sympy.N(sat.eps, 60))
        for b in sat.boundary:
            x = mpmath.mpf(sympy.N(b, 60))
            # Certified boundaries are good to 36 digits; step 1e-28 to either side.
            delta = mpmath.mpf(10) ** -28 * max(1, abs(x))
            for probe in (x - delta, x + delta):
                inside = sat.region.contains(sympy.Float(probe, 60)) == sympy.true
                assert (abs(act.mpmath_prime(probe)) < eps) == inside


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("eps", [Decimal("0.1"), Decimal("0.01"), Decimal("0.0001")])
def test_every_boundary_separates_inside_from_outside(name, eps):
    act = activation(name)
    _check_boundaries(act, saturation(act, eps))


# Each drawn parameter value is a fresh derivation (~0.5 s): a modest example count.
@settings(max_examples=12, deadline=None)
@given(act=activations(), eps=tolerances(smallest=1e-6, largest=0.9))
def test_saturation_laws_on_drawn_activations(act, eps):
    sat = saturation(act, eps)
    _check_boundaries(act, sat)
    # Points are in the region exactly when |φ'| < ε, sampled off the boundary.
    xs = np.linspace(-40, 40, 161) + 0.0123
    inside = np.abs(act.numpy_prime(xs)) < eps
    member = np.array([sat.region.contains(sympy.Float(x)) == sympy.true for x in xs])
    close = np.array([min((abs(x - float(b)) for b in sat.boundary), default=1.0) < 1e-6
                      for x in xs])
    assert np.array_equal(inside[~close], member[~close])


# ---- φ'(z₀) ----


@settings(max_examples=30, deadline=None)
@given(act=activations(), x=preactivations(bound=20.0))
def test_slope_matches_finite_differences(act, x):
    if any(abs(x - float(b)) < 1e-6 for b in act.breakpoints):
        return
    value = slope(act, x, dps=40).value
    # 80 digits less the 22 lost to cancellation in the difference: a 58-digit reference.
    with mpmath.workdps(80):
        h = mpmath.mpf(10) ** -22
        xm = mpmath.mpf(sympy.Rational(repr(x)).evalf(60))
        fd = (act.mpmath(xm + h) - act.mpmath(xm - h)) / (2 * h)
        assert abs(value - fd) <= mpmath.mpf(10) ** -38 * max(1, abs(fd))


def test_slope_at_a_kink_gives_both_sides():
    s = slope("leaky_relu", 0)
    assert float(s.value) == 0.01 and s.one_sided == (sympy.Rational(1, 100), 1)
    assert slope("tanh", 0.5).one_sided is None


def test_slope_precision():
    value = slope("sigmoid", 1, dps=50).value
    with mpmath.workdps(60):
        s = 1 / (1 + mpmath.exp(-1))
        assert abs(value - s * (1 - s)) < mpmath.mpf(10) ** -49


# ---- E[φ'(√q Z)^p] ----


@pytest.mark.parametrize(
    ("name", "q", "power", "expected"),
    [
        ("relu", 1, 1, sympy.Rational(1, 2)),
        ("relu", 3, 2, sympy.Rational(1, 2)),
        ("identity", 2, 2, 1),
        # erf' = (2/√π)e^{−z²}: E[e^{−a q Z²}] = 1/√(1 + 2aq)
        ("erf", 1, 1, 2 / sympy.sqrt(sympy.pi) / sympy.sqrt(3)),
        ("erf", 2, 2, 4 / sympy.pi / sympy.sqrt(9)),
        # hard_tanh' = 1 on (−1, 1): P(|√q Z| < 1) = erf(1/√(2q))
        ("hard_tanh", 4, 1, sympy.erf(1 / sympy.sqrt(8))),
    ],
)
def test_expected_slope_closed_forms(name, q, power, expected):
    e = expected_slope(name, q=q, power=power)
    assert e.exact and sympy.simplify(e.value - expected) == 0


@pytest.mark.parametrize("name", ALL)
def test_expected_slope_vs_independent_quadrature_and_sampling(name):
    act = activation(name)
    for power in (1, 2):
        e = expected_slope(act, q=2, power=power)
        # Independent reference: scipy-free Gauss-Hermite at 200 nodes is too coarse at
        # kinks, so use mpmath.quad in the original variable with the density written out.
        with mpmath.workdps(30):
            f = sympy.lambdify(z, act.derivative, modules="mpmath")

            def integrand(x, f=f, power=power):
                return f(x) ** power * mpmath.exp(-x * x / 4) / mpmath.sqrt(4 * mpmath.pi)

            cuts = sorted({0.0, *(float(b) for b in act.breakpoints)})
            ref = mpmath.quad(integrand, [-mpmath.inf, *cuts, mpmath.inf])
        assert abs(float(e.value) - float(ref)) <= 1e-12 * max(1.0, abs(float(ref)))
        # Simulation: 2·10⁵ samples; tolerance 5 standard errors of the sample mean.
        rng = np.random.default_rng(20261122)
        samples = act.numpy_prime(math.sqrt(2) * rng.standard_normal(200_000)) ** power
        se = samples.std(ddof=1) / math.sqrt(samples.size)
        assert abs(samples.mean() - float(e.value)) <= 5 * se + 1e-15


@pytest.mark.parametrize(("name", "params"), [("gelu", {}), ("gelu_tanh", {}), ("silu", {}),
                                             ("swish", {"beta": 2}), ("softplus", {"beta": 3})])
def test_expected_slope_is_one_half_by_parity(name, params):
    # φ' − 1/2 is odd for all of them (σ(z) + σ(−z) = 1, erf odd, tanh odd), so the mean
    # of φ'(Z) is 1/2 exactly: a rule, proven over the canonical form, not a table entry.
    e = expected_slope(activation(name, **params))
    assert e.value == sympy.Rational(1, 2) and e.exact
    assert "parity" in e.how("value").method


def test_gelu_second_moment_of_the_slope_is_a_closed_form():
    # GELU' = Φ(z) + zφ(z): E[Φ²] = 1/3 (Φ(Z), Φ(Z') of one Z), E[2ZφΦ] and E[Z²φ²] by
    # Gaussian integrals give 1/3 + 2/(3√3·π) at q = 1; checked here at 50 digits.
    e = expected_slope("gelu", power=2)
    assert e.exact
    assert sympy.simplify(e.value - (sympy.Rational(1, 3) + 2 / (3 * sympy.sqrt(3) * sympy.pi))) \
        == 0
    with mpmath.workdps(50):
        ref = mpmath.quad(lambda x: (mpmath.ncdf(x) + x * mpmath.npdf(x)) ** 2 * mpmath.npdf(x),
                          [-mpmath.inf, 0, mpmath.inf])
        assert abs(mpmath.mpf(sympy.N(e.value, 50)) - ref) < mpmath.mpf(10) ** -45


def test_softplus_second_moment_is_an_exact_reduction_plus_a_certified_rest():
    # softplus' = σ, σ² = σ − σ': E[σ(Z)²] = 1/2 − E[σ'(Z)], the rest certified.
    e = expected_slope("softplus", power=2)
    assert e.how("value").kind.value == "certified" and e.reduced is not None
    assert e.reduced.has(sympy.Function("E")) and sympy.Rational(1, 2) in e.reduced.args
    assert any("Logistic algebra" in step.text for step in e.steps)
    with mpmath.workdps(50):
        ref = mpmath.quad(lambda x: mpmath.npdf(x) / (1 + mpmath.exp(-x)) ** 2,
                          [-mpmath.inf, 0, mpmath.inf])
        lo, hi = e.how("value").lower, e.how("value").upper
        assert mpmath.mpf(lo.p) / lo.q <= ref <= mpmath.mpf(hi.p) / hi.q


def test_user_activations_of_the_same_structure_get_the_same_answers():
    # GELU written with erfc, softplus written as log(e^{βz} + 1): the rules, not the
    # names, decide — so the answers are the catalogue's.
    register_activation("my_gelu", z * sympy.erfc(-z / sympy.sqrt(2)) / 2, replace=True)
    register_activation("my_softplus", sympy.log(sympy.exp(3 * z) + 1) / 3, replace=True)
    try:
        assert expected_slope("my_gelu").value == sympy.Rational(1, 2)
        mine, theirs = expected_slope("my_gelu", power=2), expected_slope("gelu", power=2)
        assert mine.exact and sympy.simplify(mine.value - theirs.value) == 0
        mine = expected_slope("my_softplus", power=2)
        theirs = expected_slope(activation("softplus", beta=3), power=2)
        assert mine.how("value").kind.value == "certified" and mine.value == theirs.value
        assert expected_slope("my_softplus").value == sympy.Rational(1, 2)
    finally:
        unregister_activation("my_gelu")
        unregister_activation("my_softplus")


# ---- invalid calls ----

INVALID = [
    (lambda: max_slope("nope"), "unknown activation"),
    (lambda: max_slope(42), "expected an Activation or an activation name"),
    (lambda: saturation("tanh", 0), "eps must be > 0"),
    (lambda: saturation("tanh", -0.1), "eps must be > 0"),
    (lambda: saturation("tanh", float("nan")), "eps must be finite"),
    (lambda: saturation("tanh", float("inf")), "eps must be finite"),
    (lambda: saturation("tanh", "0.1"), "eps must be a real number"),
    (lambda: saturation("tanh", None), "eps must be a real number"),
    (lambda: slope("tanh", float("nan")), "z0 must be finite"),
    (lambda: slope("tanh", 0, dps=0), "dps must be an integer in .5, 10000."),
    (lambda: slope("tanh", 0, dps=3.5), "dps must be an integer"),
    (lambda: expected_slope("tanh", q=0), "q must be > 0"),
    (lambda: expected_slope("tanh", q=-1), "q must be > 0"),
    (lambda: expected_slope("tanh", power=0), "power must be an integer in .1, 200."),
    (lambda: expected_slope("tanh", power=1.5), "power must be an integer"),
]


@pytest.mark.parametrize(("call", "message"), INVALID)
def test_invalid_calls(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_records_render():
    m = max_slope("sigmoid")
    assert "1/4" in m._repr_markdown_() and "gamma" in m._repr_markdown_()
    assert m._repr_latex_().startswith("$")
    assert float(m) == 0.25
