"""Z-free SymPy constants enclosed in Arb balls, once per precision.

:func:`constant_ball` encloses one constant (every part written out as Arb code by the
emitter of :mod:`symgrad._exact.ball`: numbers and π, e as balls, functions by the real
rules); :class:`BallConstants` holds the constants ``C`` of code
:func:`symgrad._exact.ball.ball_source` generated and encloses them once per FLINT precision.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import sympy
from flint import arb, ctx

from symgrad._exact.ball import Calls, Emitter, build_source
from symgrad._exact.ball_rules import REAL
from symgrad.errors import InvalidArgument, NoClosedForm

__all__ = ["BallConstants", "constant_ball"]


class _ConstantEmitter(Emitter):
    """Source for a z-free constant, every part written out (never C[·]): numbers, π and e
    as Arb balls, everything else by the rules above."""

    def __init__(self) -> None:
        super().__init__({}, Calls.TABLE, {}, [], "c")

    def fixed(self, e: sympy.Expr) -> bool:
        return False

    def code(self, e: sympy.Expr) -> str:
        if e.is_Integer:
            return f"arb({int(e)})"
        if e.is_Rational:
            return f"arb(fmpq({int(e.p)}, {int(e.q)}))"
        if e.is_Float:
            # A Float is the binary number it stores, read exactly.
            sign, man, exp, _ = e._mpf_
            return f"arb(({'-' if sign else ''}{int(man)}, {int(exp)}))"
        if e == sympy.pi:
            return "arb.pi()"
        if e == sympy.E:
            return "arb.const_e()"
        if isinstance(e, sympy.Piecewise):
            raise NoClosedForm(f"no ball-arithmetic rule for the constant {e}")
        return super().code(e)


def _build(source: str, helpers: dict[str, Any]) -> Callable[..., Any]:
    fn: Callable[..., Any] = build_source(source, Calls.TABLE, helpers)["_f"]
    return fn


class BallConstants:
    """The constants ``C`` of generated code (expression → index, from
    :func:`symgrad._exact.ball.ball_source`), enclosed once per precision."""

    def __init__(self, constants: dict[sympy.Expr, int]) -> None:
        self.exprs = tuple(sorted(constants, key=constants.__getitem__))
        for c in self.exprs:  # refuse unsupported constants now, not at first use
            _constant_function(c)
        self._cache: dict[int, tuple[arb, ...]] = {}

    def __call__(self) -> tuple[arb, ...]:
        """The balls at FLINT's current precision."""
        prec = ctx.prec
        cached = self._cache.get(prec)
        if cached is None:
            cached = tuple(constant_ball(c) for c in self.exprs)
            self._cache[prec] = cached
        return cached


@lru_cache(maxsize=4096)
def _constant_function(expr: sympy.Expr) -> Callable[..., Any]:
    code = _ConstantEmitter()(expr)
    return _build(f"def _f(x, C, a):\n    return {code}", REAL)


def constant_ball(value: sympy.Expr) -> arb:
    """An Arb enclosure of a real z-free SymPy constant at the current precision.

    >>> from symgrad._exact.precision import working_precision
    >>> with working_precision(64):
    ...     print(constant_ball(sympy.erfc(1 / sympy.sqrt(2))).str(10, radius=False))
    0.3173105079
    """
    expr = sympy.sympify(value)
    if expr.free_symbols:
        raise InvalidArgument(f"expected a constant, got {expr}")
    result: arb = _constant_function(expr)(None, (), False)
    return result
