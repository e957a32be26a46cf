"""The activation record: φ as a frozen SymPy expression with its pieces, kinks,
derivatives and stable evaluators.

An :class:`Activation` is one frozen record: a name, a SymPy expression in the
shared real symbol :data:`z`, its parameter values, a LaTeX name and a reference.

>>> from symgrad import activation
>>> act = activation("sigmoid")
>>> act.derivative
exp(-z)/(1 + exp(-z))**2
>>> float(activation("tanh").numpy_prime(0.0))
1.0

Kinks are ``Piecewise`` conditions.  At a kink, :attr:`Activation.derivative` takes
the value of the piece that contains the kink (ReLU'(0) = 0, as in the deep-learning
frameworks); :meth:`Activation.one_sided_derivatives` gives both one-sided limits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real, describe
from symgrad._exact.mpforms import stable
from symgrad.activations import kernels as _kernels
from symgrad.errors import InvalidArgument
from symgrad.types import FloatArray, RealLike

__all__ = [
    "Activation",
    "Kernel",
    "Kink",
    "Param",
    "Piece",
    "exact_limit",
    "one_sided_limit",
    "split_pieces",
]

#: A float64 evaluator: φ or φ' of an array, with the family's parameters as keywords.
Kernel = Callable[..., FloatArray]
_MPMATH_TURN = threading.Lock()


@dataclass(frozen=True)
class Param:
    """A family parameter: its symbol name, default and allowed values."""

    name: str
    default: sympy.Expr
    domain: sympy.Set = sympy.S.Reals

    @property
    def symbol(self) -> sympy.Symbol:
        return sympy.Symbol(self.name, real=True)


@dataclass(frozen=True)
class Piece:
    """φ on the open interval (lo, hi), where it is smooth."""

    lo: sympy.Expr
    hi: sympy.Expr
    expr: sympy.Expr

    @cached_property
    def derivative(self) -> sympy.Expr:
        """φ' on this piece, differentiated once per piece (saturation asks for it at
        every ε, the spectrum and Gaussian pages for every power)."""
        return sympy.diff(self.expr, z)

    @property
    def interval(self) -> sympy.Interval:
        return sympy.Interval.open(self.lo, self.hi)


@dataclass(frozen=True)
class Kink:
    """A point where φ is continuous but φ' jumps: both one-sided derivatives."""

    at: sympy.Expr
    left: sympy.Expr
    right: sympy.Expr


@dataclass(frozen=True)
class Activation:
    """An activation φ: a frozen record, the argument of every analysis in symgrad.

    ``family`` names the general form (``leaky_relu`` for ``relu``).

    ``expr`` is a SymPy expression in :data:`z` with every parameter substituted;
    ``params`` the parameter values as exact SymPy numbers, in the family's order.
    """

    name: str
    expr: sympy.Expr
    params: tuple[tuple[str, sympy.Expr], ...] = ()
    latex: str = ""
    reference: str = ""
    family: str = ""
    _kernel: tuple[Kernel, Kernel] | None = field(default=None, repr=False, compare=False)

    # ---- naming ----

    @property
    def label(self) -> str:
        """The name with its parameters, e.g. ``leaky_relu(alpha=1/5)``; members
        (``relu``, ``selu``, ``silu``) fix theirs and show the name alone."""
        if not self.params or self.family != self.name:
            return self.name
        inner = ", ".join(f"{k}={sympy.sstr(v)}" for k, v in self.params)
        return f"{self.name}({inner})"

    def param(self, name: str) -> sympy.Expr:
        """The exact value of one parameter."""
        for key, value in self.params:
            if key == name:
                return value
        raise InvalidArgument(f"{self.name} has no parameter {name!r}")

    # ---- symbolic ----

    @cached_property
    def _piecewise(self) -> sympy.Expr:
        rewritten = self.expr.rewrite(sympy.Piecewise)
        return sympy.piecewise_fold(rewritten)

    @cached_property
    def derivative(self) -> sympy.Expr:
        """φ'(z), exact; a ``Piecewise`` when φ has pieces."""
        return sympy.piecewise_fold(sympy.diff(self._piecewise, z))

    @cached_property
    def second_derivative(self) -> sympy.Expr:
        """φ''(z), exact, away from kinks."""
        return sympy.piecewise_fold(sympy.diff(self.derivative, z))

    @cached_property
    def pieces(self) -> tuple[Piece, ...]:
        """The open intervals on which φ is smooth, left to right."""
        return split_pieces(self._piecewise)

    @cached_property
    def breakpoints(self) -> tuple[sympy.Expr, ...]:
        """Finite endpoints of the pieces (kinks and smooth joins)."""
        return tuple(p.hi for p in self.pieces[:-1])

    @cached_property
    def kinks(self) -> tuple[Kink, ...]:
        """Breakpoints where the one-sided derivatives differ."""
        found = []
        for left, right in zip(self.pieces, self.pieces[1:], strict=False):
            dl = exact_limit(left.derivative, left.hi, "-")
            dr = exact_limit(right.derivative, right.lo, "+")
            if sympy.simplify(dl - dr) != 0:
                found.append(Kink(left.hi, dl, dr))
        return tuple(found)

    def one_sided_derivatives(self, at: RealLike) -> tuple[sympy.Expr, sympy.Expr]:
        """(φ'(at⁻), φ'(at⁺)), exact; equal wherever φ is differentiable.

        >>> from symgrad import activation
        >>> activation("relu").one_sided_derivatives(0)
        (0, 1)
        """
        point = as_exact_real(at, "at")
        left = right = None
        for piece in self.pieces:
            if (piece.lo < point) == sympy.true and (point <= piece.hi) == sympy.true:
                left = exact_limit(piece.derivative, point, "-")
            if (piece.lo <= point) == sympy.true and (point < piece.hi) == sympy.true:
                right = exact_limit(piece.derivative, point, "+")
        if left is None or right is None:  # pragma: no cover - pieces cover the line
            raise InvalidArgument(f"{self.label} is not defined at {point}")
        return left, right

    # ---- numeric evaluators ----

    @cached_property
    def _mp_funcs(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        # Cancellation-free forms (expm1, log1p, sech², erfc(−u)): values correct relative
        # to themselves far into saturation and at tiny |z| (tanh'(100) is not 0).
        return (
            sympy.lambdify(z, stable(self.expr), modules="mpmath"),
            sympy.lambdify(z, stable(self.derivative), modules="mpmath"),
        )

    def mpmath(self, x: RealLike) -> Any:
        """φ(x) with mpmath at the caller's working precision (``mpmath.workdps``)."""
        return self._mp_funcs[0](mpmath.mpf(x) if not isinstance(x, mpmath.mpf) else x)

    def mpmath_prime(self, x: RealLike) -> Any:
        """φ'(x) with mpmath at the caller's working precision."""
        return self._mp_funcs[1](mpmath.mpf(x) if not isinstance(x, mpmath.mpf) else x)

    @cached_property
    def _float_params(self) -> dict[str, float]:
        return {k: float(v) for k, v in self.params}

    @cached_property
    def _np_fallback(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        return (
            sympy.lambdify(z, self.expr, modules="numpy"),
            sympy.lambdify(z, self.derivative, modules="numpy"),
        )

    def _numpy_eval(self, x: Any, which: int) -> FloatArray:
        arr = np.asarray(x, dtype=np.float64)
        if self._kernel is not None:
            return self._kernel[which](arr, **self._float_params)
        # A user's expression: evaluate with NumPy, then redo non-finite points in mpmath.
        with np.errstate(all="ignore"):
            out = np.asarray(self._np_fallback[which](arr), dtype=np.float64)
            out = np.broadcast_to(out, arr.shape).copy()
        bad = ~np.isfinite(out)
        if bad.any():
            slow = self.mpmath if which == 0 else self.mpmath_prime
            # mpmath's working precision is one global: threads (simulate's row blocks)
            # take turns, or one could restore another's precision on leaving.
            with _MPMATH_TURN, mpmath.workdps(30):
                out[bad] = [float(slow(mpmath.mpf(float(v)))) for v in arr[bad]]
        return out

    def numpy(self, x: Any) -> FloatArray:
        """φ(x) elementwise in float64, stable (no overflow, no NaN) for |x| ≤ 1e4."""
        return self._numpy_eval(x, 0)

    def numpy_prime(self, x: Any) -> FloatArray:
        """φ'(x) elementwise in float64, stable, with the ``derivative`` convention at kinks."""
        return self._numpy_eval(x, 1)

    def numpy_into(self, x: FloatArray, value: FloatArray, slope: FloatArray, *,
                   work: FloatArray | None = None, mask: Any = None) -> None:
        """φ(x) into ``value`` and φ'(x) into ``slope`` (float64 arrays of x's shape,
        neither overlapping ``x``).

        Bit-identical to :meth:`numpy` and :meth:`numpy_prime`; for the common catalogue
        members no temporary array is allocated (``work``: float64 scratch, ``mask``:
        bool scratch, of x's shape, allocated here when not given).
        """
        into = _kernels.INTO.get(self._kernel[0]) if self._kernel is not None else None
        if into is None:
            np.copyto(value, self.numpy(x))
            np.copyto(slope, self.numpy_prime(x))
            return
        into(x, value, slope, np.empty_like(x) if work is None else work,
             np.empty(x.shape, dtype=bool) if mask is None else mask, **self._float_params)

    # ---- rendering ----

    def _repr_latex_(self) -> str:
        return f"$\\varphi(z) = {sympy.latex(self.expr)}$"


def one_sided_limit(expr: sympy.Expr, at: sympy.Expr, direction: str) -> sympy.Expr:
    """lim expr as z → at from ``direction`` ("-" or "+"); substitution first, since
    pieces are analytic up to their ends, SymPy's ``limit`` only where that fails."""
    if not isinstance(expr, sympy.Expr) or not isinstance(at, sympy.Expr | int):
        raise InvalidArgument(f"one_sided_limit takes a SymPy expression in z and a point, got "
                              f"{describe(expr)} and {describe(at)}")
    if direction not in ("-", "+"):
        raise InvalidArgument(f"direction must be '-' or '+', got {describe(direction)}")
    at = sympy.sympify(at)
    if not (at.is_number and at.is_extended_real):
        raise InvalidArgument(f"the point must be a real number or ±oo, got {describe(at)}")
    value = expr.subs(z, at)
    if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or not value.is_finite:
        value = sympy.limit(expr, z, at, direction)
    return value


def exact_limit(expr: sympy.Expr, at: sympy.Expr, direction: str) -> sympy.Expr:
    """:func:`one_sided_limit`, with a float result written as the number it rounds."""
    value = one_sided_limit(expr, at, direction)
    return sympy.nsimplify(value) if value.is_Float else value


def split_pieces(expr: sympy.Expr) -> tuple[Piece, ...]:
    """The smooth pieces of a (``piecewise_fold``-ed) expression, left to right."""
    if not isinstance(expr, sympy.Piecewise):
        return (Piece(-sympy.oo, sympy.oo, expr),)
    pieces = []
    for sub, where in expr.as_expr_set_pairs(sympy.S.Reals):
        parts = where.args if isinstance(where, sympy.Union) else (where,)
        for part in parts:
            if isinstance(part, sympy.Interval) and part.measure != 0:
                pieces.append(Piece(part.start, part.end, sub))
    pieces.sort(key=lambda p: float(p.lo) if p.lo.is_finite else -np.inf)
    return tuple(pieces)
