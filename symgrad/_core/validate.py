"""Argument validation shared by every module: numbers in, exact SymPy numbers out.

Everything here raises :class:`symgrad.errors.InvalidArgument`; nothing uses ``assert``.
"""

from __future__ import annotations

import math
import numbers
from decimal import Decimal
from fractions import Fraction
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad.errors import InvalidArgument

__all__ = [
    "MAX_DPS",
    "as_digits",
    "as_exact_real",
    "as_float",
    "as_positive_int",
    "describe",
    "domain_text",
]


def _end(value: sympy.Expr) -> str:
    return f"{float(value):g}" if value.is_Integer and abs(value) >= 10**6 else str(value)


def domain_text(domain: sympy.Set) -> str:
    """A domain for error messages: ``> 0``, ``>= 0``, ``in [a, b]``, ``real``."""
    if domain == sympy.S.Reals:
        return "real"
    if isinstance(domain, sympy.Interval):
        if domain.end == sympy.oo:
            return f"{'>' if domain.left_open else '>='} {_end(domain.start)}"
        if domain.start == -sympy.oo:
            return f"{'<' if domain.right_open else '<='} {_end(domain.end)}"
        lb, rb = "(" if domain.left_open else "[", ")" if domain.right_open else "]"
        return f"in {lb}{_end(domain.start)}, {_end(domain.end)}{rb}"
    return f"in {domain}"


def describe(value: Any) -> str:
    """A short, safe rendering of a user's value for error messages (numbers as typed)."""
    plain = isinstance(value, Decimal | Fraction | np.number) and not isinstance(value, bool)
    text = str(value) if plain else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def as_exact_real(value: Any, name: str, *, domain: sympy.Set = sympy.S.Reals) -> sympy.Expr:
    """Convert a user's real number to an exact SymPy number inside ``domain``.

    Floats are read as the shortest decimal that round-trips (``0.1`` is 1/10), so a
    user's ``w=0.1`` gives exact derivations.  Strings, booleans, complex numbers,
    NaN, infinities and expressions with free symbols are refused.

    >>> as_exact_real(0.1, "w")
    1/10
    >>> as_exact_real(2, "alpha", domain=sympy.Interval.open(0, sympy.oo))
    2
    """
    if isinstance(value, bool | str | bytes) or value is None:
        raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")
    exact: sympy.Expr
    if isinstance(value, sympy.Basic):
        if not isinstance(value, sympy.Expr) or value.free_symbols:
            raise InvalidArgument(
                f"{name} must be a real number without free symbols, got {describe(value)}"
            )
        exact = value
    elif isinstance(value, numbers.Integral | np.integer):
        exact = sympy.Integer(int(value))
    elif isinstance(value, Fraction):
        exact = sympy.Rational(value.numerator, value.denominator)
    elif isinstance(value, float | np.floating | Decimal):
        as_f = float(value)
        if not math.isfinite(as_f):
            raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
        exact = sympy.Rational(str(value) if isinstance(value, Decimal) else repr(as_f))
    elif isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
        sign, man, exp, _ = value._mpf_  # man_exp drops the sign of a negative number
        exact = (-1) ** sign * sympy.Integer(man) * sympy.Integer(2) ** exp
    else:
        raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")
    if exact.is_Rational and isinstance(domain, sympy.Interval) and domain.start.is_number \
            and domain.end.is_number:
        # The common case decided by comparing rationals: Interval.contains builds and
        # simplifies a relational (milliseconds per call, more than a fast solver takes).
        lo, hi = domain.start, domain.end
        above = lo == -sympy.oo or (exact > lo if domain.left_open else exact >= lo)
        below = hi == sympy.oo or (exact < hi if domain.right_open else exact <= hi)
        if not (above and below):
            raise InvalidArgument(f"{name} must be {domain_text(domain)}, got {describe(value)}")
        return exact
    infinite = sympy.nan, sympy.zoo, sympy.oo, -sympy.oo
    if exact.has(*infinite) or exact.is_finite is False:
        raise InvalidArgument(f"{name} must be a finite real number, got {describe(value)}")
    if exact.is_real is False:
        raise InvalidArgument(f"{name} must be real, got {describe(value)}")
    if exact.is_finite is None or exact.is_real is None:
        # Long closed forms (SELU's constants) leave SymPy's assumptions undecided.
        approx = sympy.N(exact, 30)
        if approx.has(*infinite) or not approx.is_finite or abs(sympy.im(approx)) > 1e-25:
            raise InvalidArgument(f"{name} must be a finite real number, got {describe(value)}")
    inside = domain.contains(exact)
    if inside is not sympy.true and inside != True:  # noqa: E712 - SymPy boolean
        if inside is sympy.false or inside == False:  # noqa: E712
            raise InvalidArgument(f"{name} must be {domain_text(domain)}, got {describe(value)}")
        # Undecided symbolically: decide on a high-precision value.
        approx = sympy.Float(exact.evalf(50), 50)
        if domain.contains(approx) is not sympy.true:
            raise InvalidArgument(f"{name} must be {domain_text(domain)}, got {describe(value)}")
    return exact


def as_float(value: Any, name: str, *, lower: float | None = None, strict: bool = True) -> float:
    """A finite float, optionally bounded below (strictly by default).

    >>> as_float(2, "sigma_w", lower=0.0)
    2.0
    """
    if isinstance(value, bool | str | bytes) or value is None:
        raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")
    try:
        result = float(value)
    except OverflowError:
        raise InvalidArgument(f"{name} must be within float64's range (|x| ≤ 1.8e308), got "
                              f"{describe(value)}") from None
    except (TypeError, ValueError):
        raise InvalidArgument(f"{name} must be a real number, got {describe(value)}") from None
    if not math.isfinite(result):
        raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
    if lower is not None:
        if strict and not result > lower:
            raise InvalidArgument(f"{name} must be > {lower:g}, got {describe(value)}")
        if not strict and not result >= lower:
            raise InvalidArgument(f"{name} must be >= {lower:g}, got {describe(value)}")
    return result


def as_positive_int(value: Any, name: str, *, minimum: int = 1,
                    maximum: int | None = None) -> int:
    """An integer ≥ ``minimum`` (and ≤ ``maximum`` when given); floats with integral values
    are refused too (say 3, not 3.0).

    >>> as_positive_int(4, "depth")
    4
    """
    allowed = f">= {minimum}" if maximum is None else f"in [{minimum}, {maximum}]"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral | np.integer):
        raise InvalidArgument(f"{name} must be an integer {allowed}, got {describe(value)}")
    result = int(value)
    if result < minimum or (maximum is not None and result > maximum):
        raise InvalidArgument(f"{name} must be an integer {allowed}, got {result}")
    return result


#: The most decimal digits a ``dps=`` argument may ask for (10⁴ digits already take
#: seconds per special-function value; a billion would never finish).
MAX_DPS = 10_000


def as_digits(value: Any, name: str = "dps") -> int:
    """A working precision in decimal digits: an integer in [5, :data:`MAX_DPS`].

    >>> as_digits(30)
    30
    """
    return as_positive_int(value, name, minimum=5, maximum=MAX_DPS)
