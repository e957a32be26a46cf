"""φ'(z₀) at any precision, with both one-sided values at a kink.

The value is certified when ball arithmetic (Arb) proves ``dps`` digits of φ' at z₀ (the
closed form of the piece containing z₀, evaluated on the exact z₀); far in saturation,
where that would need more than the precision cap, it is the cancellation-free mpmath
form at dps + 15 digits, labelled estimated.

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

from symgrad._core.symbols import z
from symgrad._core.validate import as_digits, as_exact_real
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.enclose import BeyondRationals, constant_number
from symgrad._exact.signs import same
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument, NoClosedForm
from symgrad.records import Estimated, Provenances, Record, Step, provenances
from symgrad.slopes.kinks import kinks_of
from symgrad.slopes.notation import PRIME as _PRIME
from symgrad.types import RealLike

__all__ = ["PointSlope", "slope"]


@dataclass(frozen=True)
class PointSlope(Record):
    """φ'(at) at ``dps`` significant digits; at a kink also both one-sided values (exact).

    ``value`` carries the digits its enclosure proves when ``certified`` is set (the
    enclosure; ``provenance`` certified), else φ' in its cancellation-free form at
    ``dps`` + 15 digits rounded to ``dps``, an estimate whose error is the last digit's
    rounding."""

    activation: str
    at: sympy.Expr
    value: mpmath.mpf
    dps: int
    one_sided: tuple[sympy.Expr, sympy.Expr] | None
    provenance: Provenances
    steps: tuple[Step, ...] = ()
    certified: CertifiedNumber | None = None

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"φ'({sympy.sstr(self.at)}) for {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        shown = (self.certified.text() if self.certified is not None
                 else mpmath.nstr(self.value, self.dps))
        rows: list[tuple[str, Any]] = [("φ'(z₀)", shown)]
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
    digits = as_digits(dps)
    kink = next((k for k in kinks_of(a) if same(k.at, at)), None)
    one_sided = (kink.left, kink.right) if kink is not None else None
    steps = (Step("Evaluate φ' at z₀.", sympy.Eq(_PRIME, a.derivative)),)
    try:
        number = _certified(a, at, digits)
    except BeyondRationals as far:  # e.g. GELU at −10²⁵: φ' ≈ −10^(−2.2·10⁴⁹)
        with mpmath.workdps(digits + 5):
            value, error = (_mpf(far.ball.mid()) or mpmath.mpf(0)), _mpf(far.ball.rad())
        how = provenances(value=Estimated(error, "ball arithmetic (Arb); the proven radius "
                                          "is the error (too far from 1 to write as fractions)"))
        return PointSlope(a.label, at, value, digits, one_sided, how, steps)
    if number is not None:
        with mpmath.workdps(digits + 5):
            value = mpmath.mpf(number.text()) if number.sign() else mpmath.mpf(0)
        how = provenances(value=number.certified("ball arithmetic (Arb) on the exact z₀"))
        return PointSlope(a.label, at, value, digits, one_sided, how, steps, number)
    value, error, work = _agreeing(a, at, digits)
    how = provenances(value=Estimated(error, f"mpmath at {work} and {2 * work} digits, "
                                      "the difference as the error"))
    return PointSlope(a.label, at, value, digits, one_sided, how, steps)


def _mpf(x: Any) -> Any:
    """An Arb number (mid or radius) as an mpmath mpf, exactly (any exponent)."""
    man, exp = x.man_exp()
    return mpmath.mpf((int(man), int(exp)))


def _agreeing(act: Activation, at: sympy.Expr, digits: int) -> tuple[Any, Any, int]:
    """φ'(at) in mpmath at two precisions, doubling until they agree to ``digits`` digits;
    refused when cancellation defeats 8× the asked precision."""
    # φ' = e^(−z²)·… at |z| = 10^e needs the 2e digits of z² before any of the answer's.
    magnitude = abs(at)
    exponent = 0 if magnitude < 10 else int(sympy.floor(sympy.log(magnitude, 10)))
    base = digits + 15 + 2 * exponent
    work = base
    while work <= 8 * base:
        values = []
        for dps in (work, 2 * work):
            with mpmath.workdps(dps):
                try:
                    values.append(act.mpmath_prime(mpmath.mpf(sympy.N(at, dps))))
                except (ArithmeticError, ValueError):  # mpmath's own float overflow
                    raise InvalidArgument(f"mpmath cannot evaluate φ' of {act.label} at "
                                          f"z0 = {sympy.N(at, 6)}") from None
        with mpmath.workdps(digits + 5):
            gap = abs(values[1] - values[0])
            if gap <= abs(values[1]) * mpmath.mpf(10) ** -digits:
                return +values[1], gap + abs(values[1]) * mpmath.mpf(10) ** (-digits - 4), work
        work *= 2
    raise InvalidArgument(f"φ'({at}) of {act.label} loses every digit to cancellation in "
                          f"mpmath up to {work // 2} digits; symgrad cannot estimate it")


def _certified(act: Activation, at: sympy.Expr, digits: int) -> CertifiedNumber | None:
    """φ'(at) enclosed to ``digits`` digits, or None when the cap does not allow it."""
    exact = act.derivative.subs(z, at)
    try:
        number = constant_number(exact, digits)
    except NoClosedForm:
        return None
    if exact == 0:
        return number
    return number if number.digits >= digits else None
