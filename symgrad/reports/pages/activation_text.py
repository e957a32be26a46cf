"""How an activation report writes its formulas: a simplification pass, then LaTeX.

Every formula is rewritten before printing, and a rewrite is printed only when it is
proven equal to the record's expression:

* **named constants**: a catalogue member whose fixed parameters are long closed forms
  (SELU's λ and α) gets them named.  The transcendental atoms of the constants
  (``erfc(1/√2)``, ``erfc(√2)``) are solved for in terms of the names, the inverse is
  checked by SymPy (substituting the constants back gives the atoms exactly), and an
  expression is rewritten through it: exact by construction.  γ = sup|φ'| of SELU
  prints as λα, not as a 1,000-character erfc expression.
* **|z| forms**: a ``Piecewise`` whose left piece is the right piece mirrored (φ'(−z) =
  φ'(z) or φ(−z) = −φ(z)) prints as one formula in |z| (softsign's 1/(1 + |z|)²).
* **shorter equal forms**: ``radsimp``, ``simplify`` and ``logcombine`` candidates, kept
  only when shorter and when SymPy proves ``candidate − original`` is 0 (``cancel`` of
  its expansion, else ``simplify``).

Each rewrite is also compared with the original at 50 digits (mpmath) as a guard.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy
from sympy.core.function import AppliedUndef
from sympy.functions.elementary.hyperbolic import HyperbolicFunction
from sympy.functions.elementary.trigonometric import TrigonometricFunction
from sympy.polys.polyerrors import BasePolynomialError

from symgrad._core.format import latex
from symgrad._core.symbols import z
from symgrad.activations.record import Activation

__all__ = ["NamedConstant", "Tidy", "approx", "named_constants", "tidy_for"]

#: A parameter's conventional letter when a member fixes it to a long closed form.
_LETTERS = {"scale": r"\lambda", "alpha": r"\alpha", "beta": r"\beta"}
#: A closed form longer than this (in LaTeX characters) is named, or shown as digits.
LONG = 90
#: Beyond this many operations SymPy's ``simplify`` is not tried (it can take minutes):
#: for a number, and for a function of z (where trigonometric and hyperbolic ones are left
#: alone: ``trigsimp`` alone costs seconds, and tanh-forms are already short).
_SIMPLIFY_OPS = 120
_SIMPLIFY_OPS_Z = 40


@dataclass(frozen=True)
class NamedConstant:
    """A constant of one activation, named: ``symbol`` stands for ``value``."""

    name: str
    symbol: sympy.Symbol
    value: sympy.Expr

    @property
    def digits(self) -> str:
        """The value to 12 significant digits."""
        return approx(self.value)


def approx(value: Any, digits: int = 12) -> str:
    """A real number to ``digits`` significant digits (a certified Float keeps at most the
    digits it carries), for text and table cells.

    >>> approx(sympy.sqrt(2)), approx(sympy.Rational(1, 4)), approx(sympy.oo)
    ('1.41421356237', '0.25', '∞')
    """
    return _approx(sympy.sympify(value), digits)


@functools.lru_cache(maxsize=4096)
def _approx(expr: sympy.Expr, digits: int) -> str:
    # cached: a page asks for the same value's digits in its table, text and details
    if expr in (sympy.oo, -sympy.oo):
        return "∞" if expr == sympy.oo else "−∞"
    if expr.is_Integer:
        return str(expr)
    with mpmath.workdps(digits + 10):
        text = str(mpmath.nstr(mpmath.mpf(sympy.N(expr, digits + 10)), digits))
    return "−" + text[1:] if text.startswith("-") else text


def named_constants(act: Activation) -> tuple[NamedConstant, ...]:
    """The constants a member fixes to long closed forms (SELU: λ = scale, α = alpha)."""
    if act.family == act.name:
        return ()
    out = []
    for key, value in act.params:
        if value.is_Rational or len(latex(value)) <= LONG:
            continue
        letter = _LETTERS.get(key, key)
        out.append(NamedConstant(key, sympy.Symbol(letter, positive=True), value))
    return tuple(out)


def _atoms(values: list[sympy.Expr]) -> list[sympy.Expr]:
    found: set[sympy.Expr] = set()
    for v in values:
        # erfc(1/√2), erfc(√2): the special-function values; exp(1/2) stays as it is
        found |= {f for f in v.atoms(sympy.Function) if f.func is not sympy.exp}
    return sorted(found, key=sympy.default_sort_key)


class Tidy:
    """The simplification pass of one activation's report (see the module docstring)."""

    def __init__(self, act: Activation) -> None:
        self.constants = named_constants(act)
        self._sub: dict[sympy.Expr, sympy.Expr] = {}
        self._values = {c.symbol: c.value for c in self.constants}
        self._latex: dict[sympy.Basic, str] = {}
        if self.constants:
            self._sub = self._eliminate()

    def _eliminate(self) -> dict[sympy.Expr, sympy.Expr]:
        """The constants' transcendental atoms in terms of the names, checked exactly."""
        values = [c.value for c in self.constants]
        atoms = _atoms(values)
        if not atoms or len(atoms) > len(values):
            return {}
        dummies = [sympy.Dummy(positive=True) for _ in atoms]
        swap = dict(zip(atoms, dummies, strict=True))
        equations = [c.symbol - c.value.xreplace(swap) for c in self.constants]
        # check=False: solve's own check (checksol, the dummies' assumptions) took three
        # quarters of SELU's second; each solution is proven below, exactly, instead
        solutions = sympy.solve(equations, dummies, dict=True, check=False)
        for solution in solutions:
            sub = {a: solution[d] for a, d in swap.items() if d in solution}
            if len(sub) == len(atoms) and all(
                    _proven_zero(sub[a].xreplace(self._values) - a) for a in atoms):
                return sub
        return {}

    # ---- the pass ----

    def expr(self, value: Any) -> Any:
        """``value`` (an expression, ``Eq``, set, matrix or integral) in its printed form."""
        return _tidy(self, sympy.sympify(value))

    def latex(self, value: Any) -> str:
        expr = sympy.sympify(value)
        if isinstance(expr, sympy.MatrixBase):  # mutable: not a key
            return latex(self.expr(expr))
        if expr not in self._latex:  # a page prints a value in several places
            self._latex[expr] = latex(self.expr(expr))
        return self._latex[expr]

    def inline(self, value: Any) -> str:
        return f"$`{self.latex(value)}`$"

    def short(self, value: Any) -> bool:
        """Whether ``value`` prints as a short closed form (else as digits)."""
        expr = sympy.sympify(value)
        return not expr.is_Float and len(self.latex(expr)) <= LONG

    def cell(self, value: Any) -> str:
        """A table cell: the closed form when short, with ≈ 12 digits when irrational;
        else the 12 digits alone."""
        expr = sympy.sympify(value)
        if expr.is_Rational or expr in (sympy.oo, -sympy.oo):
            return self.inline(expr)
        if self.short(expr):
            return f"{self.inline(expr)} ≈ {approx(expr)}"
        return approx(expr)

    def one(self, expr: sympy.Expr) -> sympy.Expr:
        """One expression (no sets or relations) in its shortest proven-equal form."""
        if not isinstance(expr, sympy.Expr) or expr.is_Float or expr.is_Rational:
            return expr
        return _one(self, expr)

    def equal(self, shown: sympy.Expr, original: sympy.Expr) -> bool:
        """``shown`` (in the named constants) is ``original``: SymPy proves the difference
        0, or the rewrite was exact by construction; and 50 digits agree."""
        back = shown.xreplace(self._values)
        return _agrees(back, original)


def _agrees(a: sympy.Expr, b: sympy.Expr) -> bool:
    """50-digit agreement at z ∈ {−2.3, −0.7, 0.4, 1.9} (or once, without z)."""
    points = (-2.3, -0.7, 0.4, 1.9) if (a.has(z) or b.has(z)) else (0.0,)
    # any other symbol (a symbolic ε) at 3/7
    others = {s: sympy.Rational(3, 7) for s in (a.free_symbols | b.free_symbols) - {z}}
    a, b = a.xreplace(others), b.xreplace(others)
    for x in points:
        pa = a.subs(z, sympy.Float(x, 60)) if a.has(z) else a
        pb = b.subs(z, sympy.Float(x, 60)) if b.has(z) else b
        try:
            va, vb = sympy.N(pa, 50), sympy.N(pb, 50)
            diff = abs(complex(sympy.N(va - vb, 50)))
            scale = max(1.0, abs(complex(vb)))
        except (TypeError, ValueError):
            return False
        if diff > 1e-40 * scale:
            return False
    return True


@functools.lru_cache(maxsize=2048)
def _one(tidy: Tidy, expr: sympy.Expr) -> sympy.Expr:
    if isinstance(expr, sympy.Piecewise):
        return _piecewise(tidy, expr)
    if tidy._sub and expr.has(*tidy._sub):
        named = expr.rewrite(sympy.erfc).xreplace(tidy._sub)
        named = sympy.simplify(named)
        named = sympy.logcombine(named)
        # by construction equal: the atoms were replaced by their proven inverse
        return _shortest_proven(expr, [named], tidy.equal)
    if sympy.count_ops(expr) <= (_SIMPLIFY_OPS_Z if expr.has(z) else _SIMPLIFY_OPS) and not (
            expr.has(z) and expr.has(TrigonometricFunction, HyperbolicFunction)):
        forms = (sympy.radsimp(expr), sympy.simplify(expr),
                 sympy.logcombine(sympy.expand_log(expr, force=True), force=True))
        return _shortest_proven(expr, [f for f in forms if f != expr], _equal)
    return expr


def _equal(form: sympy.Expr, expr: sympy.Expr) -> bool:
    """SymPy proves ``form − expr`` is 0, and 50 digits agree."""
    return _proven_zero(form - expr) and _agrees(form, expr)


def _shortest_proven(expr: sympy.Expr, forms: list[sympy.Expr],
                     equal: Callable[[sympy.Expr, sympy.Expr], bool]) -> sympy.Expr:
    """The shortest of ``forms`` (the first of equal length) that is clearly shorter than
    ``expr`` (by a tenth: a rewrite must earn its place over the record's own form) and
    proven ``equal`` to it, else ``expr``.

    Only forms short enough to be printed are proven, shortest first, and the first
    proven one is the answer: the same form as proving every one and taking the shortest
    proven, without the proofs of forms that could not be printed (a longer ``simplify``
    result, such as silu's cosh form, whose proof failing cost most of a second).
    """
    limit = 0.9 * len(latex(expr))
    sized = sorted(((len(latex(f)), i, f) for i, f in enumerate(forms)),
                   key=lambda t: t[:2])
    for size, _, form in sized:
        if size >= limit:
            break
        if equal(form, expr):
            return form
    return expr


def _piecewise(tidy: Tidy, expr: sympy.Piecewise) -> sympy.Expr:
    """Each piece tidied; two pieces split at 0 that mirror each other become one |z| form."""
    pieces = [(tidy.one(e), c) for e, c in expr.args]
    if len(pieces) == 2 and pieces[1][1] == sympy.true:
        (left, cond), (right, _) = pieces
        split = cond in (sympy.Lt(z, 0), sympy.Le(z, 0))
        if split:
            mirrored = right.subs(z, sympy.Abs(z))
            # even: R(|z|); odd: z·(R(z)/z)(|z|) or sign(z)·R(|z|)
            forms = [mirrored, z * sympy.cancel(right / z).subs(z, sympy.Abs(z)),
                     sympy.sign(z) * mirrored]
            proven = [f for f in forms if _mirror_equal(f, left, right)]
            if proven:
                return min(proven, key=sympy.count_ops)
    return sympy.Piecewise(*pieces)


def _mirror_equal(form: sympy.Expr, left: sympy.Expr, right: sympy.Expr) -> bool:
    """``form`` (in |z|) is ``left`` for z < 0 and ``right`` for z > 0, proven by SymPy
    with z of each sign."""
    if _differs(form, left, _NEGATIVE) or _differs(form, right, _POSITIVE):
        return False  # a point where they differ: no proof can exist
    neg, pos = sympy.Symbol("z", negative=True), sympy.Symbol("z", positive=True)
    return (_proven_zero(form.subs(z, neg) - left.subs(z, neg))
            and _proven_zero(form.subs(z, pos) - right.subs(z, pos)))


#: Sample points of each sign for :func:`_differs`.
_NEGATIVE = (sympy.Rational(-7, 10), sympy.Rational(-23, 10))
_POSITIVE = (sympy.Rational(2, 5), sympy.Rational(19, 10))


def _differs(a: sympy.Expr, b: sympy.Expr, points: tuple[sympy.Expr, ...]) -> bool:
    """Whether ``a`` and ``b`` (functions of z) differ at one of ``points``: both
    evaluated at 30 digits, apart by more than 10⁻¹⁰ relative (any other symbol, such as
    a named constant, at 3/7, which must satisfy its assumptions).

    A witness that ``a − b`` is not identically 0, so no proof of it can succeed: a
    mirrored form that is not the piece (ELU's |z| for eᶻ − 1) is rejected at the price
    of four evaluations instead of a failed ``cancel`` and a failed ``simplify``.  It only
    ever rejects; where it cannot decide (a pole, a symbol 3/7 cannot stand for) the
    proof decides.
    """
    others = (a.free_symbols | b.free_symbols) - {z}
    value = sympy.Rational(3, 7)
    if not all(getattr(value, f"is_{k}") == v
               for s in others for k, v in s.assumptions0.items()):
        return False
    a, b = a.xreplace(dict.fromkeys(others, value)), b.xreplace(dict.fromkeys(others, value))
    for x in points:
        try:
            va = complex(sympy.N(a.subs(z, x), 30))
            vb = complex(sympy.N(b.subs(z, x), 30))
        except (TypeError, ValueError):  # not a number there (a pole, nan)
            continue
        values = (va.real, va.imag, vb.real, vb.imag)
        if not all(math.isfinite(v) for v in values):
            continue
        if abs(va - vb) > 1e-10 * max(1.0, abs(va), abs(vb)):
            return True
    return False


def _proven_zero(difference: sympy.Expr) -> bool:
    """SymPy proves ``difference`` is 0: ``cancel(expand(·))`` is 0 (an identity of
    rational functions in its atoms, exact), else ``simplify`` gives 0.

    The first proves the zero differences of the catalogue's rewrites in a fraction of
    ``simplify``'s time (78 of 79); what it cannot prove, ``simplify`` still may.
    """
    try:
        if sympy.cancel(sympy.expand(difference)) == 0:
            return True
    except BasePolynomialError:  # pragma: no cover - an atom the polys cannot hold
        pass
    return bool(sympy.simplify(difference) == 0)


def _tidy(tidy: Tidy, value: Any) -> Any:
    if isinstance(value, sympy.Eq):
        return sympy.Eq(_tidy(tidy, value.lhs), _tidy(tidy, value.rhs), evaluate=False)
    if isinstance(value, sympy.MatrixBase):
        return value.applyfunc(lambda e: _tidy(tidy, e))
    if isinstance(value, sympy.Integral):
        return sympy.Integral(_tidy(tidy, value.function), *value.limits)
    if isinstance(value, sympy.Union):
        return sympy.Union(*[_tidy(tidy, a) for a in value.args], evaluate=False)
    if isinstance(value, sympy.Interval):
        return sympy.Interval(_tidy(tidy, value.start), _tidy(tidy, value.end),
                              value.left_open, value.right_open)
    if isinstance(value, sympy.FiniteSet):
        return sympy.FiniteSet(*[_tidy(tidy, a) for a in value.args], evaluate=False)
    if isinstance(value, sympy.Abs) and value.args[0].is_Derivative:
        return value
    if isinstance(value, AppliedUndef):  # E(r): tidy its argument
        return value.func(*[_tidy(tidy, a) for a in value.args])
    if isinstance(value, sympy.Expr) and not value.has(sympy.Derivative, sympy.Integral):
        return tidy.one(value)
    if isinstance(value, sympy.Expr) and value.args and not value.is_Derivative:
        return value.func(*[_tidy(tidy, a) for a in value.args])
    return value


@functools.cache
def tidy_for(act: Activation) -> Tidy:
    """The (cached) simplification pass of one activation."""
    return Tidy(act)
