"""Where the Gaussian slope moments come from: μ_k = E[φ'(√q Z)^{2k}] and the law of D².

Everything the spectrum knows about φ enters through the law of x = φ'(h)², h ~ N(0, q*):
its moments μ_k (:func:`slope_moments`, the one source the free-probability algebra
uses) and, for the edge and the density, the law itself (:func:`slope_law`).

:func:`slope_moments` calls :func:`symgrad.expected_slope` — an exact closed form where
one exists (relu, leaky_relu, hard_tanh, erf, identity, …), otherwise an mpmath
quadrature with an error estimate — and labels each μ_k from what it says.  When q* is
itself a number with an error (a root of the fixed-point equation), that error is carried
over with this sensitivity bound (γ read off a fine grid, so the result is an estimate):

    dμ_k/d ln q = ½·E[φ'(h)^{2k}·(Z² − 1)],  so  |dμ_k/d ln q| ≤ ½·γ^{2k}·E|Z² − 1|
                = 2·pdf(1)·γ^{2k} ≈ 0.48394·γ^{2k},  γ = sup|φ'| (on ±13√q)

(d/dq of the N(0, q) density is the density times (h² − q)/(2q²)).  A certified Gaussian
integrator replaces the call to ``expected_slope`` here and nowhere else.

>>> m = slope_moments(as_activation("relu"), sympy.Integer(1), Exact(), 3)
>>> m.values, m.hows[0].kind.value
((1/2, 1/2, 1/2), 'exact')
>>> law = slope_law(as_activation("relu"), sympy.Integer(1))
>>> law.atoms
((0, 1/2), (1, 1/2))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.records import Estimated, Exact, How
from symgrad.slopes import expected_slope
from symgrad.types import FloatArray

__all__ = [
    "SENSITIVITY",
    "SlopeLaw",
    "SlopeMoments",
    "gauss_expect",
    "scale_free",
    "slope_law",
    "slope_moments",
]

#: 2·pdf(1) = E|Z² − 1|/2: |dμ_k/d ln q| ≤ SENSITIVITY·γ^{2k} (module docstring).
SENSITIVITY = 2.0 * math.exp(-0.5) / math.sqrt(2.0 * math.pi)


@dataclass(frozen=True)
class SlopeMoments:
    """μ_1 … μ_K at q, each with how it was obtained; ``degenerate`` when q* = 0 (the
    values are then the limit q → 0⁺: φ'(0⁻)^{2k} and φ'(0⁺)^{2k}, each with mass ½)."""

    q: sympy.Expr
    values: tuple[sympy.Expr, ...]
    hows: tuple[How, ...]
    degenerate: bool

    @property
    def exact(self) -> bool:
        return all(isinstance(h, Exact) for h in self.hows)


@dataclass(frozen=True)
class SlopeLaw:
    """The law of x = φ'(h)², h ~ N(0, q).

    ``atoms``: ((x_i, p_i), …) exactly, when φ' is piecewise constant (the law is then a
    finite sum of point masses whose masses are Gaussian probabilities of the pieces);
    otherwise ``None`` and ``nodes``/``weights`` discretise the law (composite
    Gauss–Legendre on the pieces, float64), with ``x_max`` = sup x = γ².
    """

    atoms: tuple[tuple[sympy.Expr, sympy.Expr], ...] | None
    nodes: FloatArray
    weights: FloatArray
    x_max: float


def scale_free(act: Activation) -> bool:
    """True when the law of φ'(√q Z)² does not depend on q: every piece has a constant
    φ' and every breakpoint is 0 (positively homogeneous φ: relu, leaky_relu, identity)."""
    return (all(b == 0 for b in act.breakpoints)
            and all(not p.derivative.has(sympy.Symbol) for p in act.pieces))


def _zero_limit(act: Activation, k: int) -> sympy.Expr:
    left, right = act.one_sided_derivatives(0)
    return sympy.nsimplify((left ** (2 * k) + right ** (2 * k)) / 2)


def slope_moments(act: Activation, q: sympy.Expr, q_how: How, count: int) -> SlopeMoments:
    """μ_k = E[φ'(√q Z)^{2k}] for k = 1 … ``count``, each labelled (module docstring).

    ``q_how`` says how q was obtained: :class:`Exact`, or :class:`Estimated` with an
    absolute ``error``.  q = 0 gives the limit q → 0⁺; q = ∞ is refused unless the law
    does not depend on q.
    """
    if scale_free(act):
        q = sympy.Integer(1)  # the law is the same at every q > 0
        q_how = Exact("scale-free law")
    if q == 0:
        limits = tuple(_zero_limit(act, k) for k in range(1, count + 1))
        return SlopeMoments(q, limits, tuple(Exact("limit q* → 0⁺") for _ in limits), True)
    if q == sympy.oo or q.is_finite is False:
        raise InvalidArgument(f"q* is infinite for {act.label}: the slope law has no limit")
    gamma = _slope_bound(act, float(q))
    rel_q = 0.0 if isinstance(q_how, Exact) else float(q_how.error) / float(q)  # type: ignore[union-attr]
    values: list[sympy.Expr] = []
    hows: list[How] = []
    for k in range(1, count + 1):
        es = expected_slope(act, q=q, power=2 * k, dps=20)
        values.append(es.value)
        if es.exact and rel_q == 0.0:
            hows.append(Exact("Gaussian integral in closed form (expected_slope)"))
            continue
        error = float(es.error or 0.0) + SENSITIVITY * gamma ** (2 * k) * rel_q
        # Never below the working precision of the value itself.
        error = max(error, 1e-30 * abs(float(es.value)))
        method = ("quadrature (expected_slope)" if not es.exact else "closed form")
        if rel_q:
            method += f" at q* known to {rel_q:.1e} (relative), |dμ/d ln q| ≤ 0.484·γ^{2 * k}"
        hows.append(Estimated(sympy.Float(error, 3), method))
    return SlopeMoments(q, tuple(values), tuple(hows), False)


def _slope_bound(act: Activation, q: float) -> float:
    """max |φ'| on ±13√q (where the Gaussian puts all but 1e−38 of its mass), on a grid of
    20 001 points plus the breakpoints, raised by 1 %: the γ of the sensitivity estimate."""
    reach = 13.0 * math.sqrt(q)
    grid = np.concatenate([np.linspace(-reach, reach, 20001),
                           [float(b) for b in act.breakpoints if abs(float(b)) <= reach]])
    return 1.01 * float(np.max(np.abs(act.numpy_prime(grid))))


# ---- the law itself ----


def _pieces_on(act: Activation, q: float) -> list[tuple[float, float, Any]]:
    """(lo, hi, piece) with ends clipped to ±13√q (the Gaussian mass beyond is < 1e−38)."""
    reach = 13.0 * math.sqrt(q)
    out = []
    for p in act.pieces:
        lo = max(float(p.lo), -reach)
        hi = min(float(p.hi), reach)
        if hi > lo:
            out.append((lo, hi, p))
    return out


@lru_cache(maxsize=64)
def _rule(act: Activation, q: float, panels: int) -> tuple[FloatArray, FloatArray]:
    """Nodes h_i and weights ω_i·pdf(h_i) of a composite 16-point Gauss–Legendre rule for
    E[f(h)], h ~ N(0, q), with panels that never straddle a breakpoint, graded (uniform in
    asinh(h/s), s = min(√q, 1)/2) so that the O(1) scale on which φ' varies near 0 is
    resolved however wide the Gaussian is."""
    t, w = np.polynomial.legendre.leggauss(16)
    nodes, weights = [], []
    scale = 0.5 * min(math.sqrt(q), 1.0)
    for lo, hi, _ in _pieces_on(act, q):
        cuts = scale * np.sinh(np.linspace(math.asinh(lo / scale), math.asinh(hi / scale),
                                           panels + 1))
        for a, b in itertools.pairwise(cuts):
            half = 0.5 * (b - a)
            h = 0.5 * (a + b) + half * t
            nodes.append(h)
            weights.append(half * w * np.exp(-h * h / (2 * q)) / math.sqrt(2 * math.pi * q))
    return np.concatenate(nodes), np.concatenate(weights)


def gauss_expect(act: Activation | str, q: float, fn: Any, *, panels: int = 24
                 ) -> tuple[float, float]:
    """E[fn(h)] for h ~ N(0, q) (``fn`` maps a float64 array of h to values) and an error
    estimate: the difference to the same rule with half the panels.

    >>> value, err = gauss_expect("identity", 2.0, lambda h: h**2)
    >>> round(value, 12), err < 1e-12
    (2.0, True)
    """
    a = as_activation(act)
    if not q > 0:
        raise InvalidArgument(f"q must be > 0, got {q!r}")
    h, w = _rule(a, float(q), panels)
    hc, wc = _rule(a, float(q), max(panels // 2, 1))
    fine = float(np.dot(w, fn(h)))
    coarse = float(np.dot(wc, fn(hc)))
    return fine, abs(fine - coarse) + 1e-15 * abs(fine)


def slope_law(act: Activation, q: sympy.Expr, *, panels: int = 24) -> SlopeLaw:
    """The law of φ'(√q Z)² (exact atoms when φ' is piecewise constant, else a
    discretisation); q = 0 gives the limit q → 0⁺."""
    empty = np.zeros(0)
    if scale_free(act):
        q = sympy.Integer(1)
    if q == 0:
        left, right = act.one_sided_derivatives(0)
        atoms = _merge([(left**2, sympy.Rational(1, 2)), (right**2, sympy.Rational(1, 2))])
        return SlopeLaw(atoms, empty, empty, max(float(x) for x, _ in atoms))
    if all(not p.derivative.has(sympy.Symbol) for p in act.pieces):
        root = sympy.sqrt(2 * q)

        def cdf(x: sympy.Expr) -> sympy.Expr:
            return sympy.Integer(-1) if x == -sympy.oo else (
                sympy.Integer(1) if x == sympy.oo else sympy.erf(x / root))

        masses = [(p.derivative**2, (cdf(p.hi) - cdf(p.lo)) / 2) for p in act.pieces]
        atoms = _merge(masses)
        return SlopeLaw(atoms, empty, empty, max(float(x) for x, _ in atoms))
    h, w = _rule(act, float(q), panels)
    x = np.asarray(act.numpy_prime(h), dtype=np.float64) ** 2
    keep = w > 0
    return SlopeLaw(None, x[keep], w[keep] / w[keep].sum(), float(x[keep].max()))


def _merge(pairs: list[tuple[sympy.Expr, sympy.Expr]]) -> tuple[tuple[sympy.Expr, sympy.Expr], ...]:
    """Point masses with equal values merged, sorted by value, zero masses dropped."""
    total: dict[sympy.Expr, sympy.Expr] = {}
    for x, p in pairs:
        x = sympy.nsimplify(x)
        total[x] = sympy.simplify(total.get(x, sympy.Integer(0)) + p)
    return tuple(sorted(((x, p) for x, p in total.items() if p != 0),
                        key=lambda xp: float(xp[0])))
