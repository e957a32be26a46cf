"""The correlation fixed point c* and χ_{c*} of the fast mode, from Hermite coefficients.

Notation as in :mod:`symgrad.meanfield.numeric`: u₁, u₂ have variance q* and correlation
c; C(c) = (σ_w²·E[φ(u₁)φ(u₂)] + σ_b²)/q*, χ_c = σ_w²·E[φ'(u₁)φ'(u₂)] (Poole et al. 2016).

>>> from symgrad import activation
>>> from symgrad.meanfield.quadrature import kernels
>>> c, c_err, chi_c, chi_err = c_star_fast(kernels(activation("erf")), 4.0, 0.04, 1.0)
>>> bool(0 < c < 1), bool(c_err < 1e-12), bool(chi_err < 1e-12)
(True, True, True)
"""

from __future__ import annotations

import math

import numpy as np

from symgrad._exact.gauss_rule import edges, expect, rule
from symgrad.meanfield.quadrature import Kernels, moments_one, panel_edges, panel_rule
from symgrad.types import FloatArray

__all__ = ["c_star_fast"]


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
    series = _Series(k, q, n=n, terms=_N_FIRST)
    while True:
        if series.terms < N:
            series = _Series(k, q, n=n, terms=N)
        out, more = _c_star_hermite(series, sw2, sb2, q, N, q_err=q_err)
        if out is not None:
            return out
        if N >= _N_MAX or more is None or more > _N_MAX:
            return _c_star_2d(k, sw2, sb2, q, n=n)
        more = max(more, N + 8)
        N = min(_N_MAX, more if more <= series.terms else max(more, 2 * N))


_N_MAX = 384  # Hermite terms before the 2-D rule takes over (c* ≳ 0.9 for tanh)
#: Terms the first panel layout resolves: the series starts with 24 and, when the
#: truncation bound asks for more (SELU's kinked derivative), extends on the same nodes.
_N_FIRST = 48


def _width(terms: int) -> float:
    """Panel width on which n-node Gauss–Legendre resolves h_j(Z)·pdf(Z) for j ≤ terms
    (h_j oscillates on the scale π/√j)."""
    return min(3.0, 16.0 / math.sqrt(terms + 2))


class _Series:
    """E[φ(√q Z)·h_j(Z)] and E[φ'(√q Z)·h_j(Z)] by the n- and the 2n-node panel rules
    (both rules' nodes side by side, each rule's weights zero on the other's nodes),
    computed up to a degree on demand: the normalised recurrence
    h_{j+1} = (Z·h_j − √j·h_{j−1})/√(j+1) resumes where it stopped, so asking for more
    terms on the same nodes repeats nothing.  Panels resolve degrees up to ``terms``."""

    def __init__(self, k: Kernels, q: float, *, n: int, terms: int) -> None:
        rq = math.sqrt(q)
        self.terms = terms
        edges = panel_edges(rq, k.breakpoints, width=_width(terms))
        (Z0, W0), (Z1, W1) = panel_rule(edges, n), panel_rule(edges, 2 * n)
        self.Z = Z = np.concatenate([Z0, Z1])
        u = rq * Z
        phi, dphi = k.phi(u), k.dphi(u)
        Wc = np.zeros((2, Z.size))
        Wc[0, :Z0.size], Wc[1, Z0.size:] = W0, W1
        # rows: φ·W0, φ·W1, φ'·W0, φ'·W1
        self.F = np.concatenate([phi * Wc, dphi * Wc])
        # E[φ²] and E[φ'²] by each rule: rows φ²·W0, φ²·W1, φ'²·W0, φ'²·W1 summed
        self.M = np.concatenate([Wc @ (phi * phi), Wc @ (dphi * dphi)])
        self.H = np.empty((terms + 3, Z.size))
        self.H[0] = 1.0
        self.H[1] = Z
        self.done = 1  # rows of H computed: 0..done
        self.C = np.empty((4, 0))
        self._roots = np.sqrt(np.arange(terms + 4, dtype=np.float64)).tolist()
        self._tmp = np.empty(Z.size)

    def coefficients(self, degree: int) -> FloatArray:
        """Columns j = 0..degree of the four rows' Hermite coefficients, shape (4, degree + 1)."""
        if degree < self.C.shape[1]:
            return self.C[:, :degree + 1]
        H, Z, tmp, roots = self.H, self.Z, self._tmp, self._roots
        for j in range(self.done, degree):
            row = H[j + 1]
            np.multiply(Z, H[j], out=row)
            np.multiply(H[j - 1], roots[j], out=tmp)
            np.subtract(row, tmp, out=row)
            np.multiply(row, 1.0 / roots[j + 1], out=row)
        self.done = max(self.done, degree)
        start = self.C.shape[1]
        self.C = np.concatenate([self.C, self.F @ H[start:degree + 1].T], axis=1)
        return self.C


def _c_star_hermite(series: _Series, sw2: float, sb2: float, q: float, N: int, *,
                    q_err: float) -> tuple[tuple[float, float, float, float] | None, int | None]:
    """(c*, …) from N + 1 Hermite terms; or (``None``, the number of terms the truncation
    bound asks for) when N is too few; (``None``, ``None``) when this rule cannot decide."""
    C = series.coefficients(N + 2)
    M = series.M
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
        return None, int(min(more, 10 * _N_MAX)) + 8
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

    lo, hi, c, step = 0.0, 1.0, 0.0, 0.0
    for _ in range(60):
        (K, D), _ = two_point(c, estimate=False, nn=n)
        h = (sw2 * K + sb2) / q - c
        if h == 0:
            step = 0.0
            break
        if h > 0:
            lo = c
        else:
            hi = c
        new = c - h / (sw2 * D - 1.0) if sw2 * D != 1.0 else math.nan
        if not (lo < new < hi):
            new = 0.5 * (lo + hi)
        step = abs(new - c)
        c = new
        if step <= 2e-16 * max(c, 1e-300) or hi - lo <= 4e-16:
            break
    (K, D), (eK, eD) = two_point(c, estimate=True, nn=n)
    dh = abs(sw2 * D - 1.0)
    rounding = 4e-16 * (sw2 * abs(K) / q + c)
    c_err = (sw2 * eK / q + rounding) / dh + step if dh > 0 else math.inf
    # D(c) = E[φ'(u₁)φ'(u₂)] is convex and increasing on [0, 1] (Mehler: nonnegative
    # coefficients), so D'(c) ≤ (D(1) − D(c))/(1 − c), with D(1) = E[φ'(√q Z)²].
    (s1,), _, _ = moments_one(lambda u, Z: [k.dphi(u) ** 2], q, k.breakpoints, n=n,
                              estimate=False)
    slope_bound = max(float(s1[0]) - D, 0.0) / (1.0 - c) if c < 1 else math.inf
    chi_err = sw2 * (eD + slope_bound * c_err) + 4e-16 * sw2 * abs(D)
    return c, c_err + 1e-16, sw2 * D, chi_err
