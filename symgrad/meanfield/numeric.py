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
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._exact.gauss_rule import Z_MAX, expect
from symgrad.activations.record import Activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield.correlation import c_star_fast
from symgrad.meanfield.quadrature import Kernels, kernels, moments_one, panel_edges, panel_rule
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

    if q.shape[0] == 1:
        return moments_one(f, float(q[0]), k.breakpoints, n=n, estimate=estimate)
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


class _Grid:
    """m(q) = E[φ(√q Z)²] on q⁰·2^k, |k| ≤ 40, evaluated in blocks as the bracketing needs
    it (one point needs a few grid values; a phase diagram shares the whole grid)."""

    def __init__(self, k: Kernels, q0: float, *, block: int = 8) -> None:
        self.k = k
        self.block = block
        self.q = q0 * 2.0 ** np.arange(-_K, _K + 1, dtype=np.float64)
        self.m = np.full(self.q.shape, np.nan)
        self.dm = np.full(self.q.shape, np.nan)  # E[φ(√q Z)²(Z² − 1)]
        self.bad = np.zeros(self.q.shape, dtype=bool)
        self.done = np.zeros(self.q.shape, dtype=bool)

    def ensure(self, j: int) -> None:
        """Evaluate the block of 8 grid points around index j (those not yet evaluated)."""
        if self.done[j]:
            return
        if self.block == 1:
            m1, dm1, size = _m_dm(self.k, float(self.q[j]), n=_N_SCAN, tail=True)
            self.m[j], self.dm[j] = m1, dm1
            self.bad[j] = not math.isfinite(m1) or size > _TAIL * max(abs(m1), 1e-300)
            self.done[j] = True
            return
        b = self.block
        lo, hi = (j, min(j + b, 2 * _K + 1)) if j >= _K else (max(j - b + 1, 0), j + 1)
        idx = np.arange(lo, hi)[~self.done[lo:hi]]
        vals, _, tail = _moments(self.k, self.q[idx], n=_N_SCAN)
        m = vals[0]
        self.m[idx] = m
        self.bad[idx] = ~np.isfinite(m) | (tail[0] > _TAIL * np.maximum(np.abs(m), 1e-300))
        self.done[idx] = True

    def h(self, j: int, sw2: float, sb2: float) -> tuple[float, float]:
        """(G(q_j) − q_j, tolerance); NaN where the moments diverge."""
        self.ensure(j)
        q = float(self.q[j])
        G = math.nan if self.bad[j] else sw2 * float(self.m[j]) + sb2
        return G - q, 1e-13 * (q + abs(G))

    def slope(self, j: int, sw2: float) -> float:
        """h'(q_j) = σ_w²·E[φ²(Z² − 1)]/(2q_j) − 1 (NaN where not evaluated by the scan)."""
        return sw2 * float(self.dm[j]) / (2 * float(self.q[j])) - 1.0


def solve_fast(k: Kernels, sw2: FloatArray, sb2: FloatArray, *, q0: float = 1.0,
               n: int = 16) -> Solution:
    """q* and χ₁ for every (σ_w², σ_b²) pair, with error estimates."""
    # φ may overflow far out (its moments then diverge, which the tail checks detect):
    # one error state for the whole solve, not one per quadrature.
    with np.errstate(over="ignore", invalid="ignore"):
        return _solve_fast(k, sw2, sb2, q0=q0, n=n)


def _solve_fast(k: Kernels, sw2: FloatArray, sb2: FloatArray, *, q0: float,
                n: int) -> Solution:
    N = sw2.shape[0]
    grid = _Grid(k, q0, block=1 if N == 1 else 8)
    k0 = _K
    status = np.full(N, VarianceFixedPoint.FINITE, dtype=object)
    lo = np.zeros(N)
    hi = np.zeros(N)
    h_lo = np.zeros(N)
    h_hi = np.zeros(N)
    q = np.full(N, np.nan)
    todo = np.zeros(N, dtype=bool)
    for i in range(N):
        w2, b2 = float(sw2[i]), float(sb2[i])
        h0, tol0 = grid.h(k0, w2, b2)
        if not np.isfinite(h0):
            raise _diverging(k, q0)
        if abs(h0) <= tol0:
            q[i] = q0
            continue
        prev = h0
        if h0 > 0:  # G(q⁰) > q⁰: the iteration climbs to the first root above q⁰.
            for j in range(k0 + 1, 2 * _K + 1):
                hj, _ = grid.h(j, w2, b2)
                if not np.isfinite(hj):
                    if w2 * k.slope_inf_sq > 1:
                        break  # it diverges before the moments do
                    raise _diverging(k, float(grid.q[j]))
                if hj <= 0:
                    lo[i], hi[i], todo[i] = grid.q[j - 1], grid.q[j], True
                    h_lo[i], h_hi[i] = prev, hj
                    break
                prev = hj
            if not todo[i]:
                status[i] = VarianceFixedPoint.DIVERGES
                q[i] = math.inf
            continue
        for j in range(k0 - 1, -1, -1):  # G(q⁰) < q⁰: it descends to the first root below.
            hj, _ = grid.h(j, w2, b2)
            if hj >= 0:
                lo[i], hi[i], h_lo[i], h_hi[i], todo[i] = grid.q[j], grid.q[j + 1], hj, prev, True
                break
            prev = hj
        if not todo[i]:
            if b2 == 0 and k.phi0 == 0:
                q[i] = 0.0  # G(0) = 0 and G(q) < q all the way down: q* = 0
            else:
                lo[i], hi[i], todo[i] = 0.0, grid.q[0], True
                h_lo[i], h_hi[i] = w2 * k.phi0**2 + b2, prev
    if todo.any():
        # Start each Newton iteration at the secant of its bracket (h(lo) ≥ 0 > h(hi)).
        with np.errstate(divide="ignore", invalid="ignore"):
            start = lo + h_lo * (hi - lo) / (h_lo - h_hi)
        if N == 1:
            w2, a, b = float(sw2[0]), float(lo[0]), float(hi[0])
            first = float(start[0])
            if a > 0:
                # The scan's moments also give h' at both ends: start at the root of the
                # cubic through (h, h') there, a digit or more closer than the secant.
                ja, jb = round(math.log2(a / q0)) + _K, round(math.log2(b / q0)) + _K
                first = _cubic_start(a, b, float(h_lo[0]), float(h_hi[0]),
                                     grid.slope(ja, w2), grid.slope(jb, w2), first)
            q[0] = _newton_one(k, w2, float(sb2[0]), a, b, first, n=_N_SCAN)
        else:
            q[todo] = _newton(k, sw2[todo], sb2[todo], lo[todo], hi[todo], start[todo],
                              n=_N_SCAN)
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


def _cubic_start(a: float, b: float, ha: float, hb: float, da: float, db: float,
                 secant: float) -> float:
    """The root in (a, b) of the cubic Hermite interpolant of h (values ha ≥ 0 > hb,
    slopes da, db), by Newton from the secant; the secant when that fails."""
    w = b - a
    t = (secant - a) / w
    if not (0.0 < t < 1.0) or not (math.isfinite(da) and math.isfinite(db)):
        return secant
    sa, sb = da * w, db * w
    for _ in range(8):
        t2 = t * t
        t3 = t2 * t
        p = ((2 * t3 - 3 * t2 + 1) * ha + (t3 - 2 * t2 + t) * sa + (3 * t2 - 2 * t3) * hb
             + (t3 - t2) * sb)
        dp = (6 * t2 - 6 * t) * ha + (3 * t2 - 4 * t + 1) * sa + (6 * t - 6 * t2) * hb \
            + (3 * t2 - 2 * t) * sb
        if dp == 0 or not math.isfinite(dp):
            return secant
        t -= p / dp
        if not 0.0 < t < 1.0:
            return secant
    return a + t * w


def _m_dm(k: Kernels, q: float, *, n: int, tail: bool = False) -> tuple[float, float, float]:
    """(E[φ(√q Z)²], E[φ(√q Z)²(Z² − 1)], the tail proxy of :func:`_moments` or 0): the
    scan's two moments for one q, with nothing else computed (inside :func:`solve_fast`'s
    error state)."""
    rq = math.sqrt(q)
    Z, W = panel_rule(panel_edges(rq, k.breakpoints), n)
    p2 = k.phi(rq * Z) ** 2
    m, dm = float(p2 @ W), float((p2 * (Z * Z - 1.0)) @ W)
    size = 0.0
    if tail:
        ends = k.phi(np.array([-Z_MAX * rq, Z_MAX * rq])) ** 2
        size = float(np.abs(ends).max() * (_INV_SQRT_2PI * math.exp(-0.5 * Z_MAX**2) * Z_MAX))
    return m, dm, size


_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _newton_one(k: Kernels, sw2: float, sb2: float, lo: float, hi: float, start: float, *,
                n: int) -> float:
    """:func:`_newton` for one point, in floats."""
    q = start if math.isfinite(start) and lo < start < hi else (
        math.sqrt(lo * hi) if lo > 0 else 0.5 * hi)
    for _ in range(100):
        m, dm, _ = _m_dm(k, q, n=n)
        h = sw2 * m + sb2 - q
        dh = sw2 * dm / (2 * q) - 1.0
        if h == 0:
            return q
        if h > 0:
            lo = q
        else:
            hi = q
        new = q - h / dh if dh != 0 else math.nan
        if not (math.isfinite(new) and lo < new < hi):
            new = math.sqrt(lo * hi) if lo > 0 else 0.5 * hi
        if abs(new - q) <= 1e-15 * abs(new) or hi - lo <= 4e-16 * hi:
            return new
        q = new
    return q


def _newton(k: Kernels, sw2: FloatArray, sb2: FloatArray, lo: FloatArray, hi: FloatArray,
            start: FloatArray, *, n: int) -> FloatArray:
    """Safeguarded Newton on h(q) = G(q) − q, with h(lo) ≥ 0 > h(hi), all points at once,
    from ``start`` (the bisection point where it is not inside the bracket)."""
    mid = np.where(lo > 0, np.sqrt(lo * np.maximum(hi, lo)), 0.5 * hi)
    q = np.where(np.isfinite(start) & (start > lo) & (start < hi), start, mid)
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
