"""φ and φ' of an activation as one function on Arb balls, for the chain engine.

:func:`ball_step` compiles an activation into ``both(x) -> (φ(x), φ'(x))`` on
python-flint ``arb`` balls: every operation rounds outward, so the two results
contain φ and φ' of every point of the ball x (a proof, at any precision).  Two
things make that usable along a chain of 10⁶ layers:

* Values stay correct *relative to themselves*: a ball's radius is relative to its
  midpoint only if nothing cancels, so the expressions are first rewritten by
  :func:`symgrad._exact.mpforms.stable` (eᶻ − 1 → expm1 z, 1 − tanh² → sech²,
  1 + erf → erfc(−u), log(1 + u) → log1p u), and each of those becomes Arb's own
  function (the C library's idea, on balls: Goldberg 1991, §4).
* Speed: each function is Arb's method on the ball (no end-point hulls, no wrappers),
  constants are enclosed once per precision, and φ and φ' share subexpressions.

A ``Piecewise`` is decided on the ball: a condition certainly true or false picks its
branch; an undecided one (the ball straddles a kink) unites the candidate branches,
which still encloses φ(x) whichever branch the true x is in.  At a kink exactly, the
condition decides, which is the kink convention (φ' is the value of the piece that
contains the kink).

>>> from flint import arb
>>> from symgrad import activation
>>> from symgrad._exact.ball import working_precision
>>> both = ball_step(activation("elu"))
>>> with working_precision(120):
...     value, slope = both(arb("-1e-40"))
>>> value.str(5, radius=False), slope.str(5, radius=False)
('-1.0000e-40', '1.0000')
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

import sympy
from flint import arb, ctx
from sympy.codegen.cfunctions import expm1, log1p

from symgrad._core.symbols import z
from symgrad._exact.ball import constant_ball
from symgrad._exact.mpforms import stable
from symgrad.activations.record import Activation
from symgrad.errors import NoClosedForm

__all__ = ["SUPPORTED", "BallStep", "ball_step"]

#: What the ball compiler evaluates (after the cancellation-free rewriting).
SUPPORTED = ("+ − × ÷, integer powers, sqrt, exp, expm1, log, log1p, tanh, sech², erf, "
             "erfc, atan, asinh, sinh, cosh, sin, cos, Abs, Max, Min, Piecewise")

_METHODS = {
    sympy.exp: "exp", expm1: "expm1", sympy.log: "log", log1p: "log1p", sympy.tanh: "tanh",
    sympy.erf: "erf", sympy.erfc: "erfc", sympy.atan: "atan", sympy.asinh: "asinh",
    sympy.sinh: "sinh", sympy.cosh: "cosh", sympy.sin: "sin", sympy.cos: "cos",
}
_HALF = arb(1) / 2


def _sech2(u: arb, t: arb) -> arb:
    """sech² u from t = tanh u: 1 − t² loses at most a bit while |t| ≤ ½; beyond, it
    would cancel, so sech u is evaluated (as :mod:`symgrad._exact.mpforms` does)."""
    if t.abs_upper() <= _HALF:
        return 1 - t * t
    s = u.sech()
    return s * s


# ---- softplus and the logistic, whose written forms lose everything for large z ----


class _softplus(sympy.Function):  # type: ignore[misc]
    """log(1 + eᵘ), evaluated as u + log1p(e^{−u}) for u > 0 (eᵘ itself would carry
    only the relative accuracy |u|·2^−prec there)."""


class _logistic(sympy.Function):  # type: ignore[misc]
    """eᵘ/(eᵘ + 1), evaluated as 1/(1 + e^{−u}) for u > 0."""


def _softplus_ball(u: arb) -> arb:
    return u + (-u).exp().log1p() if u > 0 else u.exp().log1p()


def _logistic_ball(u: arb) -> arb:
    if u > 0:
        return 1 / (1 + (-u).exp())
    e = u.exp()
    return e / (1 + e)


def _logistic_mul(e: sympy.Expr) -> sympy.Expr | None:
    """c·eᵘ·(eᵘ + 1)⁻¹ → c·logistic(u)."""
    if not isinstance(e, sympy.Mul):
        return None
    for f in e.args:
        if isinstance(f, sympy.exp):
            den = sympy.Pow(f + 1, -1)
            if den in e.args:
                rest = [a for a in e.args if a is not f and a != den]
                return sympy.Mul(*rest, _logistic(f.args[0]))
    return None


def _well_conditioned(expr: sympy.Expr) -> sympy.Expr:
    expr = expr.replace(lambda e: isinstance(e, log1p) and isinstance(e.args[0], sympy.exp),
                        lambda e: _softplus(e.args[0].args[0]))
    return expr.replace(lambda e: _logistic_mul(e) is not None, _logistic_mul)


def _decide(holds: bool, fails: bool) -> bool | None:
    return True if holds else False if fails else None


def _select(x: arb, C: tuple[arb, ...],
            branches: tuple[tuple[Callable[..., bool | None], Callable[..., Any]], ...]) -> arb:
    """The first branch whose condition holds; undecided conditions unite their branches."""
    out: arb | None = None
    for cond, fn in branches:
        verdict = cond(x, C)
        if verdict is False:
            continue
        value = fn(x, C)[0]
        value = value if isinstance(value, arb) else arb(value)
        out = value if out is None else out.union(value)
        if verdict is True:
            return out
    return out if out is not None else arb("nan")


_HELPERS: dict[str, Any] = {
    "arb": arb, "sech2": _sech2, "decide": _decide, "select": _select,
    "softplus_": _softplus_ball, "logistic_": _logistic_ball,
    "vmax": lambda a, b: arb(a).max(arb(b)), "vmin": lambda a, b: arb(a).min(arb(b)),
}


class _Source:
    """Python source for ball expressions: constants C[i], shared temporaries."""

    def __init__(self, constants: dict[sympy.Expr, int]) -> None:
        self.constants = constants
        self.names: dict[sympy.Expr, str] = {}
        self.variables: set[sympy.Expr] = {z}

    def constant(self, e: sympy.Expr) -> str:
        if e.is_Integer:
            return f"({int(e)})"
        if e not in self.constants:
            self.constants[e] = len(self.constants)
        return f"C[{self.constants[e]}]"

    def __call__(self, e: sympy.Expr) -> str:
        if e in self.names:
            return self.names[e]
        if e == z:
            return "x"
        if not e.free_symbols & self.variables:
            return self.constant(e)
        if isinstance(e, sympy.Add):
            return "(" + " + ".join(self(a) for a in e.args) + ")"
        if isinstance(e, sympy.Mul):
            if e.args[0] == -1:
                return f"(-{self(sympy.Mul(*e.args[1:]))})"
            num, den = [], []
            for f in e.args:
                if (f.is_Pow and f.exp.is_Integer and f.exp < 0
                        and f.base.free_symbols & self.variables):
                    den.append(self.power(f.base, -int(f.exp)))
                else:
                    num.append(self(f))
            top = "*".join(num) if num else "1"
            return f"({top}/({'*'.join(den)}))" if den else f"({top})"
        if isinstance(e, sympy.Pow):
            if e.exp.is_Integer:
                n = int(e.exp)
                return self.power(e.base, n) if n > 0 else f"(1/{self.power(e.base, -n)})"
            if e.exp == sympy.Rational(1, 2):
                return f"{self(e.base)}.sqrt()"
            if e.exp == sympy.Rational(-1, 2):
                return f"{self(e.base)}.rsqrt()"
            return f"({self(e.exp)}*{self(e.base)}.log()).exp()"
        if type(e) in _METHODS:
            return f"{self(e.args[0])}.{_METHODS[type(e)]}()"
        name = getattr(type(e), "__name__", "")
        if name == "sech2":
            return f"sech2({self(e.args[0])}, {self(e.args[1])})"
        if name in ("_softplus", "_logistic"):
            return f"{name[1:]}_({self(e.args[0])})"
        if name == "erfc_neg":  # erfc(−u) = 1 + erf(u), without cancellation
            return f"(-{self(e.args[0])}).erfc()"
        if isinstance(e, sympy.Abs):
            return f"abs({self(e.args[0])})"
        if isinstance(e, sympy.Max | sympy.Min):
            fn = "vmax" if isinstance(e, sympy.Max) else "vmin"
            out = self(e.args[0])
            for a in e.args[1:]:
                out = f"{fn}({out}, {self(a)})"
            return out
        raise NoClosedForm(f"no ball-arithmetic rule for {type(e).__name__} in {e}; the "
                           f"chain engine evaluates {SUPPORTED}")

    def power(self, base: sympy.Expr, n: int) -> str:
        b = self(base)
        return b if n == 1 else f"({b}*{b})" if n == 2 else f"({b}**{n})"

    def condition(self, c: Any) -> str:
        """Three-valued: True (certain), False (certainly not), None (undecided)."""
        if c is sympy.true:
            return "True"
        if c is sympy.false:
            return "False"
        if isinstance(c, sympy.And | sympy.Or):
            parts = ", ".join(self.condition(a) for a in c.args)
            return f"_and({parts})" if isinstance(c, sympy.And) else f"_or({parts})"
        if isinstance(c, sympy.core.relational.Relational):
            d = self(sympy.expand(c.lhs - c.rhs))
            op = c.rel_op
            if op in ("<=", "<"):
                return f"decide({d} {op} 0, {d} {'>' if op == '<=' else '>='} 0)"
            if op in (">=", ">"):
                return f"decide({d} {op} 0, {d} {'<' if op == '>=' else '<='} 0)"
        raise NoClosedForm(f"cannot decide the condition {c} on a ball")


def _and(*v: bool | None) -> bool | None:
    return False if False in v else None if None in v else True


def _or(*v: bool | None) -> bool | None:
    return True if True in v else None if None in v else False


_HELPERS.update(_and=_and, _or=_or)


def _smooth_source(exprs: list[sympy.Expr], constants: dict[sympy.Expr, int], name: str
                   ) -> str:
    """def name(x, C): … return (e₀, e₁, …) with common subexpressions computed once."""
    temps, reduced = sympy.cse(exprs, symbols=sympy.numbered_symbols("_t"), optimizations=None)
    src = _Source(constants)
    lines = [f"def {name}(x, C):"]
    for sym, sub in temps:
        lines.append(f"    {sym} = {src(sub)}")
        src.names[sym] = str(sym)
        src.variables.add(sym)
    lines.append("    return (" + ", ".join(src(e) for e in reduced) + ",)")
    return "\n".join(lines)


def _piecewise_source(expr: sympy.Expr, constants: dict[sympy.Expr, int], name: str) -> str:
    """def name(x, C): select(x, ((cond, branch), …)) for a Piecewise in z."""
    pw = sympy.piecewise_fold(expr)
    if not isinstance(pw, sympy.Piecewise):
        return _smooth_source([pw], constants, name)
    lines, pairs = [], []
    for i, (value, cond) in enumerate(pw.args):
        src = _Source(constants)
        lines.append(_smooth_source([value], constants, f"_b{name}{i}"))
        lines.append(f"def _c{name}{i}(x, C):\n    return {src.condition(cond)}")
        pairs.append(f"(_c{name}{i}, _b{name}{i})")
    lines.append(f"_{name}_branches = ({', '.join(pairs)},)")
    lines.append(f"def {name}(x, C):\n    return (select(x, C, _{name}_branches),)")
    return "\n".join(lines)


class BallStep:
    """``both(x) = (φ(x), φ'(x))`` on ``arb`` balls at FLINT's current precision."""

    def __init__(self, phi: sympy.Expr, derivative: sympy.Expr) -> None:
        table: dict[sympy.Expr, sympy.Dummy] = {}
        f, d = (_hoist(_well_conditioned(stable(e)), table) for e in (phi, derivative))
        constants: dict[sympy.Expr, int] = {}
        if f.has(sympy.Piecewise) or d.has(sympy.Piecewise):
            source = "\n".join([_piecewise_source(f, constants, "phi"),
                                _piecewise_source(d, constants, "dphi"),
                                "def both(x, C):\n    return (phi(x, C)[0], dphi(x, C)[0])"])
        else:
            source = "\n".join([_smooth_source([f, d], constants, "both"),
                                _smooth_source([f], constants, "phi")])
        # A value that uses z more than once overestimates its range on a ball (the
        # dependency problem: z/(1 + z)); the engine then uses the mean-value form
        # φ(X) ⊂ φ(m) + φ'(X)·(X − m) instead, valid wherever X holds no kink.
        fold = sympy.piecewise_fold(f)
        values = [v for v, _ in fold.args] if isinstance(fold, sympy.Piecewise) else [fold]
        self.mean_value = any(v.count(z) > 1 for v in values)
        namespace: dict[str, Any] = dict(_HELPERS)
        exec(compile(source, "<ball step>", "exec"), namespace)  # our own generated code
        self._fn: Callable[[arb, tuple[arb, ...]], tuple[Any, Any]] = namespace["both"]
        self._phi: Callable[[arb, tuple[arb, ...]], tuple[Any]] = namespace["phi"]
        dummies = {v: k for k, v in table.items()}
        self._constants = tuple(c.xreplace(dummies) for c in
                                sorted(constants, key=constants.__getitem__))
        self._cache: dict[int, tuple[arb, ...]] = {}
        self.source = source

    def constants(self) -> tuple[arb, ...]:
        prec = ctx.prec
        found = self._cache.get(prec)
        if found is None:
            found = tuple(constant_ball(c) for c in self._constants)
            self._cache[prec] = found
        return found

    def bind(self) -> Callable[[arb], tuple[arb, arb]]:
        """``both`` with the constants of the current precision bound (call inside
        :func:`working_precision`)."""
        fn, consts = self._fn, self.constants()

        def both(x: arb) -> tuple[arb, arb]:
            v, s = fn(x, consts)
            return (v if type(v) is arb else arb(v)), (s if type(s) is arb else arb(s))

        return both

    def bind_value(self) -> Callable[[arb], arb]:
        """φ alone, with the constants of the current precision bound."""
        fn, consts = self._phi, self.constants()

        def phi(x: arb) -> arb:
            v = fn(x, consts)[0]
            return v if type(v) is arb else arb(v)

        return phi

    def __call__(self, x: arb) -> tuple[arb, arb]:
        return self.bind()(x)


def _hoist(expr: sympy.Expr, table: dict[sympy.Expr, sympy.Dummy]) -> sympy.Expr:
    """Maximal z-free, non-integer subexpressions become one symbol each (enclosed once)."""
    if isinstance(expr, sympy.Expr) and not expr.has(z) and not expr.is_Integer:
        if expr not in table:
            table[expr] = sympy.Dummy(f"c{len(table)}")
        return table[expr]
    if not expr.args or isinstance(expr, sympy.core.relational.Relational):
        return expr
    if isinstance(expr, sympy.Add | sympy.Mul):
        # c₁·c₂·f(z) → (c₁c₂)·f(z): one constant per sum or product
        fixed = [a for a in expr.args if not a.has(z)]
        if len(fixed) > 1:
            rest = [_hoist(a, table) for a in expr.args if a.has(z)]
            return expr.func(_hoist(expr.func(*fixed), table), *rest)
    return expr.func(*[_hoist(a, table) for a in expr.args])


@lru_cache(maxsize=128)
def _compiled(phi: sympy.Expr, derivative: sympy.Expr) -> BallStep:
    return BallStep(phi, derivative)


def ball_step(act: Activation) -> BallStep:
    """The compiled :class:`BallStep` of ``act`` (cached per expression)."""
    return _compiled(act.expr, act.derivative)
