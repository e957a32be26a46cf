"""A claim's verdict, as a record.

>>> Verdict("holds").value, ClaimKind.SLOPE_MAX.value
('holds', 'slope_max')
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from symgrad.records import NO_NUMBERS, Provenances, Record, Step

__all__ = ["ClaimKind", "ClaimResult", "Verdict"]


class Verdict(enum.Enum):
    """A claim's verdict."""

    HOLDS = "holds"
    FAILS = "fails"
    #: The claim could not be checked (unknown kind, missing or ill-typed field).
    ERROR = "error"


class ClaimKind(enum.Enum):
    """The kinds of claim a file may contain."""

    SLOPE_MAX = "slope_max"
    SLOPE_AT = "slope_at"
    SLOPE_BELOW_BEYOND = "slope_below_beyond"
    WEIGHT_BOUND = "weight_bound"
    CHAIN_GRADIENT = "chain_gradient"
    CHAIN_RATIO = "chain_ratio"
    INIT_VARIANCE = "init_variance"


@dataclass(frozen=True)
class ClaimResult(Record):
    """One claim's verdict.

    ``value`` is the computed quantity (a SymPy number or an mpmath number; None on
    error), ``claimed`` the number the claim states, ``witness`` a point z showing a
    universal claim false (None otherwise), ``detail`` one sentence on how the value
    was obtained, ``error`` the problem with a claim that could not be checked.
    """

    id: str
    text: str
    kind: str
    verdict: Verdict
    value: Any = None
    claimed: Any = None
    witness: Any = None
    detail: str = ""
    error: str | None = None
    #: Whether the claimed number was written as an approximation (a TOML float).
    approximate: bool = False
    steps: tuple[Step, ...] = field(default=(), repr=False)
    #: How ``value`` was obtained (empty when the claim could not be checked).
    provenance: Provenances = NO_NUMBERS
    #: Where the claim is made (the file's ``source`` field; empty when not given).
    source: str = ""

    def title(self) -> str:
        return f"claim {self.id}: {self.verdict.value}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("claim", self.text), ("verdict", self.verdict.value)]
        if self.value is not None:
            rows.append(("computed", self.value))
        if self.witness is not None:
            rows.append(("witness z", self.witness))
        if self.error:
            rows.append(("error", self.error))
        if self.source:
            rows.append(("source", self.source))
        return rows

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape ``symgrad claims --json`` prints."""
        return {
            "id": self.id,
            "verdict": self.verdict.value,
            "value": self.value,
            "witness": self.witness,
            "claimed": self.claimed,
            "kind": self.kind,
            "text": self.text,
            "detail": self.detail,
            "error": self.error,
            "source": self.source,
            "provenance": {k: how.kind.value for k, how in self.provenance.items()},
        }
