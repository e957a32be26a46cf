"""SymPy expressions in z as functions on Arb balls, for the certified engine: root
isolation, enclosures, Gaussian integrals.

:func:`compile_ball` turns an expression (parameters already substituted, constants
exact: rationals, π, e, √, erfc(1/√2)…) into a :class:`BallFunction`: called on an
``arb`` it returns an ``arb`` containing f(x) for every x in the ball (FLINT's Arb
through python-flint: every operation rounds outward, so the result is a proof);
``derivative`` encloses f' over the ball (forward mode, no symbolic differentiation);
``complex`` evaluates on ``acb`` balls for the integrator, where the ``analytic`` flag
makes branch cuts (log, √, |·|) return non-finite balls.  The code is written once by
the emitter of :mod:`symgrad._exact.ball` (its table style) and run on the three tables
of :mod:`symgrad._exact.ball_rules`.

>>> from symgrad._core.symbols import z
>>> from symgrad._exact.precision import working_precision
>>> f = compile_ball(sympy.erf(z / sympy.sqrt(2)) + z * sympy.exp(-z**2 / 2))
>>> with working_precision(100):
...     print(f(arb(1)).str(20, radius=False))
1.2892201518497193208
"""

from __future__ import annotations

import sympy
from flint import acb, arb

from symgrad._core.symbols import z
from symgrad._exact.ball import Calls, ball_source, build_source
from symgrad._exact.ball_constants import BallConstants
from symgrad._exact.ball_dual import DUAL, Dual
from symgrad._exact.ball_rules import COMPLEX, REAL
from symgrad._exact.precision import LOCK
from symgrad.errors import InvalidArgument

__all__ = ["BallFunction", "compile_ball"]


class BallFunction:
    """A SymPy expression in z as a function on Arb (and acb) balls.

    ``f(x)`` for an ``arb`` x, at FLINT's current precision (use
    :func:`working_precision`); ``f.derivative(x)`` encloses f' over x;
    ``f.complex(x, analytic)`` for an ``acb`` x, with the signature ``acb.integral``
    expects.  ``params`` are further symbols whose values are balls given at each call
    (``f(x, (q,))``): the result encloses f for every x and every parameter value in
    their balls (a certified number used as a parameter, such as a fixed point q*).
    """

    def __init__(self, expr: sympy.Expr, params: tuple[sympy.Symbol, ...] = ()) -> None:
        self.expr = expr
        self.params = params
        constants: dict[sympy.Expr, int] = {}
        source = ball_source("_f", [expr], constants, params=params)
        self.constants = BallConstants(constants)
        self._real, self._dual, self._complex = (build_source(source, Calls.TABLE, table)["_f"]
                                                 for table in (REAL, DUAL, COMPLEX))

    def __call__(self, x: arb, params: tuple[arb, ...] = ()) -> arb:
        value = self._real(x, self.constants(), False, params)
        return value if isinstance(value, arb) else arb(value)

    def with_derivative(self, x: arb, params: tuple[arb, ...] = ()) -> tuple[arb, arb]:
        """(f(x), f'(x)) enclosed over the ball x, by forward-mode differentiation."""
        value = self._dual(Dual(x, arb(1)), self.constants(), False, params)
        if isinstance(value, Dual):
            return value.v, value.d
        return arb(value), arb(0)

    def derivative(self, x: arb) -> arb:
        """An enclosure of f' over the ball x."""
        return self.with_derivative(x)[1]

    def complex(self, x: acb, analytic: bool = False) -> acb:
        value = self._complex(x, self.constants(), analytic)
        return value if isinstance(value, acb) else acb(value)

    def __repr__(self) -> str:
        return f"BallFunction({self.expr})"


_COMPILED: dict[tuple[sympy.Expr, tuple[sympy.Symbol, ...]], BallFunction] = {}


def compile_ball(expr: sympy.Expr, params: tuple[sympy.Symbol, ...] = ()) -> BallFunction:
    """``expr`` (a real SymPy expression in z, and in the symbols ``params`` whose balls
    are given at each call) as a :class:`BallFunction` (cached).

    Raises :class:`NoClosedForm` naming the first subexpression with no ball rule
    (``sign``, ``Heaviside``…).  A ``Piecewise`` is decided on the ball (see
    :class:`_Emitter`): where the ball straddles a boundary, the pieces are united.

    >>> from symgrad._exact.precision import working_precision
    >>> q = sympy.Symbol("q", positive=True)
    >>> f = compile_ball(z * q + 1, (q,))
    >>> with working_precision(64):
    ...     print(f(arb(2), (arb(3),)))
    7.00000000000000000
    """
    e = sympy.sympify(expr)
    if not isinstance(e, sympy.Expr):
        raise InvalidArgument(f"expected a SymPy expression in z, got {e!r}")
    key = (e, tuple(params))
    with LOCK:
        found = _COMPILED.get(key)  # only expressions that passed the check below
    if found is not None:
        return found
    stray = sorted(str(s) for s in e.free_symbols - {z} - set(params))
    if stray:
        raise InvalidArgument(f"expression has free symbols other than z: {', '.join(stray)}")
    with LOCK:
        found = _COMPILED.get(key)
        if found is None:
            found = BallFunction(e, tuple(params))
            if len(_COMPILED) > 512:
                _COMPILED.clear()
            _COMPILED[key] = found
    return found
