"""φ'(z₀) at any precision, with both one-sided values at a kink.

>>> print(slope("sigmoid", 0).value)
0.25
>>> slope("relu", 0).one_sided
(0, 1)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from symgrad._core.validate import as_exact_real, as_positive_int
from symgrad._exact.signs import same
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Estimated, Provenances, Record, Step, provenances
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.types import RealLike

__all__ = ["PointSlope", "slope"]


@dataclass(frozen=True)
class PointSlope(Record):
    """φ'(at) at ``dps`` significant digits; at a kink also both one-sided values (exact).

    ``value`` is φ' evaluated in its cancellation-free form at ``dps`` + 15 digits and
    rounded to ``dps``: an estimate whose error is the last digit's rounding
    (``provenance``)."""

    activation: str
    at: sympy.Expr
    value: mpmath.mpf
    dps: int
    one_sided: tuple[sympy.Expr, sympy.Expr] | None
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"φ'({sympy.sstr(self.at)}) for {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("φ'(z₀)", mpmath.nstr(self.value, self.dps))]
        if self.one_sided is not None:
            rows += [("φ'(z₀⁻)", self.one_sided[0]), ("φ'(z₀⁺)", self.one_sided[1])]
        return rows


def slope(act: Activation | str, z0: RealLike, *, dps: int = 30) -> PointSlope:
    """φ'(z0) at ``dps`` significant digits (z0 read exactly: 0.1 is 1/10).

    >>> print(slope("sigmoid", 0).value)
    0.25
    >>> slope("relu", 0).one_sided
    (0, 1)
    """
    a = as_activation(act)
    at = as_exact_real(z0, "z0")
    digits = as_positive_int(dps, "dps", minimum=5)
    with mpmath.workdps(digits + 15):
        raw = a.mpmath_prime(mpmath.mpf(sympy.N(at, digits + 15)))
    with mpmath.workdps(digits):
        value = +raw
        error = abs(value) * mpmath.mpf(10) ** (1 - digits) / 2
    kink = next((k for k in a.kinks if same(k.at, at)), None)
    how = provenances(value=Estimated(error, f"mpmath at {digits + 15} digits, rounded"))
    return PointSlope(a.label, at, value, digits,
                      (kink.left, kink.right) if kink is not None else None, how,
                      (Step("Evaluate φ' at z₀.", sympy.Eq(_PRIME, a.derivative)),))
