"""Gaussian expectations the network recursions need, for any activation, fast.

For u = √q·Z, Z ~ N(0, 1), and a pair (u, u') with E[u²] = E[u'²] = q, E[uu'] = c·q:

* V(q) = E[φ(u)²], S(q) = E[φ'(u)²], M(q) = E[φ(u)]   (one point),
* P(q, c) = E[φ(u)φ(u')]                              (the correlation map).

Closed forms (exact, SymPy) where symgrad has them — identity, the leaky_relu family
(relu is α = 0: the arc-cosine kernel of Cho and Saul 2009) and erf (Williams 1997's
arc-sine kernel) — and numbers otherwise:

* one point: a table on t = ln q with step 1/64, filled in chunks of one unit of t as a
  trajectory reaches them, by symgrad's panel Gauss–Legendre rule (n and 2n nodes per
  panel; their difference is the quadrature error estimate), read by cubic Hermite
  interpolation with the exact derivative dE[g(√q Z)]/d ln q = E[g(√q Z)(Z² − 1)]/2
  (differentiate the N(0, q) density).  The interpolation error is estimated from the
  fourth derivative, h·|Δ³g'|/384 per interval (the Hermite remainder h⁴ f⁗/384);
* the pair: a nested panel rule (inner expectations over Z' at every outer node Z).

This is the only module of :mod:`symgrad.networks` that imports symgrad's private
quadrature engine (:mod:`symgrad._exact.gauss_rule`).

>>> maps = gaussian_maps(as_activation("relu"))
>>> maps.exact, maps.V_sym(Q), maps.S_sym(Q)
(True, q/2, 1/2)
>>> v, s, m, err = gaussian_maps(as_activation("tanh")).at(1.0)
>>> round(v, 10), round(s, 10), err < 1e-9
(0.3942944904, 0.4644029024, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import sympy

from symgrad._core.symbols import z
from symgrad._exact.gauss_rule import edges, expect, rule
from symgrad.activations import Activation, activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.types import FloatArray

__all__ = ["C", "GaussianMaps", "Q", "gaussian_maps"]

#: Symbols the closed forms are written in: the variance q > 0 and the correlation c.
Q = sympy.Symbol("q", positive=True)
C = sympy.Symbol("c", real=True)

_STEP = 64            # table nodes per unit of ln q
_T_MIN, _T_MAX = -28, 28  # ln q ∈ [−28, 28]: q from 7e-13 to 1.4e12
_TAIL = 1e-10         # relative size of the dropped |Z| > 12 tail beyond which moments diverge

SymFn = Callable[..., sympy.Expr]


# ---- closed forms (dedupe: symgrad._closed_kernels, which derives the same kernels) ----

def _leaky(alpha: sympy.Expr) -> tuple[SymFn, SymFn, SymFn, SymFn]:
    # φ = αu + (1 − α)relu(u): E[u·relu(u')] = cq/2 by the symmetry (u, u') → (−u, −u'),
    # E[relu(u)relu(u')] = q(√(1 − c²) + (π − acos c)c)/(2π) (Cho and Saul 2009).
    a = alpha
    return (lambda q: (1 + a**2) * q / 2, lambda q: (1 + a**2) / 2 + 0 * q,
            lambda q: (1 - a) * sympy.sqrt(q) / sympy.sqrt(2 * sympy.pi),
            lambda q, c: a**2 * c * q + a * (1 - a) * c * q + (1 - a) ** 2 * q
            * (sympy.sqrt(1 - c**2) + (sympy.pi - sympy.acos(c)) * c) / (2 * sympy.pi))


def _erf() -> tuple[SymFn, SymFn, SymFn, SymFn]:
    # E[erf(u)erf(u')] = (2/π)asin(2cq/(1 + 2q)); erf'² = (4/π)e^{−2u²} integrates to
    # (4/π)/√(1 + 4q); erf is odd, so M = 0.
    return (lambda q: 2 / sympy.pi * sympy.asin(2 * q / (1 + 2 * q)),
            lambda q: 4 / sympy.pi / sympy.sqrt(1 + 4 * q), lambda q: 0 * q,
            lambda q, c: 2 / sympy.pi * sympy.asin(2 * c * q / (1 + 2 * q)))


def _identity() -> tuple[SymFn, SymFn, SymFn, SymFn]:
    return (lambda q: q, lambda q: 1 + 0 * q, lambda q: 0 * q, lambda q, c: c * q)


def _closed(act: Activation) -> tuple[SymFn, SymFn, SymFn, SymFn] | None:
    if act.family == "identity" and act.expr == z:
        return _identity()
    if act.family == "erf" and act.expr == sympy.erf(z):
        return _erf()
    if act.family == "leaky_relu":
        alpha = act.param("alpha")
        if act.expr == activation("leaky_relu", alpha=alpha).expr:
            return _leaky(alpha)
    return None


# ---- the numeric table ----

@dataclass
class _Table:
    """Chunks of the one-point table: chunk k covers t = ln q ∈ [k, k + 1]."""

    act: Activation
    chunks: dict[int, tuple[FloatArray, FloatArray, float]] = field(default_factory=dict)

    def chunk(self, k: int) -> tuple[FloatArray, FloatArray, float]:
        got = self.chunks.get(k)
        if got is None:
            got = self.chunks[k] = self._fill(k)
        return got

    def _fill(self, k: int) -> tuple[FloatArray, FloatArray, float]:
        t = k + np.arange(_STEP + 1) / _STEP
        values, errors = _one_point(self.act, np.exp(t))
        # values: (6, n) = V, dV/dt, S, dS/dt, M, dM/dt (derivatives in t = ln q).
        h = 1.0 / _STEP
        interp = 0.0
        for row in (0, 2, 4):
            third = np.abs(np.diff(values[row + 1], 3))
            # M may vanish (odd φ): its error is measured against √V instead (M² ≤ V).
            ref = np.sqrt(np.abs(values[0])) if row == 4 else np.abs(values[row])
            scale = max(float(ref.max()), 1e-300)
            interp = max(interp, float(h * third.max() / 384 / scale))
        rel = max(float((errors[r] / np.maximum(np.abs(values[r]), 1e-300)).max())
                  for r in (0, 2)) if errors.size else 0.0
        return values, errors, rel + interp


def _one_point(act: Activation, q: FloatArray) -> tuple[FloatArray, FloatArray]:
    phi, dphi = act.numpy, act.numpy_prime

    def f(u: FloatArray, zz: FloatArray) -> list[FloatArray]:
        p, d = phi(u), dphi(u)
        w = (zz * zz - 1.0) / 2.0
        p2, d2 = p * p, d * d
        return [p2, p2 * w, d2, d2 * w, p, p * w]

    breaks = tuple(float(b) for b in act.breakpoints)
    r = expect(f, np.zeros_like(q), np.sqrt(q), breakpoints=breaks, n=16)
    if not np.isfinite(r.value).all() or (r.tail[0] > _TAIL * np.abs(r.value[0]) + 1e-300).any():
        raise InvalidArgument(
            f"E[φ(√q Z)²] of {act.label} does not converge for q up to {float(q.max()):.3g}:"
            " its Gaussian moments diverge")
    return r.value, r.error


def _hermite(t: float, values: FloatArray, row: int, k: int) -> float:
    x = (t - k) * _STEP
    j = min(int(x), _STEP - 1)
    s = x - j
    f0, f1 = values[row, j], values[row, j + 1]
    d0, d1 = values[row + 1, j] / _STEP, values[row + 1, j + 1] / _STEP
    s2, s3 = s * s, s * s * s
    return float((2 * s3 - 3 * s2 + 1) * f0 + (s3 - 2 * s2 + s) * d0
                 + (-2 * s3 + 3 * s2) * f1 + (s3 - s2) * d1)


# ---- the maps of one activation ----

@dataclass
class GaussianMaps:
    """V, S, M and the pair map P of one activation, in floats and (when exact) SymPy.

    ``at(q)`` → (V, S, M, relative error estimate) in float64; ``pair(q, c)`` →
    (P, absolute error estimate).  ``exact``: closed forms exist; then ``V_sym`` …
    ``P_sym`` take SymPy arguments and return exact expressions.
    """

    act: Activation
    exact: bool
    V_sym: SymFn | None
    S_sym: SymFn | None
    M_sym: SymFn | None
    P_sym: SymFn | None
    _float: tuple[Callable[..., float], ...] | None = None
    _table: _Table | None = None

    def at(self, q: float) -> tuple[float, float, float, float]:
        if not q > 0 or not math.isfinite(q):
            raise InvalidArgument(f"a Gaussian input needs a finite variance q > 0, got {q!r}")
        if self._float is not None:
            v, s, m, _ = self._float
            return v(q), s(q), m(q), 4e-16
        table = self._table
        if table is None:  # pragma: no cover - one of the two is always set
            raise RuntimeError("GaussianMaps without evaluators")
        t = math.log(q)
        if not _T_MIN <= t < _T_MAX:
            raise InvalidArgument(
                f"q = {q:.3g} is outside the range the quadrature table covers for"
                f" {self.act.label} (e^{_T_MIN} to e^{_T_MAX})")
        k = math.floor(t)
        values, _, rel = table.chunk(k)
        return (_hermite(t, values, 0, k), _hermite(t, values, 2, k),
                _hermite(t, values, 4, k), rel)

    def pair(self, q: float, c: float) -> tuple[float, float]:
        """E[φ(u)φ(u')] at variance q and correlation c ∈ [−1, 1], with an error estimate."""
        if self._float is not None:
            return self._float[3](q, c), 4e-16 * q
        if c >= 1.0:
            v, _, _, rel = self.at(q)
            return v, rel * abs(v)
        if c == 0.0:
            _, _, m, rel = self.at(q)
            return m * m, 2 * rel * m * m + 1e-300
        return _pair_numeric(self.act, q, c)


def _pair_numeric(act: Activation, q: float, c: float) -> tuple[float, float]:
    # E_Z[φ(√q Z)·E_Z'[φ(√q(cZ + √(1−c²)Z'))]]: inner expectations for every outer node.
    breaks = tuple(float(b) for b in act.breakpoints)
    sq = math.sqrt(q)
    outer_edges = edges(np.zeros(1), np.array([sq]), breaks)
    results = []
    for n in (12, 24):
        nodes, weights = rule(outer_edges, n)
        zz = nodes[0]
        inner = expect(lambda u, _z: [act.numpy(u)], sq * c * zz,
                       np.full(zz.shape, sq * math.sqrt(max(1.0 - c * c, 0.0))),
                       breakpoints=breaks, n=n, estimate=False)
        results.append(float(np.dot(act.numpy(sq * zz) * inner.value[0], weights[0])))
    return results[1], abs(results[1] - results[0])


def _lambdified(fns: tuple[SymFn, SymFn, SymFn, SymFn]) -> tuple[Callable[..., float], ...]:
    qs, cs = sympy.Symbol("qs", positive=True), sympy.Symbol("cs", real=True)
    out = [sympy.lambdify(qs, sympy.sympify(fn(qs)), modules="math") for fn in fns[:3]]
    pair = sympy.lambdify((qs, cs), fns[3](qs, cs), modules="math")

    def p(q: float, c: float) -> float:
        return float(pair(q, min(1.0, max(-1.0, c))))

    return (*out, p)


@lru_cache(maxsize=64)
def gaussian_maps(act: Activation) -> GaussianMaps:
    """The Gaussian maps of ``act`` (cached per activation)."""
    act = as_activation(act)
    closed = _closed(act)
    if closed is not None:
        return GaussianMaps(act, True, *closed, _float=_lambdified(closed))
    return GaussianMaps(act, False, None, None, None, None, _table=_Table(act))


def slope_limits(act: Activation) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    """(S∞, V∞, γ₂): lim_{q→∞} E[φ'(√q Z)²] = (φ'(−∞)² + φ'(∞)²)/2, lim E[φ(√q Z)²] =
    (φ(−∞)² + φ(∞)²)/2 (∞ when φ is unbounded) and γ₂ = ∫φ'(x)²dx/√(2π), so that
    E[φ'(√q Z)²] ~ γ₂/√q when φ' is square integrable.  Exact (SymPy limits and
    integrals over the pieces); NaN when SymPy cannot decide."""
    return _slope_limits(act)


@lru_cache(maxsize=64)
def _slope_limits(act: Activation) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    pieces = act.pieces
    try:
        d_lo = sympy.limit(pieces[0].derivative, z, -sympy.oo)
        d_hi = sympy.limit(pieces[-1].derivative, z, sympy.oo)
        p_lo = sympy.limit(pieces[0].expr, z, -sympy.oo)
        p_hi = sympy.limit(pieces[-1].expr, z, sympy.oo)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover
        return sympy.nan, sympy.nan, sympy.nan
    s_inf = sympy.simplify((d_lo**2 + d_hi**2) / 2)
    v_inf = sympy.simplify((p_lo**2 + p_hi**2) / 2)
    gamma2: sympy.Expr = sympy.oo
    if s_inf == 0:
        total = sympy.Integer(0)
        for piece in pieces:
            part = sympy.integrate(sympy.simplify(piece.derivative**2), (z, piece.lo, piece.hi))
            if part.has(sympy.Integral):
                total = sympy.nan
                break
            total += part
        gamma2 = sympy.simplify(total / sympy.sqrt(2 * sympy.pi))
    return s_inf, v_inf, gamma2
