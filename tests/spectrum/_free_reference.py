"""An independent oracle for free multiplicative convolution: non-crossing partitions.

For a, b free, m_n(ab) = Σ_{π ∈ NC(n)} κ_π(a)·m_{K(π)}(b) (Nica and Speicher, *Lectures on
the Combinatorics of Free Probability*, Thm 14.4), κ the free cumulants
(m_n = Σ_{π ∈ NC(n)} κ_π) and K the Kreweras complement — brute force over set
partitions, nothing shared with symgrad's S-transform algebra.
"""

from __future__ import annotations

import itertools
from fractions import Fraction
from functools import cache
from math import comb, prod


def _set_partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _set_partitions(rest):
        for i in range(len(part)):
            yield [*part[:i], [first, *part[i]], *part[i + 1:]]
        yield [[first], *part]


def _crossing(blocks) -> bool:
    for b1, b2 in itertools.combinations(blocks, 2):
        for a, c in itertools.combinations(sorted(b1), 2):
            for b, d in itertools.combinations(sorted(b2), 2):
                if a < b < c < d or b < a < d < c:
                    return True
    return False


@cache
def noncrossing(n: int) -> tuple[tuple[tuple[int, ...], ...], ...]:
    out = []
    for part in _set_partitions(list(range(n))):
        if not _crossing(part):
            out.append(tuple(tuple(sorted(b)) for b in part))
    return tuple(out)


@cache
def kreweras(pi: tuple[tuple[int, ...], ...], n: int) -> tuple[tuple[int, ...], ...]:
    """The coarsest σ on the barred points with π ∪ σ non-crossing (i ↦ 2i, ī ↦ 2i + 1)."""
    best = None
    doubled = [[2 * i for i in b] for b in pi]
    for sigma in noncrossing(n):
        if _crossing(doubled + [[2 * i + 1 for i in b] for b in sigma]):
            continue
        if best is None or len(sigma) < len(best):
            best = sigma
    assert best is not None
    return best


def free_cumulants(moments: list[Fraction]) -> list[Fraction]:
    """κ_1 … κ_n from m_1 … m_n."""
    kappa: list[Fraction] = []
    for n in range(1, len(moments) + 1):
        rest = sum((prod(kappa[len(b) - 1] for b in pi) for pi in noncrossing(n)
                    if len(pi) > 1), Fraction(0))
        kappa.append(moments[n - 1] - rest)
    return kappa


def free_product(ma: list[Fraction], mb: list[Fraction]) -> list[Fraction]:
    """Moments m_1 … m_n of ab for free a, b."""
    ka = free_cumulants(ma)
    out = []
    for n in range(1, len(ma) + 1):
        out.append(sum((prod(ka[len(b) - 1] for b in pi)
                        * prod(mb[len(b) - 1] for b in kreweras(pi, n))
                        for pi in noncrossing(n)), Fraction(0)))
    return out


def catalan(k: int) -> int:
    return comb(2 * k, k) // (k + 1)


def jacobian_moments(slope_moments: list[Fraction], sigma_w2: Fraction, depth: int,
                     gaussian: bool) -> list[Fraction]:
    """m_k of JJᵀ, J = W_L D_L ⋯ W_1 D_1: A_l = (A_{l−1} ⊠ D²) ⊠ WᵀW, A_0 = I."""
    n = len(slope_moments)
    a = [Fraction(1)] * n
    w = [sigma_w2**k * (catalan(k) if gaussian else 1) for k in range(1, n + 1)]
    for _ in range(depth):
        a = free_product(free_product(a, slope_moments), w)
    return a
