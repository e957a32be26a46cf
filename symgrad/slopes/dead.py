"""Where is φ' zero?  The dead set {z : φ'(z) = 0}, with the proof that no zero was missed.

A unit whose pre-activation sits in the dead set passes on no gradient at all: ReLU's
half-line z ≤ 0, hard_sigmoid's |z| ≥ 3 outside (−3, 3], GELU's single point
z ≈ −0.7518 (SiLU ≈ −1.2785, mish ≈ −1.1924), where the saturation islands
{|φ'| < ε} shrink to as ε → 0.  :func:`dead_set` collects the pieces on which φ' is the
constant 0, the kinks where symgrad's convention (φ' at a kink is the value of the piece
that contains it) gives 0, and the roots of φ' on every other smooth piece, isolated by
:func:`~symgrad.slopes.roots.piece_roots` (ball arithmetic on cells, tail proofs beyond;
closed forms where SymPy finds them).

>>> found = dead_set("gelu")
>>> [round(float(p), 6) for p in found.points], found.region.is_FiniteSet
([-0.751792], True)
>>> dead_set("relu").region
Interval(-oo, 0)
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy

from symgrad._core.symbols import z
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Exact, How
from symgrad.slopes.roots import piece_roots

__all__ = ["DeadSet", "dead_set"]

_KINK = Exact("the kink convention: φ' there is the value of the piece that contains it")


@dataclass(frozen=True)
class DeadSet:
    """{z : φ'(z) = 0} as a SymPy set (``region``), its isolated points left to right
    (``points``: closed forms, or Floats of the digits their enclosures prove) with one
    provenance each (``how``, in the same order), and why no zero was missed
    (``completeness``, per piece; empty when every piece is constant)."""

    activation: str
    region: sympy.Set
    points: tuple[sympy.Expr, ...]
    how: tuple[How, ...]
    completeness: str


def dead_set(act: Activation | str) -> DeadSet:
    """The set where φ' vanishes (see the module docstring)."""
    return _dead_set(as_activation(act))


@lru_cache(maxsize=256)
def _dead_set(act: Activation) -> DeadSet:
    parts: list[sympy.Set] = []
    found: dict[sympy.Expr, How] = {}
    proofs: list[str] = []
    for piece in act.pieces:
        d = piece.derivative
        if not d.has(z):
            if d == 0:
                parts.append(piece.interval)
            continue
        roots = piece_roots(d, piece.lo, piece.hi, name="φ'")
        found.update((r.at, r.how) for r in roots.roots)
        if roots.completeness:
            proofs.append(roots.completeness)
    for b in act.breakpoints:
        if act.derivative.subs(z, b) == 0:
            found.setdefault(b, _KINK)
    if found:
        parts.append(sympy.FiniteSet(*found))
    region = sympy.Union(*parts) if parts else sympy.S.EmptySet
    components = region.args if isinstance(region, sympy.Union) else (region,)
    isolated = sorted((q for c in components if isinstance(c, sympy.FiniteSet) for q in c),
                      key=float)
    return DeadSet(act.label, region, tuple(isolated), tuple(found[q] for q in isolated),
                   "; ".join(proofs))
