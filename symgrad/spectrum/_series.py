"""Truncated power series over any field: the algebra of S-transforms.

A series is a list ``[a_0, a_1, …, a_{K−1}]`` (coefficients of w⁰ … w^{K−1}); every
operation keeps the first ``K`` coefficients.  The coefficients may be any objects with
``+ − * /`` and ``int`` scaling: :class:`fractions.Fraction` (exact and fast), SymPy
expressions (exact, symbolic) or python-flint ``arb`` balls (rigorous enclosures).  Nothing
here rounds, so the field decides what the answer is: exact, or enclosed.

* :func:`power` raises a series with a_0 = 1 to any exponent α — an integer, a
  Fraction, or a SymPy symbol such as −L·k — by J. C. P. Miller's recurrence
  (Henrici, *Applied and Computational Complex Analysis* I, §1.6):
  g_0 = 1, g_n = (1/n)·Σ_{j=1}^{n} ((α + 1)·j − n)·a_j·g_{n−j}; each g_n is a polynomial in
  α of degree n.
* :func:`reversion` inverts M(z) = z·(1 + c_1 z + …) by Lagrange inversion,
  [w^n] M^{−1}(w) = (1/n)·[z^{n−1}] (z/M(z))^n.

>>> from fractions import Fraction
>>> power([1, 1, 0], Fraction(1, 2), 3)          # √(1 + w) = 1 + w/2 − w²/8 + …
[1, Fraction(1, 2), Fraction(-1, 8)]
>>> reversion([1, 1, 0, 0], 4)                   # M = z + z², M⁻¹(w)/w
[1, -1, 2, -5]
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

__all__ = ["mul", "power", "reversion"]


def mul(a: Sequence[Any], b: Sequence[Any], size: int) -> list[Any]:
    """The first ``size`` coefficients of the product a·b."""
    out: list[Any] = [0] * size
    for i in range(min(len(a), size)):
        ai = a[i]
        if _is_zero(ai):
            continue
        for j in range(min(len(b), size - i)):
            out[i + j] = out[i + j] + ai * b[j]
    return out


def power(a: Sequence[Any], alpha: Any, size: int) -> list[Any]:
    """The first ``size`` coefficients of a(w)^α, for a series with a_0 = 1 (Miller)."""
    g: list[Any] = [1] + [0] * (size - 1)
    for n in range(1, size):
        total: Any = 0
        for j in range(1, min(n, len(a) - 1) + 1):
            if _is_zero(a[j]):
                continue
            total = total + ((alpha + 1) * j - n) * a[j] * g[n - j]
        g[n] = _div(total, n)
    return g


def reversion(c: Sequence[Any], size: int) -> list[Any]:
    """M^{−1}(w)/w to ``size`` coefficients, where M(z)/z = c = [1, c_1, c_2, …]."""
    out: list[Any] = [1] + [0] * (size - 1)
    for n in range(2, size + 1):
        # [w^n] M⁻¹ = (1/n)·[z^{n−1}] (M(z)/z)^{−n}
        out[n - 1] = _div(power(c, -n, n)[n - 1], n)
    return out


def _is_zero(x: Any) -> bool:
    return isinstance(x, int) and x == 0


def _div(x: Any, n: int) -> Any:
    if isinstance(x, int):

        value = Fraction(x, n)
        return int(value) if value.denominator == 1 else value
    return x / n
