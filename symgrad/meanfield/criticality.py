"""Where is the order-to-chaos line?  The σ_w with χ₁ = 1 for a given σ_b.

χ₁ = σ_w²·E[φ'(√q* Z)²] increases with σ_w (Schoenholz et al. 2017), so for each σ_b
there is one critical σ_w.  Closed forms where the kernels have them:

* identity: σ_w = 1; leaky_relu: σ_w = √(2/(1 + α²)) (relu √2), for every σ_b — but with
  σ_b > 0 that point of the line has no fixed point q*: the variance grows linearly
  (critical gradients, a diverging forward pass), and the record says so;
* φ(0) = 0 and σ_b = 0 on the q* = 0 branch: σ_w = 1/|φ'(0)| (tanh 1, erf √π/2), exact
  once the solver confirms q* = 0 there — the degenerate fixed point, where the signal
  variance itself dies out (the record says so);
* erf with σ_b > 0: the one root of the closed-form equations, isolated in ball
  arithmetic (a certified number).

Otherwise a certified number: a bracket [σ_lo, σ_hi] on which χ₁ − 1 changes sign by more
than the quadrature's error estimate, refined to ~1e-13 relative.

>>> critical_sigma_w("relu", sigma_b=0.3).sigma_w
sqrt(2)
>>> critical_sigma_w("tanh", sigma_b=0).sigma_w
1
>>> round(float(critical_sigma_w("tanh", sigma_b=0.3)), 8)
1.39558398
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from symgrad._core.format import number_text
from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad._exact.enclose import constant_number, enclose
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield import numeric as num
from symgrad.meanfield.exact import certified_root
from symgrad.meanfield.kernels import Q, closed_kernels
from symgrad.meanfield.record import MeanFieldMode, VarianceFixedPoint, as_mode
from symgrad.records import (
    Estimated,
    Exact,
    Provenances,
    Record,
    Step,
    provenances,
)
from symgrad.types import FloatArray, RealLike

__all__ = ["CriticalPoint", "critical_line", "critical_points", "critical_sigma_w"]

#: The most σ_b values one critical_line call takes, and their range.
_MAX_LINE = 1_000
_SIGMA_MAX = 1e100

_NONNEG = sympy.Interval(0, sympy.oo)
_LINEAR = provenances(sigma_w=Exact("σ_w²·E[φ'²] = 1 with E[φ'²] independent of q"))
_ZERO_BRANCH = provenances(sigma_w=Exact("χ₁ = σ_w²φ'(0)² on the q* = 0 branch"))
_LO, _HI = 1e-3, 1e4  # search window for σ_w


@dataclass(frozen=True)
class CriticalPoint(Record):
    """σ_w on the order-to-chaos line (χ₁ = 1) for one σ_b; ``float()`` gives σ_w."""

    activation: str
    sigma_b: sympy.Expr
    sigma_w: sympy.Expr
    #: (σ_lo, σ_hi) with χ₁(σ_lo) < 1 < χ₁(σ_hi) beyond the quadrature's error estimate.
    bracket: tuple[float, float] | None
    provenance: Provenances
    steps: tuple[Step, ...] = ()
    #: Where the line's point is special: no fixed point q* (relu with σ_b > 0), or the
    #: degenerate q* = 0 (tanh, erf, SELU with σ_b = 0); empty otherwise.
    note: str = ""


    def __float__(self) -> float:
        return float(self.sigma_w)

    def title(self) -> str:
        return f"Critical σ_w of {self.activation} at σ_b = {self.sigma_b}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("σ_w", self.sigma_w)]
        return rows + ([("note", self.note)] if self.note else [])


def critical_line(act: Activation, sigma_b: FloatArray, *, iterations: int = 80
                  ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(σ_w, σ_lo, σ_hi) with χ₁ = 1 for every σ_b at once (fast mode, Illinois steps);
    NaN where χ₁ − 1 has no sign change for σ_w in [1e-3, 1e4].

    Works on f(s) = χ₁(e^s) − 1 in s = ln σ_w; χ₁ is evaluated for all σ_b together.
    """
    if not isinstance(act, Activation):
        act = as_activation(act)
    try:
        sb = np.asarray(sigma_b, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidArgument(f"sigma_b must be a 1-D array of numbers, got {describe(sigma_b)}"
                              ) from None
    if sb.ndim != 1 or not 1 <= sb.size <= _MAX_LINE or not np.all(np.isfinite(sb)) \
            or np.any(sb < 0) or np.any(sb > _SIGMA_MAX):
        raise InvalidArgument(f"sigma_b must be a 1-D array of 1 … {_MAX_LINE} values in "
                              f"[0, {_SIGMA_MAX:g}], got {describe(sigma_b)}")
    iterations = as_positive_int(iterations, "iterations", maximum=1000)
    k = num.kernels(act)
    sb2 = sb**2
    n = sb2.shape[0]

    def f(s: FloatArray) -> tuple[FloatArray, FloatArray]:
        sol = num.solve_fast(k, np.exp(2 * s), sb2_now)
        return sol.chi1 - 1.0, sol.chi1_err

    sb2_now = sb2
    lo = np.full(n, math.log(_LO))
    hi = np.full(n, math.log(_HI))
    flo, _ = f(lo)
    fhi, _ = f(hi)
    # No sign change in the window: no critical σ_w there (NaN), the others go on.
    bracketed = (flo < 0) & (fhi > 0)
    lo[~bracketed] = hi[~bracketed] = np.nan
    side = np.zeros(n)
    for _ in range(iterations):
        # Each point stops on its own, so a point's result does not depend on the others.
        act_idx = np.flatnonzero(bracketed & (hi - lo > 1e-14))
        if act_idx.size == 0:
            break
        L, H, FL, FH = lo[act_idx], hi[act_idx], flo[act_idx], fhi[act_idx]
        width = H - L
        # Illinois: regula falsi, halving the stale end's value after two same-side steps.
        with np.errstate(divide="ignore", invalid="ignore"):
            s = np.where(FH - FL != 0, L - FL * width / (FH - FL), 0.5 * (L + H))
        s = np.where((s > L) & (s < H) & (width > 1e-3), s, 0.5 * (L + H))
        sb2_now = sb2[act_idx]
        fs, _ = f(s)
        left = fs < 0
        sd = side[act_idx]
        lo[act_idx] = np.where(left, s, L)
        flo[act_idx] = np.where(left, fs, np.where(sd > 0, FL / 2, FL))
        hi[act_idx] = np.where(left, H, s)
        fhi[act_idx] = np.where(left, np.where(sd < 0, FH / 2, FH), fs)
        side[act_idx] = np.where(left, -1.0, 1.0)
        stalled = (s == L) | (s == H)
        lo[act_idx[stalled]] = hi[act_idx[stalled]] = s[stalled]
    sigma = np.exp(0.5 * (lo + hi))
    return sigma, np.exp(lo), np.exp(hi)


def critical_sigma_w(act: Activation | str, *, sigma_b: RealLike,
                     mode: MeanFieldMode | str = MeanFieldMode.AUTO) -> CriticalPoint:
    """The σ_w > 0 at which χ₁ = 1 for bias scale ``sigma_b`` ≥ 0 (the order-to-chaos line).

    Exact where a closed form exists (see the module docstring), a certified number
    otherwise.  Raises :class:`InvalidArgument` when no σ_w in [1e-3, 1e4] reaches
    χ₁ = 1.  Reference: Poole et al. 2016, Schoenholz et al. 2017 (Fig. 1).

    >>> critical_sigma_w("erf", sigma_b=0).sigma_w
    sqrt(pi)/2
    """
    a = as_activation(act)
    sb = as_exact_real(sigma_b, "sigma_b", domain=_NONNEG)
    point = _critical_point(a, sb, as_mode(mode))
    if isinstance(point, str):
        raise InvalidArgument(point)
    return point


@lru_cache(maxsize=256)
def _critical_point(a: Activation, sb: sympy.Expr, mode: MeanFieldMode) -> CriticalPoint | str:
    """One point of the line, once per process: the reports ask for the same (φ, σ_b)
    from several pages, and every step of the solve depends on these exact keys only."""
    return critical_points(a, [sb], mode=mode)[0]


def critical_points(act: Activation, sigma_b: Sequence[sympy.Expr], *,
                    mode: MeanFieldMode | str = MeanFieldMode.AUTO
                    ) -> list[CriticalPoint | str]:
    """The critical point for every σ_b at once — the one critical-line solver, used by
    :func:`critical_sigma_w` and the phase diagram: exact branches point by point, the
    numeric ones solved together (:func:`critical_line`) and then certified one by one.
    Where no σ_w reaches χ₁ = 1 the entry is the reason, as a sentence."""
    m = as_mode(mode)
    k = closed_kernels(act) if m in (MeanFieldMode.AUTO, MeanFieldMode.EXACT) else None
    kn = num.kernels(act)
    out: list[CriticalPoint | str | None] = []
    for sb in sigma_b:
        out.append(_exact_point(act, k, kn, sb, m))
    todo = [i for i, p in enumerate(out) if p is None]
    if todo:
        sigma, lo, hi = critical_line(act, np.array([float(sigma_b[i]) for i in todo]))
        for j, i in enumerate(todo):
            out[i] = _certified_point(act, kn, sigma_b[i], sigma[j], lo[j], hi[j])
    return [p for p in out if p is not None]


def _sigma_w_is(value: sympy.Expr) -> sympy.Eq:
    """σ_w = value, unevaluated: a bare symbol against a finite constant is never decided
    True or False, so evaluating could only return this same Eq — after an assumptions
    query on the constant that costs a second for SELU's."""
    return sympy.Eq(sympy.Symbol("sigma_w"), value, evaluate=False)


def _exact_point(a: Activation, k: Any, kn: Any, sb: sympy.Expr, m: MeanFieldMode
                 ) -> CriticalPoint | None:
    """The closed-form critical point at σ_b, or None when it needs the numeric solver."""
    if k is not None and k.linear:
        value = sympy.sqrt(sympy.simplify(1 / k.S))
        note = "" if sb == 0 else (
            f"no fixed point q*: at σ_w = {sympy.sstr(value)} the variance map is "
            f"G(q) = q + σ_b², so q_l grows by σ_b² = {sympy.sstr(sb**2)} per layer — "
            "gradients are critical (χ₁ = 1) while the forward variance diverges linearly")
        return CriticalPoint(a.label, sb, value, None, _LINEAR, (
            Step("χ₁ = σ_w²·E[φ'²] does not depend on q: solve σ_w²·S = 1",
                 _sigma_w_is(value)),
            *((Step(note[0].upper() + note[1:] + ".", None),) if note else ())), note)
    if sb == 0 and kn.phi0 == 0 and kn.slope0_sq > 0 and m is not MeanFieldMode.PRECISE:
        left, right = a.one_sided_derivatives(0)
        candidate = sympy.nsimplify(1 / sympy.sqrt((left**2 + right**2) / 2))
        sol = num.solve_fast(kn, np.array([float(candidate) ** 2]), np.zeros(1))
        if sol.q[0] == 0:
            note = (f"degenerate fixed point q* = 0: at σ_w = {number_text(candidate)} with "
                    "σ_b = 0 the pre-activation variance itself vanishes with depth "
                    "(polynomially, since G'(0) = 1 there), so χ₁ = 1 here keeps the "
                    "gradients of a signal that dies out, not of a finite one")
            return CriticalPoint(a.label, sb, candidate, None, _ZERO_BRANCH, (
                Step("φ(0) = 0, σ_b = 0: on the q* = 0 branch χ₁ = σ_w²φ'(0)²; the iteration "
                     "from q⁰ = 1 reaches q* = 0 at this σ_w", _sigma_w_is(candidate)),
                Step(note[0].upper() + note[1:] + ".", None)), note)
    if k is not None:  # erf with σ_b > 0
        return _erf_critical(a, k, sb)
    return None


def _certified_point(a: Activation, kn: Any, sb: sympy.Expr, sigma: float, s_lo: float,
                     s_hi: float) -> CriticalPoint | str:
    """Certify the numeric solver's σ_w: χ₁ − 1 must change sign beyond its error
    estimate on [σ_lo, σ_hi] (widened until it does)."""
    if not math.isfinite(sigma):
        return (f"{a.label} has no σ_w in [{_LO:g}, {_HI:g}] with χ₁ = 1 at "
                f"σ_b = {sympy.sstr(sb)}")
    for _ in range(40):
        sol = num.solve_fast(kn, np.array([s_lo**2, s_hi**2]), np.full(2, float(sb) ** 2))
        if (sol.chi1[0] + sol.chi1_err[0] < 1) and (sol.chi1[1] - sol.chi1_err[1] > 1):
            break
        s_lo, s_hi = s_lo * (1 - 1e-13), s_hi * (1 + 1e-13)
        s_lo, s_hi = s_lo - (s_hi - s_lo), s_hi + (s_hi - s_lo)
    else:  # pragma: no cover - the error estimate never got small enough
        return f"χ₁ of {a.label} cannot be certified near σ_w = {sigma:.6g}"
    jump = float(sol.chi1[1] - sol.chi1[0])
    # A diverging upper side with χ₁ → 1 is the line itself (q* → ∞ there, e.g. softplus).
    asymptote = sol.status[1] is VarianceFixedPoint.DIVERGES and abs(sol.chi1[1] - 1) <= 1e-12
    if jump > 1e-6 and not asymptote:
        return (f"no σ_w gives χ₁ = 1 for {a.label} at σ_b = {sb}: χ₁ jumps from "
                f"{sol.chi1[0]:.6g} to {sol.chi1[1]:.6g} at σ_w ≈ {sigma:.10g}, where the "
                "iteration from q⁰ = 1 switches between fixed points")
    value = sympy.Float(float(sigma), 15)
    how = provenances(sigma_w=Estimated(sympy.Float(s_hi - s_lo, 2),
                                        "χ₁ − 1 changes sign beyond the quadrature's estimate"))
    return CriticalPoint(a.label, sb, value, (s_lo, s_hi), how, (
        Step("χ₁(σ_lo) < 1 < χ₁(σ_hi), each beyond its quadrature error estimate",
             sympy.Interval(sympy.Float(s_lo, 17), sympy.Float(s_hi, 17))),))


_S = sympy.Symbol("s", positive=True)  # s = σ_w²


@lru_cache(maxsize=8)
def _erf_branch(k: Any) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    """(q(s), s·V(q(s)), s₀) for the erf kernels, whatever σ_b: χ₁ = s·S(q) = 1 solved
    for q, and s₀ where q(s) reaches 0."""
    q_of_s = sympy.solve(sympy.Eq(_S * k.S, 1), Q)[0]
    s0 = sympy.solve(sympy.Eq(q_of_s, 0), _S)[0]
    return q_of_s, _S * k.V.subs(Q, q_of_s), s0


def _erf_critical(a: Activation, k: Any, sb: sympy.Expr) -> CriticalPoint:
    s = _S
    # χ₁ = s·S(q) = 1 ⇔ q = q(s); then q(s) must be a fixed point: F(s) = q − s·V(q) − σ_b².
    q_of_s, sV, s0 = _erf_branch(k)
    F = sympy.simplify(q_of_s - sV - sb**2)
    # q(s) ≥ 0 needs s ≥ s0; F(s0) = −σ_b² < 0, and F grows without bound: a bracket.
    lo = sympy.Rational(constant_number(s0, 30).upper)
    hi = 2 * lo
    while constant_number(F.subs(s, hi), 10).upper <= 0:
        hi *= 2
    root = certified_root(F.subs(s, z), lo, hi)
    value = enclose(sympy.sqrt(z), root, digits=40)
    how = provenances(sigma_w=value.certified(
        "σ_w = √s, s the one root of F(s) = 0 isolated in ball arithmetic (Arb)"))
    return CriticalPoint(a.label, sb, value.sympy_float(), None, how, (
        Step("χ₁ = 1 gives q(σ_w²); the fixed-point condition is then one equation",
             sympy.Eq(F, 0)),
        Step("Its root, isolated in ball arithmetic: the only one on the bracket", None)))
