"""Bounds through depth: the weight bound 1/γ and exact vanishing/exploding depths.

Every factor of the gradient product obeys |w φ'(z)| ≤ |w|·γ with γ = sup|φ'|, so
the product is at most (|w|γ)^L and vanishes whenever |w| < 1/γ: with the sigmoid
(γ = 1/4) whenever |w| < 4 (Hochreiter 1991; Bengio, Simard and Frasconi 1994).
A product of equal factors f falls below ε after ⌊ln ε / ln|f|⌋ + 1 layers; here that
depth is decided exactly.

>>> weight_bound("sigmoid").bound
4
>>> vanishing_depth(0.25, 1e-6).depth
10
>>> exploding_depth(2, 1000).depth
10
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import mpmath
import sympy
from mpmath.ctx_iv import MPIntervalContext

from symgrad._core.validate import as_exact_real, describe
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.precision import KEPT_DIGITS
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import (
    Certified,
    Exact,
    How,
    Provenances,
    Record,
    Step,
    provenances,
)
from symgrad.slopes.sup import max_slope
from symgrad.types import RealLike

__all__ = [
    "DepthThreshold",
    "Growth",
    "WeightBound",
    "exploding_depth",
    "vanishing_depth",
    "weight_bound",
]

#: The symbolic depth.
L = sympy.Symbol("L", integer=True, positive=True)


# ---- the weight bound ----


@dataclass(frozen=True)
class WeightBound(Record):
    """|w| < ``bound`` = 1/γ makes every factor |w φ'(z)| < 1 (γ = sup|φ'|).

    ``attained`` says whether γ is reached at a finite z: if it is, |w| = 1/γ gives a
    factor of exactly 1 there (``at`` and the statement say where: a point, or an
    interval such as ReLU's (0, ∞)); if not, every factor stays below 1 at |w| = 1/γ
    too, but comes arbitrarily close.  A certified γ gives a certified bound (its
    enclosure mapped through 1/γ; only proven digits are kept).  γ = 0 gives ``bound``
    = ∞ (every gradient is 0); γ = ∞ gives 0 (no weight guarantees vanishing).
    """

    activation: Activation
    gamma: sympy.Expr
    bound: sympy.Expr
    attained: bool
    at: sympy.Expr
    statement: str
    provenance: Provenances
    steps: tuple[Step, ...]


    def title(self) -> str:
        return f"Weight bound for {self.activation.label}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("γ = sup|φ'|", self.gamma), ("1/γ", self.bound), ("", self.statement)]

    def __float__(self) -> float:
        return float(self.bound)


def weight_bound(act: Activation | str) -> WeightBound:
    """1/γ with γ = sup_z |φ'(z)|: below it, the gradient vanishes at least like (|w|γ)^L.

    >>> weight_bound("tanh").bound
    1
    >>> weight_bound("sigmoid").attained
    True
    """
    phi = as_activation(act)
    ms = max_slope(phi)
    gamma = sympy.sympify(ms.value)
    attained = bool(ms.attained)
    how_gamma = ms.how("value")
    how_bound: How = how_gamma
    if gamma == 0:
        bound: sympy.Expr = sympy.oo
        statement = "φ' ≡ 0: every gradient is exactly 0 after one layer, for every weight."
    elif gamma == sympy.oo:
        bound = sympy.Integer(0)
        statement = "sup|φ'| = ∞: no weight bound makes every factor smaller than 1."
    else:
        if isinstance(how_gamma, Certified):
            # 1/γ is decreasing: the enclosure of γ gives that of the bound, ends swapped.
            lo, hi = sympy.sympify(how_gamma.upper), sympy.sympify(how_gamma.lower)
            number = CertifiedNumber(_fraction(1 / lo), _fraction(1 / hi), KEPT_DIGITS)
            bound = number.sympy_float()
            how_bound = number.certified(how_gamma.method + ", then 1/γ")
        else:
            bound = sympy.simplify(1 / gamma)
        shown = sympy.sstr(bound)
        if attained:
            statement = (
                f"|w| < {shown} gives |w φ'(z)| < 1 for every z; at |w| = {shown} the factor "
                f"is exactly 1 where |φ'| = γ: {ms.where()}."
            )
        else:
            statement = (
                f"|w| ≤ {shown} gives |w φ'(z)| < 1 for every finite z (γ is {ms.where()}), "
                "so factors can come arbitrarily close to 1."
            )
        if ms.convention:
            statement += (" Where the sup is reached depends on the kink convention (φ' at "
                          "a kink is the value of the piece containing it): "
                          + ms.convention.split(". ", 1)[-1])
    steps = (
        Step("Per-layer factor bound", sympy.Le(sympy.Abs(sympy.Symbol("w") * sympy.Symbol(
            r"\varphi'(z)")), sympy.Abs(sympy.Symbol("w")) * gamma)),
        Step("Every factor is below 1 when", sympy.StrictLessThan(
            sympy.Abs(sympy.Symbol("w")), bound)),
    )
    how = provenances(gamma=how_gamma, bound=how_bound, at=ms.how("at"))
    return WeightBound(phi, gamma, bound, attained, sympy.sympify(ms.at), statement, how,
                       steps)


def _fraction(value: sympy.Expr) -> Fraction:
    rational = sympy.Rational(value)
    return Fraction(int(rational.p), int(rational.q))


# ---- depth thresholds ----


_DECIDED = provenances(depth=Exact("exact integer or interval comparison of |f|^L"))


class Growth(enum.Enum):
    """Which way a product of equal factors goes."""

    VANISHING = "vanishing"
    EXPLODING = "exploding"


@dataclass(frozen=True)
class DepthThreshold(Record):
    """The smallest depth L with |factor|^L < eps (vanishing) or > size (exploding).

    Decided exactly: the comparison |f|^L vs the threshold is settled by exact integer
    arithmetic or by a rigorous interval enclosure of L·ln|f| − ln(threshold), never
    by a rounded float, so a boundary case (0.5³ = 0.125) lands on the right side.
    """

    growth: Growth
    factor: sympy.Expr
    threshold: sympy.Expr
    depth: int
    steps: tuple[Step, ...]
    provenance: Provenances = _DECIDED

    def title(self) -> str:
        return f"{self.growth.value} depth"

    def summary(self) -> list[tuple[str, Any]]:
        return [("|factor|", self.factor), ("threshold", self.threshold), ("L", self.depth)]

    def __int__(self) -> int:
        return self.depth

    def __index__(self) -> int:
        return self.depth

    def __float__(self) -> float:
        return float(self.depth)


def _compare_power(f: sympy.Expr, n: int, t: sympy.Expr) -> int:
    """sign(f**n − t) for exact positive f, t and integer n ≥ 0, decided exactly."""
    if f == 0:
        return -1 if n > 0 else (1 if t < 1 else (0 if t == 1 else -1))
    if f.is_Rational and t.is_Rational:
        p, q, r, s = int(f.p), int(f.q), int(t.p), int(t.q)
        # f**n = t needs p**n | r and q**n | s (gcd(p, q) = 1): a threshold with at
        # least n·(bits of max(p, q)) − n bits.  Small powers, or such a threshold,
        # are compared exactly in integers; otherwise f**n ≠ t, and an interval
        # enclosure of n·ln f − ln t decides its sign at some precision.
        power_bits = n * max(p.bit_length(), q.bit_length())
        if power_bits <= 400_000 or max(r.bit_length(), s.bit_length()) >= power_bits - n:
            lhs, rhs = p**n * s, r * q**n
            return int(lhs > rhs) - int(lhs < rhs)
        for prec in (256, 1024, 4096, 16384, 65536):
            ctx = MPIntervalContext()  # private: outward-rounded interval arithmetic
            ctx.prec = prec
            d = n * ctx.log(ctx.mpf(p) / q) - ctx.log(ctx.mpf(r) / s)
            if d.a > 0:
                return 1
            if d.b < 0:
                return -1
        raise NoClosedForm(f"could not decide {f}**{n} against {t}")  # pragma: no cover
    difference = sympy.powsimp(f**n) - t
    for digits in (60, 200, 1000):
        approx = difference.evalf(digits)
        if approx.is_Float and approx != 0 and abs(approx) > sympy.Float(10) ** (
            -digits + 10) * (1 + abs(t.evalf(20))):
            return 1 if approx > 0 else -1
    if sympy.simplify(difference) == 0:
        return 0
    raise NoClosedForm(f"could not decide the sign of {difference}")  # pragma: no cover


def _threshold_depth(f: sympy.Expr, t: sympy.Expr, growth: Growth) -> int:
    """Smallest n ≥ 1 with f**n < t (VANISHING) or f**n > t (EXPLODING)."""
    want = -1 if growth is Growth.VANISHING else 1

    def ok(n: int) -> bool:
        return _compare_power(f, n, t) == want

    if f == 0:
        return 1
    with mpmath.workdps(40):
        guess = float(mpmath.log(t._to_mpmath(140)) / mpmath.log(f._to_mpmath(140)))
    n = max(1, math.floor(guess))
    while not ok(n):
        n += 1
    while n > 1 and ok(n - 1):
        n -= 1
    return n


def _closed_form(target: sympy.Expr, f: sympy.Expr) -> Step:
    """The closed form ⌊ln T / ln f⌋ + 1 with T and f as symbols (the exact depth is decided
    by the integer search; SymPy evaluates, and can fail on, a floor of huge log ratios
    even when only printing it)."""
    T_, f_ = sympy.symbols("T f", positive=True)
    return Step(f"Closed form, with f = {f} and T = {target}",
                sympy.Eq(L, sympy.floor(sympy.log(T_) / sympy.log(f_)) + 1))


def vanishing_depth(factor: RealLike, eps: RealLike) -> DepthThreshold:
    """The smallest integer L ≥ 1 with |factor|^L < eps, for |factor| < 1 and 0 < eps < 1.

    L = ⌊ln ε / ln|f|⌋ + 1 in general, decided exactly at the boundary:

    >>> vanishing_depth(0.5, 0.125).depth   # 0.5**3 == 0.125 is not < 0.125
    4
    >>> vanishing_depth(sympy.Rational(1, 4), sympy.Rational(1, 10**6)).depth
    10
    """
    f = sympy.Abs(as_exact_real(factor, "factor"))
    eps_ = as_exact_real(eps, "eps", domain=sympy.Interval.open(0, 1))
    if not f < 1:
        raise InvalidArgument(
            f"factor must satisfy |factor| < 1 for the product to vanish, got {describe(factor)}"
            " (use exploding_depth for |factor| > 1)"
        )
    n = _threshold_depth(f, eps_, Growth.VANISHING)
    steps = (
        Step("Smallest L with", sympy.StrictLessThan(f**L, eps_)),
        _closed_form(eps_, f) if f != 0 else Step("Closed form", sympy.Eq(L, 1)),
        Step("Exact check: L works and L − 1 does not", sympy.And(
            sympy.StrictLessThan(sympy.Pow(f, n, evaluate=False), eps_, evaluate=False),
            sympy.GreaterThan(sympy.Pow(f, n - 1, evaluate=False), eps_, evaluate=False),
            evaluate=False) if n > 1 else None),
    )
    return DepthThreshold(Growth.VANISHING, f, eps_, n, steps)


def exploding_depth(factor: RealLike, size: RealLike) -> DepthThreshold:
    """The smallest integer L ≥ 1 with |factor|^L > size, for |factor| > 1 and size ≥ 1.

    >>> exploding_depth(2, 1024).depth   # 2**10 == 1024 is not > 1024
    11
    >>> exploding_depth(1.1, 1e6).depth
    145
    """
    f = sympy.Abs(as_exact_real(factor, "factor"))
    size_ = as_exact_real(size, "size", domain=sympy.Interval(1, sympy.oo))
    if not f > 1:
        raise InvalidArgument(
            f"factor must satisfy |factor| > 1 for the product to explode, got {describe(factor)}"
            " (use vanishing_depth for |factor| < 1)"
        )
    n = _threshold_depth(f, size_, Growth.EXPLODING)
    steps = (
        Step("Smallest L with", sympy.StrictGreaterThan(f**L, size_)),
        _closed_form(size_, f),
    )
    return DepthThreshold(Growth.EXPLODING, f, size_, n, steps)
