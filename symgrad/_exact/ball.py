"""SymPy expressions in z written as Python code on Arb balls: the one emitter.

:func:`ball_source` writes ``def f(x, C, a=False, P=())`` returning balls that contain
the expressions' values at every point of the ball x (FLINT's Arb through python-flint:
every operation rounds outward, so the result is a proof).  Two call styles
(:class:`Calls`) of the same code: ``TABLE`` calls each function's rule through a table,
so one source runs on the REAL (exact ranges), DUAL (derivatives) and COMPLEX (the
integrator) tables of :mod:`symgrad._exact.ball_rules` — the certified engine's
:func:`symgrad._exact.ball_function.compile_ball`; ``ARB`` calls Arb's own methods
directly — the chain engine's step in :mod:`symgrad.depth.balls`, 10⁶ layers long.

Both know the cancellation-free forms of :mod:`symgrad._exact.mpforms` (expm1, log1p,
sech², softplus, logistic, erfc(−u)) and decide a ``Piecewise`` on the ball,
three-valued (see :class:`Emitter`).  Constants (one per maximal z-free sum or product)
are enclosed once per precision by :mod:`symgrad._exact.ball_constants`.  The
precision policy (:func:`working_precision`…) lives in :mod:`symgrad._exact.precision`
and is importable from here.

>>> from symgrad._core.symbols import z
>>> print(ball_source("f", [sympy.tanh(2 * z) + 1], {}, calls=Calls.ARB))
def f(x, C, a=False, P=()):
    return ((1) + ((2)*x).tanh())
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import sympy
from flint import arb, fmpq

from symgrad._core.symbols import z
from symgrad._exact.ball_rules import (
    ARB,
    FUNCTIONS,
    METHODS,
    NAMED,
    REAL,
    SUPPORTED,
    decide,
    erfcx,
    three_and,
    three_or,
)
from symgrad._exact.precision import (
    CAP_BITS,
    START_BITS,
    bits_for_digits,
    precision_ladder,
    working_precision,
)
from symgrad.errors import NoClosedForm

__all__ = [
    "CAP_BITS",
    "START_BITS",
    "SUPPORTED",
    "Calls",
    "Emitter",
    "ball_source",
    "bits_for_digits",
    "build_source",
    "erfcx",
    "precision_ladder",
    "working_precision",
]


class Calls(enum.Enum):
    """How generated code calls a function's rule."""

    #: ``F['exp'](x, a)``: one source run on the REAL, DUAL and COMPLEX tables of
    #: :mod:`symgrad._exact.ball_rules` (exact ranges, derivatives, the integrator).
    TABLE = "table"
    #: ``x.exp()``: Arb's own method on a real ball (one evaluation, no end-point hull),
    #: other rules as the globals ``name_`` of the ARB table; for chains of narrow balls.
    ARB = "arb"


# ---- code generation ----


class Emitter:
    """Python source for an expression: z-free parts become constants C[i] (one per sum
    or product), subexpressions used more than once become temporaries (``shared``, a
    linear-time CSE, or names given in ``variables``), and each ``Piecewise`` becomes a
    function of its own that decides its conditions on the ball, three-valued: a piece
    whose condition certainly holds is the value; one that certainly fails is skipped;
    an undecided one (the ball straddles a boundary) is united with the pieces after it
    until one certainly holds, which encloses the value whichever piece the true point
    is in.  At a boundary exactly the condition decides (the kink convention)."""

    def __init__(self, constants: dict[sympy.Expr, int], calls: Calls,
                 inputs: dict[sympy.Expr, str], defs: list[str], prefix: str,
                 shared: frozenset[sympy.Expr] = frozenset(),
                 hoisted: dict[sympy.Expr, sympy.Expr] | None = None) -> None:
        self.constants, self.calls, self.inputs, self.defs = constants, calls, inputs, defs
        self.prefix, self.shared, self.hoisted = prefix, shared, hoisted or {}
        self.variables: dict[sympy.Expr, str] = dict(inputs)
        self.known: dict[sympy.Expr, bool] = {}
        self.lines: list[str] = []
        self.temps: dict[sympy.Expr, str] = {}

    def fixed(self, e: sympy.Expr) -> bool:
        """Whether ``e`` is a constant (free of the inputs and temporaries); linear time
        over the whole expression, each subexpression decided once."""
        found = self.known.get(e)
        if found is None:
            found = (e not in self.variables if e.is_Symbol
                     else all(self.fixed(a) for a in e.args))
            self.known[e] = found
        return found

    def constant(self, e: sympy.Expr) -> str:
        if e.is_Integer:
            return f"({int(e)})"
        if self.hoisted:
            e = e.xreplace(self.hoisted)
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
            self.lines.append(f"{name} = {code}")
            self.temps[e] = name
            return name
        return code

    def code(self, e: sympy.Expr) -> str:
        if e in self.variables:
            return self.variables[e]
        if self.fixed(e):
            return self.constant(e)
        if isinstance(e, sympy.Add):
            fixed = [a for a in e.args if self.fixed(a)]
            terms = [self(a) for a in e.args if not self.fixed(a)]
            return "(" + " + ".join([self.constant(sympy.Add(*fixed))] * bool(fixed) + terms) + ")"
        if isinstance(e, sympy.Mul):
            return self.mul(e)
        if isinstance(e, sympy.Pow):
            return self.pow(e.base, e.exp)
        if isinstance(e, sympy.Piecewise):
            return self.piecewise(e)
        if isinstance(e, sympy.Max | sympy.Min):
            name = "max" if isinstance(e, sympy.Max) else "min"
            out = self(e.args[0])
            for arg in e.args[1:]:
                out = self.call(name, [out, self(arg)])
            return out
        if isinstance(e, sympy.Abs) and self.calls is Calls.ARB:
            return f"abs({self(e.args[0])})"
        return self.function(e, self)

    def function(self, e: sympy.Expr, render: Callable[[sympy.Expr], str]) -> str:
        """A function's rule called on its arguments, each rendered by ``render``."""
        name = type(e).__name__
        if name == "erfc_neg":  # erfc(−u) = 1 + erf(u), without cancellation
            return self.call("erfc", [f"(-{render(e.args[0])})"])
        rule = FUNCTIONS.get(type(e)) or NAMED.get(name)
        if rule is None:
            raise NoClosedForm(f"no ball-arithmetic rule for {name} in {e}; "
                               f"supported: {SUPPORTED}")
        return self.call(rule, [render(a) for a in e.args])

    def call(self, rule: str, args: list[str]) -> str:
        if self.calls is Calls.TABLE:
            return f"F['{rule}']({', '.join(args)}, a)"
        if rule in METHODS:
            return f"{args[0]}.{rule}()"
        return f"{rule}_({', '.join(args)})"

    def mul(self, e: sympy.Expr) -> str:
        fixed, num, den = [], [], []
        for factor in e.args:
            if self.fixed(factor):
                fixed.append(factor)
            elif factor.is_Pow and factor.exp.is_Rational and factor.exp.is_negative:
                den.append(self.pow(factor.base, -factor.exp))
            else:
                num.append(self(factor))
        coeff = sympy.Mul(*fixed)
        if coeff not in (1, -1):
            num.insert(0, self.constant(coeff))
        top = "*".join(num) if num else "(1)"
        out = f"({top}/({'*'.join(den)}))" if den else f"({top})"
        return f"(-{out})" if coeff == -1 else out

    def pow(self, base: sympy.Expr, exponent: sympy.Expr) -> str:
        b = self(base)
        arb_calls = self.calls is Calls.ARB
        if exponent.is_Integer:
            n = int(exponent)
            if n == 0:
                return "(1)"
            if not arb_calls:
                power = f"F['ipow']({b}, {abs(n)})"
            else:  # x·x is Arb's fastest square
                power = b if abs(n) == 1 else f"({b}*{b})" if abs(n) == 2 else f"({b}**{abs(n)})"
            return power if n > 0 else f"(1/{power})"
        if exponent.is_Rational:
            p, q = int(exponent.p), int(exponent.q)
            if arb_calls and q == 2 and abs(p) == 1:
                return f"{b}.sqrt()" if p == 1 else f"{b}.rsqrt()"
            return self.call("rpow", [b, str(p), str(q)])
        return self.call("pow", [b, self(exponent)])

    # ---- Piecewise ----

    def sub(self, exprs: list[sympy.Expr]) -> Emitter:
        """An emitter for code inside a piece (its own temporaries, the same constants)."""
        return Emitter(self.constants, self.calls, self.inputs, self.defs, self.prefix,
                        _shared(exprs, self.inputs), self.hoisted)

    def piecewise(self, e: sympy.Piecewise) -> str:
        slot = len(self.defs)
        name = f"_{self.prefix}_pw{slot}"
        self.defs.append("")  # this slot: pieces may hold Piecewise functions of their own
        join, nan = (("join_", "nan_") if self.calls is Calls.ARB
                     else ("F['join']", "F['nan']"))
        lines = [f"def {name}(x, C, a=False, P=()):", "    out = None"]
        for value, cond in e.args:
            if cond is sympy.false:
                continue
            piece = self.sub([value])
            result = piece(value)
            body = [*piece.lines, f"return {join}(out, {result}, a)"]
            if cond is sympy.true:
                lines += ["    " + line for line in body]
                break
            test = self.sub([])
            verdict = test.condition(cond)
            lines += ["    " + line for line in test.lines]
            lines += [f"    v = {verdict}", "    if v is not False:"]
            lines += ["        " + line for line in body[:-1]]
            lines += [f"        out = {join}(out, {result}, a)", "        if v:",
                      "            return out"]
        else:
            lines.append(f"    return out if out is not None else {nan}")
        self.defs[slot] = "\n".join(lines)
        return f"{name}(x, C, a, P)"

    def condition(self, c: Any) -> str:
        """Three-valued code: True (certainly), False (certainly not), None (undecided)."""
        if c is sympy.true or c is sympy.false:
            return str(bool(c))
        if isinstance(c, sympy.And | sympy.Or):
            parts = ", ".join(self.condition(a) for a in c.args)
            return f"_and({parts})" if isinstance(c, sympy.And) else f"_or({parts})"
        if isinstance(c, sympy.core.relational.Relational) and c.rel_op in _NEGATED:
            d = self(sympy.expand(c.lhs - c.rhs))
            if self.calls is Calls.TABLE:
                return f"F['decide']({d}, '{c.rel_op}')"
            if not d.isidentifier():
                self.lines.append(f"_d{len(self.lines)} = {d}")
                d = f"_d{len(self.lines) - 1}"
            return f"decide({d} {c.rel_op} 0, {d} {_NEGATED[c.rel_op]} 0)"
        raise NoClosedForm(f"no ball-arithmetic rule decides the condition {c} on a ball")


_NEGATED = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def _shared(exprs: list[sympy.Expr], inputs: dict[sympy.Expr, str]) -> frozenset[sympy.Expr]:
    """Subexpressions in the inputs that occur more than once (not looking into the pieces
    of a Piecewise, which are evaluated only when their condition allows)."""
    seen: set[sympy.Expr] = set()
    again: set[sympy.Expr] = set()
    stack = list(exprs)
    symbols = tuple(inputs)
    while stack:
        e = stack.pop()
        if e in seen:
            again.add(e)
            continue
        seen.add(e)
        if e.args and not isinstance(e, sympy.Piecewise) and e.has(*symbols):
            stack.extend(e.args)
    return frozenset(e for e in again if e.args and e.has(*symbols))


def _hoist(expr: sympy.Expr, table: dict[sympy.Expr, sympy.Dummy]) -> sympy.Expr:
    """Maximal z-free, non-integer subexpressions become one symbol each, so that SymPy's
    CSE leaves constants whole (c₁·c₂·f(z) → (c₁c₂)·f(z): one constant per product)."""
    if isinstance(expr, sympy.Expr) and not expr.has(z) and not expr.is_Integer:
        if expr not in table:
            table[expr] = sympy.Dummy(f"c{len(table)}")
        return table[expr]
    if not expr.args or isinstance(expr, sympy.core.relational.Relational):
        return expr
    if isinstance(expr, sympy.Add | sympy.Mul):
        fixed = [a for a in expr.args if not a.has(z)]
        if len(fixed) > 1:
            rest = [_hoist(a, table) for a in expr.args if a.has(z)]
            return expr.func(_hoist(expr.func(*fixed), table), *rest)
    return expr.func(*[_hoist(a, table) for a in expr.args])


def ball_source(name: str, exprs: list[sympy.Expr], constants: dict[sympy.Expr, int], *,
                calls: Calls = Calls.TABLE, params: tuple[sympy.Symbol, ...] = (),
                cse: bool = False) -> str:
    """Source of ``def name(x, C, a=False, P=())`` returning the ball of each expression
    in z (one value, or a tuple of several), preceded by one function per Piecewise.

    ``C`` holds the balls of ``constants`` (filled in: expression → index), ``a`` is the
    COMPLEX table's ``analytic`` flag, ``P`` the balls of ``params``.  Common
    subexpressions are found in linear time, or by SymPy's ``cse`` (``cse=True``: finds
    more, costs more; not across the pieces of a Piecewise, which must stay lazy).
    """
    exprs = [sympy.piecewise_fold(e) if e.has(sympy.Piecewise) else e for e in exprs]
    inputs: dict[sympy.Expr, str] = {z: "x", **{p: f"P[{i}]" for i, p in enumerate(params)}}
    defs: list[str] = []
    if cse and not any(e.has(sympy.Piecewise) for e in exprs):
        table: dict[sympy.Expr, sympy.Dummy] = {}
        hoisted = [_hoist(e, table) for e in exprs]
        temps, exprs = sympy.cse(hoisted, symbols=sympy.numbered_symbols("_u"),
                                 optimizations=None)
        emit = Emitter(constants, calls, inputs, defs, name,
                        hoisted={v: k for k, v in table.items()})
        for symbol, sub in temps:
            emit.lines.append(f"{symbol} = {emit(sub)}")
            emit.variables[symbol] = str(symbol)
    else:
        emit = Emitter(constants, calls, inputs, defs, name, _shared(exprs, inputs))
    results = [emit(e) for e in exprs]
    out = results[0] if len(results) == 1 else "(" + ", ".join(results) + ",)"
    return "\n".join([*defs, f"def {name}(x, C, a=False, P=()):",
                      *("    " + line for line in emit.lines), f"    return {out}"])


_GLOBALS: dict[Calls, dict[str, Any]] = {
    Calls.TABLE: {"arb": arb, "fmpq": fmpq, "_and": three_and, "_or": three_or},
    Calls.ARB: {"arb": arb, "fmpq": fmpq, "_and": three_and, "_or": three_or,
                "decide": decide, **{f"{rule}_": fn for rule, fn in ARB.items()}},
}


def build_source(source: str, calls: Calls = Calls.TABLE,
                 table: dict[str, Any] | None = None) -> dict[str, Any]:
    """The functions ``source`` defines (from :func:`ball_source`), its rules taken from
    ``table`` (Calls.TABLE: REAL, DUAL or COMPLEX) or Arb's methods (Calls.ARB)."""
    namespace = dict(_GLOBALS[calls], F=REAL if table is None else table)
    exec(_compiled(source), namespace)  # our own generated code
    return namespace


@lru_cache(maxsize=64)
def _compiled(source: str) -> Any:
    return compile(source, "<ball>", "exec")
