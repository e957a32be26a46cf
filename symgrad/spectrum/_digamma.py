"""ψ and ψ' at half-integers, exactly, and their averages over K ~ Binomial(n, ½) | K ≥ 1.

ψ(m/2) = a_m − γ + c_m·ln 2 and ψ'(m/2) = d_m + e_m·π² with rational a, c, d, e
(Abramowitz and Stegun 6.3.2, 6.3.4, 6.4.2, 6.4.4):

    ψ(j) = −γ + H_{j−1},                 ψ(j − ½) = −γ − 2 ln 2 + 2·Σ_{k=1}^{j−1} 1/(2k − 1),
    ψ'(j) = π²/6 − Σ_{k<j} 1/k²,          ψ'(j − ½) = π²/2 − 4·Σ_{k=1}^{j−1} 1/(2k − 1)².

E ln χ²_m = ψ(m/2) + ln 2 and Var ln χ²_m = ψ'(m/2).  The binomial averages are exact
rationals, summed as integers over the common denominator lcm(1, …, n) (the harmonic-type
sums' denominators divide it) and reduced once.

>>> t = half_integer_terms(3)          # ψ(3/2) = 2 − γ − 2 ln 2
>>> t.a(3), t.c(3), t.d(3), t.e(3)
(Fraction(2, 1), Fraction(-2, 1), Fraction(-4, 1), Fraction(1, 2))
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

__all__ = ["BinomialAverages", "HalfIntegerTerms", "binomial_averages", "half_integer_terms"]


@dataclass(frozen=True)
class HalfIntegerTerms:
    """Integer numerators over ``den`` (a) and ``den2`` (d), and the exact rationals,
    for m = 0 … n (index 0 unused)."""

    den: int
    den2: int
    a_num: tuple[int, ...]
    d_num: tuple[int, ...]

    def a(self, m: int) -> Fraction:
        """Rational part of ψ(m/2)."""
        return Fraction(self.a_num[m], self.den)

    def c(self, m: int) -> Fraction:
        """Coefficient of ln 2 in ψ(m/2)."""
        return Fraction(-2 if m % 2 else 0)

    def d(self, m: int) -> Fraction:
        """Rational part of ψ'(m/2)."""
        return Fraction(self.d_num[m], self.den2)

    def e(self, m: int) -> Fraction:
        """Coefficient of π² in ψ'(m/2)."""
        return Fraction(1, 2) if m % 2 else Fraction(1, 6)


@lru_cache(maxsize=8)
def half_integer_terms(n: int) -> HalfIntegerTerms:
    """The rational parts a_m, d_m of ψ(m/2), ψ'(m/2) for m ≤ n (module docstring)."""
    den = math.lcm(*range(1, n + 1)) if n >= 1 else 1
    den2 = den * den
    a = [0] * (n + 1)
    d = [0] * (n + 1)
    harm = harm_sq = odd = odd_sq = 0  # numerators over den, den2
    for m in range(1, n + 1):
        if m % 2 == 0:
            j = m // 2  # ψ(j) = −γ + H_{j−1}
            a[m], d[m] = harm, -harm_sq
            harm += den // j
            harm_sq += den2 // (j * j)
        else:
            j = (m + 1) // 2  # ψ(j − ½) = −γ − 2 ln 2 + 2·Σ_{k<j} 1/(2k − 1)
            a[m], d[m] = 2 * odd, -4 * odd_sq
            odd += den // (2 * j - 1)
            odd_sq += den2 // ((2 * j - 1) ** 2)
    return HalfIntegerTerms(den, den2, tuple(a), tuple(d))


@dataclass(frozen=True)
class BinomialAverages:
    """Exact moments over K ~ Binomial(n, ½) conditioned on K ≥ 1, of ψ(K/2) = a − γ + c ln 2
    and ψ'(K/2) = d + e π²: E a, E c, Var a, Cov(a, c), Var c, E d, E e."""

    mean_a: Fraction
    mean_c: Fraction
    var_a: Fraction
    cov_ac: Fraction
    var_c: Fraction
    mean_d: Fraction
    mean_e: Fraction


@lru_cache(maxsize=64)
def binomial_averages(n: int) -> BinomialAverages:
    """The averages of :class:`BinomialAverages` for width n (exact)."""
    t = half_integer_terms(n)
    total = 2**n - 1  # Σ_{k ≥ 1} C(n, k)
    s_a = s_aa = s_d = odd_a = odd = 0
    w = 1
    for k in range(1, n + 1):
        w = w * (n - k + 1) // k  # C(n, k) from C(n, k − 1)
        s_a += w * t.a_num[k]
        s_aa += w * t.a_num[k] ** 2
        s_d += w * t.d_num[k]
        if k % 2:
            odd += w
            odd_a += w * t.a_num[k]
    mean_a = Fraction(s_a, total * t.den)
    p_odd = Fraction(odd, total)
    mean_c = -2 * p_odd
    var_a = Fraction(s_aa, total * t.den2) - mean_a**2
    cov_ac = -2 * Fraction(odd_a, total * t.den) - mean_a * mean_c
    var_c = 4 * p_odd * (1 - p_odd)
    mean_e = p_odd * Fraction(1, 2) + (1 - p_odd) * Fraction(1, 6)
    return BinomialAverages(mean_a, mean_c, var_a, cov_ac, var_c,
                            Fraction(s_d, total * t.den2), mean_e)
