"""The law of x = φ'(h)², h ~ N(0, q), and a float64 Gaussian rule for expectations.

The edge and the density of the Jacobian spectrum need the law of D² itself, not only its
moments: :func:`slope_law` gives it exactly (point masses) when φ' is piecewise constant,
and as a discretisation (graded composite Gauss–Legendre on the pieces) otherwise.
:func:`gauss_expect` is the same rule for any E[f(h)] in float64, with an error estimate
(the β-expansion, the design helper's scan and the edge's error use it).

>>> law = slope_law(as_activation("relu"), sympy.Integer(1))
>>> law.atoms
((0, 1/2), (1, 1/2))
>>> value, err = gauss_expect("identity", 2.0, lambda h: h**2)
>>> round(value, 12), err < 1e-12
(2.0, True)
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
from symgrad.types import FloatArray

__all__ = ["SlopeLaw", "exact_form", "gauss_expect", "scale_free", "slope_law"]


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


def exact_form(value: Any) -> sympy.Expr:
    """An exact SymPy number as it is (SymPy's automatic evaluation only); Floats, if any,
    read as the exact rationals of their decimal form.  Never ``nsimplify`` an exact
    number: it returns "simple" guesses (1 for 1 + 10⁻²⁰).

    >>> exact_form(sympy.Rational(10**20 + 1, 10**20)) == 1
    False
    """
    e = sympy.sympify(value)
    return sympy.nsimplify(e, rational=True) if e.has(sympy.Float) else e


def scale_free(act: Activation) -> bool:
    """True when the law of φ'(√q Z)² does not depend on q: every piece has a constant
    φ' and every breakpoint is 0 (positively homogeneous φ: relu, leaky_relu, identity)."""
    return (all(b == 0 for b in act.breakpoints)
            and all(not p.derivative.has(sympy.Symbol) for p in act.pieces))


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
        x = exact_form(x)
        total[x] = sympy.simplify(total.get(x, sympy.Integer(0)) + p)
    return tuple(sorted(((x, p) for x, p in total.items() if p != 0),
                        key=lambda xp: float(xp[0])))
