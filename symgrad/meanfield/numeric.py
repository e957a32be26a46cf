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

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.symbols import z
from symgrad._exact.gauss_rule import Z_MAX, edges, expect, rule
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

    if q.shape[0] == 1:
        return _moments_one(f, float(q[0]), k.breakpoints, n=n, estimate=estimate)
    r = expect(f, np.zeros_like(q), np.sqrt(q), breakpoints=k.breakpoints, n=n, estimate=estimate)
    return r.value, r.error, r.tail


# ---- one variance at a time: the same panel rule without the batch machinery ----


def _panel_edges(rq: float, breakpoints: tuple[float, ...], *, width: float = math.inf
                 ) -> FloatArray:
    """The panel edges of :func:`symgrad._exact.gauss_rule.edges` for a = 0, b = √q (the
    activation's scales s/√q, its breakpoints β/√q and the Gaussian's scales, clipped to
    |Z| ≤ 12, zero-width panels dropped), each panel cut to at most ``width``."""
    cuts = {0.0, Z_MAX, -Z_MAX}
    cuts.update(e for e in (1.0, 2.0, 3.0, 4.5, 6.5, 9.0))
    cuts.update(-e for e in (1.0, 2.0, 3.0, 4.5, 6.5, 9.0))
    if rq > 0:
        cuts.update(s / rq for s in (0.25, 1.0, 4.0, 16.0))
        cuts.update(-s / rq for s in (0.25, 1.0, 4.0, 16.0))
        cuts.update(b / rq for b in breakpoints)
    edges = sorted(c for c in cuts if -Z_MAX <= c <= Z_MAX)
    if width < math.inf:
        fine = [edges[0]]
        for lo, hi in itertools.pairwise(edges):
            parts = max(1, math.ceil((hi - lo) / width))
            fine.extend(lo + (hi - lo) * (i + 1) / parts for i in range(parts))
        edges = fine
    return np.array(edges)


def _panel_rule(edges: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes Z and weights (Gauss–Legendre × half-width × Gaussian pdf), 1-D."""
    x, w = np.polynomial.legendre.leggauss(n) if n not in _LEGENDRE else _LEGENDRE[n]
    _LEGENDRE[n] = (x, w)
    lo, hi = edges[:-1, None], edges[1:, None]
    half = 0.5 * (hi - lo)
    Z = (0.5 * (hi + lo) + half * x).ravel()
    W = (half * w).ravel() * (_INV_SQRT_2PI * np.exp(-0.5 * Z * Z))
    return Z, W


_LEGENDRE: dict[int, tuple[FloatArray, FloatArray]] = {}
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _moments_one(f: Callable[[FloatArray, FloatArray], list[FloatArray]], q: float,
                 breakpoints: tuple[float, ...], *, n: int, estimate: bool
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_moments` for a single q, shapes (k, 1) as there."""
    rq = math.sqrt(q)
    edges = _panel_edges(rq, breakpoints)
    ends = np.array([-Z_MAX, Z_MAX])
    with np.errstate(over="ignore", invalid="ignore"):
        at_ends = np.abs(np.stack(f(rq * ends, ends))).max(axis=1)
    tail = (at_ends * (_INV_SQRT_2PI * math.exp(-0.5 * Z_MAX**2) * Z_MAX))[:, None]
    sums = []
    for nn in ((n, 2 * n) if estimate else (n,)):
        Z, W = _panel_rule(edges, nn)
        with np.errstate(over="ignore", invalid="ignore"):
            sums.append(np.stack(f(rq * Z, Z)) @ W)
    value = sums[-1][:, None]
    error = np.abs(sums[-1] - sums[0])[:, None] if estimate else np.full_like(value, np.nan)
    return value, error, tail


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
        self.bad = np.zeros(self.q.shape, dtype=bool)
        self.done = np.zeros(self.q.shape, dtype=bool)

    def ensure(self, j: int) -> None:
        """Evaluate the block of 8 grid points around index j (those not yet evaluated)."""
        if self.done[j]:
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


def solve_fast(k: Kernels, sw2: FloatArray, sb2: FloatArray, *, q0: float = 1.0,
               n: int = 16) -> Solution:
    """q* and χ₁ for every (σ_w², σ_b²) pair, with error estimates."""
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
            q[0] = _newton_one(k, float(sw2[0]), float(sb2[0]), float(lo[0]), float(hi[0]),
                               float(start[0]), n=_N_SCAN)
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


def _newton_one(k: Kernels, sw2: float, sb2: float, lo: float, hi: float, start: float, *,
                n: int) -> float:
    """:func:`_newton` for one point, in floats."""
    q = start if math.isfinite(start) and lo < start < hi else (
        math.sqrt(lo * hi) if lo > 0 else 0.5 * hi)
    for _ in range(100):
        val, _, _ = _moments(k, np.array([q]), n=n)
        h = sw2 * float(val[0, 0]) + sb2 - q
        dh = sw2 * float(val[1, 0]) / (2 * q) - 1.0
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


def c_star_fast(k: Kernels, sw2: float, sb2: float, q: float, *, n: int = 16,
                q_err: float = 0.0) -> tuple[float, float, float, float]:
    """(c*, its error, χ_{c*}, its error): the stable correlation fixed point below 1.

    Only called in the chaotic phase (χ₁ > 1), where C(1) = 1 and C'(1) = χ₁ > 1 put a
    root of h(c) = C(c) − c in [0, 1): C is convex on [0, 1] (Poole et al. 2016), so
    Newton from c = 0 rises monotonically to it.

    The 2-D expectation is a 1-D one in disguise (Mehler's formula): with the
    normalised Hermite polynomials h_j and a_j = E[φ(√q Z)·h_j(Z)],

        E[φ(u₁)φ(u₂)] = Σ_j a_j² c^j,   E[φ'(u₁)φ'(u₂)] = Σ_j b_j² c^j (b_j from φ'),

    all coefficients ≥ 0 and Σ_j a_j² = E[φ(u)²] (Parseval), so the terms after N add
    at most c^{N+1}·(E[φ²] − Σ_{j≤N} a_j²): a bound on the truncation, not a guess.
    φ and φ' are evaluated once, at the nodes of a 1-D panel rule; N grows until that
    bound is negligible (c* near 1 needs many terms: past ``_N_MAX`` the 2-D panel rule
    takes over).  ``q_err`` (the error of q*) enters the error estimates through
    ∂a_j/∂q = (√((j+1)(j+2))·a_{j+2} + j·a_j)/(2q).
    """
    N = 24
    while True:
        out, more = _c_star_hermite(k, sw2, sb2, q, N, n=n, q_err=q_err)
        if out is not None:
            return out
        if N >= _N_MAX or more is None:
            return _c_star_2d(k, sw2, sb2, q, n=n)
        N = min(_N_MAX, max(more, 2 * N))


_N_MAX = 384  # Hermite terms before the 2-D rule takes over (c* ≳ 0.9 for tanh)


def _hermite_coefficients(F: FloatArray, Z: FloatArray, W: FloatArray, N: int) -> FloatArray:
    """E[F_i(Z)·h_j(Z)] for j ≤ N, with h_{j+1} = (Z·h_j − √j·h_{j−1})/√(j+1)."""
    out = np.empty((F.shape[0], N + 1))
    WF = F * W
    h_prev, h = np.ones_like(Z), Z
    out[:, 0] = WF.sum(axis=1)
    if N >= 1:
        out[:, 1] = WF @ h
    roots = np.sqrt(np.arange(N + 1, dtype=np.float64)).tolist()
    for j in range(1, N):
        h_prev, h = h, (Z * h - roots[j] * h_prev) * (1.0 / roots[j + 1])
        out[:, j + 1] = WF @ h
    return out


def _c_star_hermite(k: Kernels, sw2: float, sb2: float, q: float, N: int, *, n: int,
                    q_err: float) -> tuple[tuple[float, float, float, float] | None, int | None]:
    """(c*, …) from N + 1 Hermite terms; or (``None``, the number of terms the truncation
    bound asks for) when N is too few; (``None``, ``None``) when this rule cannot decide."""
    rq = math.sqrt(q)
    edges = _panel_edges(rq, k.breakpoints, width=min(1.0, 8.0 / math.sqrt(N + 2)))
    # Both rules (n and 2n nodes per panel) in one pass: nodes side by side, each rule's
    # weights zero on the other's nodes.
    (Z0, W0), (Z1, W1) = _panel_rule(edges, n), _panel_rule(edges, 2 * n)
    Z = np.concatenate([Z0, Z1])
    u = rq * Z
    phi, dphi = k.phi(u), k.dphi(u)
    zeros0, zeros1 = np.zeros_like(W1), np.zeros_like(W0)
    Wc = np.stack([np.concatenate([W0, zeros0]), np.concatenate([zeros1, W1])])
    F = np.concatenate([phi * Wc, dphi * Wc])  # rows: φ·W0, φ·W1, φ'·W0, φ'·W1
    C = _hermite_coefficients(F, Z, np.ones_like(Z), N + 2)
    M = np.concatenate([(phi * phi) @ Wc.T, (dphi * dphi) @ Wc.T])
    A0, A = C[[0, 2]], C[[1, 3]]
    M0, M = M[[0, 2]], M[[1, 3]]
    dA = np.abs(A - A0)  # n against 2n nodes: the coefficients' error estimate
    a, b, da, db = A[0, :N + 1], A[1, :N + 1], dA[0, :N + 1], dA[1, :N + 1]
    a2, b2 = a * a, b * b
    m, s = float(M[0]), float(M[1])
    eps = 1e-15  # float64 rounding of sums of a few thousand positive terms, relative
    R = max(m - float(a2.sum()), 0.0) + eps * m + float(abs(M[0] - M0[0]))
    T = max(s - float(b2.sum()), 0.0) + eps * s + float(abs(M[1] - M0[1]))
    j = np.arange(N + 1)
    ja2 = (j[1:] * a2[1:]).tolist()
    a2l = a2.tolist()
    # Newton from c = 0 on h(c) = (σ_w²·K(c) + σ_b²)/q − c, K the series plus half its tail.
    c = 0.0
    for _ in range(100):
        K = dK = 0.0
        for coef in reversed(a2l):  # Horner
            K = K * c + coef
        for coef in reversed(ja2):
            dK = dK * c + coef
        K += 0.5 * c ** (N + 1) * R
        h = (sw2 * K + sb2) / q - c
        dh = sw2 * dK / q - 1.0
        if dh >= 0:
            return None, None  # not the convex branch's descent: let a finer rule decide
        new = min(max(c - h / dh, 0.0), 1.0)
        # Newton from the left on a convex decreasing h rises monotonically: once a step
        # no longer rises (or rises by rounding only), c has converged.
        if new <= c or new - c <= 2e-16 * new:
            c = max(new, c)
            break
        c = new
    powers = c ** j
    tail_K, tail_D = c ** (N + 1) * R, c ** (N + 1) * T
    slope = abs(sw2 * float((j[1:] * a2[1:]) @ powers[:-1]) / q - 1.0) if c else abs(
        sw2 * float(a2[1]) / q - 1.0)
    # ∂a_j/∂q from the coefficients themselves (Stein's lemma twice, see the docstring).
    jj = np.arange(N + 1)
    ratio = np.sqrt((jj + 1.0) * (jj + 2.0))
    a_q = (ratio * A[0, 2:N + 3] + jj * a) / (2 * q)
    b_q = (ratio * A[1, 2:N + 3] + jj * b) / (2 * q)
    K = float(a2 @ powers) + 0.5 * tail_K
    dC_dq = sw2 * float((2 * a * a_q) @ powers) / q - (sw2 * K + sb2) / q**2
    err_K = float((2 * np.abs(a) * da) @ powers) + 0.5 * tail_K + eps * (K + m * c ** (N + 1))
    err_C = sw2 * err_K / q + abs(dC_dq) * q_err + eps * c
    c_err = err_C / slope if slope > 0 else math.inf
    truncation_dominates = 0.5 * tail_K * sw2 / q > 1e-3 * max(err_C, 1e-300)
    if truncation_dominates and c ** (N + 1) > 1e-300:
        if N >= _N_MAX:
            return None, None  # c* too close to 1 for the series: the 2-D rule decides
        # take as many terms as the bound asks for
        target = 1e-3 * max(err_C, 1e-300) * q / (sw2 * R)
        more = math.log(target) / math.log(c) if 0 < c < 1 and target < 1 else math.inf
        return None, int(min(more, _N_MAX)) + 8
    D = float(b2 @ powers) + 0.5 * tail_D
    dD_dc = float((j[1:] * b2[1:]) @ powers[:-1]) if c else float(b2[1])
    err_D = (float((2 * np.abs(b) * db) @ powers) + 0.5 * tail_D + eps * (D + s * c ** (N + 1))
             + abs(dD_dc) * c_err + abs(float((2 * b * b_q) @ powers)) * q_err)
    return (c, c_err + 1e-16, sw2 * D, sw2 * err_D + 1e-16 * sw2 * D), None


def _c_star_2d(k: Kernels, sw2: float, sb2: float, q: float, *, n: int = 16
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
