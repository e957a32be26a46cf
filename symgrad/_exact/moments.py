"""Gaussian integrals: in closed form by one rule, or by quadrature with an error estimate.

The rule: every term of the integrand that is c·zⁿ·e^{az² + bz} (a < 0) integrates in
closed form over any interval, by I₀ = e^{−b²/4a}·√π/(2√−a)·[erf(√−a·(z + b/2a))] and
the recurrence from d/dz(zᵐ g) = m zᵐ⁻¹ g + (2az + b) zᵐ g.  Integrands that are
polynomials in z and e^{kz} times a Gaussian density (ReLU, ELU, SELU, hard_tanh, erf's
slope, …) are of that shape.

>>> q = sympy.Symbol("q", positive=True)
>>> gaussian_integral(z**2 * gaussian_density(z, q), 0, sympy.oo)
q/2
>>> gaussian_integral(sympy.exp(z) * gaussian_density(z, 1), -sympy.oo, sympy.oo)
exp(1/2)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import z
from symgrad._exact.intervals import freeze_constants
from symgrad._exact.signs import hp
from symgrad.errors import InvalidArgument

__all__ = ["gaussian_closed", "gaussian_density", "gaussian_integral", "gaussian_quadrature"]


def gaussian_density(var: sympy.Symbol, variance: sympy.Expr) -> sympy.Expr:
    """The N(0, variance) density in ``var``."""
    return sympy.exp(-var**2 / (2 * variance)) / sympy.sqrt(2 * sympy.pi * variance)


def gaussian_integral(expr: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> sympy.Expr:
    """∫_lo^hi expr dz in closed form when every term of ``expr`` (in z) is
    c·zⁿ·e^{az² + bz} with a < 0; else the result keeps an unevaluated ``Integral``.

    Raises :class:`InvalidArgument` when a term grows like e^{az²} with a ≥ 0 (the
    integral diverges on an unbounded interval).
    """
    lo, hi = sympy.sympify(lo), sympy.sympify(hi)
    # Constant factors (SELU's erfc expressions) are frozen into symbols first, so that
    # expansion cannot tangle them with z, and restored in the result.
    frozen, constants = freeze_constants(expr, keep_exp=True)
    total = sympy.Integer(0)
    for term in sympy.Add.make_args(sympy.expand(frozen, power_exp=False)):
        coeff, dependent = term.as_independent(z)
        n, exponent = 0, sympy.Integer(0)
        for factor in sympy.Mul.make_args(sympy.powsimp(dependent, combine="exp")):
            base, power = factor.as_base_exp()
            if base == z:
                n += int(power)
            else:
                exponent += factor.args[0] if isinstance(factor, sympy.exp) else power
        if coeff == 0:
            continue
        coeffs = sympy.Poly(sympy.expand(exponent), z).all_coeffs()
        if len(coeffs) > 3:
            return sympy.Integral(term, (z, lo, hi))  # not of the closed-form shape
        a, b, c0 = [sympy.Integer(0)] * (3 - len(coeffs)) + coeffs
        if not a.is_negative:
            raise InvalidArgument("the Gaussian integral diverges: a term grows like exp(a·z²) "
                                  "with a ≥ 0")
        total += coeff * sympy.exp(c0) * _moment(n, a, b, lo, hi)
    return total.subs(constants)


def _moment(n: int, a: sympy.Expr, b: sympy.Expr, lo: sympy.Expr, hi: sympy.Expr) -> sympy.Expr:
    """∫_lo^hi zⁿ e^{az² + bz} dz for a < 0, exactly.

    I₀ = e^{−b²/4a}·√π/(2√−a)·[erf(√−a·(z + b/2a))], and from
    d/dz(z^m g) = m z^{m−1} g + (2az + b) z^m g:
    I_{m+1} = ([z^m g] − m·I_{m−1} − b·I_m)/(2a).
    """
    s = sympy.sqrt(-a)
    g = sympy.exp(a * z**2 + b * z)

    def erf_at(point: sympy.Expr) -> sympy.Expr:
        # erf(±∞) = ±1
        return sympy.sign(point) if point.is_infinite else sympy.erf(s * (point + b / (2 * a)))

    def boundary(m: int, point: sympy.Expr) -> sympy.Expr:
        # z^m·e^{az² + bz} → 0 at ±∞ because a < 0
        return sympy.Integer(0) if point.is_infinite else (z**m * g).subs(z, point)

    first = sympy.exp(-(b**2) / (4 * a)) * sympy.sqrt(sympy.pi) / (2 * s) * (
        erf_at(hi) - erf_at(lo))
    moments = [first]
    for m in range(n):
        previous = moments[m - 1] if m >= 1 else sympy.Integer(0)
        edge = boundary(m, hi) - boundary(m, lo)
        moments.append((edge - m * previous - b * moments[m]) / (2 * a))
    return moments[n]


def gaussian_closed(expr: sympy.Expr) -> bool:
    """Is expr a sum of c·z^n·exp(polynomial of degree ≤ 2)?"""
    if expr == 0:
        return True
    for term in sympy.Add.make_args(sympy.expand(sympy.powsimp(expr))):
        _, dependent = term.as_independent(z)
        for factor in sympy.Mul.make_args(dependent):
            base, exponent = factor.as_base_exp()
            if base == z and exponent.is_Integer and exponent >= 0:
                continue
            if isinstance(factor, sympy.exp) or (base == sympy.E):
                arg = factor.args[0] if isinstance(factor, sympy.exp) else exponent
                if arg.is_polynomial(z) and sympy.degree(arg, z) <= 2:
                    continue
            if factor == 1:
                continue
            return False
    return True




def gaussian_quadrature(
    fn: Callable[[Any], Any], q: Any, breakpoints: Sequence[Any], *, dps: int
) -> tuple[mpmath.mpf, mpmath.mpf]:
    """(E[fn(√q Z)], error estimate) for Z ~ N(0, 1) by mpmath's tanh-sinh quadrature,
    split at 0 and at the kinks ``breakpoints`` (in z), at ``dps`` + 10 digits and again
    at ``dps`` + 25; the estimate is their difference (an estimate, not a bound)."""

    def run(digits: int) -> mpmath.mpf:
        with mpmath.workdps(digits):
            root_q = mpmath.sqrt(hp(sympy.sympify(q)))
            cuts = sorted({mpmath.mpf(0)} | {hp(sympy.sympify(b)) / root_q for b in breakpoints})
            points = [-mpmath.inf, *cuts, mpmath.inf]
            return mpmath.quad(lambda x: fn(root_q * x) * mpmath.npdf(x), points)

    first, second = run(dps + 10), run(dps + 25)
    with mpmath.workdps(dps + 25):
        return second, abs(first - second)
