"""Only the digits an enclosure proves: the decimal printer and the certified number type.

Definition (used everywhere symgrad prints a certified number): an enclosure
[lower, upper] *proves* the decimal string s with k places after the point when every
x in [lower, upper] rounds to s at k places (round half to even).  Rounding is
monotone, so this holds exactly when ``lower`` and ``upper`` round to the same string.
The printed string is the largest such k, capped at ``max_digits`` significant digits;
its promise is |x − s| ≤ ½·10^(−k) for the true value x.

The largest k is not "the common prefix": [0.99999, 1.00001] proves ``1.0000``
(both ends round to it at 4 places) although the two ends share no digit, and
[0.149, 0.151] proves ``0.15`` but not ``0.1`` — coarser rounding may disagree where a
finer one agrees, so the search scans k downwards from the finest candidate.

>>> from fractions import Fraction as F
>>> CertifiedNumber(F(99999, 100000), F(100001, 100000)).text()
'1.0000'
>>> CertifiedNumber(F(149, 1000), F(151, 1000)).text()
'0.15'
>>> x = CertifiedNumber(F(31415926, 10**7), F(31415927, 10**7))
>>> x.text(), x.digits, float(x)
('3.141593', 7, 3.14159265)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import sympy
from flint import arb, fmpq

from symgrad._core.format import number_text
from symgrad.errors import InvalidArgument
from symgrad.records import Certified

__all__ = ["CertifiedNumber", "arb_bounds", "as_fraction", "decimal_exponent", "proven_rounding",
           "shown"]

#: Significant digits shown when a caller does not say (the reports promise ≥ 30).
DEFAULT_DIGITS = 40
_MAX_DIGITS = 10_000


def as_fraction(value: Any) -> Fraction:
    """An exact Fraction from an int, Fraction, SymPy Rational or an exact (point) arb."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return Fraction(value)
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    if isinstance(value, arb):
        if not value.is_exact() or not value.is_finite():
            raise InvalidArgument(f"expected an exact finite ball, got {value}")
        man, exp = value.man_exp()
        m, e = int(man), int(exp)
        return Fraction(m * 2**e) if e >= 0 else Fraction(m, 2**-e)
    raise InvalidArgument(f"expected an exact rational number, got {value!r}")


def arb_bounds(x: arb) -> tuple[Fraction, Fraction]:
    """The exact end points [mid − rad, mid + rad] of a finite ball (exact whatever FLINT's
    current precision: ``arb.lower()`` would round to it)."""
    if not x.is_finite():
        raise InvalidArgument(f"a certified number needs a finite enclosure, got {x}")
    mid, rad = as_fraction(x.mid()), as_fraction(x.rad())
    return mid - rad, mid + rad


def decimal_exponent(x: Fraction) -> int:
    """floor(log10 |x|) for x ≠ 0, exactly (no float: |x| may be e^(−10⁶))."""
    x = abs(x)
    e = math.floor((x.numerator.bit_length() - x.denominator.bit_length()) * math.log10(2))
    while Fraction(10) ** e > x:
        e -= 1
    while Fraction(10) ** (e + 1) <= x:
        e += 1
    return e


def _round_at(x: Fraction, k: int) -> int:
    """round(x·10^k), ties to even."""
    scaled = x * Fraction(10) ** k
    return round(scaled)


def proven_rounding(lower: Fraction, upper: Fraction, max_digits: int) -> tuple[int, int]:
    """(n, k): every x in [lower, upper] rounds to n·10^(−k) at k decimal places (ties to
    even), with k the largest such place giving at most ``max_digits`` significant digits.

    n = 0 means the enclosure only proves |x| ≤ ½·10^(−k).

    >>> proven_rounding(Fraction(1, 3), Fraction(1, 3), 5)
    (33333, 5)
    """
    if lower > upper:
        raise InvalidArgument(f"empty enclosure [{lower}, {upper}]")
    top = max(abs(lower), abs(upper))
    if top == 0:
        return 0, 0
    k = max_digits - 1 - decimal_exponent(top)
    width = upper - lower
    if width > 0:
        # Two points more than 10^(−k) apart never round to the same value at k places.
        k = min(k, -decimal_exponent(width))
    while True:
        n_lo, n_hi = _round_at(lower, k), _round_at(upper, k)
        if n_lo == n_hi:
            if n_lo != 0 and len(str(abs(n_lo))) > max_digits:
                k -= 1  # rounding carried into a new leading digit (9.99… → 10.0…)
                continue
            return n_lo, k
        k -= 1


def _text(n: int, k: int) -> str:
    """n·10^(−k) written with exactly its digits: fixed point when the last digit sits at
    or after the units and the number is not tiny, else scientific."""
    digits = str(abs(n))
    sign = "-" if n < 0 else ""
    exponent = len(digits) - 1 - k
    if k >= 0 and exponent >= -5:
        if k == 0:
            return sign + digits
        padded = digits.rjust(k + 1, "0")
        return f"{sign}{padded[:-k]}.{padded[-k:]}"
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{exponent:+d}"


@dataclass(frozen=True)
class CertifiedNumber:
    """A real number proven to lie in [lower, upper] (exact Fractions).

    ``max_digits`` caps the significant digits shown (the digits a caller asked for), so
    printed output does not depend on how far a library happened to refine.
    """

    lower: Fraction
    upper: Fraction
    max_digits: int = DEFAULT_DIGITS

    def __post_init__(self) -> None:
        if not isinstance(self.lower, Fraction) or not isinstance(self.upper, Fraction):
            raise InvalidArgument("CertifiedNumber end points must be Fractions")
        if self.lower > self.upper:
            raise InvalidArgument(f"empty enclosure [{self.lower}, {self.upper}]")
        if not 1 <= self.max_digits <= _MAX_DIGITS:
            raise InvalidArgument(f"max_digits must be in [1, {_MAX_DIGITS}], "
                                  f"got {self.max_digits}")

    # ---- construction ----

    @classmethod
    def from_arb(cls, x: arb, max_digits: int = DEFAULT_DIGITS) -> CertifiedNumber:
        """The enclosure of a finite Arb ball."""
        lo, hi = arb_bounds(x)
        return cls(lo, hi, max_digits)

    @classmethod
    def exact(cls, value: Any, max_digits: int = DEFAULT_DIGITS) -> CertifiedNumber:
        """A rational known exactly (a point enclosure)."""
        v = as_fraction(value)
        return cls(v, v, max_digits)

    # ---- what is proven ----

    @property
    def mid(self) -> Fraction:
        return (self.lower + self.upper) / 2

    @property
    def width(self) -> Fraction:
        return self.upper - self.lower

    @property
    def is_exact(self) -> bool:
        return self.lower == self.upper

    def rounding(self, max_digits: int | None = None) -> tuple[int, int]:
        """(n, k) of :func:`proven_rounding`."""
        return proven_rounding(self.lower, self.upper, max_digits or self.max_digits)

    @property
    def digits(self) -> int:
        """Significant digits proven (0 when the enclosure contains 0), at most
        ``max_digits``."""
        n, _ = self.rounding()
        return len(str(abs(n))) if n else 0

    def text(self, max_digits: int | None = None) -> str:
        """The proven digits (see the module docstring); ``0 ± b`` when the enclosure
        contains 0 and only proves |x| ≤ b."""
        if self.lower == self.upper == 0:
            return "0"
        n, k = self.rounding(max_digits)
        if n == 0:
            return f"0 ± 5e{-k - 1:+d}"
        return _text(n, k)

    def __str__(self) -> str:
        return self.text()

    def __float__(self) -> float:
        return float(self.mid)

    def sign(self) -> int:
        """+1 or −1 when proven, 0 when the enclosure contains 0."""
        return 1 if self.lower > 0 else -1 if self.upper < 0 else 0

    def contains(self, value: Any) -> bool:
        """Whether an exact rational lies in the enclosure."""
        v = as_fraction(value)
        return self.lower <= v <= self.upper

    # ---- views ----

    def sympy_float(self) -> sympy.Float:
        """A SymPy Float carrying only the proven digits."""
        n, k = self.rounding()
        if n == 0:
            return sympy.Float(0)
        return sympy.Float(_text(n, k), len(str(abs(n))))

    def bounds(self) -> tuple[sympy.Expr, sympy.Expr]:
        """The end points as exact SymPy rationals."""
        return (sympy.Rational(self.lower.numerator, self.lower.denominator),
                sympy.Rational(self.upper.numerator, self.upper.denominator))

    def certified(self, method: str) -> Certified:
        """The record provenance: ``Certified(lower, upper, method)`` with exact ends."""
        lo, hi = self.bounds()
        return Certified(lo, hi, method)

    def ball(self) -> arb:
        """An Arb ball containing the enclosure (at the caller's working precision)."""
        lo = arb(fmpq(self.lower.numerator, self.lower.denominator))
        if self.is_exact:
            return lo
        hi = arb(fmpq(self.upper.numerator, self.upper.denominator))
        return lo.union(hi)

    def with_digits(self, max_digits: int) -> CertifiedNumber:
        """The same enclosure shown with another digit cap."""
        return CertifiedNumber(self.lower, self.upper, max_digits)


def shown(value: Any, how: Any, digits: int = 12) -> str:
    """A number for a table: a certified one rounded from its enclosure (at most ``digits``
    significant digits, every one proven: never a rounding of a rounding), anything else
    as :func:`~symgrad._core.format.number_text`.

    >>> shown(sympy.Float("0.51281763191644170640733828296"), Certified(
    ...     sympy.Rational(51281763191644, 10**14), sympy.Rational(51281763191645, 10**14)), 8)
    '0.51281763'
    """
    if isinstance(how, Certified):
        lo, hi = sympy.Rational(how.lower), sympy.Rational(how.upper)
        number = CertifiedNumber(Fraction(int(lo.p), int(lo.q)), Fraction(int(hi.p), int(hi.q)),
                                 digits)
        return number.text()
    return number_text(value, digits)
