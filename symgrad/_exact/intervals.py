"""Interval enclosures of closed forms: SymPy expressions in z evaluated on intervals.

mpmath's interval context, at :data:`~symgrad._exact.precision.INTERVAL_BITS` bits,
with outward-widened monotone enclosures for erf, erfc, erfcx and tanh.  Constant
subexpressions are enclosed once.

>>> f = iv_function(z**2 - 2)
>>> sign(f(interval(1, 1))), sign(f(interval(2, 2))), sign(f(interval(1, 2)))
(-1, 1, 0)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mpmath
import sympy
from mpmath.ctx_iv import MPIntervalContext

from symgrad._core.symbols import z
from symgrad._exact.precision import INTERVAL_BITS

__all__ = [
    "MP",
    "enclosure_bounds",
    "erfcx",
    "freeze_constants",
    "interval",
    "iv_function",
    "sign",
]

_IV = MPIntervalContext()
_IV.prec = INTERVAL_BITS
#: A private mpmath context a little more precise than the intervals.
MP = mpmath.MPContext()
MP.prec = INTERVAL_BITS + 40
_MP = MP
_MARGIN = mpmath.mpf(2) ** -(INTERVAL_BITS - 8)


def _monotone(name: str, *, increasing: bool) -> Callable[[Any], Any]:
    fn = getattr(_MP, name)

    def enclose(x: Any) -> Any:
        x = _IV.convert(x)
        lo, hi = (_MP.make_mpf(x._mpi_[0]), _MP.make_mpf(x._mpi_[1]))
        va, vb = fn(lo), fn(hi)
        if not increasing:
            va, vb = vb, va
        # mpmath's point values are good to a few ulps at _MP.prec; widen by far more.
        return _IV.mpf([va - abs(va) * _MARGIN, vb + abs(vb) * _MARGIN])

    enclose.__name__ = f"iv_{name}"
    return enclose


def _iv_erfcx(x: Any) -> Any:
    """erfcx(y) = e^{y²}·erfc(y), decreasing on the whole line."""
    x = _IV.convert(x)
    lo, hi = (_MP.make_mpf(x._mpi_[0]), _MP.make_mpf(x._mpi_[1]))
    va, vb = _MP.erfc(hi) * _MP.exp(hi**2), _MP.erfc(lo) * _MP.exp(lo**2)
    return _IV.mpf([va - abs(va) * _MARGIN, vb + abs(vb) * _MARGIN])


class erfcx(sympy.Function):  # type: ignore[misc]  # named as printed into the iv namespace
    """The scaled complementary error function, used only in tail forms."""

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        # erfcx'(y) = 2y·erfcx(y) − 2/√π
        y = self.args[0]
        return 2 * y * erfcx(y) - 2 / sympy.sqrt(sympy.pi)


def _iv_namespace() -> dict[str, Any]:
    return {
        "mpf": _IV.mpf,
        "exp": _IV.exp,
        "log": _IV.log,
        "sqrt": _IV.sqrt,
        "pi": _IV.pi,
        "e": _IV.e,
        "E": _IV.e,
        "erf": _monotone("erf", increasing=True),
        "erfc": _monotone("erfc", increasing=False),
        "tanh": _monotone("tanh", increasing=True),
        "atan": _monotone("atan", increasing=True),
        "fabs": _IV.absmax,
        "erfcx": _iv_erfcx,
    }


def freeze_constants(
    expr: sympy.Expr, *, keep_exp: bool = False
) -> tuple[sympy.Expr, dict[sympy.Dummy, sympy.Expr]]:
    """Replace maximal z-free, non-rational subexpressions by symbols: (expr', {symbol: value}).

    ``keep_exp`` leaves every exponential whole (its argument's constants included), as
    exact Gaussian integration needs to read exponents.
    """
    constants: dict[sympy.Dummy, sympy.Expr] = {}

    def freeze(e: sympy.Expr) -> sympy.Expr:
        if e.is_Rational or (keep_exp and isinstance(e, sympy.exp)):
            return e
        if not e.has(z):
            symbol = sympy.Dummy()
            constants[symbol] = e
            return symbol
        return e.func(*[freeze(a) for a in e.args]) if e.args else e

    return freeze(expr), constants


def iv_function(expr: sympy.Expr) -> Callable[[Any], Any]:
    """``expr`` (in z) as a function of an interval, returning an enclosure of its range.

    Constant subexpressions (SELU's erfc constants, √(2/π), …) are enclosed once, from an
    80-digit ``evalf`` widened by 10⁻⁷⁰ relative, instead of at every call.
    """
    frozen, exact = freeze_constants(expr)
    constants: dict[sympy.Dummy, Any] = {}
    for d, e in exact.items():
        v = _MP.mpf(sympy.N(e, 80))
        pad = abs(v) * _MP.mpf(10) ** -70
        constants[d] = _IV.mpf([v - pad, v + pad])
    names = list(constants)
    fn = sympy.lambdify([z, *names], frozen, modules=[_iv_namespace(), "mpmath"])
    values = [constants[d] for d in names]

    def evaluate(x: Any) -> Any:
        return _IV.convert(fn(x, *values))

    return evaluate


def interval(lo: Any, hi: Any) -> Any:
    """The interval [lo, hi] in the private high-precision interval context."""
    return _IV.mpf([lo, hi])


def enclosure_bounds(value: Any) -> tuple[Any, Any]:
    """The end points of an interval as high-precision mpmath numbers (no rounding)."""
    return _MP.make_mpf(value._mpi_[0]), _MP.make_mpf(value._mpi_[1])



def sign(F: Any) -> int:
    """+1, −1, or 0 when the enclosure contains 0."""
    lo, hi = F._mpi_
    if _MP.make_mpf(lo) > 0:
        return 1
    if _MP.make_mpf(hi) < 0:
        return -1
    return 0
