"""Float evaluators of an activation and the one-variance panel rule of the fast mode.

:func:`kernels` gives φ, φ' in float64 with their limits at 0 and ±∞ (cached per
activation).  :func:`moments_one` is the panel Gauss–Legendre rule of
:mod:`symgrad._exact.gauss_rule` for a single variance q (a = 0, b = √q), without the
batch machinery: the same edges (the activation's scales s/√q, its breakpoints β/√q, the
Gaussian's scales, |Z| ≤ 12), optionally cut to a maximum width, n and 2n nodes per panel.

>>> import numpy as np
>>> from symgrad import activation
>>> k = kernels(activation("relu"))
>>> value, error, _ = moments_one(lambda u, Z: [k.phi(u) ** 2], 4.0, k.breakpoints,
...                               n=16, estimate=True)
>>> round(float(value[0, 0]), 12), bool(error[0, 0] < 1e-14)  # E[relu(2Z)²] = 2
(2.0, True)
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import sympy

from symgrad._core.symbols import z
from symgrad._exact.gauss_rule import Z_MAX
from symgrad._exact.limits import limit_at
from symgrad.activations.record import Activation
from symgrad.errors import NoClosedForm
from symgrad.types import FloatArray

__all__ = ["Kernels", "kernels", "moments_one", "panel_edges", "panel_rule"]


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
    # The tail form's exact limit (cached, and shared with sup|φ'|'s candidates), else
    # SymPy's Gruntz algorithm (a second for tanh', six for gelu_tanh's).
    try:
        value = limit_at(expr, 1 if at == sympy.oo else -1).value
    except NoClosedForm:
        value = None
    if value is None:
        try:
            value = sympy.limit(expr, z, at)
        except (NotImplementedError, ValueError, TypeError):  # pragma: no cover - gave up
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


def panel_edges(rq: float, breakpoints: tuple[float, ...], *, width: float = math.inf
                 ) -> FloatArray:
    """The panel edges of :func:`symgrad._exact.gauss_rule.edges` for a = 0, b = √q (the
    activation's scales s/√q, its breakpoints β/√q and the Gaussian's scales, clipped to
    |Z| ≤ 12, zero-width panels dropped), each panel cut to at most ``width``."""
    cuts = set(_GAUSS_CUTS)
    if rq > 0:
        cuts.update(s / rq for s in _SCALE_CUTS)
        cuts.update(b / rq for b in breakpoints)
    edges = sorted(c for c in cuts if -Z_MAX <= c <= Z_MAX)
    if width < math.inf:
        fine = [edges[0]]
        for lo, hi in itertools.pairwise(edges):
            parts = max(1, math.ceil((hi - lo) / width))
            fine.extend([lo + (hi - lo) * (i + 1) / parts for i in range(parts)])
        edges = fine
    return np.array(edges)


_GAUSS_CUTS = (0.0, Z_MAX, -Z_MAX, *(s * e for e in (1.0, 2.0, 3.0, 4.5, 6.5, 9.0)
                                     for s in (1.0, -1.0)))
_SCALE_CUTS = tuple(s * e for e in (0.25, 1.0, 4.0, 16.0) for s in (1.0, -1.0))


def panel_rule(edges: FloatArray, n: int) -> tuple[FloatArray, FloatArray]:
    """Nodes Z and weights (Gauss–Legendre × half-width × Gaussian pdf), 1-D."""
    if n not in _LEGENDRE:
        _LEGENDRE[n] = np.polynomial.legendre.leggauss(n)
    x, w = _LEGENDRE[n]
    half = 0.5 * np.diff(edges)[:, None]
    Z = ((0.5 * (edges[1:] + edges[:-1]))[:, None] + half * x).ravel()
    W = (half * w).ravel() * (_INV_SQRT_2PI * np.exp(-0.5 * Z * Z))
    return Z, W


_LEGENDRE: dict[int, tuple[FloatArray, FloatArray]] = {}
_ENDS = np.array([-Z_MAX, Z_MAX])
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def moments_one(f: Callable[[FloatArray, FloatArray], list[FloatArray]], q: float,
                 breakpoints: tuple[float, ...], *, n: int, estimate: bool
                 ) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_moments` for a single q, shapes (k, 1) as there."""
    rq = math.sqrt(q)
    edges = panel_edges(rq, breakpoints)
    rules = [panel_rule(edges, nn) for nn in ((n, 2 * n) if estimate else (n,))]
    # one evaluation of f on every node of both rules and the two ends |Z| = 12
    Z = np.concatenate([*(nodes for nodes, _ in rules), _ENDS])
    with np.errstate(over="ignore", invalid="ignore"):
        F = np.stack(f(rq * Z, Z))
        at_ends = np.abs(F[:, -2:]).max(axis=1)
    tail = (at_ends * (_INV_SQRT_2PI * math.exp(-0.5 * Z_MAX**2) * Z_MAX))[:, None]
    sums, start = [], 0
    for nodes, weights in rules:
        sums.append(F[:, start:start + nodes.size] @ weights)
        start += nodes.size
    value = sums[-1][:, None]
    error = np.abs(sums[-1] - sums[0])[:, None] if estimate else np.full_like(value, np.nan)
    return value, error, tail
