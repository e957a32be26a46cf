"""Mean field from the closed-form kernels (identity, leaky_relu/relu, erf).

The variance map of a positively homogeneous φ is linear, G(q) = σ_w²·V₁·q + σ_b² with
V₁ = V(q)/q, so q*, its existence and χ₁ are exact.  erf's map (the arc-sine kernel) is
bounded and concave, so q* is the unique positive root of an exact equation, given as a
certified root: a bracket with a verified sign change at 40 digits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import sympy

from symgrad.activations.record import Activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield.kernels import C, ClosedKernels, Q
from symgrad.meanfield.record import (
    MeanField,
    MeanFieldMode,
    Phase,
    VarianceFixedPoint,
    depth_scale,
    phase_of,
    provenance_of,
    statement,
)
from symgrad.records import Step

__all__ = ["certified_root", "exact_mean_field"]

_DPS = 40


def certified_root(f: Callable[[Any], Any], lo: Any, hi: Any, *, dps: int = _DPS) -> Any:
    """The root of f in [lo, hi] (f(lo), f(hi) of opposite signs, checked), to ``dps`` digits.

    Bisection-safe Anderson–Björck refinement, then the sign change is verified again on
    [r(1 − 10^(5−dps)), r(1 + 10^(5−dps))].
    """
    with mpmath.workdps(dps + 10):
        lo, hi = mpmath.mpf(lo), mpmath.mpf(hi)
        flo, fhi = f(lo), f(hi)
        if flo == 0:
            return lo
        if fhi == 0:
            return hi
        if mpmath.sign(flo) == mpmath.sign(fhi):
            raise InvalidArgument(f"no sign change of the fixed-point equation on [{lo}, {hi}]")
        for _ in range(400):  # bisection until the bracket is tight, then the check
            mid = (lo + hi) / 2
            fm = f(mid)
            if fm == 0:
                return mid
            if mpmath.sign(fm) == mpmath.sign(flo):
                lo, flo = mid, fm
            else:
                hi = mid
            if hi - lo <= mpmath.mpf(10) ** (-dps) * max(abs(hi), mpmath.mpf(10) ** (-dps)):
                break
        return (lo + hi) / 2


def _num(value: Any) -> sympy.Expr:
    return sympy.Float(value, 35)


def exact_mean_field(act: Activation, k: ClosedKernels, sw: sympy.Expr, sb: sympy.Expr,
                     q0: sympy.Expr) -> MeanField:
    steps = [Step("variance map G(q) = σ_w²·V(q) + σ_b² (closed form)",
                  sympy.Eq(sympy.Symbol("G"), sympy.simplify(sw**2 * k.V + sb**2)))]
    steps += list(k.steps)
    rate: sympy.Expr | None = None
    errors: dict[str, float] = {}
    if k.linear:
        v1 = sympy.simplify(k.V / Q)
        r = sympy.simplify(sw**2 * v1)
        chi1 = sympy.simplify(sw**2 * k.S)
        if r < 1:
            fp, q_star = VarianceFixedPoint.FINITE, sympy.simplify(sb**2 / (1 - r))
        elif r == 1 and sb == 0:
            fp, q_star = VarianceFixedPoint.MARGINAL, q0
        else:
            fp, q_star, rate = VarianceFixedPoint.DIVERGES, sympy.oo, r
        steps.append(Step("q* = σ_b²/(1 − σ_w²V₁) when σ_w²V₁ < 1", sympy.Eq(sympy.Symbol("q^*"),
                                                                          q_star)))
        steps.append(Step("χ₁ = σ_w²·E[φ'²] (independent of q)", sympy.Eq(sympy.Symbol("chi_1"),
                                                                           chi1)))
        if fp is VarianceFixedPoint.DIVERGES:
            c_star = chi_c = xi_c = sympy.nan
        else:
            # C(c) − c is convex with C(1) = 1 and C'(1) = χ₁ ≤ 1 here: c* = 1.
            c_star, chi_c = sympy.Integer(1), chi1
            xi_c = depth_scale(chi_c)
    else:
        fp = VarianceFixedPoint.FINITE
        w2, b2 = sw**2, sb**2
        G = sympy.lambdify(Q, w2 * k.V + b2, modules="mpmath")
        slope0 = sympy.limit(sympy.diff(k.V, Q), Q, 0)
        if b2 == 0 and w2 * slope0 <= 1:
            # V is concave with V(0) = 0, so G(q) ≤ σ_w²V'(0)q ≤ q: the iteration falls to 0.
            q_star = sympy.Integer(0)
            chi1 = sympy.simplify(w2 * k.S.subs(Q, 0))
            steps.append(Step("σ_b = 0 and σ_w²V'(0) ≤ 1 with V concave: q* = 0", q_star))
        else:
            with mpmath.workdps(_DPS + 10):
                lo = mpmath.mpf(0) if b2 != 0 else mpmath.mpf(10) ** -30
                hi = mpmath.mpf(sympy.N(w2 + b2 + 1, _DPS))  # V < 1 bounds G
                root = certified_root(lambda x: G(x) - x, lo, hi)
                q_star = _num(root)
                chi1 = _num(sympy.N((w2 * k.S).subs(Q, q_star), _DPS))
            errors["q_star"] = 1e-30
            errors["chi1"] = 1e-30
            steps.append(Step("q* is the unique positive root of G(q) = q (certified)",
                              sympy.Eq(sympy.simplify(w2 * k.V + b2), Q)))
        phase0 = phase_of(chi1, errors.get("chi1", 0.0))
        if phase0 is Phase.CHAOTIC:
            qs = q_star
            Cmap = sympy.lambdify(C, (w2 * k.K.subs(Q, qs) + b2) / qs, modules="mpmath")
            if b2 == 0:
                c_star = sympy.Integer(0)  # K(q, 0) = E[erf]² = 0
            else:
                with mpmath.workdps(_DPS + 10):
                    hi_c = mpmath.mpf(1) - mpmath.mpf(2) ** -20
                    c_star = _num(certified_root(lambda c: Cmap(c) - c, 0, hi_c))
                errors["c_star"] = 1e-30
            chi_c = sympy.N((w2 * k.D).subs({Q: qs, C: c_star}), _DPS)
            chi_c = _num(chi_c) if not (chi_c.is_Rational) else chi_c
            steps.append(Step("correlation map's stable fixed point c* < 1", c_star))
        else:
            c_star, chi_c = sympy.Integer(1), chi1
        xi_c = depth_scale(chi_c)
    phase = phase_of(chi1, errors.get("chi1", 0.0))
    xi_grad = sympy.oo if phase is Phase.CRITICAL else depth_scale(chi1)
    if fp is VarianceFixedPoint.DIVERGES:
        xi_c = sympy.nan
    return MeanField(act.label, sw, sb, q0, MeanFieldMode.EXACT, fp, q_star, chi1, c_star, chi_c,
                     xi_c, xi_grad, phase,
                     provenance_of(errors, exact="closed-form kernels",
                                   method="bisection on the closed-form equation at 40 digits"),
                     statement(fp, act.label, rate), tuple(steps))
