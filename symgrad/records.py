"""The shared shape of every derivation's result.

A derivation is a pure function returning a frozen dataclass that mixes in
:class:`Record`: it carries its values, how they were obtained (:class:`Exactness`),
the derivation :class:`Step` s as SymPy objects, and renders itself for notebooks.
Reports and the CLI only render records; they never recompute mathematics.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

from symgrad._format import latex, number_text

__all__ = ["Exactness", "Record", "Step"]


class Exactness(enum.Enum):
    """How a value was obtained."""

    #: A closed form SymPy derived and checked.
    EXACT = "exact"
    #: A certified number: a bracketed root or a quadrature with an error bound.
    NUMERIC = "numeric"


@dataclass(frozen=True)
class Step:
    """One derivation step: words, and the SymPy object (an ``Eq``, a set, a number)."""

    text: str
    math: Any = None

    def latex(self) -> str:
        if self.math is None:
            return ""
        if isinstance(self.math, str):
            return self.math
        return latex(self.math)


class Record:
    """Mixin for result records: ``title``, ``summary()`` rows and ``steps`` render them."""

    steps: tuple[Step, ...]

    def title(self) -> str:
        return type(self).__name__

    def summary(self) -> list[tuple[str, Any]]:
        """(label, value) rows shown first when the record is displayed."""
        return []

    def _repr_markdown_(self) -> str:
        lines = [f"**{self.title()}**", "", "| quantity | value |", "| --- | --- |"]
        for label, value in self.summary():
            shown = value if isinstance(value, str) else number_text(value)
            lines.append(f"| {label} | {shown} |")
        for step in getattr(self, "steps", ()):
            lines += ["", step.text]
            if step.math is not None:
                lines += ["", "$$" + step.latex() + "$$"]
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        rows = [
            rf"\text{{{label}}} &: {value if isinstance(value, str) else latex(value)}"
            for label, value in self.summary()
            if not isinstance(value, str)
        ]
        return "$\\begin{aligned}" + r" \\ ".join(rows) + "\\end{aligned}$"
