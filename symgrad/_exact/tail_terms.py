"""The term algebra behind tail forms: f towards +∞ as a sum of c·z^p·e^{P(z)}·B(z).

Each term has a constant c, a power p of z, a polynomial P without constant term and a
product B of factors bounded on [a, ∞) for large a.  The rules are algebraic identities:

* xᵏ for a sum x = D·(1 + ρ) with D its fastest-growing term and ρ → 0:
  xᵏ = Dᵏ·(1 + ρ)ᵏ, and for k = −m < 0, (1 + ρ)^(−m) = 1 − ρ·Σ_{j<m}(1 + ρ)^(j−m), so
  constants cancel exactly (1/(1 + e^{−z}) − 1 = −e^{−z}/(1 + e^{−z}));
* e^{u} = e^{P}·e^{r} with P the polynomial part of u and r bounded;
* erf(P) = ±(1 − erfcx(±P)·e^{−P²}) for a polynomial P → ±∞ (erfcx = e^{x²}erfc(x));
* log(D·(1 + ρ)) = log c + P + log(B·(1 + ρ)); atan(u) = ±π/2 − atan(1/u);
* sin and cos are bounded; any function with a ball rule of a bounded argument is bounded.

Growth is compared exactly: the exponent polynomials first (their leading coefficient's
sign, decided in ball arithmetic after an exact zero test), then the power of z.

>>> from symgrad._core.symbols import z
>>> sorted((t.power, t.exponent) for t in terms_of(z**2 * sympy.exp(-z) + 3))
[(0, 0), (2, -z)]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from symgrad._core.symbols import z
from symgrad._exact.ball import erfcx, working_precision
from symgrad._exact.ball_constants import constant_ball

__all__ = ["FUNCTION_NAMES", "ONE", "ZERO", "NotTail", "Term", "as_expr", "bounded",
           "growth_order", "split", "term", "terms_of"]

_MAX_TERMS = 2000
_MAX_POWER = 64
ONE, ZERO = sympy.Integer(1), sympy.Integer(0)


class NotTail(Exception):
    """The expression is outside what the tail rules cover (message says where)."""


@dataclass(frozen=True)
class Term:
    """coeff·z^power·e^{exponent}·bounded, exponent a polynomial without constant term."""

    coeff: sympy.Expr
    power: sympy.Rational
    exponent: sympy.Expr
    bounded: sympy.Expr

    def times(self, other: Term) -> Term:
        return Term(self.coeff * other.coeff, self.power + other.power,
                     _expand(self.exponent + other.exponent), self.bounded * other.bounded)

    def over(self, other: Term) -> Term:
        return Term(self.coeff / other.coeff, self.power - other.power,
                     _expand(self.exponent - other.exponent), self.bounded / other.bounded)

    def expr(self) -> sympy.Expr:
        return self.coeff * z**self.power * sympy.exp(self.exponent) * self.bounded


@lru_cache(maxsize=8192)
def _expand(e: sympy.Expr) -> sympy.Expr:
    return sympy.expand(e)


def term(coeff: sympy.Expr, power: int | sympy.Rational = 0, exponent: sympy.Expr = ZERO,
          bounded: sympy.Expr = ONE) -> Term:
    """A term with the exponent's constant part moved into the coefficient."""
    exponent = _expand(exponent)
    constant = exponent.subs(z, 0)
    if constant != 0:
        coeff, exponent = coeff * sympy.exp(constant), sympy.expand(exponent - constant)
    return Term(coeff, sympy.Rational(power), exponent, bounded)


# ---- exact decisions on constants ----


def _sign(c: sympy.Expr) -> int:
    """The sign of a real constant, 0 only when it is exactly zero."""
    return _sign_of(sympy.expand(c))


@lru_cache(maxsize=8192)
def _sign_of(c: sympy.Expr) -> int:
    if c == 0:
        return 0
    for bits in (64, 256, 1024):
        with working_precision(bits):
            v = constant_ball(c)
        if v > 0:
            return 1
        if v < 0:
            return -1
    if sympy.simplify(c) == 0:
        return 0
    raise NotTail(f"cannot decide the sign of the constant {c}")


def _merge(terms: list[Term]) -> list[Term]:
    groups: dict[tuple[sympy.Expr, ...], sympy.Expr] = {}
    for t in terms:
        key = (t.power, t.exponent, t.bounded)
        groups[key] = groups.get(key, ZERO) + t.coeff
    out = [Term(c, *key) for key, c in groups.items() if _sign(c) != 0]
    if len(out) > _MAX_TERMS:
        raise NotTail(f"more than {_MAX_TERMS} terms")
    return out


def _product(a: list[Term], b: list[Term]) -> list[Term]:
    return _merge([s.times(t) for s in a for t in b])


def _compare(s: Term, t: Term) -> int:
    """sign(growth(s) − growth(t)) as z → +∞: exponent first, then the power of z."""
    return growth_order(s.exponent, s.power, t.exponent, t.power)


@lru_cache(maxsize=8192)
def growth_order(e1: sympy.Expr, p1: sympy.Rational, e2: sympy.Expr,
                 p2: sympy.Rational) -> int:
    """sign(growth of z^p1·e^e1 − growth of z^p2·e^e2) as z → +∞ (exponents first)."""
    gap = sympy.expand(e1 - e2)
    if gap != 0:
        for c in sympy.Poly(gap, z).all_coeffs():
            sign = _sign(c)
            if sign:
                return sign
    return int(bool(p1 > p2)) - int(bool(p1 < p2))


def bounded(terms: list[Term]) -> bool:
    nothing = Term(ONE, sympy.Integer(0), ZERO, ONE)
    return all(_compare(t, nothing) <= 0 for t in terms)


def split(terms: list[Term]) -> tuple[Term, list[Term]]:
    """(D, ρ): the sum is D·(1 + Σρ), D its fastest-growing class, every ρ term → 0."""
    if not terms:
        raise NotTail("a sum that vanishes identically")
    top = terms[0]
    for t in terms[1:]:
        if _compare(t, top) > 0:
            top = t
    same = [t for t in terms if _compare(t, top) == 0]
    if len(same) == 1:
        dominant = same[0]
    else:
        dominant = Term(ONE, top.power, top.exponent,
                         sympy.Add(*[t.coeff * t.bounded for t in same]))
    rest = [t.over(dominant) for t in terms if _compare(t, top) != 0]
    return dominant, rest


def as_expr(terms: list[Term]) -> sympy.Expr:
    return sympy.Add(*[t.expr() for t in terms])


def _polynomial(terms: list[Term]) -> sympy.Expr | None:
    """The sum as a polynomial in z, or None when some term is not a monomial."""
    if all(t.bounded == 1 and t.exponent == 0 and t.power.is_Integer and t.power >= 0
           for t in terms):
        return sympy.Add(*[t.coeff * z**t.power for t in terms])
    return None


# ---- the rules ----


def terms_of(e: sympy.Expr) -> list[Term]:
    return list(_cached_terms(e))


@lru_cache(maxsize=4096)
def _cached_terms(e: sympy.Expr) -> tuple[Term, ...]:
    return tuple(_rules(e))


def _rules(e: sympy.Expr) -> list[Term]:
    if not e.has(z):
        return [term(e)] if e != 0 else []
    if e == z:
        return [term(ONE, 1)]
    if isinstance(e, sympy.Add):
        return _merge([t for a in e.args for t in terms_of(a)])
    if isinstance(e, sympy.Mul):
        out = [term(ONE)]
        for factor in e.args:
            out = _product(out, terms_of(factor))
        return out
    if isinstance(e, sympy.Pow):
        return _pow_terms(e.base, e.exp)
    if isinstance(e, sympy.exp):
        return _exp_terms(e.args[0])
    if isinstance(e, sympy.log):
        return _log_terms(e.args[0])
    if isinstance(e, sympy.erf | sympy.erfc):
        return _erf_terms(e.args[0], complement=isinstance(e, sympy.erfc))
    if isinstance(e, sympy.atan):
        return _atan_terms(e.args[0])
    if isinstance(e, erfcx):
        return _erfcx_terms(e.args[0])
    if isinstance(e, sympy.sin | sympy.cos):
        return [term(ONE, 0, ZERO, e)]  # in [−1, 1] whatever its argument
    if type(e) in FUNCTION_NAMES and len(e.args) == 1 and bounded(terms_of(e.args[0])):
        # any function with a ball rule, of an argument bounded on the tail: bounded
        return [term(ONE, 0, ZERO, e)]
    raise NotTail(f"no tail rule for {type(e).__name__} in {e}")


def _pow_terms(base: sympy.Expr, k: sympy.Expr) -> list[Term]:
    if k.has(z):
        return _exp_terms(k * sympy.log(base))
    terms = terms_of(base)
    if k.is_Integer and 0 < k <= _MAX_POWER:
        out, square, n = [term(ONE)], terms, int(k)
        while n:
            if n & 1:
                out = _product(out, square)
            n >>= 1
            if n:
                square = _product(square, square)
        return out
    dominant, rho = split(terms)
    if not k.is_Integer and (_sign(dominant.coeff) < 0):
        raise NotTail(f"a non-integer power of a sum tending to a negative value: {base}")
    head = Term(dominant.coeff**k, dominant.power * k, sympy.expand(dominant.exponent * k),
                 dominant.bounded**k)
    if not rho:
        return [head]
    r = as_expr(rho)
    if k.is_Integer and k < 0:
        m = int(-k)
        q = sympy.Add(*[(1 + r) ** (j - m) for j in range(m)])
        # (1 + ρ)^(−m) = 1 − ρ·Σ_{j<m} (1 + ρ)^(j−m)
        factor = [term(ONE)] + [Term(-t.coeff, t.power, t.exponent, t.bounded * q)
                                  for t in rho]
        return _product([head], _merge(factor))
    return [Term(head.coeff, head.power, head.exponent, head.bounded * (1 + r) ** k)]


def _exp_terms(u: sympy.Expr) -> list[Term]:
    terms = terms_of(u)
    poly = [t for t in terms if _polynomial([t]) is not None]
    rest = [t for t in terms if _polynomial([t]) is None]
    if not bounded(rest):
        raise NotTail(f"e^u with u growing faster than a polynomial: {u}")
    p = sympy.expand(_polynomial(poly) or ZERO)
    return [term(ONE, 0, p, sympy.exp(as_expr(rest)) if rest else ONE)]


def _log_terms(u: sympy.Expr) -> list[Term]:
    dominant, rho = split(terms_of(u))
    if dominant.power != 0:
        raise NotTail(f"log of a sum growing like a power of z (log z): {u}")
    if _sign(dominant.coeff) <= 0:
        raise NotTail(f"log of a sum tending to a non-positive value: {u}")
    out = [term(sympy.log(dominant.coeff))]
    poly = sympy.Poly(dominant.exponent, z)
    out += [term(c, m[0]) for m, c in poly.terms() if m[0] > 0]
    inner = dominant.bounded * (1 + as_expr(rho))
    if inner != 1:
        out.append(term(ONE, 0, ZERO, sympy.log(inner)))
    return _merge(out)


def _erf_terms(u: sympy.Expr, *, complement: bool) -> list[Term]:
    terms = terms_of(u)
    if bounded(terms):
        return [term(ONE, 0, ZERO, (sympy.erfc if complement else sympy.erf)(u))]
    p = _polynomial(terms)
    if p is None:
        raise NotTail(f"erf of an unbounded argument that is not a polynomial: {u}")
    s = _sign(sympy.Poly(p, z).LC())
    x = sympy.expand(s * p)
    # erf(p) = s·erf(x) = s·(1 − erfcx(x)·e^{−x²}); erfc = 1 − erf
    gauss = term(ONE, 0, -x**2, erfcx(x))
    if complement:
        out = [term(1 - s), Term(s * gauss.coeff, gauss.power, gauss.exponent, gauss.bounded)]
    else:
        out = [term(sympy.Integer(s)),
               Term(-s * gauss.coeff, gauss.power, gauss.exponent, gauss.bounded)]
    return _merge(out)


def _erfcx_terms(u: sympy.Expr) -> list[Term]:
    terms = terms_of(u)
    if bounded(terms):
        return [term(ONE, 0, ZERO, erfcx(u))]
    p = _polynomial(terms)
    if p is None or _sign(sympy.Poly(p, z).LC()) < 0:
        raise NotTail(f"erfcx of an argument tending to −∞ or not polynomial: {u}")
    return [term(ONE, 0, ZERO, erfcx(p))]


def _atan_terms(u: sympy.Expr) -> list[Term]:
    terms = terms_of(u)
    if bounded(terms):
        return [term(ONE, 0, ZERO, sympy.atan(u))]
    dominant, _ = split(terms)
    if dominant.bounded != 1:
        raise NotTail(f"atan of a sum whose leading sign is not a constant: {u}")
    s = _sign(dominant.coeff)
    inverse = _pow_terms(u, sympy.Integer(-1))
    return [term(s * sympy.pi / 2), term(-ONE, 0, ZERO, sympy.atan(as_expr(inverse)))]



FUNCTION_NAMES = {sympy.exp: "exp", sympy.log: "log", sympy.erf: "erf", sympy.erfc: "erfc",
                   erfcx: "erfcx", sympy.tanh: "tanh", sympy.atan: "atan", sympy.asin: "asin",
                   sympy.asinh: "asinh", sympy.sin: "sin", sympy.cos: "cos"}
