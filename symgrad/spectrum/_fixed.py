"""q* certified: a fixed point of the variance map enclosed by a proven sign change.

The variance map is G(q) = σ_w²·V(q) + σ_b², V(q) = E[φ(√q Z)²].  :func:`mean_field`
locates the fixed point q* the iteration from q⁰ = 1 approaches, as an estimate (a float64
root, or a 40-digit bisection for closed-form kernels).  Here it becomes an enclosure:

1. one Newton step from the estimate c, with V(c) from the exactness engine
   (:func:`symgrad._exact.gaussian_rules.gaussian_expectation`: a closed form where a rule
   proves one — erf, hard_tanh, elu, selu, gelu — else Arb integration with proven tail
   bounds) and a float64 slope G'(c), lands within ~(error of c)²;
2. G(q) − q is evaluated, certified, at both ends of a rational bracket [lo, hi] of
   relative width 2·10⁻²⁴ around it (widened to 10⁻¹⁸, 10⁻¹² if needed).  Opposite signs
   prove, by the intermediate value theorem (G is continuous), that G has a fixed point in
   [lo, hi].

It is the fixed point mean_field's iteration approaches (the bracket lies within that
estimate's error of it).  When V cannot be certified (the engine falls back to an
estimate) or no sign change is found, q* stays estimated.

>>> from symgrad.activations import as_activation
>>> from symgrad.meanfield import mean_field
>>> a = as_activation("hard_tanh")
>>> mf = mean_field(a, sigma_w=sympy.Rational(6, 5), sigma_b=sympy.Rational(1, 10))
>>> q, how, _ = certified_fixed_point(a, mf)
>>> how.kind.value, float(how.upper - how.lower) < 1e-20, str(q)[:12]
('certified', True, '0.6010659055')
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from flint import arb, fmpq

from symgrad._exact.ball import working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad.activations import Activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Certified, Estimated, Exact, How, Step
from symgrad.spectrum._law import gauss_expect, scale_free
from symgrad.spectrum._mu import gaussian_mean
from symgrad.spectrum._steps import display

__all__ = ["certified_fixed_point", "estimated_relative", "variance_pieces"]

_WIDTHS = (Fraction(1, 10**24), Fraction(1, 10**18), Fraction(1, 10**12))
_BITS = 192


def variance_pieces(act: Activation) -> list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]]:
    """φ² piece by piece, for V(q) = E[φ(√q Z)²]."""
    return [(p.lo, p.hi, p.expr**2) for p in act.pieces]


def _variance(act: Activation, q: Fraction) -> CertifiedNumber | None:
    """V(q) enclosed, or None when the engine could only estimate it."""
    try:
        _, how, enclosure = gaussian_mean(tuple(variance_pieces(act)),
                                          sympy.Rational(q.numerator, q.denominator))
    except (NoClosedForm, InvalidArgument):
        return None
    return enclosure if isinstance(how, Exact | Certified) else None


def _excess(act: Activation, sw2: arb, sb2: arb, q: Fraction) -> arb | None:
    """G(q) − q as a ball (None when V(q) is not certified)."""
    v = _variance(act, q)
    if v is None:
        return None
    return sw2 * v.ball() + sb2 - arb(fmpq(q.numerator, q.denominator))


def _slope(act: Activation, sw2: float, q: float) -> float:
    """G'(q) = σ_w²·E[φ(h)²(h² − q)]/(2q²), in float64 (only steers Newton)."""
    value, _ = gauss_expect(act, q, lambda h: act.numpy(h) ** 2 * (h * h - q) / (2 * q * q))
    return sw2 * value


def certified_fixed_point(act: Activation, mf: Any) -> tuple[sympy.Expr, How, list[Step]]:
    """(q*, how, steps): the mean-field q* as a certified enclosure where possible
    (module docstring), else unchanged (exact, 0, ∞ or estimated)."""
    q_star, how = mf.q_star, mf.how("q_star")
    if (isinstance(how, Exact | Certified) or scale_free(act) or q_star == 0
            or q_star == sympy.oo or q_star is sympy.nan):
        return q_star, how, []
    centre = Fraction(float(q_star))
    if not centre > 0:
        return q_star, how, []
    with working_precision(_BITS):
        sw2 = constant_ball(mf.sigma_w**2)
        sb2 = constant_ball(mf.sigma_b**2)
        excess = _excess(act, sw2, sb2, centre)
        if excess is None:
            return q_star, how, []
        # Newton: c − (G(c) − c)/(G'(c) − 1), the slope in float64.
        slope = _slope(act, float(mf.sigma_w) ** 2, float(centre)) - 1.0
        if slope != 0.0:
            step = Fraction(excess.mid().str(30, radius=False)) / Fraction(slope)
            if abs(step) < centre / 1000:
                centre -= step
        for width in _WIDTHS:
            lo = _rational(centre * (1 - width), down=True)
            hi = _rational(centre * (1 + width), down=False)
            ends = [_excess(act, sw2, sb2, x) for x in (lo, hi)]
            if any(e is None for e in ends):
                break
            a, b = ends
            if (a > 0 and b < 0) or (a < 0 and b > 0):  # type: ignore[operator]
                return _result(lo, hi, mf)
    return q_star, how, []


def _rational(x: Fraction, *, down: bool) -> Fraction:
    """x rounded outward to a rational with a 2⁹⁶ denominator (keeps the integrals cheap)."""
    scaled = x * 2**96
    n = scaled.numerator // scaled.denominator
    if not down and n * scaled.denominator != scaled.numerator:
        n += 1
    return Fraction(n, 2**96)


#: E[φ(√q Z)²] as a function symbol in the steps.
V = sympy.Function("V")


def _result(lo: Fraction, hi: Fraction, mf: Any) -> tuple[sympy.Expr, How, list[Step]]:
    number = CertifiedNumber(lo, hi, 30)
    value = number.sympy_float()
    how = number.certified("G(q) − q changes sign on [lo, hi] (certified Gaussian integrals "
                           "of φ² at both ends): a fixed point of the variance map lies there")
    q = sympy.Symbol("q")
    sw, sb = mf.sigma_w, mf.sigma_b
    steps = [Step("q* certified: G(q) = σ_w²E[φ(√q Z)²] + σ_b² − q changes sign between "
                  "the rationals lo < hi (Gaussian integrals enclosed in ball arithmetic), "
                  "so a fixed point lies in [lo, hi]",
                  sympy.Eq(sympy.Symbol("q^*"), value)),
             Step("The variance map", sympy.Eq(sympy.Function("G")(q), display(sw**2) * V(q)
                                               + display(sb**2)))]
    return value, how, steps


def estimated_relative(how: How, q: sympy.Expr) -> float:
    """The relative error of an estimated q (0 for exact or certified ones)."""
    if isinstance(how, Estimated):
        err = float(how.error)
        return err if how.relative else err / abs(float(q))
    if isinstance(how, Certified):
        return float((how.upper - how.lower) / q) if q != 0 else 0.0
    return 0.0
