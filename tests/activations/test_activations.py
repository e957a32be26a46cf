"""The catalogue and registry: derivatives, evaluators, kinks, registration, errors.

References are computed independently of the code under test: φ' by mpmath central
differences at 60 digits, the evaluators against mpmath's own functions at 40 digits.
"""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import symgrad
from symgrad import activation, activation_names, register_activation, unregister_activation, z
from symgrad.errors import InvalidArgument
from symgrad.strategies import activations, preactivations

NAMES = activation_names()


@pytest.fixture(scope="module", autouse=True)
def user_activation():
    """A user registration passes through every registry-driven law below too."""
    register_activation(
        "bent_identity", (sympy.sqrt(z**2 + 1) - 1) / 2 + z, reference="test", replace=True
    )
    yield
    unregister_activation("bent_identity")


def _fd(act, x):
    """Central difference of φ at 60 digits: error O(h²·φ''') ≈ 1e-40."""
    h = mpmath.mpf(10) ** -20
    return (act.mpmath(x + h) - act.mpmath(x - h)) / (2 * h)


def _away_from_kinks(act, x):
    return all(abs(x - float(b)) > 1e-6 for b in act.breakpoints)


@pytest.mark.parametrize("name", [*NAMES, "bent_identity"])
@settings(max_examples=25, deadline=None)
@given(x=preactivations(bound=12.0))
def test_derivative_matches_finite_differences(name, x):
    act = activation(name)
    if not _away_from_kinks(act, x):
        return
    with mpmath.workdps(60):
        xm = mpmath.mpf(x)
        exact, approx = act.mpmath_prime(xm), _fd(act, xm)
        assert abs(exact - approx) <= mpmath.mpf(10) ** -30 * max(1, abs(exact))


@pytest.mark.parametrize("name", [*NAMES, "bent_identity"])
def test_second_derivative_matches_finite_differences(name):
    act = activation(name)
    d2 = sympy.lambdify(z, act.second_derivative, modules="mpmath")
    with mpmath.workdps(60):
        h = mpmath.mpf(10) ** -20
        for x in (-2.3, -0.7, 0.4, 1.9):
            xm = mpmath.mpf(x)
            fd = (act.mpmath_prime(xm + h) - act.mpmath_prime(xm - h)) / (2 * h)
            assert abs(d2(xm) - fd) <= mpmath.mpf(10) ** -30 * max(1, abs(fd))


EXTREMES = np.array([-1e4, -745.0, -50.0, -3.0, -1.0, -1e-8, 0.0, 1e-8, 1.0, 3.0, 50.0,
                     745.0, 1e4])


@pytest.mark.parametrize("name", [*NAMES, "bent_identity"])
def test_numpy_evaluators_are_stable_and_accurate(name):
    act = activation(name)
    # Underflow to 0 is the right answer far in a tail; overflow, NaN or 1/0 are not.
    with warnings.catch_warnings(), np.errstate(over="raise", invalid="raise", divide="raise"):
        warnings.simplefilter("error")
        f, d = act.numpy(EXTREMES), act.numpy_prime(EXTREMES)
    assert np.all(np.isfinite(f)) and np.all(np.isfinite(d))
    ref_f, ref_d = _reference(act, EXTREMES)
    # Catalogue kernels: a handful of float64 operations, relative error ≤ ~10 ulp.
    # A user's formula is evaluated as written (lambdify), so cancellation inside it
    # (here √(z²+1) − 1 near 0) costs up to one ulp of its O(1) terms: atol 1e-15.
    atol = 1e-300 if act._kernel is not None else 1e-15
    np.testing.assert_allclose(f, ref_f, rtol=1e-13, atol=atol)
    np.testing.assert_allclose(d, ref_d, rtol=1e-13, atol=atol)


def _reference(act, xs):
    """mpmath values free of cancellation (1 − tanh²x, 1 + erf x, 1 + tanh u with a cubic
    u, …): the precision starts at 50 + |x| digits (e^{−|x|} needs 0.43·|x| of them) and
    doubles until two nonzero evaluations agree to 25 digits; a value still 0 past 3200
    digits is 0 or far below float64's range."""
    def stable(fn, x):
        dps, previous = 50 + int(min(abs(x), 800)), None
        while dps <= 3200:
            with mpmath.workdps(dps):
                value = fn(mpmath.mpf(x))
            if previous is not None and value != 0 and (
                abs(value - previous) <= mpmath.mpf(10) ** -25 * abs(value)
            ):
                return float(value)
            previous, dps = value, dps * 2
        return float(value)

    # The registry's expressions exactly as written (independent of Activation.mpmath's
    # cancellation-free rewriting); the doubling precision absorbs their cancellation.
    raw = sympy.lambdify(z, act.expr, modules="mpmath")
    raw_prime = sympy.lambdify(z, act.derivative, modules="mpmath")
    return (np.array([stable(raw, x) for x in xs]),
            np.array([stable(raw_prime, x) for x in xs]))


@settings(max_examples=60, deadline=None)
@given(act=activations(), x=preactivations(bound=40.0))
def test_numpy_matches_mpmath_at_drawn_points(act, x):
    ref = _reference(act, [x])[1][0]
    got = float(act.numpy_prime(np.array([x]))[0])
    assert got == pytest.approx(ref, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize(
    ("name", "params", "at", "left", "right"),
    [
        ("relu", {}, 0, 0, 1),
        ("leaky_relu", {"alpha": 0.2}, 0, sympy.Rational(1, 5), 1),
        ("hard_tanh", {}, 1, 1, 0),
        ("hard_tanh", {}, -1, 0, 1),
        ("hard_sigmoid", {}, 3, sympy.Rational(1, 6), 0),
        ("elu", {"alpha": 2}, 0, 2, 1),
    ],
)
def test_one_sided_derivatives_at_kinks(name, params, at, left, right):
    act = activation(name, **params)
    assert act.one_sided_derivatives(at) == (left, right)
    assert any(k.at == at for k in act.kinks)
    # Independently: one-sided difference quotients of φ itself.
    with mpmath.workdps(50):
        h = mpmath.mpf(10) ** -25
        x = mpmath.mpf(at)
        exact_left, exact_right = mpmath.mpf(sympy.N(left, 50)), mpmath.mpf(sympy.N(right, 50))
        # φ is linear or exponential on each side: the quotient's error is O(h) = 1e-25.
        assert abs((act.mpmath(x) - act.mpmath(x - h)) / h - exact_left) < 1e-20
        assert abs((act.mpmath(x + h) - act.mpmath(x)) / h - exact_right) < 1e-20


def test_smooth_joins_are_not_kinks():
    assert activation("elu").kinks == ()
    assert activation("softsign").kinks == ()
    assert activation("elu", alpha=2).kinks[0].at == 0


def test_families_and_members():
    assert activation("relu").expr == activation("leaky_relu", alpha=0).expr
    assert activation("silu").expr == activation("swish", beta=1).expr
    selu = activation("selu")
    assert selu.family == "elu" and selu.label == "selu"
    # SELU's constants against the paper's printed digits (Klambauer et al. 2017).
    assert abs(float(selu.param("alpha")) - 1.6732632423543772848) < 1e-15
    assert abs(float(selu.param("scale")) - 1.0507009873554804934) < 1e-15
    assert activation("leaky_relu", alpha=0.2).param("alpha") == sympy.Rational(1, 5)


def test_long_exact_parameters_are_accepted():
    # SymPy leaves is_finite undecided for SELU's closed-form constants; they are real.
    selu = activation("selu")
    elu = activation("elu", alpha=selu.param("alpha"), scale=selu.param("scale"))
    assert elu.expr == selu.expr


def test_registered_activation_behaves_like_catalogue():
    act = activation("bent_identity")
    assert act.reference == "test"
    assert "bent_identity" in activation_names()
    assert sympy.simplify(act.derivative - (z / (2 * sympy.sqrt(z**2 + 1)) + 1)) == 0


def test_parameterised_registration():
    a = sympy.Symbol("a")
    act = register_activation("scaled_tanh", a * sympy.tanh(z), params={"a": 2},
                              domains={"a": sympy.Interval.open(0, sympy.oo)})
    try:
        assert act.param("a") == 2
        assert activation("scaled_tanh", a=3).derivative.subs(z, 0) == 3
        with pytest.raises(InvalidArgument, match="a must be > 0"):
            activation("scaled_tanh", a=-1)
    finally:
        unregister_activation("scaled_tanh")


def test_abs_and_max_are_turned_into_pieces():
    act = register_activation("my_relu", sympy.Max(0, z))
    try:
        assert [k.at for k in act.kinks] == [0]
    finally:
        unregister_activation("my_relu")


INVALID = [
    (lambda: activation("nope"), "unknown activation 'nope'; known activations: .*elu, erf, gelu"),
    (lambda: activation(3), "activation name must be a string"),
    (lambda: activation("elu", alpha=-1), "elu alpha must be >= 0"),
    (lambda: activation("elu", alpha=float("nan")), "must be finite"),
    (lambda: activation("elu", alpha=float("inf")), "must be finite"),
    (lambda: activation("elu", alpha="1"), "must be a real number"),
    (lambda: activation("elu", alpha=True), "must be a real number"),
    (lambda: activation("softplus", beta=0), "softplus beta must be > 0"),
    (lambda: activation("tanh", alpha=1), "tanh has no parameter alpha; its parameters: none"),
    (lambda: activation("leaky_relu", slope=1), "its parameters: alpha"),
    (lambda: activation("relu", alpha=0.1), "relu takes no parameters"),
    (lambda: register_activation("Bad Name", z), "must match"),
    (lambda: register_activation("sigmoid", z), "catalogue activation"),
    (lambda: register_activation("k", "z**2"), "must be a SymPy expression"),
    (lambda: register_activation("k", z * sympy.Symbol("c")), "free symbols c"),
    (lambda: register_activation("k", sympy.Integer(3)), "must depend on z"),
    (lambda: register_activation("k", sympy.Heaviside(z)), "jumps by -1 at z = 0"),
    (lambda: register_activation("k", z, domains={"q": sympy.S.Reals}), "unknown parameters"),
    # Not real and finite on ℝ: refused with the reason (each reason derived by hand).
    (lambda: register_activation("k", sympy.I * z), "imaginary unit"),
    (lambda: register_activation("k", sympy.sqrt(z)), r"z must be ≥ 0 .* at z = -1"),
    (lambda: register_activation("k", sympy.log(z)), r"z must be > 0 for log"),
    (lambda: register_activation("k", 1 / z), r"z must be ≠ 0 .* at z = 0"),
    (lambda: register_activation("k", sympy.tan(z)), "has poles"),
    (lambda: register_activation("k", sympy.floor(z)), "jumps"),
    (lambda: register_activation("k", sympy.gamma(z)), "has poles"),
    (lambda: register_activation("k", sympy.zoo * z), "not a finite real number"),
    (lambda: register_activation("k", sympy.Function("f")(z)), "undefined function f"),
    (lambda: register_activation("k", sympy.log(z**2 - 1)), r"z\*\*2 - 1 must be > 0"),
    (lambda: register_activation("k", z, params={"a": 1}, domains={"a": 5}),
     "must be a SymPy set"),
    (lambda: register_activation("k", z, params=[("a", 1)]), "params must be a mapping"),
    (lambda: register_activation("k", z, latex=5), "latex must be a string"),
    (lambda: unregister_activation("tanh"), "cannot be removed"),
    (lambda: unregister_activation("never_registered"), "is not registered"),
]


@pytest.mark.parametrize(("call", "message"), INVALID)
def test_invalid_calls_raise_invalid_argument(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()
    assert "k" not in activation_names()


def test_a_family_is_checked_at_every_parameter_value():
    a = sympy.Symbol("a")
    register_activation("k", sympy.log(a + z**2), params={"a": 1})
    try:
        assert activation("k", a=2).expr == sympy.log(z**2 + 2)
        with pytest.raises(InvalidArgument, match="z\\*\\*2 - 1 must be > 0 for log"):
            activation("k", a=-1)
    finally:
        unregister_activation("k")


@pytest.mark.parametrize("expr", [z**3 / 3 + z, z * sympy.exp(z**2), sympy.exp(sympy.exp(z)),
                                  z**2, sympy.sqrt(z**2 + 1), z / (1 + sympy.Abs(z))])
def test_legal_activations_with_any_slope_are_accepted(expr):
    act = register_activation("k", expr)
    try:
        assert act.expr == expr.subs(sympy.Symbol("z"), z)
    finally:
        unregister_activation("k")


def test_failed_registration_leaves_registry_unchanged():
    before = activation_names()
    with pytest.raises(InvalidArgument):
        register_activation("step_like", sympy.Piecewise((0, z < 0), (1, True)))
    assert activation_names() == before


def test_public_api_is_declared_and_sorted():
    exported = symgrad.__all__
    # isort-style, as ruff's RUF022 checks: CONSTANTS, then Classes, then functions.
    def kind(n):
        return (0 if n.isupper() else 1 if n[0].isupper() else 2, n)

    assert list(exported) == sorted(exported, key=kind)
    assert set(exported) <= set(dir(symgrad))
    for name in exported:
        assert getattr(symgrad, name) is not None
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        symgrad.not_a_name  # noqa: B018


@given(st.sampled_from(NAMES))
def test_every_name_builds_with_defaults(name):
    act = activation(name)
    assert act.name == name and act.expr.has(z)


@pytest.mark.parametrize("name", activation_names())
def test_mpmath_evaluators_are_correct_relative_to_themselves(name):
    """act.mpmath / mpmath_prime at 30 digits against the raw expressions evaluated by
    SymPy's adaptive evalf (which raises its precision until the requested digits are
    certain, cancellation or not).  Tolerance: a few roundings at 30 digits times the
    condition number, below 1 + |x|³ here (GELU's e^{−x²/2} multiplies its argument's
    relative error by x², gelu_tanh's e^{−2u} by 2u ≈ 0.07 x³)."""
    act = activation(name)
    points = ["-30", "-1", "-1e-5", "-1e-60", "1e-60", "1e-5", "1", "30"]
    if name != "gelu_tanh":  # whose φ'(−100) ≈ −1e−31053 costs the reference 16 s
        points += ["-100", "100"]
    for text in points:
        x = sympy.Rational(text)  # exact: a Float's digits would cancel in the reference
        with mpmath.workdps(30):
            got = (act.mpmath(mpmath.mpf(text)), act.mpmath_prime(mpmath.mpf(text)))
        for g, expr in zip(got, (act.expr, act.derivative), strict=True):
            ref = sympy.N(expr.subs(z, x), 40, maxn=20000)
            tol = mpmath.mpf(10) ** -27 * (1 + abs(mpmath.mpf(text)) ** 3)
            if ref == 0:
                assert g == 0, (name, text, g)
            else:
                r = ref._to_mpmath(200)
                assert abs(g - r) <= tol * abs(r), (name, text, g, r)


def test_tanh_slope_far_in_saturation_is_not_zero():
    # sech²(100) = 4/(e^100 + e^−100)², about 5.5e−87: not 1 − tanh²(100) = 0.
    from symgrad import slope

    with mpmath.workdps(60):
        expected = 4 / (mpmath.exp(100) + mpmath.exp(-100)) ** 2
    assert float(slope("tanh", 100).value) == pytest.approx(float(expected), rel=1e-15)
