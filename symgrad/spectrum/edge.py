"""The edge λ_max of the Jacobian spectrum: where the inverse M-transform turns.

Write the normalised slope law x̃ = φ'(h)²/μ_1 and parametrise by y ∈ (0, 1/x̃_max), the
argument of its inverse M-transform: w = M̃(y) = E[x̃y/(1 − x̃y)] is increasing, and the
Jacobian's χ̃(w) = M^{−1}(w) of JJᵀ/χ₁^L becomes, with S̃_{D²}(w) = y(1 + w)/w,

    F(y) = ln χ̃ = (1 − L)·ln w − ln(1 + w) + L·ln y               (Gaussian W),
    F(y) = ln χ̃ = (1 − L)·ln w + (L − 1)·ln(1 + w) + L·ln y       (orthogonal W).

M_{JJᵀ}(z) = Σ m_k z^k is increasing on [0, 1/λ_max) and has a square-root branch point
at z = 1/λ_max when the density has a soft edge, so 1/λ_max = sup χ̃ is attained at the
first critical point y_c of F (F'(y_c) = 0, F' > 0 before it); if F' > 0 on the whole
interval the supremum is the limit at its end (an atom or a hard edge at the top),
λ̃_max = exp(−F(y_c)) and λ_max = χ₁^L·λ̃_max.

When φ' is piecewise constant (relu, hard_tanh, leaky_relu, identity) the law has finitely
many atoms, w is rational in y and F'(y) = 0 is a polynomial equation with exact
coefficients: its root is isolated exactly (radicals when the degree is ≤ 2, else a
``CRootOf``), so λ_max is an exact algebraic number, and for a symbolic depth a closed form
in L.  Otherwise F' is evaluated on the discretised law and its root bracketed in float64.

>>> y_c, lam = exact_edge(((sympy.Integer(1), sympy.Integer(1)),), 3, gaussian=True)
>>> y_c, lam                                   # linear Gaussian: (L + 1)^{L+1}/L^L
(1/4, 256/27)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import flint
import numpy as np
import sympy

from symgrad.errors import InvalidArgument
from symgrad.spectrum._law import exact_form
from symgrad.types import FloatArray

__all__ = ["edge_ball", "exact_edge", "log_chi", "numeric_edge"]

_Y = sympy.Symbol("y", positive=True)


def _normalised(atoms: Sequence[tuple[sympy.Expr, sympy.Expr]]
                ) -> tuple[list[tuple[sympy.Expr, sympy.Expr]], sympy.Expr]:
    mu1 = exact_form(sum((p * x for x, p in atoms), sympy.Integer(0)))
    if mu1 == 0:
        raise InvalidArgument("φ' vanishes almost surely: the Jacobian is zero")
    return [(sympy.simplify(x / mu1), p) for x, p in atoms if x != 0], mu1


def _log_chi_expr(w: sympy.Expr, depth: Any, gaussian: bool) -> sympy.Expr:
    """χ̃ as a SymPy expression in w and y (the exponential of F)."""
    if gaussian:
        return w ** (1 - depth) / (1 + w) * _Y**depth
    return w ** (1 - depth) * (1 + w) ** (depth - 1) * _Y**depth


def exact_edge(atoms: Sequence[tuple[sympy.Expr, sympy.Expr]], depth: Any, *, gaussian: bool
               ) -> tuple[sympy.Expr | None, sympy.Expr | None]:
    """(y_c, λ̃_max) exactly for an atomic law ((x_i, p_i), …); y_c is None when the top of
    the support is an end point (then λ̃_max = lim exp(−F) at y → 1/x̃_max).  ``depth`` is
    an integer or a positive SymPy symbol (then a ``Piecewise`` in it when the branch
    depends on L).  Beyond depth 64, λ̃_max is None: its exact powers would be huge, and
    :func:`edge_ball` encloses it from the exact root."""
    law, _ = _normalised(atoms)
    y_max = 1 / max(x for x, _ in law)
    w = sum((p * x * _Y / (1 - x * _Y) for x, p in law), sympy.Integer(0))
    dw = sympy.diff(w, _Y)
    L = depth
    if gaussian:
        dF = dw * ((1 - L) / w - 1 / (1 + w)) + L / _Y
    else:
        dF = dw * (L - 1) * (1 / (1 + w) - 1 / w) + L / _Y
    numerator = sympy.expand(sympy.numer(sympy.together(dF)))
    chi = _log_chi_expr(w, L, gaussian)
    if isinstance(L, sympy.Symbol):
        return _symbolic_edge(numerator, chi, y_max, L, dF)
    root = _first_turn(numerator, dF, y_max)
    if root is None:
        if L > 64:
            raise InvalidArgument("no interior turn of the inverse M-transform at this depth "
                                  "(an atom or hard edge at the top); give a depth <= 64")
        return None, _end_value(chi, y_max, L, gaussian)
    if L <= 64:
        return root, _tidy(1 / chi.subs(_Y, root), L)
    return root, None  # deep: evaluate with edge_ball (exact powers would be huge)


def edge_ball(atoms: Sequence[tuple[sympy.Expr, sympy.Expr]], y_c: sympy.Expr, depth: int, *,
              gaussian: bool) -> Any:
    """λ̃_max = 1/χ̃(y_c) as an ``arb`` ball from the exact root y_c (call inside
    ``flint.ctx.workprec``): w^{L−1}(1 + w)·y^{−L} (Gaussian), (w/(1 + w))^{L−1}·y^{−L}
    (orthogonal), w = M̃(y_c) exact and enclosed at 80 digits."""

    law, _ = _normalised(atoms)
    w_c = sum((p * x * y_c / (1 - x * y_c) for x, p in law), sympy.Integer(0))
    y = flint.arb(str(sympy.N(y_c, 80)), "1e-75")
    w = flint.arb(str(sympy.N(w_c, 80)), "1e-75")
    if gaussian:
        return w ** (depth - 1) * (1 + w) / y**depth
    return (w / (1 + w)) ** (depth - 1) / y**depth


def _tidy(expr: sympy.Expr, depth: int) -> sympy.Expr:
    # Simplifying (a + b√c)^L expands it: only for shallow nets.
    if depth > 64 or expr.has(sympy.CRootOf) or sympy.count_ops(expr) > 400:
        return expr
    return sympy.radsimp(sympy.simplify(expr))


def _end_value(chi: sympy.Expr, y_max: sympy.Expr, L: int, gaussian: bool) -> sympy.Expr:
    """lim 1/χ̃ as y → y_max⁻ (no interior turn).  w → +∞ there (the top atom has positive
    mass), so 1/χ̃ = w^{L−1}(1 + w)·y^{−L} → ∞ (Gaussian) and 1/χ̃ = (w/(1 + w))^{L−1}·y^{−L}
    → y_max^{−L} (orthogonal); SymPy's ``limit`` only for an irrational y_max, whose form
    it chooses."""
    if gaussian:
        return sympy.oo
    if y_max.is_Rational:
        return y_max ** (-L)
    return sympy.simplify(sympy.limit(1 / chi, _Y, y_max, "-"))


def _first_turn(numerator: sympy.Expr, dF: sympy.Expr, y_max: sympy.Expr) -> sympy.Expr | None:
    """The smallest root of F' in (0, y_max) at which F' changes sign from + to −.

    Degree ≤ 2: the roots in radicals (``roots``), located and sign-checked as they come;
    only the turn is then simplified, to the form ``solve`` gives (its roots, simplified)
    followed by ``radsimp``."""
    poly = sympy.Poly(numerator, _Y)
    if poly.degree() <= 0:
        return None
    radicals = poly.degree() <= 2
    if radicals:
        candidates = sympy.roots(poly, multiple=True)
    elif all(c.is_Rational for c in poly.all_coeffs()):
        candidates = list(sympy.real_roots(poly))
    else:
        raise InvalidArgument("the edge equation has irrational coefficients of degree > 2; "
                              "use the numeric edge")
    inside = sorted((r for r in candidates if r.is_real and 0 < r < y_max),
                    key=lambda r: sympy.N(r, 40))
    for r in inside:
        eps = sympy.Rational(1, 10**30) * sympy.Min(r, y_max - r)
        left = sympy.N(dF.subs(_Y, r - eps), 50)
        right = sympy.N(dF.subs(_Y, r + eps), 50)
        if left > 0 > right:
            return sympy.radsimp(sympy.simplify(r)) if radicals else r
    return None


def _symbolic_edge(numerator: sympy.Expr, chi: sympy.Expr, y_max: sympy.Expr,
                   L: sympy.Symbol, dF: sympy.Expr) -> tuple[sympy.Expr | None, sympy.Expr]:
    roots = sympy.solve(numerator, _Y)
    # The branch: the root that is the first turn for every depth where an interior turn
    # exists; picked at L = 64 (deep) and checked at L = 1, 2, 3, 5, 64 below.
    chosen = None
    for r in roots:
        value = r.subs(L, 64)
        if value.is_real and 0 < sympy.N(value) < sympy.N(y_max.subs(L, 64)):
            chosen = r
            break
    if chosen is None:
        raise InvalidArgument("no closed-form edge in L for this law; give an integer depth")
    lam = sympy.simplify(1 / chi.subs(_Y, chosen))
    condition = sympy.And(chosen > 0, chosen < y_max)
    for d in (1, 2, 3, 5, 64):
        turn = _first_turn(sympy.expand(numerator.subs(L, d)), dF.subs(L, d), y_max)
        inside = bool(condition.subs(L, d))
        if (turn is not None) != inside or (inside and sympy.N(turn - chosen.subs(L, d), 30)
                                            != 0):
            raise InvalidArgument("the symbolic edge branch could not be confirmed; give an "
                                  "integer depth")
    if condition.subs(L, 10**6) is sympy.true and all(
            bool(condition.subs(L, d)) for d in range(1, 9)):
        return chosen, lam
    boundary = sympy.limit(1 / chi, _Y, y_max, "-")  # only where the branch depends on L
    return chosen, sympy.Piecewise((lam, condition), (sympy.simplify(boundary), True))


# ---- discretised laws (float64) ----


def log_chi(y: Any, x: FloatArray, p: FloatArray, depth: int, gaussian: bool
            ) -> tuple[Any, Any, Any]:
    """(F(y), F'(y), w) for the normalised law with atoms or nodes x̃ (masses p), y real or
    complex (arrays broadcast against the last axis of x)."""
    y = np.asarray(y)
    d = 1.0 - y[..., None] * x
    w = np.sum(p * x * y[..., None] / d, axis=-1)
    dw = np.sum(p * x / (d * d), axis=-1)
    L = depth
    if gaussian:
        F = (1 - L) * np.log(w) - np.log1p(w) + L * np.log(y)
        dF = dw * ((1 - L) / w - 1 / (1 + w)) + L / y
    else:
        F = (1 - L) * np.log(w) + (L - 1) * np.log1p(w) + L * np.log(y)
        dF = dw * (L - 1) * (1 / (1 + w) - 1 / w) + L / y
    return F, dF, w


def numeric_edge(x: FloatArray, p: FloatArray, depth: int, *, gaussian: bool
                 ) -> tuple[float | None, float]:
    """(y_c, λ̃_max) for a discretised normalised law (x̃_i, p_i), in float64: the first
    sign change of F' on a grid of (0, 1/x̃_max) geometric towards both ends, refined by
    bisection.  λ̃_max is ∞ (float) when F → −∞ at the end without a turn."""
    y_max = 1.0 / float(np.max(x[p > 0]))
    near_zero = np.geomspace(1e-14, 0.5, 1500)
    grid = y_max * np.concatenate([near_zero, 1.0 - near_zero[::-1][1:]])
    with np.errstate(all="ignore"):
        _, dF, _ = log_chi(grid, x, p, depth, gaussian)
    turns = np.nonzero((dF[:-1] > 0) & (dF[1:] <= 0))[0]
    if len(turns) == 0:
        with np.errstate(all="ignore"):
            F, _, _ = log_chi(np.array([grid[-1]]), x, p, depth, gaussian)
        return None, math.exp(min(-float(F[0]), 700.0))
    lo, hi = float(grid[turns[0]]), float(grid[turns[0] + 1])
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        with np.errstate(all="ignore"):
            rising = log_chi(np.array([mid]), x, p, depth, gaussian)[1][0] > 0
        if rising:
            lo = mid
        else:
            hi = mid
    y_c = 0.5 * (lo + hi)
    with np.errstate(all="ignore"):
        F, _, _ = log_chi(np.array([y_c]), x, p, depth, gaussian)
    return y_c, math.exp(-float(F[0]))
