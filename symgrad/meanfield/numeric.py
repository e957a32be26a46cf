"""Numeric mean-field solvers: vectorized fast mode (NumPy) and the mpmath reference mode.

Notation (Poole et al. 2016; Schoenholz et al. 2017): for u = √q·Z, Z ~ N(0, 1),

* m(q) = E[φ(u)²], the variance map G(q) = σ_w²·m(q) + σ_b², fixed point q* = G(q*);
* s(q) = E[φ'(u)²], χ₁ = σ_w²·s(q*);
* d/dq E[g(√q Z)] = E[g(√q Z)(Z² − 1)]/(2q)  (differentiate the N(0, q) density), so
  Newton's method needs no φ''.

q* is the fixed point the iteration q ← G(q) reaches from q⁰ (1 by default): G is
increasing, so the iteration moves monotonically to the nearest fixed point in the
direction of G(q⁰) − q⁰.  The fast mode finds it for many (σ_w, σ_b) at once: m(q) is
evaluated once on a shared geometric grid q⁰·2^k (|k| ≤ 40), which brackets every
point's fixed point, then a safeguarded Newton iteration runs on all points together.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.symbols import z
from symgrad._exact.gauss_rule import edges, expect, rule
from symgrad.activations.record import Activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield.record import VarianceFixedPoint
from symgrad.types import FloatArray

__all__ = [
    "Kernels",
    "Solution",
    "c_star_fast",
    "kernels",
    "precise",
    "solve_fast",
]

_K = 40  # scan q⁰·2^k for |k| ≤ 40: q from ~1e-12·q⁰ to ~1e12·q⁰
_N_SCAN = 10  # nodes per panel while bracketing and iterating; the final step uses 16 and 32
_TAIL = 1e-10  # relative size of the dropped |Z| > 12 tail above which moments "diverge"


@dataclass(frozen=True)
class Kernels:
    """Float evaluators and asymptotics of one activation (cached per activation)."""

    phi: Callable[[Any], FloatArray]
    dphi: Callable[[Any], FloatArray]
    breakpoints: tuple[float, ...]
    phi0: float
    #: (φ'(0⁻)² + φ'(0⁺)²)/2 = lim_{q→0} E[φ'(√q Z)²]
    slope0_sq: float
    #: lim_{q→∞} E[φ(√q Z)²]/q = lim E[φ'(√q Z)²] = (φ'(−∞)² + φ'(∞)²)/2 (∞ if φ grows faster)
    slope_inf_sq: float
    label: str


def _limit_slope(expr: sympy.Expr, at: sympy.Expr) -> float:
    try:
        value = sympy.limit(expr, z, at)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - SymPy gave up
        return math.nan
    if value in (sympy.oo, -sympy.oo):
        return math.inf
    if not value.is_finite:
        return math.nan
    return float(value) ** 2


@lru_cache(maxsize=128)
def kernels(act: Activation) -> Kernels:
    pieces = act.pieces
    left0, right0 = act.one_sided_derivatives(0)
    lo = _limit_slope(pieces[0].derivative, -sympy.oo)
    hi = _limit_slope(pieces[-1].derivative, sympy.oo)
    return Kernels(
        phi=act.numpy,
        dphi=act.numpy_prime,
        breakpoints=tuple(float(b) for b in act.breakpoints),
        phi0=float(act.numpy(np.zeros(1))[0]),
        slope0_sq=(float(left0) ** 2 + float(right0) ** 2) / 2,
        slope_inf_sq=(lo + hi) / 2,
        label=act.label,
    )


def _moments(k: Kernels, q: FloatArray, *, n: int = 16, estimate: bool = False,
             slopes: bool = False) -> tuple[FloatArray, FloatArray, FloatArray]:
    """E[φ²], E[φ²(Z²−1)] (and the same for φ'² when ``slopes``), errors, tails."""

    def f(u: FloatArray, Z: FloatArray) -> list[FloatArray]:
        p2 = k.phi(u) ** 2
        w = Z * Z - 1.0
        if not slopes:
            return [p2, p2 * w]
        d2 = k.dphi(u) ** 2
        return [p2, p2 * w, d2, d2 * w]

    r = expect(f, np.zeros_like(q), np.sqrt(q), breakpoints=k.breakpoints, n=n, estimate=estimate)
    return r.value, r.error, r.tail


def _diverging(k: Kernels, q: float) -> InvalidArgument:
    return InvalidArgument(
        f"E[φ(√q·Z)²] does not converge for {k.label} at q = {q:.3g}: its Gaussian moments "
        "diverge (φ grows too fast), so the variance map has no finite value there"
    )


@dataclass(frozen=True)
class Solution:
    """Fast-mode results for N points (arrays of shape (N,))."""

    status: np.ndarray  # VarianceFixedPoint per point (object array)
    q: FloatArray
    q_err: FloatArray
    chi1: FloatArray
    chi1_err: FloatArray
    slope_g: FloatArray  # G'(q*)


def solve_fast(k: Kernels, sw2: FloatArray, sb2: FloatArray, *, q0: float = 1.0,
               n: int = 16) -> Solution:
    """q* and χ₁ for every (σ_w², σ_b²) pair, with error estimates."""
    N = sw2.shape[0]
    grid = q0 * 2.0 ** np.arange(-_K, _K + 1, dtype=np.float64)
    vals, _, tail = _moments(k, grid, n=_N_SCAN)
    m_grid = vals[0]
    bad = ~np.isfinite(m_grid) | (tail[0] > _TAIL * np.maximum(np.abs(m_grid), 1e-300))
    G = sw2[:, None] * np.where(bad, np.nan, m_grid)[None, :] + sb2[:, None]
    h = G - grid[None, :]
    tol = 1e-13 * (grid[None, :] + np.abs(G))
    k0 = _K
    status = np.full(N, VarianceFixedPoint.FINITE, dtype=object)
    lo = np.zeros(N)
    hi = np.zeros(N)
    q = np.full(N, np.nan)
    todo = np.zeros(N, dtype=bool)
    for i in range(N):
        hi_row, tol_row = h[i], tol[i]
        h0 = hi_row[k0]
        if not np.isfinite(h0):
            raise _diverging(k, q0)
        if abs(h0) <= tol_row[k0]:
            q[i] = q0
            continue
        if h0 > 0:  # G(q⁰) > q⁰: the iteration climbs to the first root above q⁰.
            for j in range(k0 + 1, 2 * _K + 1):
                if not np.isfinite(hi_row[j]):
                    if sw2[i] * k.slope_inf_sq > 1:
                        break  # it diverges before the moments do
                    raise _diverging(k, float(grid[j]))
                if hi_row[j] <= 0:
                    lo[i], hi[i], todo[i] = grid[j - 1], grid[j], True
                    break
            if not todo[i]:
                status[i] = VarianceFixedPoint.DIVERGES
                q[i] = math.inf
            continue
        for j in range(k0 - 1, -1, -1):  # G(q⁰) < q⁰: it descends to the first root below.
            if hi_row[j] >= 0:
                lo[i], hi[i], todo[i] = grid[j], grid[j + 1], True
                break
        if not todo[i]:
            if sb2[i] == 0 and k.phi0 == 0:
                q[i] = 0.0  # G(0) = 0 and G(q) < q all the way down: q* = 0
            else:
                lo[i], hi[i], todo[i] = 0.0, grid[0], True
    if todo.any():
        q[todo] = _newton(k, sw2[todo], sb2[todo], lo[todo], hi[todo], n=_N_SCAN)
    finite = np.isfinite(q) & (q > 0)
    chi1 = np.full(N, np.nan)
    chi1_err = np.zeros(N)
    q_err = np.zeros(N)
    slope_g = np.full(N, np.nan)
    if finite.any():
        qf = q[finite]
        val, err, tl = _moments(k, qf, n=n, estimate=True, slopes=True)
        if np.any(tl.max(axis=0) > _TAIL * np.abs(val[0])):
            raise _diverging(k, float(qf[np.argmax(tl.max(axis=0))]))
        m, dm, s, ds = val[0], val[1] / (2 * qf), val[2], val[3] / (2 * qf)
        # One Newton step with the accurate (2n-node) moments polishes the n_scan-node root.
        g1 = sw2[finite] * dm
        with np.errstate(divide="ignore", invalid="ignore"):
            shift = np.where(np.abs(1.0 - g1) > 1e-9,
                             (sw2[finite] * m + sb2[finite] - qf) / (1.0 - g1), 0.0)
        q[finite] = qf + shift
        m, s = m + dm * shift, s + ds * shift
        eps = 4e-16 * 64  # float64 rounding over a few hundred weighted terms
        em = err[0] + eps * np.abs(m)
        es = err[2] + eps * np.abs(s) + np.abs(ds * shift) * 1e-3
        slope_g[finite] = g1
        with np.errstate(divide="ignore"):
            dq = sw2[finite] * em / np.abs(1.0 - g1) + 1e-3 * np.abs(shift)
        q_err[finite] = dq
        chi1[finite] = sw2[finite] * s
        chi1_err[finite] = sw2[finite] * (es + np.abs(ds) * dq)
        marginal = np.abs(1.0 - g1) <= 1e-9
        idx = np.flatnonzero(finite)[marginal]
        for i in idx:
            if math.isclose(q[i], q0, rel_tol=1e-12):
                status[i] = VarianceFixedPoint.MARGINAL
                q_err[i] = 0.0  # neutral: q stays where it starts
    zero = q == 0
    chi1[zero] = sw2[zero] * k.slope0_sq
    div = status == VarianceFixedPoint.DIVERGES
    chi1[div] = sw2[div] * k.slope_inf_sq
    return Solution(status, q, q_err, chi1, chi1_err, slope_g)


def _newton(k: Kernels, sw2: FloatArray, sb2: FloatArray, lo: FloatArray, hi: FloatArray,
            *, n: int) -> FloatArray:
    """Safeguarded Newton on h(q) = G(q) − q, with h(lo) ≥ 0 > h(hi), all points at once."""
    q = np.where(lo > 0, np.sqrt(lo * np.maximum(hi, lo)), 0.5 * hi)
    active = np.ones(q.shape, dtype=bool)
    for _ in range(100):
        idx = np.flatnonzero(active)
        if idx.size == 0:
            break
        qa = q[idx]
        val, _, _ = _moments(k, qa, n=n)
        h = sw2[idx] * val[0] + sb2[idx] - qa
        dh = sw2[idx] * val[1] / (2 * qa) - 1.0
        pos = h > 0
        lo[idx] = np.where(pos, qa, lo[idx])
        hi[idx] = np.where(pos, hi[idx], qa)
        with np.errstate(divide="ignore", invalid="ignore"):
            step = np.where(dh != 0, h / dh, np.nan)
        new = qa - step
        inside = np.isfinite(new) & (new > lo[idx]) & (new < hi[idx])
        mid = np.where(lo[idx] > 0, np.sqrt(lo[idx] * hi[idx]), 0.5 * hi[idx])
        new = np.where(h == 0, qa, np.where(inside, new, mid))
        q[idx] = new
        done = (np.abs(new - qa) <= 1e-15 * np.abs(new)) | (hi[idx] - lo[idx] <= 4e-16 * hi[idx])
        done |= h == 0
        active[idx[done]] = False
    return q


def c_star_fast(k: Kernels, sw2: float, sb2: float, q: float, *, n: int = 16
                ) -> tuple[float, float, float, float]:
    """(c*, its error, χ_{c*}, its error): the stable correlation fixed point below 1.

    Only called in the chaotic phase (χ₁ > 1), where C(1) = 1 and C'(1) = χ₁ > 1 put a
    root of h(c) = C(c) − c in [0, 1): C is convex on [0, 1] (Poole et al. 2016), so
    Newton from c = 0 rises monotonically to it.
    """
    rq = math.sqrt(q)

    def two_point(c: float, *, estimate: bool, nn: int) -> tuple[FloatArray, FloatArray]:
        z1, w1 = rule(edges(np.zeros(1), np.array([rq]), k.breakpoints), nn)
        z1, w1 = z1[0], w1[0]
        u1 = rq * z1
        a = rq * c * z1
        b = np.full_like(a, rq * math.sqrt(max(0.0, 1.0 - c * c)))
        inner = expect(lambda u, Z: [k.phi(u), k.dphi(u)], a, b,
                       breakpoints=k.breakpoints, n=nn, estimate=estimate)
        vals = np.array([np.sum(w1 * k.phi(u1) * inner.value[0]),
                         np.sum(w1 * k.dphi(u1) * inner.value[1])])
        errs = np.array([np.sum(np.abs(w1 * k.phi(u1)) * inner.error[0]),
                         np.sum(np.abs(w1 * k.dphi(u1)) * inner.error[1])])
        return vals, errs

    lo, hi, c = 0.0, 1.0, 0.0
    for _ in range(60):
        (K, D), _ = two_point(c, estimate=False, nn=n)
        h = (sw2 * K + sb2) / q - c
        if abs(h) <= 1e-15:
            break
        if h > 0:
            lo = c
        else:
            hi = c
        new = c - h / (sw2 * D - 1.0) if sw2 * D != 1.0 else math.nan
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        if abs(new - c) <= 1e-14:
            c = new
            break
        c = new
    (K, D), (eK, eD) = two_point(c, estimate=True, nn=n)
    dh = abs(sw2 * D - 1.0)
    c_err = (sw2 * eK / q) / dh if dh > 0 else math.inf
    return c, c_err + 1e-15, sw2 * D, sw2 * eD + 1e-15


# ---- the mpmath reference mode ----


def _mp_points(k: Kernels, q: mpmath.mpf) -> list[Any]:
    rq = mpmath.sqrt(q)
    pts = {mpmath.mpf(0), mpmath.mpf(1), mpmath.mpf(-1), mpmath.mpf(4), mpmath.mpf(-4)}
    for s in (1, 4, 16):
        pts |= {mpmath.mpf(s) / rq, -mpmath.mpf(s) / rq}
    pts |= {mpmath.mpf(b) / rq for b in k.breakpoints}
    inner = sorted(p for p in pts if abs(p) < 40)
    return [-mpmath.inf, *inner, mpmath.inf]


def _mp_expect(act: Activation, k: Kernels, q: mpmath.mpf, which: str) -> tuple[Any, Any]:
    rq = mpmath.sqrt(q)
    fn = act.mpmath if which in ("m", "dm") else act.mpmath_prime

    def g(Z: Any) -> Any:
        v = fn(rq * Z) ** 2 * mpmath.npdf(Z)
        return v * (Z * Z - 1) if which in ("dm", "ds") else v

    value, err = mpmath.quad(g, _mp_points(k, q), error=True, maxdegree=10)
    return value, err


def precise(act: Activation, sw2: sympy.Expr, sb2: sympy.Expr, q_start: float, *,
            dps: int = 30) -> tuple[Any, Any, Any, Any, Any]:
    """(q*, |error|, χ₁, |error|, G'(q*)) by Newton's method on mpmath quadratures.

    Starts from the fast mode's q* (a finite, positive fixed point) and iterates until
    the step is below 10^(−dps+5)·q*; the error combines the quadrature error of G with
    the last step.
    """
    k = kernels(act)
    with mpmath.workdps(dps):
        w2, b2 = mpmath.mpf(sympy.N(sw2, dps + 5)), mpmath.mpf(sympy.N(sb2, dps + 5))
        q = mpmath.mpf(q_start)
        step = mpmath.mpf(0)
        for _ in range(12):
            m, em = _mp_expect(act, k, q, "m")
            dm, _ = _mp_expect(act, k, q, "dm")
            h = w2 * m + b2 - q
            dh = w2 * dm / (2 * q) - 1
            step = h / dh
            q -= step
            if abs(step) <= mpmath.mpf(10) ** (-dps + 5) * q:
                break
        m, em = _mp_expect(act, k, q, "m")
        dm, _ = _mp_expect(act, k, q, "dm")
        s, es = _mp_expect(act, k, q, "s")
        ds, _ = _mp_expect(act, k, q, "ds")
        g1 = w2 * dm / (2 * q)
        q_err = abs(step) + w2 * em / abs(1 - g1)
        chi1 = w2 * s
        chi_err = w2 * (es + abs(ds / (2 * q)) * q_err)
        return q, q_err, chi1, chi_err, g1
