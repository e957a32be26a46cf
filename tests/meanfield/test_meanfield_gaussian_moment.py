"""The kernels' closed Gaussian integrals (completing the square; half-line and whole-line
moments Γ((n+1)/2)/(2a^((n+1)/2))) against mpmath's quadrature at 30 digits, at several
variances, and the forms they must leave to SymPy's ``integrate``; the antiderivatives
Price's theorem needs against SymPy's ``integrate`` and mpmath's quadrature."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from symgrad.meanfield.kernels import _R, _from_zero, _gaussian_moment

x = sympy.Symbol("x", real=True)
q = sympy.Symbol("q", positive=True)
oo = sympy.oo

CASES = [
    (sympy.exp(-2 * x**2) * sympy.exp(-x**2 / (2 * q)), -oo, oo),
    (sympy.Rational(3, 2) * sympy.exp(-x**2 + x / 3 + 1) * sympy.exp(-x**2 / (2 * q)), -oo, oo),
    (sympy.exp(-x**2 / (2 * q)) / sympy.sqrt(2 * sympy.pi * q), 0, oo),
    (x * sympy.exp(-x**2 / (2 * q)), 0, oo),
    (x**2 * sympy.exp(-x**2 / (2 * q)), 0, oo),
    (x**3 * sympy.exp(-x**2 / (2 * q) + 1), -oo, 0),
    (x**4 * sympy.exp(-3 * x**2) * sympy.exp(-x**2 / (2 * q)), -oo, 0),
    (x**2 * sympy.exp(-x**2 / (2 * q)) / sympy.sqrt(2 * sympy.pi * q), -oo, oo),
    (5 * x**3 * sympy.exp(-x**2 / (2 * q) + 2), -oo, oo),
    (x**4 * sympy.exp(-x**2) * sympy.exp(-x**2 / (2 * q)), -oo, oo),
]


@pytest.mark.parametrize(("integrand", "lo", "hi"), CASES)
@pytest.mark.parametrize("qv", [sympy.Rational(1, 3), sympy.Integer(2), sympy.Integer(7)])
def test_closed_form_matches_quadrature(integrand: sympy.Expr, lo: sympy.Expr,
                                        hi: sympy.Expr, qv: sympy.Expr) -> None:
    lo, hi = sympy.sympify(lo), sympy.sympify(hi)
    closed = _gaussian_moment(integrand, x, lo, hi)
    assert closed is not None, integrand
    ends = {-oo: -mpmath.inf, oo: mpmath.inf, sympy.Integer(0): mpmath.mpf(0)}
    points = [ends[lo], mpmath.mpf(0), ends[hi]] if lo == -oo and hi == oo else [ends[lo],
                                                                               ends[hi]]
    with mpmath.workdps(30):
        f = sympy.lambdify(x, integrand.subs(q, qv), "mpmath")
        reference, error = mpmath.quad(f, points, error=True)
        value = mpmath.mpf(str(sympy.N(closed.subs(q, qv), 35)))
        # quad's own error estimate, plus a few units of the 30th digit for the rounding
        # of the closed form's 35-digit value and of the reference
        assert abs(value - reference) <= 10 * error + mpmath.mpf(10) ** -27 * (1 + abs(reference))


@pytest.mark.parametrize(("integrand", "lo", "hi"), [
    (sympy.exp(-x**2 + x), 0, oo),                    # a linear term on a half line
    (x * sympy.exp(-x**2 + x), -oo, oo),              # a power and a linear term
    (sympy.exp(-x**2) / x, 0, oo),                    # a negative power
    (sympy.exp(-sympy.Symbol("s", real=True) * x**2), -oo, oo),  # a of unknown sign
    (sympy.exp(-x**2) * sympy.cos(x), -oo, oo),       # not a single exponential
    (sympy.exp(-x**4), -oo, oo),                      # not a quadratic exponent
    (sympy.exp(-x**2), 1, oo),                        # another range
])
def test_other_forms_are_left_to_integrate(integrand: sympy.Expr, lo: sympy.Expr,
                                          hi: sympy.Expr) -> None:
    assert _gaussian_moment(integrand, x, sympy.sympify(lo), sympy.sympify(hi)) is None


r = _R
PRICE = [
    sympy.Rational(3, 7) + sympy.asin(r / q) / (2 * sympy.pi),        # Sheppard, then relu
    1 / (2 * sympy.pi * sympy.sqrt(q**2 - r**2)),                       # p(0, 0)
    4 / (sympy.pi * sympy.sqrt(4 * q**2 + 4 * q - 4 * r**2 + 1)),        # erf's D
]
POINTS = ((sympy.Rational(1, 3), sympy.Rational(1, 5)), (sympy.Integer(2), sympy.Rational(-3, 2)),
          (sympy.Integer(7), sympy.Rational(13, 4)))


def _against_quadrature(ours: sympy.Expr, f: sympy.Expr) -> None:
    with mpmath.workdps(30):
        for qv, rv in POINTS:
            value = mpmath.mpf(str(sympy.N(ours.subs({q: qv, r: rv}), 35)))
            g = sympy.lambdify(r, f.subs(q, qv), "mpmath")
            assert abs(value - mpmath.quad(g, [0, mpmath.mpf(str(sympy.N(rv, 35)))])) < 1e-25


@pytest.mark.parametrize("f", PRICE)
def test_price_antiderivatives_match_integrate(f: sympy.Expr) -> None:
    ours = _from_zero(f)
    assert not ours.has(sympy.Integral)
    # SymPy's own antiderivative, the route the rules replace: equal as expressions
    assert sympy.simplify(ours - sympy.integrate(f, (r, 0, r))) == 0
    _against_quadrature(ours, f)


def test_price_rules_beyond_the_catalogue() -> None:
    # SymPy's integrate raises on this sum ("Invalid limits"): quadrature only
    f = 3 * sympy.asin(2 * r / (q + 1)) - 5 / sympy.sqrt(q + 3 - r**2 / 2)
    ours = _from_zero(f)
    assert not ours.has(sympy.Integral)
    _against_quadrature(ours, f)


def test_price_leaves_other_terms_to_integrate() -> None:
    f = sympy.exp(r) + sympy.asin(r / q)
    assert _from_zero(f).equals(sympy.exp(r) - 1 + r * sympy.asin(r / q)
                                + sympy.sqrt(q**2 - r**2) - q)
