"""Where does a constant-weight chain settle?  The forward fixed point a* = φ(w a* + b),
and the factor per layer when a* sits at a kink.

Conventions (``DESIGN.md``): a₀ = x, z_k = w a_{k−1} + b, a_k = φ(z_k).

>>> fixed_point("relu", weight=0.5, bias=1).value
2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_digits, as_exact_real
from symgrad._exact.enclose import enclose
from symgrad._exact.isolate import isolate_roots
from symgrad._exact.mpforms import compiled
from symgrad._exact.signs import sign_of, simplifiable
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import NoClosedForm
from symgrad.records import (
    Exact,
    Provenances,
    Record,
    Step,
    provenances,
)
from symgrad.types import RealLike

__all__ = ["ITERATIONS", "FixedPoint", "fixed_point", "kink_factor"]

_a = sympy.Symbol("a", real=True)
#: Forward layers tried before a chain is said not to settle.
ITERATIONS = 10_000
_ITERATIONS = ITERATIONS
_SOLVED = provenances(value=Exact("solved on an affine piece"))
_RECOGNISED = provenances(value=Exact("recognised, then proved by substitution"))


@dataclass(frozen=True)
class FixedPoint(Record):
    """a* = φ(w a* + b): exact when SymPy solves it, else a certified number.

    ``value`` is a closed form, or a SymPy Float of the digits proven by ``bracket``, the
    enclosure of the only root of g(a) = φ(w a + b) − a in a small rational interval on
    one smooth piece (isolated in ball arithmetic: g' of one sign, g changing sign;
    ``provenance`` certified).  ``preactivation`` z* = w a* + b and ``slope`` φ'(z*) are
    enclosed at that root.  ``reached`` says whether the chain started at x settles there
    (within 10⁴ layers).
    """

    value: sympy.Expr
    preactivation: sympy.Expr
    slope: sympy.Expr
    reached: bool
    #: The enclosure of a* (exact rationals; None for a closed form).
    bracket: tuple[sympy.Expr, sympy.Expr] | None
    provenance: Provenances
    steps: tuple[Step, ...]


    def __float__(self) -> float:
        return float(self.value)

    def summary(self) -> list[tuple[str, Any]]:
        return [("a*", self.value), ("z* = w a* + b", self.preactivation),
                ("φ'(z*)", self.slope)]


def _exact_candidates(
    phi: Activation, w: sympy.Expr, b: sympy.Expr
) -> list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]]:
    """(a*, z*, φ'(z*)) on pieces where φ is affine, and a* = 0 when φ(b) = 0."""
    found: list[tuple[sympy.Expr, sympy.Expr, sympy.Expr]] = []
    for piece in phi.pieces:
        expr = sympy.expand(piece.expr)
        if not expr.is_polynomial(z) or sympy.Poly(expr, z).degree() > 1:
            continue
        c1, c0 = expr.coeff(z, 1), expr.coeff(z, 0)
        if sign_of(1 - c1 * w) == 0:
            continue
        a_star = (c1 * b + c0) / (1 - c1 * w)
        zs = w * a_star + b
        # the pieces are lo < z ≤ hi, as the derivative's convention at kinks
        above = not piece.lo.is_finite or sign_of(zs - piece.lo) == 1
        below = not piece.hi.is_finite or sign_of(zs - piece.hi) in (-1, 0)
        if above and below:
            found.append((a_star, zs, c1))
    if all(a != 0 for a, _, _ in found) and sign_of(phi.expr.subs(z, b)) == 0:
        found.append((sympy.Integer(0), b, phi.derivative.subs(z, b)))
    return found


def _recognise(
    phi: Activation, w: sympy.Expr, b: sympy.Expr, root: Any, digits: int
) -> tuple[sympy.Expr, sympy.Expr, sympy.Expr] | None:
    """A short closed form for a numeric fixed point (σ(2·½ − 1) = ½), proved exactly."""
    guess = sympy.nsimplify(sympy.Float(root, digits + 10), [sympy.pi, sympy.E],
                            tolerance=sympy.Float(10) ** -(digits + 5))
    if guess.is_Float or sympy.count_ops(guess) > 12:
        return None
    zs = w * guess + b
    if not simplifiable(zs):  # such a point is left to the ball-arithmetic route
        return None
    residual = phi.expr.subs(z, zs) - guess
    if residual.is_zero or (residual.is_zero is None and sympy.simplify(residual) == 0):
        return guess, zs, sympy.simplify(phi.derivative.subs(z, zs))
    return None


def fixed_point(
    act: Activation | str, *, weight: RealLike, bias: RealLike = 0, x: RealLike = 1, dps: int = 30
) -> FixedPoint | None:
    """The fixed point a* = φ(w a* + b) the constant-weight chain from x settles at.

    ``None`` when no fixed point is found near the chain's iterates (it diverges or
    cycles).  Exact on affine pieces and at a* = 0; certified otherwise.

    >>> fixed_point("relu", weight=0.5, bias=1).value
    2
    >>> fp = fixed_point("sigmoid", weight=0.1)
    >>> fp.exact, str(fp.value)[:12]
    (False, '0.5128176319')
    """
    return _fixed_point(as_activation(act), as_exact_real(weight, "weight"),
                        as_exact_real(bias, "bias"), as_exact_real(x, "x"), as_digits(dps))


@lru_cache(maxsize=256)
def _fixed_point(phi: Activation, w: sympy.Expr, b: sympy.Expr, x0: sympy.Expr, digits: int
                 ) -> FixedPoint | None:
    """:func:`fixed_point` on validated arguments, once per chain: the record is frozen,
    and a report asks for the same chain at several depths (the worked sigmoid chain:
    three times), each search costing a PSLQ run and a ball-arithmetic isolation."""
    work = digits + 20
    # constants evaluated once, precise enough for the iteration and findroot
    _, fn, _ = compiled(phi.expr, phi.derivative, int((work + 40) * 3.33) + 8)
    with mpmath.workdps(work):
        wm, bm = w._to_mpmath(mpmath.mp.prec), b._to_mpmath(mpmath.mp.prec)

        def g(a: Any) -> Any:
            return fn(wm * a + bm) - a

        a = x0._to_mpmath(mpmath.mp.prec)
        converged = False
        tol = mpmath.mpf(10) ** (-(digits + 10))
        big = mpmath.mpf(10) ** 50
        snapshots: list[Any] = []
        for i in range(1, _ITERATIONS + 1):
            nxt = fn(wm * a + bm)
            if not mpmath.isfinite(nxt) or abs(nxt) > big:
                return None
            if abs(nxt - a) <= tol * max(1, abs(nxt)):
                a, converged = nxt, True
                break
            a = nxt
            if i % 1000 == 0:
                snapshots.append(a)

        def settles_at(c: Any) -> bool:
            # Converged there, or the distance to c kept shrinking over the last 2000 layers.
            if converged:
                return bool(abs(c - a) <= mpmath.mpf(10) ** (-(digits // 2)) * max(1, abs(a)))
            d = [abs(s - c) for s in snapshots[-3:]]
            return len(d) == 3 and d[0] > d[1] > d[2]

        eq = sympy.Eq(_a, phi.expr.subs(z, w * _a + b))
        candidates = _exact_candidates(phi, w, b)
        if candidates:
            cand, zs, slope = min(
                candidates, key=lambda c: abs(c[0]._to_mpmath(mpmath.mp.prec) - a))
            reached = settles_at(cand._to_mpmath(mpmath.mp.prec))
            if reached or not converged:
                steps = (Step("Fixed-point equation", eq),
                         Step("Exact solution", sympy.Eq(_a, cand)))
                return FixedPoint(cand, zs, slope, reached, None, _SOLVED, steps)
        # certified: refine in mpmath, then isolate the root in ball arithmetic
        try:
            root = mpmath.findroot(g, a, tol=mpmath.mpf(10) ** (-2 * work + 10))
        except (ValueError, ZeroDivisionError):
            root = a
        if not isinstance(root, mpmath.mpf) or not mpmath.isfinite(root):
            return None
        reached = settles_at(root)
        closed = _recognise(phi, w, b, root, digits)
        if closed is not None:
            steps = (Step("Fixed-point equation", eq),
                     Step("Exact solution (recognised, then checked exactly)",
                          sympy.Eq(_a, closed[0])))
            return FixedPoint(*closed, reached, None, _RECOGNISED, steps)
        return _certified(phi, w, b, root, digits, reached, eq)


def _exact_point(x: Any) -> sympy.Rational:
    """An mpmath number as the exact binary fraction it stores."""
    sign, man, exp, _ = mpmath.mpf(x)._mpf_  # man_exp would drop the sign
    return (-1) ** sign * sympy.Integer(man) * sympy.Integer(2) ** exp


def _certified(phi: Activation, w: sympy.Expr, b: sympy.Expr, root: Any, digits: int,
               reached: bool, eq: sympy.Eq) -> FixedPoint | None:
    """a* as a certified number: the one root of g(a) = φ(w a + b) − a in a small rational
    interval around the mpmath root, on one smooth piece, isolated in ball arithmetic."""
    with mpmath.workdps(digits + 20):
        half = mpmath.mpf(10) ** (-(digits // 2 + 5)) * max(1, abs(root))
        lo, hi = _exact_point(root - half), _exact_point(root + half)
    piece = next((p for p in phi.pieces if _inside(p, w * lo + b) and _inside(p, w * hi + b)),
                 None)
    if piece is None:  # the interval straddles a breakpoint
        return None
    g = piece.expr.subs(z, w * z + b) - z
    try:
        iso = isolate_roots(g, lo, hi, digits=digits)
    except NoClosedForm:
        return None
    if len(iso.roots) != 1:
        return None
    found = iso.roots[0]
    number = found.value
    pre = enclose(w * z + b, found, digits=digits)
    slope = enclose(piece.derivative.subs(z, w * z + b), found, digits=digits)
    steps = (
        Step("Fixed-point equation (no closed form found)", eq),
        Step("Isolated in ball arithmetic (Arb): " + iso.statement() + "; the root of",
             sympy.Eq(g, 0)),
        Step("Enclosure of a*", sympy.Interval(*number.bounds())),
    )
    how = provenances(value=found.how, preactivation=pre.certified("ball arithmetic (Arb)"),
                      slope=slope.certified("ball arithmetic (Arb)"))
    return FixedPoint(number.sympy_float(), pre.sympy_float(), slope.sympy_float(), reached,
                      number.bounds(), how, steps)


def _inside(piece: Any, point: sympy.Expr) -> bool:
    above = not piece.lo.is_finite or sign_of(point - piece.lo) == 1
    below = not piece.hi.is_finite or sign_of(point - piece.hi) == -1
    return above and below


# ---- a fixed point at a kink ----


def kink_factor(
    phi: Activation, w: sympy.Expr, b: sympy.Expr, x: RealLike, fp: FixedPoint, dps: int
) -> tuple[sympy.Expr, Step] | None:
    """The factor per layer when z* is a kink, φ'(z*−) = s₋ ≠ s₊ = φ'(z*+), and the chain
    does not land on it (``None`` otherwise: then every factor is w φ'(z*) from the kink's
    convention, or z* is no kink).

    Near z*, u_k = z_k − z* follows u_{k+1} ≈ w s_± u_k, the slope of u_k's side.  A side
    with w s > 0 keeps the chain on it (factor w s); with w s < 0 it sends the chain
    across; both < 0, the sides alternate and two layers multiply by w² s₋ s₊, i.e. by
    −|w|√(s₋ s₊) per layer; w s = 0 lands on z* (the convention's slope from then on).
    """
    if not fp.exact:
        return None
    zs = fp.preactivation
    s_minus, s_plus = phi.one_sided_derivatives(zs)
    if sign_of(s_minus - s_plus) == 0:
        return None
    side = _side_near(phi, w, b, x, zs, dps)
    slope = {-1: s_minus, 1: s_plus}
    sign: dict[int, int] = {}
    for s in (-1, 1):
        decided = sign_of(w * slope[s])
        if decided is None:
            return None
        sign[s] = decided
    if side == 0 or sign[side] == 0:
        return None
    if sign[side] < 0:  # sent across
        side = -side
        if sign[side] == 0:
            return None
        if sign[side] < 0:
            factor = -sympy.Abs(w) * sympy.sqrt(s_minus * s_plus)
            return factor, Step(
                "z* is a kink and the chain alternates sides, so two layers multiply by"
                " w² φ'(z*−) φ'(z*+): per layer",
                sympy.Eq(sympy.Symbol("f"), factor))
    which = "below" if side < 0 else "above"
    factor = w * slope[side]
    return factor, Step(
        f"z* is a kink and the chain approaches it from {which}: the one-sided slope",
        sympy.Eq(sympy.Symbol("f"), factor))


def _side_near(
    phi: Activation, w: sympy.Expr, b: sympy.Expr, x: RealLike, zs: sympy.Expr, dps: int
) -> int:
    """The side of z* (−1, +1) of the chain's first z_k within 10^−dps of z*; 0 when the
    chain lands on z* or does not come that close within the layers tried."""
    work = dps + 20
    _, fn, _ = compiled(phi.expr, phi.derivative, int(work * 3.33) + 8)
    with mpmath.workdps(work):
        prec = mpmath.mp.prec
        wm, bm = w._to_mpmath(prec), b._to_mpmath(prec)
        target = zs._to_mpmath(prec)
        close = mpmath.mpf(10) ** -dps * max(1, abs(target))
        a = as_exact_real(x, "x")._to_mpmath(prec)
        for _ in range(_ITERATIONS):
            zk = wm * a + bm
            if zk == target:
                return 0
            if abs(zk - target) <= close:
                return 1 if zk > target else -1
            a = fn(zk)
    return 0
