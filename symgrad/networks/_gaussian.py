"""Gaussian expectations the network recursions need, for any activation, fast.

For u = √q·Z, Z ~ N(0, 1), and a pair (u, u') with E[u²] = E[u'²] = q, E[uu'] = c·q:

* V(q) = E[φ(u)²], S(q) = E[φ'(u)²], M(q) = E[φ(u)]   (one point),
* P(q, c) = E[φ(u)φ(u')]                              (the correlation map).

Closed forms (exact, SymPy) where symgrad has them — identity, the leaky_relu family
(relu is α = 0: the arc-cosine kernel of Cho and Saul 2009) and erf (Williams 1997's
arc-sine kernel) — and numbers otherwise:

* one point: a table on t = ln q with step 1/16, filled in chunks of one unit of t as a
  trajectory reaches them (and kept for the whole process: later calls reuse it), by
  symgrad's panel Gauss–Legendre rule (n and 2n nodes per panel; their difference is
  the quadrature error estimate), read by quintic Hermite interpolation with the exact
  derivatives in t (differentiate the N(0, q) density, q = e^t):

  d/dt E[g(√q Z)] = E[g(√q Z)(Z² − 1)/2],   d²/dt² E[g(√q Z)] = E[g(√q Z)(Z⁴ − 4Z² + 1)/4].

  The interpolation error is estimated from the sixth derivative: the Hermite remainder
  is f⁽⁶⁾(ξ)·(s(1 − s))³h⁶/6! ≤ h⁶|f⁽⁶⁾|/46080, and h⁴f⁽⁶⁾ ≈ Δ⁴f'' (fourth differences
  of the exact second derivatives at the nodes), so the estimate is h²·max|Δ⁴f''|/46080;
* the pair: a nested panel rule (inner expectations over Z' at every outer node Z);
* below the table (q < e^{−28}, a vanishing signal): the expansion at 0 of
  :mod:`._asymptotics`.

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
from typing import Any

import numpy as np
import sympy
from sympy.printing.pycode import PythonCodePrinter

from symgrad._core.symbols import z
from symgrad._exact.gauss_rule import edges, expect, rule
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.networks._asymptotics import Q_SMALL, T_MIN, small, small_coefficients
from symgrad.types import FloatArray

__all__ = ["STEP", "T_MAX", "C", "GaussianMaps", "Q", "gaussian_maps", "math_function"]

#: Symbols the closed forms are written in: the variance q > 0 and the correlation c.
Q = sympy.Symbol("q", positive=True)
C = sympy.Symbol("c", real=True)

STEP = 16            # table nodes per unit of ln q
_N = 12               # Gauss–Legendre nodes per panel (and 2n for the error estimate)
_T_MIN, T_MAX = T_MIN, 28  # ln q ∈ [−28, 28]: q from 7e-13 to 1.4e12
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
        # The family's own form (not activation(...), whose continuity check costs 50 ms).
        if act.expr == sympy.Piecewise((alpha * z, z <= 0), (z, True)):
            return _leaky(alpha)
    return None


# ---- the numeric table ----

def _quintic(f0: FloatArray, d0: FloatArray, e0: FloatArray, f1: FloatArray,
             d1: FloatArray, e1: FloatArray) -> FloatArray:
    """Coefficients c0 … c5 (rows) of the quintic p(s) on [0, 1] with p, p', p'' given at
    both ends (derivatives already in units of s)."""
    return np.stack([
        f0, d0, e0 / 2,
        -10 * f0 - 6 * d0 - 1.5 * e0 + 0.5 * e1 - 4 * d1 + 10 * f1,
        15 * f0 + 8 * d0 + 1.5 * e0 - e1 + 7 * d1 - 15 * f1,
        -6 * f0 - 3 * d0 - 0.5 * e0 + 0.5 * e1 - 3 * d1 + 6 * f1])


@dataclass
class _Chunk:
    """t = ln q ∈ [k, k + 1]: per interval the quintic coefficients of V, S, M (18 per
    interval; ``rows`` as Python tuples for scalar reads, ``array`` (16, 18) for vectors)
    and the relative error estimate of the chunk."""

    rows: list[tuple[float, ...]]
    array: FloatArray
    error: float


@dataclass
class _Table:
    """Chunks of the one-point table, filled on demand and kept (per activation)."""

    act: Activation
    chunks: dict[int, _Chunk] = field(default_factory=dict)

    def chunk(self, k: int) -> _Chunk:
        got = self.chunks.get(k)
        if got is None:
            got = self.chunks[k] = self._fill(k)
        return got

    def _fill(self, k: int) -> _Chunk:
        t = k + np.arange(STEP + 1) / STEP
        values, errors = _one_point(self.act, np.exp(t))
        # values: (9, n) = (g, dg/dt, d²g/dt²) for g = φ², φ'², φ.
        h = 1.0 / STEP
        coefs, interp = [], 0.0
        for i in range(3):
            f, d, e = values[3 * i], values[3 * i + 1] * h, values[3 * i + 2] * h * h
            coefs.append(_quintic(f[:-1], d[:-1], e[:-1], f[1:], d[1:], e[1:]))
            # Hermite remainder h⁶|f⁽⁶⁾|/46080 with h⁴f⁽⁶⁾ ≈ Δ⁴f'' (module docstring).
            sixth = float(np.abs(np.diff(values[3 * i + 2], 4)).max()) * h * h / 46080
            # M may vanish (odd φ): its error is measured against √V instead (M² ≤ V).
            ref = np.sqrt(np.abs(values[0])) if i == 2 else np.abs(values[3 * i])
            interp = max(interp, sixth / max(float(ref.min()), 1e-300))
        rel = max(float((errors[r] / np.maximum(np.abs(values[r]), 1e-300)).max())
                  for r in (0, 3)) if errors.size else 0.0
        array = np.concatenate(coefs).T.copy()  # (16, 18): V c0..c5, S c0..c5, M c0..c5
        return _Chunk([tuple(row) for row in array.tolist()], array,
                      max(rel + interp, 4e-16))


def _one_point(act: Activation, q: FloatArray) -> tuple[FloatArray, FloatArray]:
    def f(u: FloatArray, zz: FloatArray) -> list[FloatArray]:
        # φ and φ' in one pass (bit-identical to act.numpy, act.numpy_prime).
        p, d = np.empty_like(u), np.empty_like(u)
        act.numpy_into(u, p, d)
        z2 = zz * zz
        w1 = (z2 - 1.0) / 2.0
        w2 = (z2 * z2 - 4.0 * z2 + 1.0) / 4.0
        p2, d2 = p * p, d * d
        return [p2, p2 * w1, p2 * w2, d2, d2 * w1, d2 * w2, p, p * w1, p * w2]

    breaks = tuple(float(b) for b in act.breakpoints)
    r = expect(f, np.zeros_like(q), np.sqrt(q), breakpoints=breaks, n=_N)
    if not np.isfinite(r.value).all() or (r.tail[0] > _TAIL * np.abs(r.value[0]) + 1e-300).any():
        raise InvalidArgument(
            f"E[φ(√q Z)²] of {act.label} does not converge for q up to {float(q.max()):.3g}:"
            " its Gaussian moments diverge")
    return r.value, r.error


def _horner(c: tuple[float, ...], at: int, s: float) -> float:
    return c[at] + s * (c[at + 1] + s * (c[at + 2] + s * (c[at + 3] + s * (c[at + 4]
                                                                        + s * c[at + 5]))))


# ---- the maps of one activation ----

@dataclass
class GaussianMaps:
    """V, S, M and the pair map P of one activation, in floats and (when exact) SymPy.

    ``at(q)`` → (V, S, M, relative error estimate) in float64; ``at_many(q)`` the same
    for an array (with dV/dq, the slope of the variance map); ``pair(q, c)`` → (P,
    absolute error estimate).  ``exact``: closed forms exist; then ``V_sym`` … ``P_sym``
    take SymPy arguments and return exact expressions.
    """

    act: Activation
    exact: bool
    V_sym: SymFn | None
    S_sym: SymFn | None
    M_sym: SymFn | None
    P_sym: SymFn | None
    _float: tuple[Callable[..., float], ...] | None = None
    _table: _Table | None = None
    _vector: tuple[Callable[..., FloatArray], ...] | None = None

    def _where(self, q: float) -> tuple[_Chunk, int, float]:
        if not q > 0 or not math.isfinite(q):
            raise InvalidArgument(f"a Gaussian input needs a finite variance q > 0, got {q!r}")
        t = math.log(q)
        if not t < T_MAX:
            raise InvalidArgument(
                f"q = {q:.3g} is outside the range the quadrature table covers for"
                f" {self.act.label} (e^{_T_MIN} to e^{T_MAX})")
        k = math.floor(t)
        x = (t - k) * STEP
        j = min(int(x), STEP - 1)
        table = self._table
        if table is None:  # pragma: no cover - one of the two is always set
            raise RuntimeError("GaussianMaps without evaluators")
        return table.chunk(k), j, x - j

    def at(self, q: float) -> tuple[float, float, float, float]:
        if self._float is not None:
            if not q > 0 or not math.isfinite(q):
                raise InvalidArgument(
                    f"a Gaussian input needs a finite variance q > 0, got {q!r}")
            fv, fs, fm, _ = self._float
            return fv(q), fs(q), fm(q), 4e-16
        if 0 < q < Q_SMALL:
            return small(self.act, q)
        chunk, j, frac = self._where(q)
        c = chunk.rows[j]
        return _horner(c, 0, frac), _horner(c, 6, frac), _horner(c, 12, frac), chunk.error

    def at_many(self, q: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray,
                                              float]:
        """(V, S, M, dV/dq, largest relative error estimate) for every q (> 0, finite)."""
        q = np.asarray(q, dtype=np.float64)
        if not (np.isfinite(q).all() and (q > 0).all()):
            raise InvalidArgument("a Gaussian input needs finite variances q > 0")
        if self.exact:
            if self._vector is None:
                # Made on first use: NumPy's lambdify namespace costs a third of a second.
                self._vector = _vectorised(self)
            v, s, m, dv = (np.broadcast_to(f(q), q.shape).astype(np.float64)
                           for f in self._vector)
            return v, s, m, dv, 4e-16
        t = np.log(q)
        if not (t < T_MAX).all():
            raise InvalidArgument(f"some q lie above the range the quadrature table covers"
                                  f" for {self.act.label} (up to e^{T_MAX})")
        ks = np.floor(t).astype(int)
        out = np.empty((4, q.size))
        err = 0.0
        low = t < _T_MIN
        if low.any():
            coef, rel = small_coefficients(self.act)
            r = np.sqrt(q[low])
            for row, (c0, c1, c2) in enumerate(coef):
                out[row, low] = c0 + r * c1 + r * r * c2
            out[3, low] = coef[0][1] / (2 * r) + coef[0][2]
            err = float(rel * r.max() / math.sqrt(Q_SMALL))
        for k in np.unique(ks[~low]):
            sel = ks == k
            chunk = self.chunk_of(int(k))
            x = (t[sel] - k) * STEP
            j = np.minimum(x.astype(int), STEP - 1)
            s = x - j
            c = chunk.array[j]
            powers = np.stack([s**p for p in range(6)])
            dpowers = np.stack([p * s ** max(p - 1, 0) for p in range(6)])
            for row, at in enumerate((0, 6, 12)):
                out[row, sel] = np.einsum("pn,np->n", powers, c[:, at:at + 6])
            # dV/dq = (dV/ds)·(ds/dt)/q with ds/dt = 16.
            out[3, sel] = (np.einsum("pn,np->n", dpowers, c[:, 0:6]) * STEP / q[sel])
            err = max(err, chunk.error)
        return out[0], out[1], out[2], out[3], err

    def chunk_of(self, k: int) -> _Chunk:
        if self._table is None:  # pragma: no cover - only numeric maps have chunks
            raise RuntimeError("closed-form maps have no table")
        return self._table.chunk(k)

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


def math_function(args: tuple[sympy.Symbol, ...], expr: sympy.Expr) -> Callable[..., float]:
    """``sympy.lambdify(args, expr, modules="math")``: the same printer with the same
    settings writes the same line of Python, run in the ``math`` namespace, so the same
    floats come out; without lambdify's docstring (the expression printed once more,
    the larger part of its cost): the function's docstring is its source.  Arguments
    are plain symbols, whose names lambdify uses unchanged."""
    printer = PythonCodePrinter({"fully_qualified_modules": False, "inline": True,
                                 "allow_unknown_functions": True, "user_functions": {}})
    source = (f"def _closed_form({', '.join(a.name for a in args)}):\n"
              f"    return {printer.doprint(expr)}\n")
    namespace: dict[str, Any] = dict(vars(math))
    exec(compile(source, "<symgrad closed form>", "exec"), namespace)
    fn: Callable[..., float] = namespace["_closed_form"]
    fn.__doc__ = source  # the code it runs
    return fn


def _lambdified(fns: tuple[SymFn, SymFn, SymFn, SymFn]) -> tuple[Callable[..., float], ...]:
    qs, cs = sympy.Symbol("qs", positive=True), sympy.Symbol("cs", real=True)
    out = [math_function((qs,), sympy.sympify(fn(qs))) for fn in fns[:3]]
    pair = math_function((qs, cs), fns[3](qs, cs))

    def p(q: float, c: float) -> float:
        return float(pair(q, min(1.0, max(-1.0, c))))

    return (*out, p)


def _vectorised(maps: GaussianMaps) -> tuple[Callable[..., FloatArray], ...]:
    """V, S, M and dV/dq of closed-form maps as NumPy functions of an array q."""
    qs = sympy.Symbol("qs", positive=True)
    exprs = [sympy.sympify(fn(qs)) for fn in (maps.V_sym, maps.S_sym, maps.M_sym) if fn]
    exprs.append(sympy.diff(exprs[0], qs))
    return tuple(sympy.lambdify(qs, e, modules="numpy") for e in exprs)


@lru_cache(maxsize=64)
def gaussian_maps(act: Activation) -> GaussianMaps:
    """The Gaussian maps of ``act`` (cached per activation)."""
    act = as_activation(act)
    closed = _closed(act)
    if closed is not None:
        return GaussianMaps(act, True, *closed, _float=_lambdified(closed))
    return GaussianMaps(act, False, None, None, None, None, _table=_Table(act))
