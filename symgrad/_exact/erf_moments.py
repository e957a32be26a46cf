"""Closed-form Gaussian integrals of polynomials × Gaussians × error functions.

For X ~ N(0, q), :func:`erf_expectation` returns E[g(X)] exactly when g is a sum of
terms c·x^k·e^{αx² + βx}·Π_i erf(a_i·x + b_i), by three rules:

1. **Gaussian absorption.**  e^{AW² + BW}·ϕ(W) = K·ϕ((W − μ)/s)/s with s² = 1/(1 − 2A),
   μ = B·s², K = s·e^{μ²/(2s²)} (A < 1/2), so with W = μ + s·V the term becomes a
   polynomial in V times error functions of linear arguments, V ~ N(0, 1).
2. **Stein's lemma** (integration by parts), E[V·h(V)] = E[h'(V)]:
   E[V^j·F] = (j − 1)·E[V^{j−2}·F] + E[V^{j−1}·F'], and F' of a product of error
   functions is a sum of Gaussians times one error function fewer — back to rule 1.
3. **Known integrals** with no power of V left:
   E[erf(αV + β)] = erf(β/√(1 + 2α²)), and the orthant probability (Sheppard)
   E[erf(αV)·erf(γV)] = (2/π)·asin(2αγ/√((1 + 2α²)(1 + 2γ²))); a product of an odd
   number of odd error functions has mean 0.

This gives GELU's E[φ'(X)²] for every q (1/3 + 2/(3√3·π) at q = 1), erf's arc-sine
kernel, and every polynomial × Gaussian.  :func:`moment_on` (rule 1 on a finite or
half-infinite interval, no error function) serves piecewise activations.

>>> from symgrad._core.symbols import z
>>> erf_expectation(sympy.erf(z) ** 2, sympy.Integer(1))
2*asin(2/3)/pi
"""

from __future__ import annotations

from functools import lru_cache

import sympy

from symgrad._core.symbols import z

__all__ = ["OutsideRules", "erf_expectation", "moment_on", "parse_term"]

_Erf = tuple[sympy.Expr, sympy.Expr]  # erf(a·v + b) as (a, b)
_MAX_DEGREE = 24


class OutsideRules(Exception):
    """The term is outside the rules."""


def parse_term(term: sympy.Expr) -> tuple[sympy.Expr, int, sympy.Expr, sympy.Expr,
                                       tuple[_Erf, ...]]:
    """c·x^k·e^{αx² + βx}·Π erf(a_i x + b_i) → (c, k, α, β, ((a_i, b_i), …))."""
    coeff, k, exponent, erfs = sympy.Integer(1), 0, sympy.Integer(0), []
    for factor in sympy.Mul.make_args(term):
        base, power = factor.as_base_exp()
        if not factor.has(z):
            coeff *= factor
        elif base == z and power.is_Integer and power >= 0:
            k += int(power)
        elif isinstance(factor, sympy.exp):
            exponent += factor.args[0]
        elif isinstance(base, sympy.erf) and power.is_Integer and power > 0:
            arg = sympy.expand(base.args[0])
            if not (arg.is_polynomial(z) and sympy.degree(arg, z) == 1):
                raise OutsideRules(f"erf of a non-linear argument: {base}")
            a, b = sympy.Poly(arg, z).all_coeffs()
            erfs += [(a, b)] * int(power)
        else:
            raise OutsideRules(f"no closed-form rule for the factor {factor}")
    exponent = sympy.expand(exponent)
    if not exponent.is_polynomial(z) or sympy.degree(exponent, z) > 2:
        raise OutsideRules(f"exp of a non-quadratic exponent: {exponent}")
    coeffs = sympy.Poly(exponent, z).all_coeffs() if exponent.has(z) else [exponent]
    c2, c1, c0 = [sympy.Integer(0)] * (3 - len(coeffs)) + coeffs
    if k > _MAX_DEGREE:
        raise OutsideRules(f"degree {k} above {_MAX_DEGREE}")
    return coeff * sympy.exp(c0), k, sympy.sympify(c2), sympy.sympify(c1), tuple(erfs)


def _positive(e: sympy.Expr) -> bool:
    if e.is_positive:
        return True
    if e.free_symbols:
        return False
    value = sympy.N(e, 30)
    return bool(value.is_Number and value > 0)


@lru_cache(maxsize=4096)
def _standard(k: int, a: sympy.Expr, b: sympy.Expr, erfs: tuple[_Erf, ...]) -> sympy.Expr:
    """E[W^k·e^{aW² + bW}·Π erf(α_i W + β_i)], W ~ N(0, 1) (rule 1, then rule 2/3)."""
    if not _positive(1 - 2 * a):
        raise OutsideRules("the Gaussian factor grows at least as fast as the density shrinks")
    s = 1 / sympy.sqrt(1 - 2 * a)
    mu = b * s**2
    k_factor = s * sympy.exp(mu**2 / (2 * s**2))
    shifted = tuple((al * s, al * mu + be) for al, be in erfs)
    total = sympy.Integer(0)
    for j in range(k + 1):
        weight = sympy.binomial(k, j) * mu ** (k - j) * s**j
        if weight != 0:
            total += weight * _polynomial_erf(j, shifted)
    return k_factor * total


@lru_cache(maxsize=4096)
def _polynomial_erf(j: int, erfs: tuple[_Erf, ...]) -> sympy.Expr:
    """E[V^j·Π erf(α_i V + β_i)], V ~ N(0, 1)."""
    if not erfs:
        return sympy.factorial2(j - 1) if j % 2 == 0 else sympy.Integer(0)
    if all(be == 0 for _, be in erfs) and (j + len(erfs)) % 2 == 1:
        return sympy.Integer(0)  # an odd integrand
    if j >= 1:
        # Stein: E[V·h] = E[h'] with h = V^{j−1}·F
        total = (j - 1) * _polynomial_erf(j - 2, erfs) if j >= 2 else sympy.Integer(0)
        for i, (al, be) in enumerate(erfs):
            rest = erfs[:i] + erfs[i + 1:]
            # d/dV erf(αV + β) = 2α/√π·e^{−(αV + β)²}
            total += (2 * al / sympy.sqrt(sympy.pi) * sympy.exp(-(be**2))
                      * _standard(j - 1, -(al**2), -2 * al * be, rest))
        return total
    if len(erfs) == 1:
        al, be = erfs[0]
        return sympy.erf(be / sympy.sqrt(1 + 2 * al**2))
    if len(erfs) == 2 and erfs[0][1] == 0 and erfs[1][1] == 0:
        (a1, _), (a2, _) = erfs
        return 2 / sympy.pi * sympy.asin(2 * a1 * a2 / sympy.sqrt((1 + 2 * a1**2)
                                                                   * (1 + 2 * a2**2)))
    raise OutsideRules("E of a product of error functions with shifts (Owen's T)")


def _tidy(e: sympy.Expr) -> sympy.Expr:
    e = sympy.expand(e)
    return sympy.simplify(e) if sympy.count_ops(e) < 120 else e


def erf_expectation(g: sympy.Expr, q: sympy.Expr) -> sympy.Expr | None:
    """E[g(X)] for X ~ N(0, q) in closed form, or None when a term is outside the rules.

    ``q`` may be a positive number or a positive SymPy symbol.
    """
    g = g.replace(lambda e: isinstance(e, sympy.erfc), lambda e: 1 - sympy.erf(e.args[0]))
    terms = sympy.Add.make_args(sympy.expand(sympy.powsimp(g, combine="exp")))
    root = sympy.sqrt(q)
    total = sympy.Integer(0)
    try:
        for term in terms:
            c, k, alpha, beta, erfs = parse_term(term)
            # X = √q·W: x^k = q^{k/2}·W^k, αx² + βx = αq·W² + β√q·W
            scaled = tuple((a * root, b) for a, b in erfs)
            total += c * root**k * _standard(k, alpha * q, beta * root, scaled)
    except OutsideRules:
        return None
    return _tidy(total)


def moment_on(k: int, alpha: sympy.Expr, beta: sympy.Expr, lo: sympy.Expr,
              hi: sympy.Expr) -> sympy.Expr:
    """∫_lo^hi x^k·e^{αx² + βx} dx for α < 0 (lo, hi finite or ±oo), exactly.

    I₀ = e^{−β²/4α}·√π/(2√−α)·[erf(√−α·(x + β/2α))], and from
    d/dx(x^m·e^{αx² + βx}) = (m·x^{m−1} + (2αx + β)·x^m)·e^{…}:
    I_{m+1} = ([x^m·e^{…}] − m·I_{m−1} − β·I_m)/(2α).
    """
    s = sympy.sqrt(-alpha)
    g = sympy.exp(alpha * z**2 + beta * z)

    def erf_at(point: sympy.Expr) -> sympy.Expr:
        return sympy.sign(point) if point.is_infinite else sympy.erf(s * (point + beta
                                                                          / (2 * alpha)))

    def edge(m: int, point: sympy.Expr) -> sympy.Expr:
        return sympy.Integer(0) if point.is_infinite else (z**m * g).subs(z, point)

    first = (sympy.exp(-(beta**2) / (4 * alpha)) * sympy.sqrt(sympy.pi) / (2 * s)
             * (erf_at(hi) - erf_at(lo)))
    moments = [first]
    for m in range(k):
        previous = moments[m - 1] if m >= 1 else sympy.Integer(0)
        moments.append((edge(m, hi) - edge(m, lo) - m * previous - beta * moments[m])
                       / (2 * alpha))
    return moments[k]
