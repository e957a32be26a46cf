"""Gaussian expectations of polynomials in the logistic function, reduced by its algebra.

Write S = σ(λx) = 1/(1 + e^{−λx}), T = S − 1/2 (odd in x) and D = S(1 − S) = σ'(λx)
(even).  Then S² = S − D, i.e. T² = 1/4 − D, and T' = λD, D' = −2λ·T·D.  A function g
that is a polynomial in x and S (any rational function of x and e^{λx/m} that is one)
is rewritten as A(x, D) + T·B(x, D) by T² = 1/4 − D.  For X ~ N(0, q):

* parity: only even powers of x in A and odd powers of x in B survive;
* Stein's lemma E[X·h(X)] = q·E[h'(X)] turns E[X^{2i+1}·T·b(D)] into
  q·((2i)·E[X^{2i−1}·T·b(D)] + λ·E[X^{2i}·D·(b(D) − 2(1/4 − D)·b'(D))]);
* what is left is Σ c_ij·E[X^{2i}·D^j]: the j = 0 terms are Gaussian moments
  q^i·(2i − 1)!!, exact; the rest is one residual integrand r, certified by the caller.

So softplus' E[φ'(X)²] = E[σ(βX)²] = E[1/4 + T + 1/4 − D] = 1/2 − E[σ'(βX)], for every
β and q, and a shifted or rescaled softplus registered by a user reduces the same way.

>>> from symgrad._core.symbols import z
>>> exact, residual = logistic_reduction((1 / (1 + sympy.exp(-2 * z))) ** 2, sympy.Integer(1))
>>> exact, residual
(1/2, -exp(-2*z)/(1 + exp(-2*z))**2)
"""

from __future__ import annotations

from collections import defaultdict

import sympy

from symgrad._core.symbols import z
from symgrad._exact.parity import canonical

__all__ = ["logistic_reduction"]

_S, _T, _D, _W = sympy.symbols("S T D W")
_QUARTER = sympy.Rational(1, 4)


def _logistic_form(g: sympy.Expr) -> tuple[sympy.Poly, sympy.Expr] | None:
    """(P(z, S), λ) with g = P(z, σ(λz)), or None."""
    c = canonical(g)
    atoms = [s for s in c.form.free_symbols if s != z and isinstance(c.back.get(s), sympy.exp)]
    others = [s for s in c.form.free_symbols if s != z and s not in atoms
              and c.back.get(s, sympy.Integer(0)).has(z)]
    if len(atoms) != 1 or others:
        return None
    u = atoms[0]
    exponent = sympy.expand(c.back[u].args[0])
    if not (exponent.is_polynomial(z) and sympy.degree(exponent, z) == 1):
        return None
    rate = exponent.coeff(z, 1)
    den = sympy.denom(sympy.cancel(sympy.together(c.form)))
    if not den.has(u):
        return None
    m = None
    for factor, _ in sympy.factor_list(den, u)[1]:
        poly = sympy.Poly(factor, u)
        if poly.is_monomial:
            continue
        terms = poly.terms()
        if len(terms) != 2 or terms[1][0] != (0,) or terms[0][1] != terms[1][1]:
            return None  # only u^m + 1 (times constants) is a logistic denominator
        m = terms[0][0][0] if m is None else sympy.gcd(m, terms[0][0][0])
    if m is None:
        return None
    form = sympy.cancel(c.form)
    degrees = [mono[0] for mono in sympy.Poly(sympy.numer(form) * sympy.denom(form), u).monoms()]
    if any(d % m for d in degrees):
        return None
    # u^m = W = S/(1 − S)
    in_w = form.subs(u, _W ** sympy.Rational(1, m))
    in_s = sympy.cancel(in_w.subs(_W, _S / (1 - _S)))
    num_s, den_s = sympy.fraction(in_s)
    if den_s.has(_S) or den_s.has(z):
        return None
    poly = sympy.Poly(sympy.expand(c.expr(num_s / den_s)), z, _S)
    if any(coeff.has(z) for coeff in poly.coeffs()):
        return None
    return poly, c.expr(rate) * m


def _reduce(poly: sympy.Poly) -> dict[tuple[int, bool], sympy.Poly]:
    """P(z, S) as Σ z^n·[A_n(D) + T·B_n(D)]: {(n, has_T): polynomial in D}."""
    in_t = sympy.Poly(sympy.expand(poly.as_expr().subs(_S, _T + sympy.Rational(1, 2))), z, _T)
    parts: dict[tuple[int, bool], sympy.Expr] = defaultdict(lambda: sympy.Integer(0))
    for (n, k), coeff in in_t.terms():
        # T^k = T^(k mod 2)·(1/4 − D)^(k // 2)
        parts[(n, bool(k % 2))] += coeff * (_QUARTER - _D) ** (k // 2)
    return {key: sympy.Poly(sympy.expand(v), _D) for key, v in parts.items()}


def logistic_reduction(g: sympy.Expr, q: sympy.Expr) -> tuple[sympy.Expr, sympy.Expr] | None:
    """(c, r) with E[g(X)] = c + E[r(X)] for X ~ N(0, q): c exact, r a polynomial in z and
    σ'(λz) without constant part (0 when the expectation is exact); None when g is not a
    polynomial in z and one logistic σ(λz)."""
    found = _logistic_form(g)
    if found is None:
        return None
    poly, rate = found
    basis: dict[tuple[int, int], sympy.Expr] = defaultdict(lambda: sympy.Integer(0))
    for (n, with_t), b in _reduce(poly).items():
        if with_t and n % 2 == 1:
            _stein(n, b, sympy.Integer(1), q, rate, basis)
        elif not with_t and n % 2 == 0:
            for (j,), c in b.terms():
                basis[(n, j)] += c
    exact = sum((c * q ** (n // 2) * sympy.factorial2(n - 1)
                 for (n, j), c in basis.items() if j == 0), sympy.Integer(0))
    # σ' is even: write D = σ'(|λ|·z) whichever sign the exponential atom had
    slope = -rate if sympy.N(rate) < 0 else rate
    derivative = sympy.exp(-slope * z) / (1 + sympy.exp(-slope * z)) ** 2
    residual = sympy.Add(*[c * z**n * derivative**j
                           for (n, j), c in sorted(basis.items()) if j > 0 and c != 0])
    return sympy.simplify(exact), residual


def _stein(n: int, b: sympy.Poly, weight: sympy.Expr, q: sympy.Expr, rate: sympy.Expr,
           basis: dict[tuple[int, int], sympy.Expr]) -> None:
    """Add weight·E[X^n·T·b(D)] (n odd) to basis, by Stein's lemma."""
    # E[X·X^{n−1}·T·b] = q·E[(n−1)·X^{n−2}·T·b + X^{n−1}·(λ·D·b − 2λ·(1/4 − D)·D·b')]
    inner = sympy.Poly(sympy.expand(rate * _D * (b.as_expr()
                                                 - 2 * (_QUARTER - _D) * b.diff(_D).as_expr())),
                       _D)
    for (j,), c in inner.terms():
        basis[(n - 1, j)] += weight * q * c
    if n >= 3:
        _stein(n - 2, b, weight * q * (n - 1), q, rate, basis)
