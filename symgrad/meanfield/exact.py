"""Mean field from the closed-form kernels (identity, leaky_relu/relu, erf).

The variance map of a positively homogeneous φ is linear, G(q) = σ_w²·V₁·q + σ_b² with
V₁ = V(q)/q, so q*, its existence and χ₁ are exact.  So is the correlation map at
σ_b = 0: c ↦ K(q, c)/V(q) does not depend on q or σ_w, and its slope at c = 1 is
S/V₁ = 1 — correlations approach 1 polynomially, never geometrically (ξ_c = ∞), and
χ₁ > 1 means exploding variance and gradients, not decorrelation: the phase is
``exploding``, never ``chaotic``.

erf's maps (the arc-sine kernel) are bounded and concave in q, so q* is the unique
positive root of an exact equation: isolated in ball arithmetic (Arb) on a proven
bracket, a certified number; χ₁ is enclosed at it, and the chaotic correlation fixed
point c* solves C(c; q*) = c with q* as a ball parameter (C is convex in c on [0, 1]).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from flint import arb

from symgrad._core.symbols import z
from symgrad._exact.ball import bits_for_digits, working_precision
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.enclose import constant_number, enclose
from symgrad._exact.isolate import Root, isolate_roots
from symgrad._exact.parametric import parametric_root, parametric_value
from symgrad._exact.signs import sign_of
from symgrad.activations.record import Activation
from symgrad.errors import NoClosedForm
from symgrad.meanfield.kernels import C, ClosedKernels, Q
from symgrad.meanfield.record import (
    NUMBERS,
    MeanField,
    MeanFieldMode,
    Phase,
    VarianceFixedPoint,
    depth_scale,
    gradient_note,
    statement,
)
from symgrad.records import Certified, Exact, How, Provenances, Step

__all__ = ["certified_root", "exact_mean_field", "log_scale"]

_DIGITS = 40
_EXACT = Exact("closed-form kernels")
_ISOLATED = "isolated in ball arithmetic (Arb) on a proven bracket"


def certified_root(f: sympy.Expr, lo: Any, hi: Any, *, digits: int = _DIGITS) -> Root:
    """The one root of f (an expression in z) in (lo, hi), isolated in ball arithmetic.

    Raises :class:`NoClosedForm` unless the isolation proves exactly one root there.
    """
    iso = isolate_roots(f, lo, hi, digits=digits)
    if len(iso.roots) != 1:
        raise NoClosedForm(f"expected one root of {f} on ({lo}, {hi}), the isolation proves "
                           f"{len(iso.roots)}")
    return iso.roots[0]


def log_scale(chi: CertifiedNumber) -> CertifiedNumber | None:
    """An enclosure of −1/ln χ (None when χ's enclosure contains 1 or 0)."""
    with working_precision(bits_for_digits(_DIGITS) + 32):
        ball = chi.ball()
        log = ball.log() if ball > 0 else None
        if log is None or not (log > 0 or log < 0):
            return None
        value: arb = -1 / log
    return CertifiedNumber.from_arb(value, _DIGITS)


def exact_mean_field(act: Activation, k: ClosedKernels, sw: sympy.Expr, sb: sympy.Expr,
                     q0: sympy.Expr) -> MeanField:
    steps = [Step("variance map G(q) = σ_w²·V(q) + σ_b² (closed form)",
                  sympy.Eq(sympy.Symbol("G"), sympy.simplify(sw**2 * k.V + sb**2))),
             *k.steps]
    if k.linear:
        return _linear(act, k, sw, sb, q0, steps)
    return _bounded(act, k, sw, sb, q0, steps)


# ---- positively homogeneous φ: everything exact ----


def _linear(act: Activation, k: ClosedKernels, sw: sympy.Expr, sb: sympy.Expr,
            q0: sympy.Expr, steps: list[Step]) -> MeanField:
    v1 = sympy.simplify(k.V / Q)
    r = sympy.simplify(sw**2 * v1)
    chi1 = sympy.simplify(sw**2 * k.S)
    rate: sympy.Expr | None = None
    notes: list[str] = []
    if sign_of(r - 1) == -1:
        fp, q_star = VarianceFixedPoint.FINITE, sympy.simplify(sb**2 / (1 - r))
    elif sign_of(r - 1) == 0 and sb == 0:
        fp, q_star = VarianceFixedPoint.MARGINAL, q0
    else:
        fp, q_star, rate = VarianceFixedPoint.DIVERGES, sympy.oo, r
    steps.append(Step("q* = σ_b²/(1 − σ_w²V₁) when σ_w²V₁ < 1",
                      sympy.Eq(sympy.Symbol("q^*"), q_star)))
    steps.append(Step("χ₁ = σ_w²·E[φ'²] (independent of q)",
                      sympy.Eq(sympy.Symbol("chi_1"), chi1)))
    hows: dict[str, How] = dict.fromkeys(NUMBERS, _EXACT)
    if sb == 0:
        # c ↦ K(q, c)/V(q): q cancels (homogeneity); its slope at 1 is S/V₁ = 1.
        f = sympy.simplify(k.K / k.V)
        slope = sympy.simplify(sympy.diff(f, C).subs(C, 1))
        chi_c, xi_c = slope, sympy.oo
        frozen = sympy.simplify(f - C) == 0
        c_star = sympy.nan if frozen else sympy.Integer(1)
        hows["chi_c"] = Exact("f'(1) = S/V₁ for positively homogeneous φ")
        steps.append(Step("σ_b = 0: the correlation map c ↦ K(q, c)/V(q) is the same at "
                          "every q and σ_w; its slope at c = 1", sympy.Eq(
                              sympy.Symbol("f'(1)"), slope)))
        notes.append("σ_b = 0 and φ positively homogeneous: the correlation map "
                     "f(c) = K(q, c)/V(q) does not depend on q or σ_w and has f'(1) = "
                     f"{sympy.sstr(slope)}, so " + (
                         "every correlation is a fixed point (f(c) = c): correlations are "
                         "preserved exactly" if frozen else
                         "correlations converge to c* = 1 polynomially, not geometrically: "
                         "ξ_c = ∞") + "; there is no chaotic phase — χ₁ > 1 means exploding "
                     "variance and gradients, not decorrelation")
    elif fp is VarianceFixedPoint.FINITE:
        # C(c) − c is convex with C(1) = 1 and C'(1) = χ₁ < 1 here: c* = 1.
        c_star, chi_c, xi_c = sympy.Integer(1), chi1, depth_scale(chi1)
    else:
        c_star = chi_c = xi_c = sympy.nan
        if sign_of(chi1 - 1) == 0:
            notes.append("σ_w²V₁ = 1 with σ_b > 0: χ₁ = 1 but G(q) = q + σ_b² has no fixed "
                         "point — q_l grows linearly (by σ_b² per layer), so this point of "
                         "the critical line has no q*: critical gradients, a diverging "
                         "forward variance")
    chi_sign = sign_of(chi1 - 1)
    phase = (Phase.ORDERED if chi_sign == -1 else Phase.CRITICAL if chi_sign == 0
             else Phase.EXPLODING)
    xi_grad = sympy.oo if phase is Phase.CRITICAL else depth_scale(chi1)
    note = gradient_note(chi1, xi_grad)
    notes += [note] if note else []
    hows["xi_c"], hows["xi_grad"] = hows["chi_c"], hows["chi1"]
    return MeanField(act.label, sw, sb, q0, MeanFieldMode.EXACT, fp, q_star, chi1, c_star,
                     chi_c, xi_c, xi_grad, phase, Provenances(hows),
                     statement(fp, act.label, rate), tuple(steps), tuple(notes))


# ---- bounded φ with closed kernels (erf): certified roots ----


def _bounded(act: Activation, k: ClosedKernels, sw: sympy.Expr, sb: sympy.Expr,
             q0: sympy.Expr, steps: list[Step]) -> MeanField:
    w2, b2 = sw**2, sb**2
    slope0 = sympy.simplify(sympy.diff(k.V, Q).subs(Q, 0))
    hows: dict[str, How] = dict.fromkeys(NUMBERS, _EXACT)
    notes: list[str] = []
    q_number: CertifiedNumber | None = None
    if b2 == 0 and (sign_of(w2 * slope0 - 1) or 0) <= 0:
        # V is concave with V(0) = 0, so G(q) ≤ σ_w²V'(0)q ≤ q: the iteration falls to 0.
        q_star = sympy.Integer(0)
        chi1 = sympy.simplify(w2 * k.S.subs(Q, 0))
        chi1_number = constant_number(chi1, _DIGITS)
        steps.append(Step("σ_b = 0 and σ_w²V'(0) ≤ 1 with V concave: q* = 0", q_star))
        notes.append("q* = 0 is the degenerate fixed point: the pre-activation variance "
                     "itself vanishes with depth (geometrically below χ₁ = 1, polynomially "
                     "at it), so χ₁ = σ_w²φ'(0)² describes vanishing signals")
    else:
        g = (w2 * k.V + b2 - Q).subs(Q, z)
        # V < 1 (|erf| < 1), so G(q) < σ_w² + σ_b²: every positive fixed point lies below.
        hi = sympy.ceiling(constant_number(w2 + b2, 10).upper) + 1
        root = certified_root(g, 0, hi)
        q_number = root.value
        chi1_number = enclose((w2 * k.S).subs(Q, z), root, digits=_DIGITS)
        q_star, chi1 = q_number.sympy_float(), chi1_number.sympy_float()
        hows["q_star"] = q_number.certified(f"the one positive root of G(q) = q, {_ISOLATED}")
        hows["chi1"] = chi1_number.certified("σ_w²·S(q) enclosed at the certified q*")
        steps.append(Step("q* is the unique positive root of G(q) = q (G concave, G(0) = σ_b² "
                          f"or G'(0) > 1); {_ISOLATED}", sympy.Eq(w2 * k.V + b2, Q)))
    if q_number is None:
        chi_sign = sign_of(chi1 - 1) or 0
    elif chi1_number.lower > 1 or chi1_number.upper < 1:
        chi_sign = 1 if chi1_number.lower > 1 else -1
    else:
        raise NoClosedForm("χ₁'s enclosure contains 1: the phase is not decided")
    if chi_sign > 0 and q_number is not None:
        c_star, chi_c, c_how, chic_how = _chaotic(k, w2, b2, q_number)
        hows["c_star"], hows["chi_c"] = c_how, chic_how
        steps.append(Step("correlation map's stable fixed point c* < 1", c_star))
    else:
        c_star, chi_c = sympy.Integer(1), chi1
        hows["chi_c"] = hows["chi1"]
    phase = (Phase.ORDERED if chi_sign < 0 else Phase.CRITICAL if chi_sign == 0
             else Phase.CHAOTIC)
    xi_c, hows["xi_c"] = _scale(chi_c, hows["chi_c"])
    xi_grad, hows["xi_grad"] = ((sympy.oo, _EXACT) if phase is Phase.CRITICAL
                                else _scale(chi1, hows["chi1"]))
    note = gradient_note(chi1, xi_grad)
    notes += [note] if note else []
    return MeanField(act.label, sw, sb, q0, MeanFieldMode.EXACT, VarianceFixedPoint.FINITE,
                     q_star, chi1, c_star, chi_c, xi_c, xi_grad, phase, Provenances(hows),
                     statement(VarianceFixedPoint.FINITE, act.label, None), tuple(steps),
                     tuple(notes))


def _scale(chi: sympy.Expr, how: How) -> tuple[sympy.Expr, How]:
    """ξ = −1/ln χ with its provenance: exact from an exact χ, else enclosed."""
    if not isinstance(how, Certified):
        return depth_scale(chi), how
    lo, hi = sympy.sympify(how.lower), sympy.sympify(how.upper)
    number = CertifiedNumber(Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q)),
                             _DIGITS)
    scale = log_scale(number)
    if scale is None:
        return depth_scale(chi), how
    return scale.sympy_float(), scale.certified("−1/ln χ of the enclosure of χ")


def _chaotic(k: ClosedKernels, w2: sympy.Expr, b2: sympy.Expr, q: CertifiedNumber
             ) -> tuple[sympy.Expr, sympy.Expr, How, How]:
    """c* < 1 and χ_{c*} = σ_w²·D(q*, c*) in the chaotic phase."""
    if b2 == 0:
        # erf is odd: K(q, 0) = E[erf]² = 0, so c = 0 is the fixed point below 1.
        c_number = CertifiedNumber.exact(0, _DIGITS)
        c_how: How = Exact("K(q, 0) = E[φ]² = 0 for odd φ")
    else:
        cmap = ((w2 * k.K + b2) / Q - C).subs(C, z)
        # C − c is convex on [0, 1] with C(0) > 0, C(1) = 1 and C'(1) = χ₁ > 1: one root.
        hi = next(Fraction(2**j - 1, 2**j) for j in range(1, 64)
                  if _negative(cmap, q, Fraction(2**j - 1, 2**j)))
        c_number = parametric_root(cmap, (Q,), (q,), Fraction(0), hi, digits=_DIGITS)
        c_how = c_number.certified("C(c; q*) = c bisected with q* as a ball parameter "
                                   "(one root: C − c convex on [0, 1])")
    chi_c = parametric_value((w2 * k.D).subs(C, z), (Q,), (q,), c_number, digits=_DIGITS)
    c_star = sympy.Integer(0) if c_number.is_exact and c_number.lower == 0 else \
        c_number.sympy_float()
    return (c_star, chi_c.sympy_float(), c_how,
            chi_c.certified("σ_w²·D(q*, c*) enclosed at the certified q*, c*"))


def _negative(f: sympy.Expr, q: CertifiedNumber, c: Fraction) -> bool:
    value = parametric_value(f, (Q,), (q,), CertifiedNumber.exact(c), digits=10)
    return value.upper < 0
