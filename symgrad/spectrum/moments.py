"""Moments of the Jacobian's squared singular values by free probability.

For J = W_L D_L ⋯ W_1 D_1 with D_l = diag(φ'(h_{l−1})) at the fixed point q*, the factors
W_lW_lᵀ and D_l² are asymptotically free, so S-transforms multiply (Voiculescu 1987;
Pennington, Schoenholz and Ganguli 2017, arXiv:1711.04735, eq. 8):

    S_{JJᵀ}(w) = ∏_l S_{WWᵀ}(w)·S_{D²}(w),
    S_{WWᵀ}(w) = 1/(σ_w²(1 + w))  (Gaussian, Marchenko–Pastur),   1/σ_w²  (orthogonal),
    S_{D²}(w)  = χ_{D²}(w)·(1 + w)/w,  χ_{D²} = M_{D²}^{−1},  M_{D²}(z) = Σ_k μ_k z^k.

Scaling D² by 1/μ_1 and W by 1/σ_w pulls out m_1 = χ₁^L (χ₁ = σ_w²μ_1) and leaves
normalised series S̃ = 1 + s_1 w + …; with M = z·(1 + M)/S_{JJᵀ}(M), Lagrange inversion
gives, for the normalised moments P_k = m_k/m_1^k,

    P_k = (1/k)·[w^{k−1}] (1 + w)^k·S̃(w)^{−Lk},   S̃ = S̃_{D²}·(1 + w)^{−1}  (Gaussian)
                                                      S̃ = S̃_{D²}              (orthogonal).

Each coefficient of S̃^{−Lk} is a polynomial of degree ≤ k − 1 in L, so P_k is one: it is
interpolated exactly from L = 0, 1, …, k − 1.  In particular
m_2/m_1² − 1 = −L·s_1 = L·μ_2/μ_1² (Gaussian), L·(μ_2/μ_1² − 1) (orthogonal).

Linear Gaussian nets (μ̃_k = 1) give the Fuss–Catalan numbers binom((L+1)k, k)/(Lk + 1):

>>> from fractions import Fraction
>>> [str(p) for p in normalized_moments([Fraction(1)] * 4, 2, gaussian=True)]
['1', '3', '12', '55']
>>> L = sympy.Symbol("L", positive=True, integer=True)
>>> depth_polynomials([Fraction(1)] * 3, L, gaussian=True)[2]
3*L**2/2 + 5*L/2 + 1
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import sympy

from symgrad.spectrum._series import mul, power, reversion

__all__ = ["MAX_MOMENTS", "depth_polynomials", "normalized_moments", "slope_series"]

#: Highest moment order computed (the series algebra is O(K³), and beyond 12 the
#: moments of deep nets exceed any use and float64 comparison).
MAX_MOMENTS = 12


def slope_series(mu_tilde: Sequence[Any], size: int, *, gaussian: bool) -> list[Any]:
    """S̃(w) = S̃_{WWᵀ}·S̃_{D²} to ``size`` coefficients, from μ̃_k = μ_k/μ_1^k (μ̃_1 = 1)."""
    m_over_z = [1, *list(mu_tilde[1:size])] + [0] * max(0, size - len(mu_tilde))
    s_d = mul(reversion(m_over_z, size), [1, 1], size)  # χ̃(w)/w · (1 + w)
    if gaussian:
        s_d = mul(s_d, power([1, 1], -1, size), size)
    return s_d


def normalized_moments(mu_tilde: Sequence[Any], depth: int, *, gaussian: bool,
                       count: int | None = None) -> list[Any]:
    """P_k = m_k/m_1^k for k = 1 … ``count`` (default len(mu_tilde)) at integer depth L."""
    size = len(mu_tilde) if count is None else count
    s = slope_series(mu_tilde, size, gaussian=gaussian)
    out: list[Any] = []
    for k in range(1, size + 1):
        inner = mul(power(s, -depth * k, k), power([1, 1], k, k), k)
        out.append(_exact_div(inner[k - 1], k))
    return out


def depth_polynomials(mu_tilde: Sequence[Any], depth: sympy.Symbol, *, gaussian: bool,
                      count: int | None = None) -> list[Any]:
    """P_k as polynomials in the symbol ``depth`` (exact coefficients for Fraction or SymPy
    μ̃; for arb balls, a list of ball coefficients, constant term first)."""
    size = len(mu_tilde) if count is None else count
    samples = [normalized_moments(mu_tilde, d, gaussian=gaussian, count=size)
               for d in range(size)]
    out: list[Any] = []
    for k in range(1, size + 1):
        coeffs = _interpolate([samples[d][k - 1] for d in range(k)])
        if _is_exact(coeffs):
            out.append(sympy.expand(sum((sympy.sympify(_sym(c)) * depth**j
                                         for j, c in enumerate(coeffs)), sympy.Integer(0))))
        else:
            out.append(coeffs)
    return out


def _interpolate(values: Sequence[Any]) -> list[Any]:
    """Coefficients (constant first) of the polynomial of degree < n through (d, values[d]),
    d = 0 … n − 1, by Newton's forward differences (exact over any field)."""
    n = len(values)
    diffs = list(values)
    newton: list[Any] = []
    for level in range(n):
        newton.append(_exact_div(diffs[0], _factorial(level)))
        diffs = [diffs[i + 1] - diffs[i] for i in range(len(diffs) - 1)]
    # Σ_j newton_j · L(L−1)…(L−j+1), expanded into the monomial basis.
    coeffs: list[Any] = [0] * n
    falling: list[int] = [1]
    for j, c in enumerate(newton):
        for i, f in enumerate(falling):
            coeffs[i] = coeffs[i] + c * f
        falling = [(falling[i - 1] if i >= 1 else 0) - j * (falling[i] if i < len(falling)
                                                              else 0)
                   for i in range(len(falling) + 1)]
    return coeffs


def _factorial(n: int) -> int:
    out = 1
    for i in range(2, n + 1):
        out *= i
    return out


def _exact_div(x: Any, n: int) -> Any:
    if isinstance(x, int):
        value = Fraction(x, n)
        return int(value) if value.denominator == 1 else value
    return x / n


def _is_exact(values: Sequence[Any]) -> bool:
    return all(isinstance(v, int | Fraction | sympy.Basic) for v in values)


def _sym(value: Any) -> Any:
    if isinstance(value, Fraction):
        return sympy.Rational(value.numerator, value.denominator)
    return value
