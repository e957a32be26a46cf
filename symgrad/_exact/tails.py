"""Tail forms: f on [a, ∞) written z^N·e^{E(z)}·T(z) with T bounded, and T's sign proven.

Towards +∞ (−∞ is handled by substituting z → −z), :func:`tail_form` writes f as a
sum of terms c·z^p·e^{P(z)}·B(z) — c a constant, P a polynomial, B a product of
*bounded* factors — by rules that are algebraic identities:

* xᵏ for a sum x = D·(1 + ρ) with D its fastest-growing term and ρ → 0:
  xᵏ = Dᵏ·(1 + ρ)ᵏ, and for k = −m < 0, (1 + ρ)^(−m) = 1 − ρ·Σ_{j<m}(1 + ρ)^(j−m), so
  constants cancel exactly (1/(1 + e^{−z}) − 1 = −e^{−z}/(1 + e^{−z}));
* e^{u} = e^{P}·e^{r} with P the polynomial part of u and r bounded;
* erf(P) = ±(1 − erfcx(±P)·e^{−P²}) for a polynomial P → ±∞ (erfcx = e^{x²}erfc(x));
* log(D·(1 + ρ)) = log c + P + log(B·(1 + ρ)); atan(u) = ±π/2 − atan(1/u);
* tanh, sinh, cosh through exponentials.

Dividing by the dominant term's scale z^N·e^{E} (positive for z > 0) leaves
T = Σ c·z^{p−N}·e^{P−E}·B with every term bounded; the dominant ones tend to constants.
:meth:`TailForm.enclosure_beyond` then encloses T on the whole of [a, ∞]: z^k·e^{G} is
non-increasing there once k + z·G'(z) ≤ 0 on [a, ∞) (checked on the Taylor coefficients
of that polynomial at a), so it lies in [0, a^k·e^{G(a)}]; a monotone function of a
polynomial that is monotone on [a, ∞) lies between its values at a and at the limit.
An enclosure of T excluding 0 proves f has no root on [a, ∞) — a rigorous statement
about infinitely many points, made of finitely many ball operations.

>>> from symgrad._core.symbols import z
>>> t = tail_form(1 / (1 + sympy.exp(-z)) - sympy.Rational(1, 2), 1)
>>> t.scale
1
>>> with working_precision(64):
...     print(t.enclosure_beyond(Fraction(8)) > 0)
True
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

import sympy
from flint import arb, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball import (
    BallFunction,
    compile_ball,
    constant_ball,
    erfcx,
    working_precision,
)
from symgrad._exact.ball_rules import REAL
from symgrad.errors import NoClosedForm

__all__ = ["TailForm", "tail_form"]

_MAX_TERMS = 2000
_MAX_POWER = 64
_ONE, _ZERO = sympy.Integer(1), sympy.Integer(0)


class _NotTail(Exception):
    """The expression is outside what the tail rules cover (message says where)."""


@dataclass(frozen=True)
class _Term:
    """coeff·z^power·e^{exponent}·bounded, exponent a polynomial without constant term."""

    coeff: sympy.Expr
    power: sympy.Rational
    exponent: sympy.Expr
    bounded: sympy.Expr

    def times(self, other: _Term) -> _Term:
        return _Term(self.coeff * other.coeff, self.power + other.power,
                     _expand(self.exponent + other.exponent), self.bounded * other.bounded)

    def over(self, other: _Term) -> _Term:
        return _Term(self.coeff / other.coeff, self.power - other.power,
                     _expand(self.exponent - other.exponent), self.bounded / other.bounded)

    def expr(self) -> sympy.Expr:
        return self.coeff * z**self.power * sympy.exp(self.exponent) * self.bounded


@lru_cache(maxsize=8192)
def _expand(e: sympy.Expr) -> sympy.Expr:
    return sympy.expand(e)


def _term(coeff: sympy.Expr, power: int | sympy.Rational = 0, exponent: sympy.Expr = _ZERO,
          bounded: sympy.Expr = _ONE) -> _Term:
    """A term with the exponent's constant part moved into the coefficient."""
    exponent = _expand(exponent)
    constant = exponent.subs(z, 0)
    if constant != 0:
        coeff, exponent = coeff * sympy.exp(constant), sympy.expand(exponent - constant)
    return _Term(coeff, sympy.Rational(power), exponent, bounded)


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
    raise _NotTail(f"cannot decide the sign of the constant {c}")


def _merge(terms: list[_Term]) -> list[_Term]:
    groups: dict[tuple[sympy.Expr, ...], sympy.Expr] = {}
    for t in terms:
        key = (t.power, t.exponent, t.bounded)
        groups[key] = groups.get(key, _ZERO) + t.coeff
    out = [_Term(c, *key) for key, c in groups.items() if _sign(c) != 0]
    if len(out) > _MAX_TERMS:
        raise _NotTail(f"more than {_MAX_TERMS} terms")
    return out


def _product(a: list[_Term], b: list[_Term]) -> list[_Term]:
    return _merge([s.times(t) for s in a for t in b])


def _compare(s: _Term, t: _Term) -> int:
    """sign(growth(s) − growth(t)) as z → +∞: exponent first, then the power of z."""
    return _growth_order(s.exponent, s.power, t.exponent, t.power)


@lru_cache(maxsize=8192)
def _growth_order(e1: sympy.Expr, p1: sympy.Rational, e2: sympy.Expr,
                  p2: sympy.Rational) -> int:
    gap = sympy.expand(e1 - e2)
    if gap != 0:
        for c in sympy.Poly(gap, z).all_coeffs():
            sign = _sign(c)
            if sign:
                return sign
    return int(bool(p1 > p2)) - int(bool(p1 < p2))


def _bounded(terms: list[_Term]) -> bool:
    nothing = _Term(_ONE, sympy.Integer(0), _ZERO, _ONE)
    return all(_compare(t, nothing) <= 0 for t in terms)


def _split(terms: list[_Term]) -> tuple[_Term, list[_Term]]:
    """(D, ρ): the sum is D·(1 + Σρ), D its fastest-growing class, every ρ term → 0."""
    if not terms:
        raise _NotTail("a sum that vanishes identically")
    top = terms[0]
    for t in terms[1:]:
        if _compare(t, top) > 0:
            top = t
    same = [t for t in terms if _compare(t, top) == 0]
    if len(same) == 1:
        dominant = same[0]
    else:
        dominant = _Term(_ONE, top.power, top.exponent,
                         sympy.Add(*[t.coeff * t.bounded for t in same]))
    rest = [t.over(dominant) for t in terms if _compare(t, top) != 0]
    return dominant, rest


def _as_expr(terms: list[_Term]) -> sympy.Expr:
    return sympy.Add(*[t.expr() for t in terms])


def _polynomial(terms: list[_Term]) -> sympy.Expr | None:
    """The sum as a polynomial in z, or None when some term is not a monomial."""
    if all(t.bounded == 1 and t.exponent == 0 and t.power.is_Integer and t.power >= 0
           for t in terms):
        return sympy.Add(*[t.coeff * z**t.power for t in terms])
    return None


# ---- the rules ----


def _terms(e: sympy.Expr) -> list[_Term]:
    return list(_cached_terms(e))


@lru_cache(maxsize=4096)
def _cached_terms(e: sympy.Expr) -> tuple[_Term, ...]:
    return tuple(_rules(e))


def _rules(e: sympy.Expr) -> list[_Term]:
    if not e.has(z):
        return [_term(e)] if e != 0 else []
    if e == z:
        return [_term(_ONE, 1)]
    if isinstance(e, sympy.Add):
        return _merge([t for a in e.args for t in _terms(a)])
    if isinstance(e, sympy.Mul):
        out = [_term(_ONE)]
        for factor in e.args:
            out = _product(out, _terms(factor))
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
    if type(e) in _FUNCTION_NAMES and len(e.args) == 1 and _bounded(_terms(e.args[0])):
        # any function with a ball rule, of an argument bounded on the tail: bounded
        return [_term(_ONE, 0, _ZERO, e)]
    raise _NotTail(f"no tail rule for {type(e).__name__} in {e}")


def _pow_terms(base: sympy.Expr, k: sympy.Expr) -> list[_Term]:
    if k.has(z):
        return _exp_terms(k * sympy.log(base))
    terms = _terms(base)
    if k.is_Integer and 0 < k <= _MAX_POWER:
        out, square, n = [_term(_ONE)], terms, int(k)
        while n:
            if n & 1:
                out = _product(out, square)
            n >>= 1
            if n:
                square = _product(square, square)
        return out
    dominant, rho = _split(terms)
    if not k.is_Integer and (_sign(dominant.coeff) < 0):
        raise _NotTail(f"a non-integer power of a sum tending to a negative value: {base}")
    head = _Term(dominant.coeff**k, dominant.power * k, sympy.expand(dominant.exponent * k),
                 dominant.bounded**k)
    if not rho:
        return [head]
    r = _as_expr(rho)
    if k.is_Integer and k < 0:
        m = int(-k)
        q = sympy.Add(*[(1 + r) ** (j - m) for j in range(m)])
        # (1 + ρ)^(−m) = 1 − ρ·Σ_{j<m} (1 + ρ)^(j−m)
        factor = [_term(_ONE)] + [_Term(-t.coeff, t.power, t.exponent, t.bounded * q)
                                  for t in rho]
        return _product([head], _merge(factor))
    return [_Term(head.coeff, head.power, head.exponent, head.bounded * (1 + r) ** k)]


def _exp_terms(u: sympy.Expr) -> list[_Term]:
    terms = _terms(u)
    poly = [t for t in terms if _polynomial([t]) is not None]
    rest = [t for t in terms if _polynomial([t]) is None]
    if not _bounded(rest):
        raise _NotTail(f"e^u with u growing faster than a polynomial: {u}")
    p = sympy.expand(_polynomial(poly) or _ZERO)
    return [_term(_ONE, 0, p, sympy.exp(_as_expr(rest)) if rest else _ONE)]


def _log_terms(u: sympy.Expr) -> list[_Term]:
    dominant, rho = _split(_terms(u))
    if dominant.power != 0:
        raise _NotTail(f"log of a sum growing like a power of z (log z): {u}")
    if _sign(dominant.coeff) <= 0:
        raise _NotTail(f"log of a sum tending to a non-positive value: {u}")
    out = [_term(sympy.log(dominant.coeff))]
    poly = sympy.Poly(dominant.exponent, z)
    out += [_term(c, m[0]) for m, c in poly.terms() if m[0] > 0]
    inner = dominant.bounded * (1 + _as_expr(rho))
    if inner != 1:
        out.append(_term(_ONE, 0, _ZERO, sympy.log(inner)))
    return _merge(out)


def _erf_terms(u: sympy.Expr, *, complement: bool) -> list[_Term]:
    terms = _terms(u)
    if _bounded(terms):
        return [_term(_ONE, 0, _ZERO, (sympy.erfc if complement else sympy.erf)(u))]
    p = _polynomial(terms)
    if p is None:
        raise _NotTail(f"erf of an unbounded argument that is not a polynomial: {u}")
    s = _sign(sympy.Poly(p, z).LC())
    x = sympy.expand(s * p)
    # erf(p) = s·erf(x) = s·(1 − erfcx(x)·e^{−x²}); erfc = 1 − erf
    gauss = _term(_ONE, 0, -x**2, erfcx(x))
    if complement:
        out = [_term(1 - s), _Term(s * gauss.coeff, gauss.power, gauss.exponent, gauss.bounded)]
    else:
        out = [_term(sympy.Integer(s)),
               _Term(-s * gauss.coeff, gauss.power, gauss.exponent, gauss.bounded)]
    return _merge(out)


def _erfcx_terms(u: sympy.Expr) -> list[_Term]:
    terms = _terms(u)
    if _bounded(terms):
        return [_term(_ONE, 0, _ZERO, erfcx(u))]
    p = _polynomial(terms)
    if p is None or _sign(sympy.Poly(p, z).LC()) < 0:
        raise _NotTail(f"erfcx of an argument tending to −∞ or not polynomial: {u}")
    return [_term(_ONE, 0, _ZERO, erfcx(p))]


def _atan_terms(u: sympy.Expr) -> list[_Term]:
    terms = _terms(u)
    if _bounded(terms):
        return [_term(_ONE, 0, _ZERO, sympy.atan(u))]
    dominant, _ = _split(terms)
    if dominant.bounded != 1:
        raise _NotTail(f"atan of a sum whose leading sign is not a constant: {u}")
    s = _sign(dominant.coeff)
    inverse = _pow_terms(u, sympy.Integer(-1))
    return [_term(s * sympy.pi / 2), _term(-_ONE, 0, _ZERO, sympy.atan(_as_expr(inverse)))]


# ---- enclosures on [a, ∞] ----
#
# Each bounded expression is turned once into a plan: a function of the start point a
# returning an enclosure over [a, ∞) (None: not proven bounded there).

_Plan = Callable[[arb], "arb | None"]


@lru_cache(maxsize=4096)
def _coefficients(poly: sympy.Expr) -> tuple[sympy.Expr, ...]:
    return tuple(sympy.Poly(poly, z).all_coeffs())


def _horner(coeffs: tuple[sympy.Expr, ...], a: arb) -> arb:
    total = arb(0)
    for c in coeffs:
        total = total * a + constant_ball(c)
    return total


def _eventually(poly: sympy.Expr, a: arb) -> int:
    """+1 (−1) when poly ≥ 0 (≤ 0) on [a, ∞), read off the coefficients of poly(a + s)."""
    coeffs = [constant_ball(c) for c in _coefficients(poly)]
    # Taylor shift by repeated synthetic division (Horner): coeffs[-1 - j] ← poly^(j)(a)/j!
    n = len(coeffs)
    for i in range(n - 1):
        for j in range(1, n - i):
            coeffs[j] += coeffs[j - 1] * a
    if all(c >= 0 for c in coeffs):
        return 1
    if all(c <= 0 for c in coeffs):
        return -1
    return 0


@lru_cache(maxsize=4096)
def _decay_plan(k: sympy.Rational, g: sympy.Expr) -> _Plan:
    """z^k·e^{g(z)} on [a, ∞): in [0, a^k·e^{g(a)}] once k + z·g'(z) ≤ 0 there."""
    if k == 0 and g == 0:
        return lambda a: arb(1)
    g_coeffs = _coefficients(g) if g != 0 else (_ZERO,)
    degree = len(g_coeffs) - 1
    # k + z·g'(z) = k + Σ i·c_i·z^i
    slope = sympy.Add(k, *[(degree - j) * c * z ** (degree - j)
                           for j, c in enumerate(g_coeffs) if degree - j > 0])

    def bound(a: arb) -> arb | None:
        if slope == 0 or _eventually(slope, a) >= 0:
            return None
        at_a = REAL["rpow"](a, int(k.p), int(k.q)) if k != 0 else arb(1)
        return arb(0).union(at_a * REAL["exp"](_horner(g_coeffs, a)))

    return bound


_LIMITS = {  # h(−∞), h(+∞) for monotone h (None: unbounded)
    sympy.erf: (-1, 1), sympy.erfc: (2, 0), erfcx: (None, 0), sympy.tanh: (-1, 1),
    sympy.atan: (-2, 2),  # in units of π/4
}


def _limit_ball(kind: type, value: int | None) -> arb | None:
    if value is None:
        return None
    return arb.pi() / 4 * value if kind is sympy.atan else arb(value)


@lru_cache(maxsize=4096)
def _plan(e: sympy.Expr) -> _Plan:
    """The plan of a bounded expression e."""
    if not e.has(z):
        return lambda a: constant_ball(e)
    if isinstance(e, sympy.Add):
        return _sum_plan(tuple(_plan(arg) for arg in e.args))
    k, g, others = sympy.Integer(0), _ZERO, []
    for f in sympy.Mul.make_args(e):
        if f == z:
            k += 1
        elif isinstance(f, sympy.Pow) and f.base == z and f.exp.is_Rational:
            k += f.exp
        elif isinstance(f, sympy.exp) and f.args[0].is_polynomial(z):
            g += f.args[0]
        else:
            others.append(_single_plan(f))
    return _product_plan(_decay_plan(sympy.Rational(k), sympy.expand(g)), tuple(others))


def _sum_plan(parts: tuple[_Plan, ...]) -> _Plan:
    def run(a: arb) -> arb | None:
        total = arb(0)
        for part in parts:
            v = part(a)
            if v is None:
                return None
            total += v
        return total

    return run


def _product_plan(mono: _Plan, parts: tuple[_Plan, ...]) -> _Plan:
    def run(a: arb) -> arb | None:
        total = mono(a)
        for part in parts:
            if total is None:
                return None
            v = part(a)
            total = None if v is None else total * v
        return total

    return run


def _single_plan(f: sympy.Expr) -> _Plan:
    if not f.has(z) or isinstance(f, sympy.Add | sympy.Mul):
        return _plan(f)
    if isinstance(f, sympy.Pow):
        base, n = _plan(f.base), f.exp
        if not n.is_Rational:
            return lambda a: None

        def power(a: arb) -> arb | None:
            b = base(a)
            if b is None:
                return None
            if n.is_Integer:
                value: arb = (REAL["ipow"](b, int(n)) if n > 0
                              else 1 / REAL["ipow"](b, int(-n)))
                return value
            root: arb = REAL["rpow"](b, int(n.p), int(n.q))
            return root

        return power
    kind, arg = type(f), f.args[0]
    name = _FUNCTION_NAMES.get(kind)
    if name is None:
        return lambda a: None
    if kind in _LIMITS and arg.is_polynomial(z) and arg.has(z):
        return _monotone_plan(kind, name, sympy.expand(arg))
    inner = _argument_plan(arg)

    def apply(a: arb) -> arb | None:
        v = inner(a)
        return None if v is None else REAL[name](v)

    return apply


def _argument_plan(u: sympy.Expr) -> _Plan:
    """An argument u enclosed through its own tail terms when they are all bounded
    (z/(2z + 1) = 1/2 − (1/(4z))·(1 + 1/(2z))⁻¹: bounded, though z alone is not)."""
    try:
        terms = _terms(u)
        bounded = _bounded(terms)
    except _NotTail:
        return _plan(u)
    if not bounded:
        return _plan(u)
    parts = tuple(_product_plan(_decay_plan(t.power, t.exponent),
                                (_plan(t.coeff), _plan(t.bounded))) for t in terms)
    return _sum_plan(parts)


def _monotone_plan(kind: type, name: str, arg: sympy.Expr) -> _Plan:
    """h(P(z)) for monotone h and a polynomial P, monotone on [a, ∞): between h(P(a)) and
    h(P(±∞))."""
    slope = sympy.diff(arg, z)
    coeffs = _coefficients(arg)

    def run(a: arb) -> arb | None:
        direction = _eventually(slope, a)
        limit = _limit_ball(kind, _LIMITS[kind][1 if direction > 0 else 0]) if direction else None
        if limit is None:
            return None
        value: arb = REAL[name](_horner(coeffs, a)).union(limit)
        return value

    return run


_FUNCTION_NAMES = {sympy.exp: "exp", sympy.log: "log", sympy.erf: "erf", sympy.erfc: "erfc",
                   erfcx: "erfcx", sympy.tanh: "tanh", sympy.atan: "atan", sympy.asin: "asin",
                   sympy.asinh: "asinh", sympy.sin: "sin", sympy.cos: "cos"}


# ---- the tail form ----


@dataclass(frozen=True)
class TailForm:
    """f(side·z) = z^N·e^{E(z)}·T(z) for z > 0, with T = Σ c·z^p·e^{P}·B bounded.

    ``power`` is N, ``exponent`` the polynomial E (no constant term), ``scale`` is
    z^N·e^{E(z)} (positive for z > 0), ``expr`` is T — all in the variable z standing for
    side·(the original z).
    """

    side: int
    power: sympy.Rational
    exponent: sympy.Expr
    expr: sympy.Expr
    terms: tuple[_Term, ...]

    @property
    def scale(self) -> sympy.Expr:
        """z^N·e^{E(z)}."""
        return z**self.power * sympy.exp(self.exponent)

    @property
    def ball(self) -> BallFunction:
        return compile_ball(self.expr)

    def enclosure_beyond(self, a: Fraction) -> arb | None:
        """An enclosure of T over [a, ∞) at the current precision (None when the rules
        cannot bound it there: try a larger a)."""
        start = arb(fmpq(a.numerator, a.denominator))
        total = arb(0)
        for t in self.terms:
            mono = _decay_plan(t.power, t.exponent)(start)
            rest = _plan(t.bounded)(start)
            if mono is None or rest is None:
                return None
            total += constant_ball(t.coeff) * mono * rest
        return total if total.is_finite() else None


def _hyperbolic_to_exp(e: sympy.Expr) -> sympy.Expr:
    kinds = (sympy.tanh, sympy.sinh, sympy.cosh, sympy.sech, sympy.csch, sympy.coth)
    return e.replace(lambda x: isinstance(x, kinds), lambda x: x.rewrite(sympy.exp))


@lru_cache(maxsize=512)
def tail_form(f: sympy.Expr, side: int) -> TailForm:
    """f towards side·∞ (side = ±1) as a :class:`TailForm`.

    Raises :class:`NoClosedForm` when f is outside the rules (oscillating functions,
    e^{e^z}, log z growth…) or vanishes identically towards that side.
    """
    # One fraction first: mish's φ'' has 12 numerator terms over (1 + e^z)²·(…)³ this way,
    # against hundreds of terms when every nested quotient is expanded on its own.
    g = sympy.together(_hyperbolic_to_exp(f.subs(z, -z) if side < 0 else f))
    try:
        terms = _terms(g)
        dominant, _ = _split(terms)
    except _NotTail as exc:
        raise NoClosedForm(f"no tail form for {f} towards {'+' if side > 0 else '-'}∞: "
                           f"{exc}") from None
    scale_term = _Term(_ONE, dominant.power, dominant.exponent, _ONE)
    relative = tuple(t.over(scale_term) for t in terms)
    form = TailForm(side, dominant.power, dominant.exponent, _as_expr(list(relative)), relative)
    _check(f, form)
    return form


def _check(f: sympy.Expr, form: TailForm) -> None:
    """Guard against a wrong rewrite: f(side·w) and scale(w)·T(w) must overlap."""
    lhs, scale = compile_ball(f), compile_ball(form.scale)
    with working_precision(192):
        for w in (arb(3), arb(fmpq(23, 2)), arb(57)):
            left = lhs(w * form.side)
            right = scale(w) * form.ball(w)
            if left.is_finite() and right.is_finite() and not left.overlaps(right):
                raise NoClosedForm(f"tail form of {f} disagrees with f at z = {w}")
