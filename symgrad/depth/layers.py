"""A chain's parameters, exactly: per-layer weights and biases, and their balls.

Floats are read as the decimal typed (0.1 is 1/10), mpmath numbers as the binary
number they store, SymPy closed forms (√2, π/4) stay closed forms; the engine encloses
each at its working precision, so the chain it proves is the chain the user wrote.

>>> per_layer([0.1, 0.1, 0.25], "weight", 3)
(Fraction(1, 10), Fraction(1, 10), Fraction(1, 4))
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeAlias, overload

import mpmath
import numpy as np
import sympy
from flint import arb, fmpq

from symgrad._core.validate import as_exact_real, describe
from symgrad._exact.ball_constants import constant_ball
from symgrad.errors import InvalidArgument

__all__ = ["Exact", "Layers", "MpfView", "as_ball", "as_mpf", "balls", "constant_from",
           "exact_value", "per_layer"]

#: An exact real: a rational, or a SymPy closed form (√2, π/4) enclosed at each precision.
Exact: TypeAlias = Fraction | sympy.Expr


def exact_value(value: Any, name: str) -> Exact:
    """A user's real number, exactly: floats read as typed (0.1 is 1/10), mpf as stored."""
    if isinstance(value, bool):
        raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")
    if isinstance(value, float | np.floating):
        as_f = float(value)
        if not math.isfinite(as_f):
            raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
        return _typed(repr(as_f))
    if isinstance(value, numbers.Integral | np.integer):
        return Fraction(int(value))
    if isinstance(value, Fraction):
        return value
    if isinstance(value, mpmath.mpf):
        if not mpmath.isfinite(value):
            raise InvalidArgument(f"{name} must be finite, got {describe(value)}")
        man, exp = value.man_exp
        return Fraction(int(man) * 2**exp) if exp >= 0 else Fraction(int(man), 2**-exp)
    if isinstance(value, Decimal | sympy.Basic):
        exact = as_exact_real(value, name)
        if exact.is_Rational:
            return Fraction(int(exact.p), int(exact.q))
        return exact
    raise InvalidArgument(f"{name} must be a real number, got {describe(value)}")


def _typed(text: str) -> Fraction:
    """The decimal a float's shortest repr writes ('-1.25e-07'), as a Fraction (the
    parsing Fraction(str) does, without its regular expression)."""
    mantissa, _, exponent = text.partition("e")
    whole, _, frac = mantissa.partition(".")
    n = int(whole + frac)
    e = int(exponent or 0) - len(frac)
    return Fraction(n * 10**e) if e >= 0 else Fraction(n, 10**-e)


def as_mpf(value: Exact) -> mpmath.mpf:
    """An exact value correctly rounded to mpmath's current precision."""
    if isinstance(value, Fraction):
        return mpmath.mp.make_mpf(mpmath.libmp.from_rational(
            value.numerator, value.denominator, mpmath.mp.prec, mpmath.libmp.round_nearest))
    return mpmath.mpf(value._to_mpmath(mpmath.mp.prec))


def as_ball(value: Exact) -> arb:
    """An Arb ball containing an exact value, at FLINT's current precision."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return arb(value.numerator)
        return arb(fmpq(value.numerator, value.denominator))
    return constant_ball(value)


class MpfView(Sequence[mpmath.mpf]):
    """Exact values read as mpf at a fixed precision, converted on access (a trace of
    10⁶ per-layer weights does not pay for 10⁶ conversions nobody reads)."""

    def __init__(self, values: tuple[Exact, ...], prec: int) -> None:
        self._values, self._prec = values, prec

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, i: int) -> mpmath.mpf: ...

    @overload
    def __getitem__(self, i: slice) -> list[mpmath.mpf]: ...

    def __getitem__(self, i: int | slice) -> mpmath.mpf | list[mpmath.mpf]:
        with mpmath.workprec(self._prec):
            if isinstance(i, slice):
                return [as_mpf(v) for v in self._values[i]]
            return as_mpf(self._values[i])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, MpfView) and (self._values, self._prec) == (
            other._values, other._prec)

    def __hash__(self) -> int:
        return hash((self._values, self._prec))

    def __repr__(self) -> str:
        return f"MpfView({len(self)} values at {self._prec} bits)"


def per_layer(value: Any, name: str, depth: int) -> tuple[Exact, ...]:
    """One exact value, or one per layer (repeated values are converted once)."""
    if isinstance(value, str | bytes) or not isinstance(value, Sequence | np.ndarray):
        return (exact_value(value, name),)
    arr = value
    if isinstance(arr, np.ndarray) and arr.ndim != 1:
        raise InvalidArgument(f"{name} must be a scalar or a 1-D sequence, got shape {arr.shape}")
    if len(arr) != depth:
        raise InvalidArgument(
            f"{name} has {len(arr)} per-layer values but depth is {depth}; give one per layer"
            " or a scalar"
        )
    seen: dict[tuple[type, Any], Exact] = {}
    out = []
    for i, v in enumerate(arr):
        key = (type(v), v) if isinstance(v, float | int | np.floating | np.integer) else None
        if key is not None and key in seen and v == v:  # v == v: NaN is never reused
            out.append(seen[key])
            continue
        exact = exact_value(v, f"{name}[{i}]")
        if key is not None:
            seen[key] = exact
        out.append(exact)
    return tuple(out)


def constant_from(values: tuple[Exact, ...]) -> int:
    """The first layer from which every value is the same."""
    if len(values) == 1:
        return 1
    k = len(values)
    while k > 1 and values[k - 2] == values[k - 1]:
        k -= 1
    return k


@dataclass(frozen=True)
class Layers:
    """Per-layer weights and biases, exact (a scalar is stored once)."""

    weights: tuple[Exact, ...]
    biases: tuple[Exact, ...]
    depth: int
    constant_from: int  # layers ≥ this index share one weight and one bias


def balls(values: tuple[Exact, ...]) -> tuple[arb, ...]:
    """The values as balls at FLINT's current precision (a repeated value, which
    :func:`per_layer` stores as one object, is enclosed once)."""
    memo: dict[int, arb] = {}
    out = []
    for v in values:
        ball = memo.get(id(v))
        if ball is None:
            ball = memo[id(v)] = as_ball(v)
        out.append(ball)
    return tuple(out)
