"""Reading one ``[[claim]]`` table: typed fields, exact or approximate numbers, and a
message naming the claim and the field for anything wrong.

>>> c = Claim({"id": "x", "value": "1/4"}, "claim 'x'")
>>> c.number("value")
Number(value=1/4, approximate=False)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.expressions import number
from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation
from symgrad.claims.record import ClaimKind
from symgrad.errors import InvalidArgument

__all__ = ["COMMON_FIELDS", "CONVENTIONS", "FIELDS", "GRADIENTS", "Claim", "ClaimError",
           "Number"]


class ClaimError(Exception):
    """A problem with one claim (reported in its result, not raised to the caller)."""



COMMON_FIELDS = frozenset({"id", "text", "kind", "rel_tol", "source"})
FIELDS: dict[ClaimKind, tuple[frozenset[str], frozenset[str]]] = {
    # kind: (required, optional) beyond id/text/kind/rel_tol/source
    ClaimKind.SLOPE_MAX: (frozenset({"activation", "value"}), frozenset({"params"})),
    ClaimKind.SLOPE_AT: (frozenset({"activation", "at", "value"}), frozenset({"params"})),
    ClaimKind.SLOPE_BELOW_BEYOND: (
        frozenset({"activation", "beyond", "bound"}), frozenset({"params"})),
    ClaimKind.WEIGHT_BOUND: (frozenset({"activation", "bound"}), frozenset({"params"})),
    ClaimKind.CHAIN_GRADIENT: (
        frozenset({"activation", "depth", "weight", "x", "value"}),
        frozenset({"params", "layer", "gradient"})),
    ClaimKind.CHAIN_RATIO: (
        frozenset({"activation", "depth", "weight", "x", "value"}),
        frozenset({"params", "gradient"})),
    ClaimKind.INIT_VARIANCE: (
        frozenset({"scheme", "fan_in", "fan_out", "value"}), frozenset({"mode", "convention"})),
}

#: What a chain claim's ``gradient`` may name (DESIGN.md's conventions): the gradient
#: reaching the activation a_k, the weight w_k, the bias b_k (= ∂L/∂z_k), or the input x.
GRADIENTS = {"activation": "∂L/∂a", "weight": "∂L/∂w", "bias": "∂L/∂b", "input": "∂L/∂x"}
#: Conventions an ``init_variance`` claim about Xavier may be judged by.
CONVENTIONS = {"glorot": "Glorot and Bengio 2010: Var(w) = 2/(fan_in + fan_out)",
               "caffe": "Caffe's XavierFiller (variance_norm FAN_IN): Var(w) = 1/fan_in"}

# Names a string expression may use (anything else is refused before SymPy sees it).


@dataclass(frozen=True)
class Number:
    """A number as the claim states it: exact, or approximate."""

    value: sympy.Expr
    approximate: bool


class Claim:
    """Typed access to one ``[[claim]]`` table; every problem names the field."""

    def __init__(self, table: Mapping[str, Any], label: str) -> None:
        self.table = table
        self.label = label

    def fail(self, name: str, message: str) -> ClaimError:
        return ClaimError(f"{self.label}: field {name!r} {message}")

    def raw(self, name: str) -> Any:
        if name not in self.table:
            return ClaimError(f"{self.label}: field {name!r} is missing")
        return self.table[name]

    def get(self, name: str) -> Any:
        value = self.raw(name)
        if isinstance(value, ClaimError):
            raise value
        return value

    def string(self, name: str) -> str:
        value = self.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(name, f"must be a non-empty string, got {describe(value)}")
        return value

    def number(self, name: str) -> Number:
        value = self.get(name)
        if isinstance(value, bool):
            raise self.fail(name, f"must be a number, got {describe(value)}")
        if isinstance(value, int):
            return Number(sympy.Integer(value), False)
        if isinstance(value, float):
            try:
                return Number(as_exact_real(value, name), True)
            except InvalidArgument as exc:
                raise self.fail(name, f"must be a finite number, got {describe(value)}") from exc
        if isinstance(value, str):
            return Number(self._expression(name, value), False)
        raise self.fail(
            name, f"must be a number or an exact expression such as \"1/4\", got {describe(value)}"
        )

    def _expression(self, name: str, text: str) -> sympy.Expr:
        try:
            return number(text, name)
        except InvalidArgument as exc:
            raise self.fail(name, f"is not a finite exact number: {exc}") from exc

    def integer(self, name: str, *, minimum: int = 1) -> int:
        value = self.get(name)
        try:
            return as_positive_int(value, name, minimum=minimum)
        except InvalidArgument as exc:
            message = f"must be an integer >= {minimum}, got {describe(value)}"
            raise self.fail(name, message) from exc

    def activation(self) -> Activation:
        name = self.string("activation")
        params = self.table.get("params", {})
        if not isinstance(params, Mapping):
            raise self.fail("params", f"must be a table such as {{alpha = 0.2}}, got "
                            f"{describe(params)}")
        try:
            return activation(name, **dict(params))
        except InvalidArgument as exc:
            raise self.fail("activation" if not params else "params", f"is invalid: {exc}") from exc

    def choice(self, name: str, allowed: dict[str, str], default: str) -> str:
        """An optional string field with a fixed set of values."""
        if name not in self.table:
            return default
        value = self.table[name]
        if not isinstance(value, str) or value not in allowed:
            options = ", ".join(repr(k) for k in allowed)
            raise self.fail(name, f"must be one of {options}, got {describe(value)}")
        return value

    def gradient(self) -> str:
        """Which gradient a chain claim is about (default: the activation's, ∂L/∂a)."""
        return self.choice("gradient", GRADIENTS, "activation")

    def source(self, *, required: bool) -> str:
        """Where the claim is made (required in symgrad's own audit, optional for users)."""
        if "source" not in self.table:
            if required:
                raise self.fail("source", "is missing: every audited claim cites its source")
            return ""
        return self.string("source")

    def rel_tol(self) -> float | None:
        if "rel_tol" not in self.table:
            return None
        value = self.table["rel_tol"]
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 1:
            raise self.fail("rel_tol", f"must be a number in (0, 1), got {describe(value)}")
        return float(value)
