"""The moments m_k = χ₁^{Lk}·P_k with their provenance: exact, certified or estimated.

Takes the slope moments μ_k (with how each was obtained) and σ_w, picks the field
(Fractions when every μ̃_k = μ_k/μ_1^k is an exact rational, ``arb`` balls otherwise, see
:mod:`symgrad.spectrum._numbers`) and runs :mod:`symgrad.spectrum.moments` in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import flint
import sympy

from symgrad._exact.ball import working_precision
from symgrad.records import Estimated, Exact, How
from symgrad.spectrum._law import exact_form
from symgrad.spectrum._mu import SlopeMoments
from symgrad.spectrum._numbers import PREC, from_ball, rational, to_ball
from symgrad.spectrum.moments import depth_polynomials, normalized_moments

__all__ = ["Composed", "compose", "power_times"]

#: Above this many bits an exact power χ₁^{Lk} is kept unevaluated (χ₁ = 18/25 at
#: depth 10⁶ would otherwise be a rational of 10⁷ digits).
_MAX_BITS = 4096


@dataclass(frozen=True)
class Composed:
    """P_k = m_k/m_1^k, m_k, χ₁ and the variance m_2/m_1² − 1, each with its How."""

    chi1: sympy.Expr
    chi1_how: How
    ratios: tuple[sympy.Expr, ...]
    ratio_hows: tuple[How, ...]
    moments: tuple[sympy.Expr, ...]
    moment_hows: tuple[How, ...]
    variance: sympy.Expr
    variance_how: How
    #: μ̃_k as plain floats, for the float64 edge and density.
    mu_tilde: tuple[float, ...]


def power_times(base: sympy.Expr, exponent: Any, factor: sympy.Expr) -> tuple[sympy.Expr, How]:
    """base^exponent·factor exactly; when that exact number would exceed 4096 bits (χ₁ = 18/25
    at depth 10⁶ is a rational of 10⁷ digits), a certified 30-digit enclosure instead."""
    exact = Exact("free probability: S-transforms composed exactly (Lagrange inversion)")
    if base == 1 or not isinstance(exponent, int):
        return (factor if base == 1 else base**exponent * factor), exact
    size = abs(float(sympy.log(abs(base), 2))) * exponent if base != 0 else 0.0
    if size <= _MAX_BITS:
        return base**exponent * factor, exact
    with working_precision(PREC):
        ball = to_ball(base, Exact()) ** exponent * to_ball(factor, Exact())
        return from_ball(ball, certified=True, method="exact χ₁^{Lk}·P_k (too large to store), "
                         "enclosed by ball arithmetic")


def compose(mu: SlopeMoments, sigma_w: sympy.Expr, depth: int | sympy.Symbol, count: int, *,
            gaussian: bool) -> Composed:
    """Run the free-probability algebra for ``count`` ≥ 2 moments (module docstring)."""
    fractions = [rational(v) for v in mu.values]
    if mu.exact and all(f is not None for f in fractions):
        return _exact(mu, [f for f in fractions if f is not None], sigma_w, depth, count,
                      gaussian)
    return _balls(mu, sigma_w, depth, count, gaussian)


def _exact(mu: SlopeMoments, mus: list[Fraction], sigma_w: sympy.Expr,
           depth: int | sympy.Symbol, count: int, gaussian: bool) -> Composed:
    mu1 = mus[0]
    tilde = [m / mu1**k for k, m in enumerate(mus, start=1)]
    chi1 = exact_form(sigma_w**2 * sympy.Rational(mu1.numerator, mu1.denominator))
    how = Exact("free probability: S-transforms composed exactly (Lagrange inversion)")
    if isinstance(depth, sympy.Symbol):
        ratios = [sympy.sympify(p) for p in
                  depth_polynomials(tilde, depth, gaussian=gaussian, count=count)]
    else:
        ratios = [sympy.Rational(p.numerator, p.denominator) if isinstance(p, Fraction)
                  else sympy.Integer(p)
                  for p in normalized_moments(tilde, depth, gaussian=gaussian, count=count)]
    pairs = [power_times(chi1, depth * k, r) for k, r in enumerate(ratios, start=1)]
    variance = sympy.expand(ratios[1] - 1)
    exact_chi = Exact("σ_w²·μ_1")
    return Composed(chi1, exact_chi, tuple(ratios), tuple(how for _ in ratios),
                    tuple(p[0] for p in pairs), tuple(p[1] for p in pairs), variance, how,
                    tuple(float(t) for t in tilde))


def _balls(mu: SlopeMoments, sigma_w: sympy.Expr, depth: int | sympy.Symbol, count: int,
           gaussian: bool) -> Composed:
    certified = mu.certified
    method = ("ball arithmetic through the S-transform algebra, from "
              + ("exact/certified" if certified else "estimated") + " slope moments")
    with working_precision(PREC):
        balls = [to_ball(v, h) for v, h in zip(mu.values, mu.hows, strict=True)]
        mu1 = balls[0]
        tilde = [b / mu1**k for k, b in enumerate(balls, start=1)]
        tilde[0] = flint.arb(1)  # μ̃_1 = 1 exactly, by definition
        chi1_ball = to_ball(sigma_w**2, Exact()) * mu1
        chi1, chi1_how = from_ball(chi1_ball, certified=certified, method="σ_w²·μ_1")
        if isinstance(mu.hows[0], Exact):  # μ_1 in closed form: so is χ₁ (1 on the line)
            closed = sympy.simplify(sigma_w**2 * mu.values[0])
            if closed.is_number and sympy.count_ops(closed) < 60:
                chi1, chi1_how = closed, Exact("σ_w²·μ_1 in closed form")
                chi1_ball = to_ball(closed, Exact())
        mu_tilde = tuple(float(t.mid()) for t in tilde)
        if isinstance(depth, sympy.Symbol):
            return _symbolic_balls(tilde, chi1, chi1_ball, depth, count, gaussian,
                                   mu_tilde, chi1_how)
        pk = normalized_moments(tilde, depth, gaussian=gaussian, count=count)
        ratios, ratio_hows, moments, moment_hows = [], [], [], []
        for k, p in enumerate(pk, start=1):
            ball = p if not isinstance(p, int) else flint.arb(p)
            value, how = from_ball(ball, certified=certified, method=method)
            if k == 1:  # P_1 = m_1/m_1 = 1 by definition
                value, how = sympy.Integer(1), Exact("m_1/m_1")
            ratios.append(value)
            ratio_hows.append(how)
            if k == 1 and isinstance(chi1_how, Exact):  # m_1 = χ₁^L, P_1 = 1
                value, how = power_times(chi1, depth, sympy.Integer(1))
            else:
                value, how = from_ball(chi1_ball ** (depth * k) * ball, certified=certified,
                                       method=method)
            moments.append(value)
            moment_hows.append(how)
        var_ball = (pk[1] if not isinstance(pk[1], int) else flint.arb(pk[1])) - 1
        variance, variance_how = from_ball(var_ball, certified=certified, method=method)
    return Composed(chi1, chi1_how, tuple(ratios), tuple(ratio_hows), tuple(moments),
                    tuple(moment_hows), variance, variance_how, mu_tilde)


def _symbolic_balls(tilde: list[Any], chi1: sympy.Expr, chi1_ball: Any, depth: sympy.Symbol,
                    count: int, gaussian: bool, mu_tilde: tuple[float, ...], chi1_how: How
                    ) -> Composed:
    polys = depth_polynomials(tilde, depth, gaussian=gaussian, count=count)
    ratios: list[sympy.Expr] = []
    hows: list[How] = []
    for coeffs in polys:
        if not isinstance(coeffs, list):  # an exact polynomial (k = 1)
            ratios.append(sympy.sympify(coeffs))
            hows.append(Exact("m_1/m_1 = 1"))
            continue
        terms = sympy.Integer(0)
        worst = 0.0
        for j, c in enumerate(coeffs):
            ball = c if not isinstance(c, int | Fraction) else flint.arb(
                flint.fmpq(Fraction(c).numerator, Fraction(c).denominator))
            terms += sympy.Float(ball.mid().str(20, radius=False), 17) * depth**j
            worst = max(worst, float(ball.rad()))
        ratios.append(terms)
        hows.append(Estimated(sympy.Float(max(worst, 1e-30), 3),
                              "largest error of the coefficients of the polynomial in L"))
    moments = [chi1 ** (depth * k) * r for k, r in enumerate(ratios, start=1)]
    rad = float(chi1_ball.rad())
    moment_hows = [Estimated(sympy.Float(max(float(h.error) if isinstance(h, Estimated)
                                             else 0.0, rad, 1e-30), 3),
                             "coefficients' error; χ₁ known to " + f"{rad:.1e}")
                   for h in hows]
    variance = sympy.expand(ratios[1] - 1)
    return Composed(chi1, chi1_how, tuple(ratios), tuple(hows), tuple(moments),
                    tuple(moment_hows), variance, hows[1], mu_tilde)
