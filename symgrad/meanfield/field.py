"""What does a wide random network do?  Mean-field signal propagation, for any activation.

A layer z_l = W_l·φ(z_{l−1}) + b_l with W_ij ~ N(0, σ_w²/n) and b_i ~ N(0, σ_b²), in the
infinite-width limit (Poole et al. 2016; Schoenholz et al. 2017), with u = √q·Z,
Z ~ N(0, 1):

* variance map q_l = σ_w²·E[φ(√q_{l−1} Z)²] + σ_b², fixed point q*;
* correlation map c ↦ (σ_w²·E[φ(u₁)φ(u₂)] + σ_b²)/q* (u₁, u₂ with variance q* and
  correlation c), fixed point c* (1 in the ordered phase);
* χ₁ = σ_w²·E[φ'(√q* Z)²], the per-layer factor of E‖∂L/∂z_l‖² (so E‖δ_l‖² ∝ χ₁^{L−l}),
  and χ_{c*} = σ_w²·E[φ'(u₁)φ'(u₂)] at c*;
* depth scales ξ_c = −1/ln χ_{c*}, ξ_∇ = −1/ln χ₁ (∞ at criticality, negative when the
  gradient explodes);
* phase: ordered (χ₁ < 1, vanishing gradients), critical (χ₁ = 1), chaotic (χ₁ > 1 with a
  correlation fixed point c* < 1), or exploding (χ₁ > 1 for a positively homogeneous φ
  such as ReLU, whose correlations still converge to 1: no chaotic phase);
* ``notes`` say what could mislead: a negative ξ_∇ (growth, e-folding every |ξ_∇|
  layers), the degenerate q* = 0, a critical χ₁ without a fixed point q*.

q* is the fixed point the iteration reaches from q⁰ = 1 (``q0=``): the variance map is
increasing, so that is the nearest fixed point in the direction of G(q⁰) − q⁰.

Modes (:class:`MeanFieldMode`): ``exact`` uses the closed-form kernels (identity, leaky_relu and
relu, erf) and solves their fixed-point equations exactly or as certified roots;
``fast`` is the vectorized NumPy quadrature of :mod:`symgrad._exact.gauss_rule` with an error
estimate (≤ 1e-8 relative up to q* = 100 and far beyond); ``precise`` uses
``mpmath.quad`` for q* and χ₁ (≤ 1e-10 relative) — c* and χ_c* stay with the fast 2-D
rule, whose error estimate the record carries; ``auto`` is exact where a closed form
exists, fast otherwise.

>>> mf = mean_field("relu", sigma_w=1.2, sigma_b=0.1)
>>> mf.q_star, mf.chi1, mf.phase.value
(1/28, 18/25, 'ordered')
>>> mf = mean_field("tanh", sigma_w=1.5, sigma_b=0.05)
>>> round(float(mf.q_star), 10), round(float(mf.chi1), 10), mf.phase.value
(0.7983871143, 1.1367077841, 'chaotic')
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import sympy

from symgrad._core.validate import as_exact_real, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.meanfield import numeric as num
from symgrad.meanfield.exact import exact_mean_field
from symgrad.meanfield.kernels import closed_kernels
from symgrad.meanfield.record import (
    MeanField,
    MeanFieldMode,
    Phase,
    VarianceFixedPoint,
    as_mode,
    depth_scale,
    float_number,
    gradient_note,
    phase_of,
    provenance_of,
    statement,
)
from symgrad.records import Step
from symgrad.types import RealLike

__all__ = ["MeanField", "MeanFieldMode", "Phase", "VarianceFixedPoint", "mean_field"]

_SIGMA_MAX = sympy.Integer(10) ** 100
_ORDERED_C = "c* = 1: C(1) = 1 and C'(1) = χ₁ ≤ 1 with C convex"
_HOMOGENEOUS = "f'(1) = S/V₁ = 1 for positively homogeneous φ (closed kernels)"
_METHOD = {MeanFieldMode.FAST: "panel Gauss–Legendre rule, n/2n estimate",
           MeanFieldMode.PRECISE: "mpmath.quad Newton iteration"}
_POS = sympy.Interval.open(0, sympy.oo)
_NONNEG = sympy.Interval(0, sympy.oo)
_DPS = 40  # digits for certified roots of the closed-form equations
# Built once: constructing an Interval costs a SymPy call per record.
_SIGMA_W = sympy.Interval.Lopen(0, _SIGMA_MAX)
_SIGMA_B = sympy.Interval(0, _SIGMA_MAX)
_Q_L, _Q_STAR = sympy.Symbol("q_{l}"), sympy.Symbol("q^*")
_E_PHI2 = sympy.Symbol(r"E[\varphi(\sqrt{q_{l-1}}Z)^2]")




def mean_field(
    act: Activation | str,
    *,
    sigma_w: RealLike,
    sigma_b: RealLike,
    mode: MeanFieldMode | str = MeanFieldMode.AUTO,
    q0: RealLike = 1,
    correlation: bool = True,
) -> MeanField:
    """q*, χ₁, c*, χ_{c*}, ξ_c, ξ_∇ and the phase of a wide network with activation ``act``.

    ``sigma_w`` > 0 and ``sigma_b`` ≥ 0 are the weight and bias standard deviations
    (W_ij ~ N(0, σ_w²/n)); ``q0`` > 0 is the input variance the iteration starts from.
    ``correlation=False`` skips the 2-D quadrature for c* in the chaotic phase of the
    numeric modes (c*, χ_c*, ξ_c are then NaN): q*, χ₁ and the phase only.
    Raises :class:`InvalidArgument` for bad input or an activation whose Gaussian moments
    diverge; a variance that grows without bound is a result (``fixed_point`` says so).
    References: Poole et al. 2016, Schoenholz et al. 2017.

    >>> mean_field("relu", sigma_w=2, sigma_b=0).statement
    'no finite fixed point: the variance grows without bound (q grows by a factor → 2 per layer)'
    >>> mean_field("erf", sigma_w=sympy.sqrt(sympy.pi) / 2, sigma_b=0).phase.value
    'critical'
    """
    a = as_activation(act)
    # σ_w² and σ_b² enter float64 quadrature: keep them far inside its range.
    sw = as_exact_real(sigma_w, "sigma_w", domain=_SIGMA_W)
    sb = as_exact_real(sigma_b, "sigma_b", domain=_SIGMA_B)
    start = as_exact_real(q0, "q0", domain=_POS)
    m = as_mode(mode)
    if not isinstance(correlation, bool):
        raise InvalidArgument(f"correlation must be True or False, got {describe(correlation)}")
    kernels = closed_kernels(a) if m in (MeanFieldMode.AUTO, MeanFieldMode.EXACT) else None
    if m is MeanFieldMode.EXACT and kernels is None:
        raise NoClosedForm(
            f"no closed-form Gaussian kernels for {a.label}; use mode='fast' or 'precise'"
        )
    if kernels is not None:
        return _exact(a, sw, sb, start)
    numeric = MeanFieldMode.PRECISE if m is MeanFieldMode.PRECISE else MeanFieldMode.FAST
    return _numeric_mean_field(a, sw, sb, start, numeric, correlation)


@lru_cache(maxsize=256)
def _exact(a: Activation, sw: sympy.Expr, sb: sympy.Expr, start: sympy.Expr) -> MeanField:
    """The closed-form mean field, once per (φ, σ_w, σ_b, q0): the record is frozen, and
    the spectrum pages ask for the same relu and linear fields at every depth (each a
    dozen SymPy simplifications)."""
    kernels = closed_kernels(a)
    if kernels is None:  # unreachable: mean_field found them first
        raise NoClosedForm(f"no closed-form Gaussian kernels for {a.label}")
    result: MeanField = exact_mean_field(a, kernels, sw, sb, start)
    return result


def _supported(value: sympy.Expr, rel_error: float) -> sympy.Expr:
    """``value`` with only the significant digits its relative error estimate supports
    (a step shows 0.798387114308, not the 17 digits of float64 whose last ones differ
    from one NumPy release to the next)."""
    if not value.is_Float or rel_error <= 0 or not math.isfinite(rel_error):
        return value
    digits = max(1, min(17, math.floor(-math.log10(rel_error)) - 1))
    # The value is a float64 (a 17-digit Float); Python's formatting rounds it correctly
    # to ``digits`` significant digits (SymPy's Float.round took milliseconds).
    return sympy.Float(f"{float(value):.{digits - 1}e}", digits)


def _numeric_mean_field(a: Activation, sw: sympy.Expr, sb: sympy.Expr, start: sympy.Expr,
                        mode: MeanFieldMode, correlation: bool = True) -> MeanField:
    k = num.kernels(a)
    sw2f, sb2f = float(sw) ** 2, float(sb) ** 2
    sol = num.solve_fast(k, np.array([sw2f]), np.array([sb2f]), q0=float(start))
    fp = sol.status[0]
    q, q_err, chi1f, chi1_err = (float(sol.q[0]), float(sol.q_err[0]), float(sol.chi1[0]),
                                 float(sol.chi1_err[0]))
    errors: dict[str, float] = {}
    proven: dict[str, str] = {}
    # evaluate=False: these equations are statements to show, never decidable (comparing
    # a symbol with a number), and evaluating them costs milliseconds.
    steps = [Step("variance map", sympy.Eq(_Q_L, sw**2 * _E_PHI2 + sb**2, evaluate=False))]
    rate: sympy.Expr | None = None
    exact_rule: str | None = None
    if fp is VarianceFixedPoint.DIVERGES:
        rate = float_number(sw2f * k.slope_inf_sq)
        q_star, chi1 = sympy.oo, float_number(chi1f)
        c_star = chi_c = xi_c = sympy.nan
        steps.append(Step("χ₁ → σ_w²(φ'(−∞)² + φ'(∞)²)/2 as q → ∞", chi1))
    elif q == 0:
        # G(0) = σ_w²φ(0)² + σ_b² = 0 and the iteration descends to it: exact.
        exact_rule = "G(0) = 0 reached by the iteration: q* = 0"
        left, right = a.one_sided_derivatives(0)
        q_star = sympy.Integer(0)
        chi1 = sympy.nsimplify(sw**2 * (left**2 + right**2) / 2)
        c_star, chi_c = sympy.Integer(1), chi1
        xi_c = depth_scale(chi_c)
        steps.append(Step("q* = 0, so χ₁ = σ_w²·(φ'(0⁻)² + φ'(0⁺)²)/2", chi1))
    else:
        if mode is MeanFieldMode.PRECISE and fp is VarianceFixedPoint.FINITE:
            qm, qe, cm, ce, _ = num.precise(a, sw**2, sb**2, q)
            q_star, chi1 = sympy.Float(qm, 25), sympy.Float(cm, 25)
            # never below the 25 digits kept (mpmath.quad's own estimate can be 1e-40)
            q_err = max(float(qe), 1e-25 * abs(float(qm)))
            chi1_err = max(float(ce), 1e-25 * abs(float(cm)))
            chi1f = float(cm)
        else:
            q_star, chi1 = float_number(q), float_number(chi1f)
        errors["q_star"] = float(q_err / q) if fp is VarianceFixedPoint.FINITE else 0.0
        errors["chi1"] = float(chi1_err / chi1f) if chi1f else float(chi1_err)
        steps.append(Step("fixed point and gradient factor",
                          sympy.Eq(_Q_STAR, _supported(q_star, errors["q_star"]),
                                   evaluate=False)))
        if chi1f > 1 + errors["chi1"] * chi1f and not correlation:
            c_star = chi_c = sympy.nan
            steps.append(Step("c* not computed (correlation=False)"))
        elif chi1f > 1 + errors["chi1"] * chi1f:
            c, c_err, chic, chic_err = num.c_star_fast(k, sw2f, sb2f, q)
            c_star, chi_c = float_number(c), float_number(chic)
            errors["c_star"] = float(c_err / c) if c else float(c_err)
            errors["chi_c"] = float(chic_err / chic)
            steps.append(Step("stable correlation fixed point below 1 (2-D quadrature)",
                              _supported(c_star, errors["c_star"])))
        else:
            c_star, chi_c = sympy.Integer(1), chi1
            errors["chi_c"] = errors["chi1"]
            proven["c_star"] = _ORDERED_C
        xi_c = depth_scale(chi_c)
    phase = phase_of(chi1, errors.get("chi1", 0.0))
    xi_grad = sympy.oo if phase is Phase.CRITICAL else depth_scale(chi1)
    if phase is Phase.CRITICAL and c_star == 1:
        xi_c = sympy.oo
    notes: list[str] = []
    homogeneous = closed_kernels(a)
    if homogeneous is not None and homogeneous.linear:
        # The closed kernels decide what quadrature cannot: no decorrelation (f'(1) = 1).
        if phase is Phase.CHAOTIC:
            phase = Phase.EXPLODING
        if sb == 0:
            c_star, chi_c, xi_c = sympy.Integer(1), sympy.Integer(1), sympy.oo
            proven.update(c_star=_HOMOGENEOUS, chi_c=_HOMOGENEOUS)
            errors.pop("c_star", None)
            errors.pop("chi_c", None)
            notes.append("σ_b = 0 and φ positively homogeneous: the correlation map has "
                         "slope 1 at c = 1, so correlations converge to 1 polynomially (ξ_c = "
                         "∞); there is no chaotic phase — χ₁ > 1 means exploding variance and "
                         "gradients, not decorrelation")
    if q_star == 0:
        notes.append("q* = 0 is the degenerate fixed point: the pre-activation variance "
                     "itself vanishes with depth, so χ₁ describes vanishing signals")
    note = gradient_note(chi1, xi_grad)
    notes += [note] if note else []
    return MeanField(a.label, sw, sb, start, mode, fp, q_star, chi1, c_star, chi_c, xi_c,
                     xi_grad, phase,
                     provenance_of(errors, exact=exact_rule, method=_METHOD[mode],
                                   proven=proven),
                     statement(fp, a.label, rate), tuple(steps), tuple(notes))


