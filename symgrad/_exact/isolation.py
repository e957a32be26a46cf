"""What root isolation returns: the roots, the cells of the proof, the tail statements.

:func:`~symgrad._exact.isolate.isolate_roots` builds an :class:`Isolation`; its
``statement()`` is the completeness certificate in words ("all 2 roots of f on (−∞, ∞):
13 cells, 11 with 0 ∉ f(I)…; for z ≥ 8, f = 1·T with T in [−0.0101, −0.00966]…") and
``steps()`` the record steps.  Bounds are printed rounded outward, so a printed bound is
still a bound.

>>> _outward(Fraction(-96612, 10**7), 1), _outward(Fraction(-96612, 10**7), -1)
('-0.00966', '-0.00967')
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from fractions import Fraction

import sympy

from symgrad._core.symbols import z
from symgrad._exact.ball_function import BallFunction, compile_ball
from symgrad._exact.digits import CertifiedNumber, decimal_exponent
from symgrad.records import Certified, Exact, Step

__all__ = ["Cell", "Isolation", "Region", "Root", "Tail", "Verdict"]


class Verdict(enum.Enum):
    """What was proven on a cell."""

    EXCLUDED = "0 not in f(I)"
    MONOTONE = "f' has one sign on I and f the same sign at both ends: no root"
    ROOT = "f' has one sign on I and f changes sign: exactly one root"
    EXACT_ROOT = "f' has one sign on I and f is exactly 0 at an end point"


@dataclass(frozen=True)
class Cell:
    """[lo, hi] in z and the verdict proven there (``tail`` when the tail form was used)."""

    lo: Fraction
    hi: Fraction
    verdict: Verdict
    tail: bool = False


@dataclass(frozen=True)
class Region:
    """A form of f in w = side·z: f itself (side 1) or its tail form towards side·∞."""

    side: int
    expr: sympy.Expr  # in w
    original: sympy.Expr  # f in z, for exact tests
    tail: bool

    @property
    def f(self) -> BallFunction:
        return compile_ball(self.expr)


@dataclass(frozen=True)
class Root:
    """A root of f: ``value`` its certified enclosure, ``exact`` the rational root when it
    was proven exactly, ``crossing`` the sign of f' there (+1: f goes from − to +)."""

    value: CertifiedNumber
    exact: sympy.Rational | None
    crossing: int
    _region: Region | None = field(default=None, repr=False, compare=False)

    @property
    def how(self) -> Exact | Certified:
        """The record provenance of this root."""
        if self.exact is not None:
            return Exact("a subdivision point where f vanishes exactly (SymPy)")
        return self.value.certified("interval Newton in ball arithmetic (Arb), "
                                    "simple root: f' of one sign on the enclosure")


@dataclass(frozen=True)
class Tail:
    """No root of f for side·z ≥ ``beyond``: there f(z) = scale·T with T in ``bounds``."""

    side: int
    beyond: Fraction
    scale: sympy.Expr
    bounds: tuple[Fraction, Fraction]

    @property
    def sign(self) -> int:
        return 1 if self.bounds[0] > 0 else -1

    def statement(self) -> str:
        where = f"z ≥ {self.beyond}" if self.side > 0 else f"z ≤ −{self.beyond}"
        w = "z" if self.side > 0 else "−z"
        lo, hi = _outward(self.bounds[0], -1), _outward(self.bounds[1], 1)
        return (f"for {where}, f = {sympy.sstr(self.scale.subs(z, sympy.Symbol(w)))}·T with "
                f"T in [{lo}, {hi}] (tail form, enclosed on the whole half-line), so f "
                f"{'>' if self.sign > 0 else '<'} 0 there")


@dataclass(frozen=True)
class Isolation:
    """Every root of ``expr`` in the open interval (lo, hi), with the proof.

    ``cells`` cover the searched interval (their union, with the tails, is (lo, hi));
    ``tails`` prove the unbounded sides; ``bits`` is the highest precision used and
    ``capped`` says whether some root stopped short of ``digits`` at :data:`CAP_BITS`.
    """

    expr: sympy.Expr
    lo: sympy.Expr
    hi: sympy.Expr
    roots: tuple[Root, ...]
    cells: tuple[Cell, ...]
    tails: tuple[Tail, ...]
    digits: int
    bits: int
    capped: bool

    @property
    def complete(self) -> bool:
        """Always True: an isolation that cannot be completed raises instead."""
        return True

    def statement(self) -> str:
        counts = {v: sum(c.verdict is v for c in self.cells) for v in Verdict}
        text = (f"all {len(self.roots)} roots of f on ({sympy.sstr(self.lo)}, "
                f"{sympy.sstr(self.hi)}): {len(self.cells)} cells, "
                f"{counts[Verdict.EXCLUDED]} with 0 ∉ f(I), {counts[Verdict.MONOTONE]} "
                f"monotone without sign change, {counts[Verdict.ROOT]} with exactly one "
                f"simple root, {counts[Verdict.EXACT_ROOT]} with an exact root at an end")
        return "; ".join([text, *(t.statement() for t in self.tails)])

    def steps(self) -> tuple[Step, ...]:
        roots = sympy.FiniteSet(*[r.exact if r.exact is not None else r.value.sympy_float()
                                  for r in self.roots])
        return (Step("Roots isolated in ball arithmetic: " + self.statement() + ".",
                     sympy.Eq(sympy.Symbol(r"z_{\mathrm{root}}"), roots, evaluate=False)),)


def _outward(x: Fraction, direction: int) -> str:
    """x rounded to 3 significant digits away from the enclosure's inside (a bound stays a
    bound when printed)."""
    if x == 0:
        return "0"
    scale = Fraction(10) ** (decimal_exponent(x) - 2)
    steps = x / scale
    n = math.floor(steps) if direction < 0 else math.ceil(steps)
    return f"{float(n * scale):.3g}"
