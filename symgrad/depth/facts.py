"""A symbolic fact: a statement, its SymPy claim, and the proof steps SymPy checked.

>>> import sympy
>>> t = sympy.Symbol("t", nonnegative=True)
>>> Fact("1 + t ≥ 1", sympy.Ge(1 + t, 1), (Step("t ≥ 0", sympy.Ge(t, 0)),), True).holds
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from symgrad.records import Exact, Provenances, Record, Step, provenances

__all__ = ["Fact", "Step"]


_DECIDED = provenances(holds=Exact("every step decided by SymPy"))


@dataclass(frozen=True)
class Fact(Record):
    """``claim`` (a SymPy relation) with ``proof`` steps; ``holds`` is what SymPy decided
    for every step (all of them checked, none assumed)."""

    statement: str
    claim: Any
    proof: tuple[Step, ...]
    holds: bool
    provenance: Provenances = _DECIDED

    @property
    def steps(self) -> tuple[Step, ...]:  # type: ignore[override]
        return (Step(self.statement, self.claim), *self.proof)

    def title(self) -> str:
        return self.statement

    def summary(self) -> list[tuple[str, Any]]:
        return [("holds", "yes (SymPy)" if self.holds else "no")]

    def __bool__(self) -> bool:
        return self.holds
