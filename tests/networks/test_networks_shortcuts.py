"""The shortcuts predict takes instead of SymPy's general algorithms (radsimp, integrate,
limit, lambdify) give SymPy's own answers, expression for expression and float for
float."""

import inspect
import random

import pytest
import sympy

from symgrad import activation
from symgrad._core.symbols import z
from symgrad.activations import activation_names, as_activation
from symgrad.networks import L
from symgrad.networks._asymptotics import slope_limits
from symgrad.networks._gaussian import _closed, math_function
from symgrad.networks._shortcuts import (
    cancel,
    derivative,
    growth_exponent,
    limit_inf,
    nonzero,
    polynomial_integral,
    radsimp,
)

pi, sqrt, R = sympy.pi, sympy.sqrt, sympy.Rational
u = sympy.Symbol("u", real=True)


def _total(name):
    # γ₂·√(2π) = ∫φ'², the radsimp input of the residual law (exact rational for these).
    return sympy.nsimplify(slope_limits(as_activation(name))[2] * sqrt(2 * pi))


@pytest.mark.parametrize("expr", [
    R(4, 3) / sqrt(2 * pi), 3 / sqrt(pi), sqrt(2) / (sqrt(pi) * sqrt(3)),
    1 / (pi * sqrt(2 * pi)), (1 + sqrt(2)) / sqrt(2 * pi),
    2 * sqrt(2) / (sqrt(pi) * sqrt(1 + 2 * pi)), R(5, 7) * sqrt(3), 1 / (1 + sqrt(2)),
])
def test_radsimp_is_sympys(expr):
    assert sympy.srepr(radsimp(expr)) == sympy.srepr(sympy.radsimp(expr))


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "softsign", "hard_tanh"])
@pytest.mark.parametrize("s2v, rest", [(1, 1), (R(1, 4), R(1, 2) + R(1, 9)), (2, 3)])
def test_residual_constant_is_sympys_radsimp(name, s2v, rest):
    gamma2 = radsimp(_total(name) / sqrt(2 * pi))
    assert sympy.srepr(gamma2) == sympy.srepr(sympy.radsimp(_total(name) / sqrt(2 * pi)))
    c = 2 * s2v * gamma2 / sqrt(rest)
    assert sympy.srepr(radsimp(c)) == sympy.srepr(sympy.radsimp(c))


@pytest.mark.parametrize("g, lo, hi", [
    ((1 - u**2) ** 2, -1, 1), (u**3 - u / 3 + 2, 0, R(1, 2)), (R(1, 4) - u**2, -R(1, 2), R(1, 2)),
    (sqrt(2) * u**2, -1, 1), (u**2, -sympy.oo, 0),
])
def test_polynomial_integral_is_sympys(g, lo, hi):
    assert polynomial_integral(g, u, sympy.sympify(lo), sympy.sympify(hi)) == \
        sympy.integrate(g, (u, lo, hi))


@pytest.mark.parametrize("expr", [
    1 + 1 / (4 * L), (3 * L**2 + 1) / (2 * L**2 - L), (L**3 + 2) / (5 * L), -L**3 / (L + 1),
    sympy.Integer(7), 1 / L, 1 + R(3, 2) / L**2, (L + 1) ** 2 / (L**2 - 3), 1 + 1 / sqrt(L),
    1 + sqrt(2) / L, L * (1 + R(1, 4) / L - 1),
])
def test_limits_are_sympys(expr):
    assert limit_inf(expr) == sympy.limit(expr, L, sympy.oo)
    if expr != 0:
        kappa = growth_exponent(expr)
        assert kappa == sympy.limit(sympy.log(sympy.Abs(expr)) / sympy.log(L), L, sympy.oo)


@pytest.mark.parametrize("name, params", [("relu", {}), ("leaky_relu", {}),
                                          ("leaky_relu", {"alpha": R(1, 5)}),
                                          ("leaky_relu", {"alpha": -R(3, 2)}), ("erf", {}),
                                          ("identity", {})])
def test_closed_form_evaluators_are_lambdify(name, params):
    # The same line of Python as lambdify writes, hence the same floats.
    act = as_activation(name) if not params else activation(name, **params)
    fns = _closed(act)
    qs, cs = sympy.Symbol("qs", positive=True), sympy.Symbol("cs", real=True)
    exprs = [((qs,), sympy.sympify(fn(qs))) for fn in fns[:3]] + [((qs, cs), fns[3](qs, cs))]
    for args, expr in exprs:
        ours, theirs = math_function(args, expr), sympy.lambdify(args, expr, modules="math")
        assert ours.__doc__.splitlines()[-1] == inspect.getsource(theirs).splitlines()[-1]
        for q in (1e-9, 0.3, 1.0, 7.25, 3e5):
            for c in ((0.0,) if len(args) == 1 else (-1.0, -0.4, 0.0, 0.93, 1.0)):
                at = (q,) if len(args) == 1 else (q, c)
                assert ours(*at) == theirs(*at)


@pytest.mark.parametrize("expr", [sympy.pi / (sympy.pi - 1) - 1, sympy.Integer(0),
                                  sqrt(2) - sqrt(2), sympy.exp(R(1, 4)) - 1, R(1, 10**30),
                                  sympy.gamma(R(1, 3)) - 1, sympy.oo])
def test_nonzero_is_sympys(expr):
    expected = (not expr.is_zero) if expr.is_zero is not None else \
        bool(abs(sympy.N(expr, 30)) > sympy.Float(10) ** -20)
    assert nonzero(expr) == expected


_K, _C = sympy.Symbol("K", positive=True), sympy.Symbol("C", real=True)


def _random_rational(rng, depth):
    # Sums, products, quotients and integer powers of K, C, L, π and small rationals.
    if depth == 0 or rng.random() < 0.2:
        return rng.choice([_K, _C, L, pi, R(rng.randint(-6, 6), rng.randint(1, 5)),
                           sympy.Integer(rng.randint(1, 4))])
    a, b = _random_rational(rng, depth - 1), _random_rational(rng, depth - 1)
    op = rng.randrange(5)
    if op == 3 and b != 0:
        return a / b
    if op == 4:
        return a ** rng.choice([-2, -1, 2, 3]) if a != 0 else b
    return a + b if op < 2 else a * b


@pytest.mark.parametrize("expr", [
    _K + R(1, 2), 1 + 1 / (2 * _K), _K + _K / (4 * L), 1 + 1 / (4 * L), 1 / (2 * (_K - _C)),
    1 / (2 * pi), L * (-1 + (4 * L + 1) / (4 * L)), 1 / (2 * (R(1, 2) - 1 / (2 * pi))),
    (2 * _K - 2) / (4 - 4 * _K), R(3, 4), sympy.Integer(0), (_K**2 - 1) / (_K + 1),
    # outside the shortcut's form: SymPy's own cancel
    sqrt(_K) / _K + 1, sympy.Float(0.5) * _K + 1, sympy.exp(_K) / (1 + sympy.exp(_K)),
    sympy.Symbol("K") / _K + 1, 1 + 1 / sqrt(L),
])
def test_cancel_is_sympys(expr):
    assert sympy.srepr(cancel(expr)) == sympy.srepr(sympy.cancel(expr))


def test_cancel_is_sympys_on_random_rational_functions():
    rng = random.Random(13)
    for _ in range(300):
        expr = _random_rational(rng, 4)
        if expr.has(sympy.zoo, sympy.nan):
            continue
        assert sympy.srepr(cancel(expr)) == sympy.srepr(sympy.cancel(expr)), expr


def test_radsimp_of_monomials_over_root_pi_is_sympys():
    # c·√n·π^(−k/2), the residual laws' γ₂ and constant: the direct route and the rest.
    rng = random.Random(5)
    for _ in range(150):
        c = R(rng.randint(1, 50), rng.randint(1, 30)) * rng.choice([1, 1, -1])
        root = rng.choice([1, 2, 3, 5, 6, 7, 10, 12, 8, R(1, 2), R(2, 3)])
        expr = c * sqrt(root) * pi ** R(-rng.choice([1, 3, 5, 2, -1, 4]), 2)
        assert sympy.srepr(radsimp(expr)) == sympy.srepr(sympy.radsimp(expr)), expr


def test_limits_of_random_rational_functions_of_l_are_sympys():
    rng = random.Random(7)
    checked = 0
    while checked < 25:
        expr = _random_rational(rng, 3).xreplace({_K: L, _C: L + 1, pi: R(1, 3)})
        if not expr.has(L) or expr.has(sympy.zoo, sympy.nan) or sympy.cancel(expr) == 0:
            continue
        checked += 1
        assert limit_inf(expr) == sympy.limit(expr, L, sympy.oo), expr
        assert growth_exponent(expr) == sympy.limit(
            sympy.log(sympy.Abs(expr)) / sympy.log(L), L, sympy.oo), expr


def test_derivative_is_sympys():
    exprs = [p.expr for name in activation_names() for p in as_activation(name).pieces]
    exprs += [as_activation(name).expr for name in activation_names()]  # piecewise too
    exprs += [sympy.Integer(3), _K * z**2, sympy.Function("f")(z), sympy.Function("f")(z**2),
              sympy.exp(-z**2) * sympy.erf(z) / (1 + z**4)]
    for expr in exprs:
        assert sympy.srepr(derivative(expr)) == sympy.srepr(sympy.diff(expr, z)), expr
