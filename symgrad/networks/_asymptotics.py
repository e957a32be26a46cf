"""Where the Gaussian maps leave their table: q → 0, and the slopes' limits as q → ∞.

* q → 0 (a vanishing signal, below the table's e^{−28}): the expansion at 0 from φ's
  one-sided derivatives there,

      E[g(√q Z)] = (g(0⁻) + g(0⁺))/2 + √q·(g'(0⁺) − g'(0⁻))/√(2π)
                   + q·(g''(0⁺) + g''(0⁻))/4 + O(q^{3/2})

  for g = φ², φ'², φ (Z > 0 sees the right-hand derivatives, Z < 0 the left-hand ones;
  E[Z; Z > 0] = 1/√(2π), E[Z²; Z > 0] = 1/2).  The relative error is ≈ √q where φ has a
  kink at 0 and ≈ q where it is smooth: below 1e−6 and 1e−12.
* q → ∞: :func:`slope_limits` (S∞, V∞, γ₂) for the residual laws.

>>> from symgrad.activations import as_activation
>>> s_inf, v_inf, gamma2 = slope_limits(as_activation("tanh"))
>>> s_inf, v_inf, sympy.nsimplify(gamma2 * sympy.sqrt(2 * sympy.pi))
(0, 1, 4/3)
"""

from __future__ import annotations

import math
from functools import lru_cache

import sympy

from symgrad._core.symbols import z
from symgrad.activations import Activation
from symgrad.networks._shortcuts import derivative, polynomial_integral, radsimp

__all__ = ["Q_SMALL", "T_MIN", "slope_limits", "small", "small_coefficients"]

#: The table's lower end in t = ln q.
T_MIN = -28
Q_SMALL = math.exp(T_MIN)


@lru_cache(maxsize=64)
def small_coefficients(act: Activation) -> tuple[tuple[tuple[float, float, float], ...], float]:
    """((c0, c½, c1) for φ², φ'², φ) with E[g(√q Z)] ≈ c0 + c½√q + c1·q (module
    docstring), and the relative error at q = e^{−28}."""
    right = next(p for p in act.pieces if p.lo <= 0 < p.hi)
    left = next(p for p in act.pieces if p.lo < 0 <= p.hi)
    sides = []
    for piece in (left, right):
        phi = piece.expr
        d1 = sympy.diff(phi, z)
        sides.append([float(sympy.limit(e, z, 0)) for e in (
            phi, d1, sympy.diff(phi, z, 2), sympy.diff(d1, z, 2))])
    (f_l, d_l, e_l, t_l), (f_r, d_r, e_r, t_r) = sides
    # g = φ²: g' = 2φφ', g'' = 2φ'² + 2φφ''; g = φ'²: g' = 2φ'φ'', g'' = 2φ''² + 2φ'φ'''.
    sq = [(f * f, 2 * f * d, 2 * d * d + 2 * f * e) for f, d, e in ((f_l, d_l, e_l),
                                                                     (f_r, d_r, e_r))]
    slope = [(d * d, 2 * d * e, 2 * e * e + 2 * d * t) for d, e, t in ((d_l, e_l, t_l),
                                                                       (d_r, e_r, t_r))]
    mean = [(f, d, e) for f, d, e in ((f_l, d_l, e_l), (f_r, d_r, e_r))]
    # (φ'² may jump at 0, as selu's does: the constant term is the mean of its two sides.)
    coef = tuple(((gl[0] + gr[0]) / 2, (gr[1] - gl[1]) / math.sqrt(2 * math.pi),
                  (gr[2] + gl[2]) / 4) for gl, gr in (sq, slope, mean))
    kinked = any(abs(a - b) > 1e-15 * (1 + abs(a)) for a, b in zip(sides[0], sides[1],
                                                                     strict=True))
    # The next term is O(q^{3/2}) (a kink) or O(q²) (smooth) against the leading one.
    rel = 10 * (math.sqrt(Q_SMALL) if kinked else Q_SMALL)
    return coef, rel


def small(act: Activation, q: float) -> tuple[float, float, float, float]:
    coef, rel = small_coefficients(act)
    r = math.sqrt(q)
    v, s, m = (c0 + r * c1 + q * c2 for c0, c1, c2 in coef)
    return v, s, m, rel * r / math.sqrt(Q_SMALL)


def slope_limits(act: Activation) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    """(S∞, V∞, γ₂): lim_{q→∞} E[φ'(√q Z)²] = (φ'(−∞)² + φ'(∞)²)/2, lim E[φ(√q Z)²] =
    (φ(−∞)² + φ(∞)²)/2 (∞ when φ is unbounded) and γ₂ = ∫φ'(x)²dx/√(2π), so that
    E[φ'(√q Z)²] ~ γ₂/√q when φ' is square integrable.  Exact (SymPy limits and
    integrals over the pieces); NaN when SymPy cannot decide."""
    return _slope_limits(act)


@lru_cache(maxsize=64)
def _slope_limits(act: Activation) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr]:
    pieces = act.pieces
    slopes = [derivative(piece.expr) for piece in pieces]  # φ' of each piece, once
    try:
        d_lo = _limit(slopes[0], -sympy.oo)
        d_hi = _limit(slopes[-1], sympy.oo)
        p_lo = _limit(pieces[0].expr, -sympy.oo)
        p_hi = _limit(pieces[-1].expr, sympy.oo)
    except (NotImplementedError, ValueError, TypeError):  # pragma: no cover
        return sympy.nan, sympy.nan, sympy.nan
    s_inf = sympy.nsimplify(sympy.cancel((d_lo**2 + d_hi**2) / 2))
    v_inf = sympy.cancel((p_lo**2 + p_hi**2) / 2)
    gamma2: sympy.Expr = sympy.oo
    if s_inf == 0:
        total = sympy.Integer(0)
        for piece, slope in zip(pieces, slopes, strict=True):
            part = _square_slope_integral(piece.expr, slope, piece.lo, piece.hi)
            if part is None:
                total = sympy.nan
                break
            total += part
        gamma2 = radsimp(total / sympy.sqrt(2 * sympy.pi))
    return s_inf, v_inf, gamma2


def _limit(expr: sympy.Expr, at: sympy.Expr) -> sympy.Expr:
    """lim_{z→at} expr: SymPy's own value at ±∞ when it gives a determinate extended real
    (tanh(∞) = 1, e^{−∞} = 0 — continuous in the extended reals), else ``sympy.limit``
    (Gruntz's algorithm: seconds for sech⁴)."""
    value = expr.subs(z, at)
    if (value.is_extended_real and not value.has(sympy.nan, sympy.zoo, sympy.AccumBounds)
            and not value.free_symbols):
        return value
    return sympy.limit(expr, z, at)


def _square_slope_integral(phi: sympy.Expr, slope: sympy.Expr, lo: sympy.Expr,
                           hi: sympy.Expr) -> sympy.Expr | None:
    """∫_lo^hi φ'(x)² dx over one piece, exactly, or None.

    When φ' = g(φ) on the piece (tanh' = 1 − tanh²), substituting u = φ(x) gives
    ∫ g(φ)φ' dx = ∫_{φ(lo)}^{φ(hi)} g(u) du — a polynomial for tanh, where SymPy's own
    integration of sech⁴ takes seconds.  Otherwise SymPy integrates φ'² directly."""
    u = sympy.Symbol("u", real=True)
    g = slope.subs(phi, u) if phi.has(z) else slope
    if not g.has(z):
        ends = [_limit(phi, e) if e.is_infinite else phi.subs(z, e) for e in (lo, hi)]
        if g.has(u):
            return polynomial_integral(g, u, ends[0], ends[1])
        return g * g * (hi - lo) if g != 0 else sympy.Integer(0)
    part = sympy.integrate(slope**2, (z, lo, hi))
    return None if part.has(sympy.Integral) else part
