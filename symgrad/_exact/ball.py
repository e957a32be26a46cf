"""SymPy expressions in z compiled to functions on Arb balls, and the precision policy.

:func:`compile_ball` turns an expression (parameters already substituted, constants
exact: rationals, π, e, √, erfc(1/√2)…) into a :class:`BallFunction`: called on an
``arb`` it returns an ``arb`` containing f(x) for every x in the ball (FLINT's Arb
through python-flint: every operation rounds outward, so the result is a proof);
``derivative`` encloses f' over the ball (forward mode, no symbolic differentiation);
``complex`` evaluates on ``acb`` balls for the integrator, where the ``analytic`` flag
makes branch cuts (log, √, |·|) return non-finite balls.  The rules for each function
live in :mod:`symgrad._exact.ball_rules`.

Constants (every maximal z-free subexpression) are enclosed once per precision.
Precision: the caller chooses it with :func:`working_precision` (a context that takes
a lock, sets FLINT's precision and restores it); :func:`precision_ladder` gives the
policy — start at :data:`START_BITS`, double, stop at :data:`CAP_BITS`.

>>> from symgrad._core.symbols import z
>>> f = compile_ball(sympy.erf(z / sympy.sqrt(2)) + z * sympy.exp(-z**2 / 2))
>>> with working_precision(100):
...     print(f(arb(1)).str(20, radius=False))
1.2892201518497193208
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import sympy
from flint import acb, arb, ctx, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball_rules import COMPLEX, DUAL, REAL, Dual, erfcx
from symgrad.errors import InvalidArgument, NoClosedForm

__all__ = [
    "CAP_BITS",
    "START_BITS",
    "SUPPORTED",
    "BallFunction",
    "bits_for_digits",
    "compile_ball",
    "constant_ball",
    "erfcx",
    "precision_ladder",
    "working_precision",
]

#: Working precision a computation starts at (bits).
START_BITS = 128
#: Precision never exceeded: a result that needs more is reported, not looped on.
CAP_BITS = 8192

_LOCK = threading.RLock()


@contextmanager
def working_precision(bits: int) -> Iterator[None]:
    """FLINT's working precision set to ``bits`` inside the block, restored on exit.

    FLINT's precision is one global, so blocks in different threads take turns.
    """
    if not isinstance(bits, int) or not 16 <= bits <= CAP_BITS:
        raise InvalidArgument(f"precision must be an integer in [16, {CAP_BITS}] bits, "
                              f"got {bits!r}")
    with _LOCK:
        saved = ctx.prec
        ctx.prec = bits
        try:
            yield
        finally:
            ctx.prec = saved


def bits_for_digits(digits: int) -> int:
    """A starting precision for ``digits`` significant digits: 3.33 bits per digit plus a
    margin for cancellation, at least :data:`START_BITS`."""
    return max(START_BITS, int(digits * 3.33) + 48)


def precision_ladder(start: int = START_BITS, cap: int = CAP_BITS) -> Iterator[int]:
    """start, 2·start, 4·start, … up to and including ``cap``."""
    bits = start
    while bits < cap:
        yield bits
        bits *= 2
    yield cap


_FUNCTIONS: dict[type, str] = {
    sympy.exp: "exp", sympy.log: "log", sympy.erf: "erf", sympy.erfc: "erfc", erfcx: "erfcx",
    sympy.tanh: "tanh", sympy.atan: "atan", sympy.asinh: "asinh", sympy.sinh: "sinh",
    sympy.cosh: "cosh", sympy.sin: "sin", sympy.cos: "cos", sympy.Abs: "abs",
    sympy.asin: "asin",
}
SUPPORTED = ("+ − × ÷, integer and rational powers, exp, log, sqrt, erf, erfc, erfcx, tanh, "
             "atan, asin, asinh, sinh, cosh, sin, cos, Abs, Max, Min")


# ---- code generation ----


class _Emitter:
    """Python source for an expression: z-free parts become constants C[i], and
    subexpressions used more than once become temporaries (a linear-time CSE)."""

    def __init__(self, constants: dict[sympy.Expr, int],
                 shared: frozenset[sympy.Expr] = frozenset(),
                 params: tuple[sympy.Symbol, ...] = ()) -> None:
        self.constants = constants
        self.shared = shared
        self.params = params
        self.lines: list[str] = []
        self.temps: dict[sympy.Expr, str] = {}

    def constant(self, e: sympy.Expr) -> str:
        if e.is_Integer:
            return f"({int(e)})"
        if e not in self.constants:
            self.constants[e] = len(self.constants)
        return f"C[{self.constants[e]}]"

    def __call__(self, e: sympy.Expr) -> str:
        found = self.temps.get(e)
        if found is not None:
            return found
        code = self.code(e)
        if e in self.shared:
            name = f"_t{len(self.temps)}"
            self.lines.append(f"    {name} = {code}")
            self.temps[e] = name
            return name
        return code

    def code(self, e: sympy.Expr) -> str:
        if e == z:
            return "x"
        if e in self.params:
            return f"P[{self.params.index(e)}]"
        if isinstance(e, sympy.Symbol):
            raise NoClosedForm(f"cannot evaluate {e} in ball arithmetic: a free symbol "
                               "other than z (substitute parameters first)")
        if not e.has(z, *self.params):
            return self.constant(e)
        if isinstance(e, sympy.Add):
            return "(" + " + ".join(self(a) for a in e.args) + ")"
        if isinstance(e, sympy.Mul):
            return self.mul(e)
        if isinstance(e, sympy.Pow):
            return self.pow(e.base, e.exp)
        if isinstance(e, sympy.Max | sympy.Min):
            name = "max" if isinstance(e, sympy.Max) else "min"
            out = self(e.args[0])
            for arg in e.args[1:]:
                out = f"F['{name}']({out}, {self(arg)}, a)"
            return out
        rule = _FUNCTIONS.get(type(e))
        if rule is None:
            raise NoClosedForm(f"no ball-arithmetic rule for {type(e).__name__} in {e}; "
                               f"supported: {SUPPORTED}")
        return f"F['{rule}']({self(e.args[0])}, a)"

    def mul(self, e: sympy.Expr) -> str:
        num, den = [], []
        for factor in e.args:
            if (isinstance(factor, sympy.Pow) and factor.exp.is_Rational
                    and factor.exp.is_negative and factor.base.has(z)):
                den.append(self.pow(factor.base, -factor.exp))
            else:
                num.append(self(factor))
        top = "*".join(num) if num else "(1)"
        return f"({top}/({'*'.join(den)}))" if den else f"({top})"

    def pow(self, base: sympy.Expr, exponent: sympy.Expr) -> str:
        b = self(base)
        if exponent.is_Integer:
            n = int(exponent)
            if n == 0:
                return "(1)"
            return f"F['ipow']({b}, {n})" if n > 0 else f"(1/F['ipow']({b}, {-n}))"
        if exponent.is_Rational:
            return f"F['rpow']({b}, {int(exponent.p)}, {int(exponent.q)}, a)"
        return f"F['pow']({b}, {self(exponent)}, a)"


class _ConstantEmitter(_Emitter):
    """Source for a z-free constant, every part written out (never C[·])."""

    def code(self, e: sympy.Expr) -> str:
        return self.constant(e)

    def constant(self, e: sympy.Expr) -> str:
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
        if isinstance(e, sympy.Add):
            return "(" + " + ".join(self.constant(a) for a in e.args) + ")"
        if isinstance(e, sympy.Mul):
            return "(" + "*".join(self.constant(a) for a in e.args) + ")"
        if isinstance(e, sympy.Pow):
            b = self.constant(e.base)
            if e.exp.is_Integer:
                n = int(e.exp)
                return f"F['ipow']({b}, {n})" if n > 0 else f"(1/F['ipow']({b}, {-n}))"
            if e.exp.is_Rational:
                return f"F['rpow']({b}, {int(e.exp.p)}, {int(e.exp.q)}, a)"
            return f"F['pow']({b}, {self.constant(e.exp)}, a)"
        if type(e) in _FUNCTIONS:
            return f"F['{_FUNCTIONS[type(e)]}']({self.constant(e.args[0])}, a)"
        raise NoClosedForm(f"no ball-arithmetic rule for the constant {e}; "
                           f"supported: rationals, floats, pi, E and {SUPPORTED}")


def _shared(expr: sympy.Expr) -> frozenset[sympy.Expr]:
    """Subexpressions in z that occur more than once."""
    seen: set[sympy.Expr] = set()
    again: set[sympy.Expr] = set()
    stack = [expr]
    while stack:
        e = stack.pop()
        if e in seen:
            again.add(e)
            continue
        seen.add(e)
        if e.args and e.has(z):
            stack.extend(e.args)
    return frozenset(e for e in again if e.args and e.has(z))


def _source(expr: sympy.Expr, constants: dict[sympy.Expr, int],
            params: tuple[sympy.Symbol, ...] = ()) -> str:
    emit = _Emitter(constants, _shared(expr), params)
    result = emit(expr)
    return "\n".join(["def _f(x, C, a, P=()):", *emit.lines, f"    return {result}"])


def _build(source: str, helpers: dict[str, Any]) -> Callable[..., Any]:
    namespace: dict[str, Any] = {"F": helpers, "arb": arb, "fmpq": fmpq}
    exec(compile(source, "<ball>", "exec"), namespace)  # our own generated code
    fn: Callable[..., Any] = namespace["_f"]
    return fn


@lru_cache(maxsize=4096)
def _constant_function(expr: sympy.Expr) -> Callable[..., Any]:
    code = _ConstantEmitter({}).constant(expr)
    return _build(f"def _f(x, C, a):\n    return {code}", REAL)


def constant_ball(value: sympy.Expr) -> arb:
    """An Arb enclosure of a real z-free SymPy constant at the current precision.

    >>> with working_precision(64):
    ...     print(constant_ball(sympy.erfc(1 / sympy.sqrt(2))).str(10, radius=False))
    0.3173105079
    """
    expr = sympy.sympify(value)
    if expr.free_symbols:
        raise InvalidArgument(f"expected a constant, got {expr}")
    result: arb = _constant_function(expr)(None, (), False)
    return result


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
        source = _source(expr, constants, params)
        self._constants = tuple(sorted(constants, key=constants.__getitem__))
        for c in self._constants:  # refuse unsupported constants now, not at first use
            _constant_function(c)
        self._real = _build(source, REAL)
        self._dual = _build(source, DUAL)
        self._complex = _build(source, COMPLEX)
        self._cache: dict[int, tuple[arb, ...]] = {}

    def constants(self) -> tuple[arb, ...]:
        """The constants enclosed at the current precision (computed once per precision)."""
        prec = ctx.prec
        cached = self._cache.get(prec)
        if cached is None:
            cached = tuple(constant_ball(c) for c in self._constants)
            self._cache[prec] = cached
        return cached

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
    (``Piecewise``, ``sign``, ``Heaviside``…: split pieces first).

    >>> q = sympy.Symbol("q", positive=True)
    >>> f = compile_ball(z * q + 1, (q,))
    >>> with working_precision(64):
    ...     print(f(arb(2), (arb(3),)))
    7.00000000000000000
    """
    e = sympy.sympify(expr)
    if not isinstance(e, sympy.Expr):
        raise InvalidArgument(f"expected a SymPy expression in z, got {e!r}")
    stray = sorted(str(s) for s in e.free_symbols - {z} - set(params))
    if stray:
        raise InvalidArgument(f"expression has free symbols other than z: {', '.join(stray)}")
    key = (e, tuple(params))
    with _LOCK:
        found = _COMPILED.get(key)
        if found is None:
            found = BallFunction(e, tuple(params))
            if len(_COMPILED) > 512:
                _COMPILED.clear()
            _COMPILED[key] = found
    return found
