"""The point of the order-to-chaos line with a given fixed point q*, exactly where possible.

On the critical line χ₁ = σ_w²·μ_1(q*) = 1 each q* fixes the rest (the variance map's
fixed-point equation q* = σ_w²·V(q*) + σ_b², V(q) = E[φ(√q Z)²]):

    σ_w² = 1/μ_1(q*),   σ_b² = q* − V(q*)/μ_1(q*)   (a point exists when σ_b² ≥ 0).

μ_1 and V come from the exactness engine (:mod:`symgrad.spectrum._mu`): when both are
closed forms (erf, hard_tanh, gelu's μ_1 and V…) σ_w and σ_b are exact, and a net built
with them sits exactly at q* with χ₁ = 1 — :func:`~symgrad.spectrum.jacobian_spectrum`
accepts that q* (``q_star=``) and its slope moments are then closed forms.  Otherwise the
ideal σ_w, σ_b are certified enclosures and the numbers returned are 30-digit rationals
inside them (χ₁ = 1 and q* = q_star to ~29 digits).

>>> p = critical_point("erf", q_star=sympy.Rational(1, 4))
>>> p.sigma_w**2, p.how("sigma_b").kind.value
(sqrt(2)*pi/4, 'exact')
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy
from flint import arb, fmpq

from symgrad._core.validate import as_exact_real
from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.records import Certified, Exact, How, Provenances, Record, Step
from symgrad.spectrum._fixed import variance_pieces
from symgrad.spectrum._law import scale_free
from symgrad.spectrum._mu import gaussian_mean, slope_moments

__all__ = ["CriticalLinePoint", "critical_point", "variance_at"]

_BITS = 256


@dataclass(frozen=True)
class CriticalLinePoint(Record):
    """σ_w and σ_b that put the fixed point at ``q_star`` on the critical line χ₁ = 1."""

    activation: str
    q_star: sympy.Expr
    sigma_w: sympy.Expr
    sigma_b: sympy.Expr
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return f"Critical point of {self.activation} with q* = {self.q_star}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("q*", self.q_star), ("σ_w", self.sigma_w), ("σ_b", self.sigma_b)]


def variance_at(act: Activation, q: sympy.Expr) -> tuple[sympy.Expr, How, CertifiedNumber | None]:
    """V(q) = E[φ(√q Z)²] at an exact q > 0 from the exactness engine."""
    return gaussian_mean(tuple(variance_pieces(act)), q)


def critical_point(act: Activation | str, *, q_star: Any) -> CriticalLinePoint:
    """The critical point with fixed point ``q_star`` > 0 (an exact number; module
    docstring).  Refuses a q* whose σ_b² would be negative, and positively homogeneous φ
    (their critical line is σ_w² = 1/μ_1 at every q*: pass σ_b yourself)."""
    a = as_activation(act)
    q = as_exact_real(q_star, "q_star", domain=sympy.Interval.open(0, 10**6))
    if scale_free(a):
        raise InvalidArgument(f"the slope law of {a.label} does not depend on q*: every σ_b "
                              "is critical at σ_w² = 1/μ_1")
    mu = slope_moments(a, q, Exact(), 1)
    mu1, mu_how = mu.values[0], mu.hows[0]
    v, v_how, v_box = variance_at(a, q)
    qs = sympy.Symbol("q^*")
    if isinstance(mu_how, Exact) and isinstance(v_how, Exact):
        sw2 = 1 / mu1
        sb2 = sympy.simplify(q - v / mu1)
        if sb2.is_negative or float(sb2) < 0:
            raise InvalidArgument(f"no critical point of {a.label} with q* = {q}: σ_b² = "
                                  f"{float(sb2):.6g} < 0")
        sigma_w, sigma_b = sympy.sqrt(sw2), sympy.sqrt(sb2)
        how: dict[str, How] = {"q_star": Exact("given"), "sigma_w": Exact("1/√μ_1(q*)"),
                               "sigma_b": Exact("√(q* − V(q*)/μ_1(q*))")}
    else:
        sigma_w, sigma_b, how = _certified(a, q, mu_how, v_box)
    steps = (Step("On the critical line χ₁ = σ_w²μ_1(q*) = 1, and q* is a fixed point",
                  r"\sigma_w^2 = \frac{1}{\mu_1(q^*)},\quad \sigma_b^2 = q^* - "
                  r"\frac{E[\varphi(\sqrt{q^*}Z)^2]}{\mu_1(q^*)}"),
             Step("μ_1(q*) = E[φ'(√q* Z)²]", sympy.Eq(sympy.Symbol(r"\mu_1"), mu1)),
             Step("E[φ(√q* Z)²]", sympy.Eq(sympy.Symbol(r"V(q^*)"), v)),
             Step("The point", sympy.Tuple(sympy.Eq(qs, q), sympy.Eq(sympy.Symbol(
                 r"\sigma_w"), sigma_w), sympy.Eq(sympy.Symbol(r"\sigma_b"), sigma_b))))
    return CriticalLinePoint(a.label, q, sigma_w, sigma_b, Provenances(how), steps)


def _certified(a: Activation, q: sympy.Expr, mu_how: How, v_box: CertifiedNumber | None
               ) -> tuple[sympy.Expr, sympy.Expr, dict[str, How]]:
    if not isinstance(mu_how, Certified) or v_box is None:
        raise InvalidArgument(f"μ_1 or E[φ²] of {a.label} at q* = {q} could not be certified")
    with working_precision(_BITS):
        mu1 = arb(fmpq(_frac(mu_how.lower).numerator, _frac(mu_how.lower).denominator)).union(
            arb(fmpq(_frac(mu_how.upper).numerator, _frac(mu_how.upper).denominator)))
        sw2 = 1 / mu1
        sb2 = constant_ball(q) - v_box.ball() * sw2
        if not sb2 > 0:
            raise InvalidArgument(f"no critical point of {a.label} with q* = {q}: σ_b² ≤ 0 "
                                  "(or too close to 0 to certify)")
        boxes = [CertifiedNumber.from_arb(x.sqrt(), 30) for x in (sw2, sb2)]
    values = [_short(b) for b in boxes]
    method = ("enclosure of the ideal value (μ_1 and E[φ²] certified); the number given is "
              "its 30-digit rounding")
    how: dict[str, How] = {"q_star": Exact("given"),
                           "sigma_w": boxes[0].certified(method),
                           "sigma_b": boxes[1].certified(method)}
    return values[0], values[1], how


def _frac(value: Any) -> Fraction:
    e = sympy.Rational(value)
    return Fraction(int(e.p), int(e.q))


def _short(box: CertifiedNumber) -> sympy.Expr:
    """A rational with at most 30 significant digits inside the enclosure."""
    n, k = box.rounding()
    return sympy.Rational(n, 10**k) if k >= 0 else sympy.Integer(n) * 10 ** (-k)
