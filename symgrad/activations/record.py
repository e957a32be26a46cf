"""What is φ?  The activation catalogue and its registry.

An :class:`Activation` is one frozen record: a name, a SymPy expression in the
shared real symbol :data:`z`, its parameter values, a LaTeX name and a reference.
Families are one general form whose parameters are SymPy symbols; members are
one-line specialisations (``relu`` is ``leaky_relu`` with α = 0, ``silu`` is
``swish`` with β = 1, ``selu`` is ``elu`` with SELU's fixed point constants).

>>> from symgrad import activation
>>> act = activation("sigmoid")
>>> act.derivative
exp(-z)/(1 + exp(-z))**2
>>> activation("leaky_relu", alpha=0.2).label
'leaky_relu(alpha=1/5)'
>>> float(activation("tanh").numpy_prime(0.0))
1.0

Kinks are ``Piecewise`` conditions.  At a kink, :attr:`Activation.derivative` takes
the value of the piece that contains the kink (ReLU'(0) = 0, as in the deep-learning
frameworks); :meth:`Activation.one_sided_derivatives` gives both one-sided limits.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real, describe
from symgrad.activations import kernels as _kernels
from symgrad.errors import InvalidArgument
from symgrad.types import FloatArray, RealLike

__all__ = [
    "Activation",
    "Kink",
    "Param",
    "Piece",
    "activation",
    "activation_names",
    "as_activation",
    "one_sided_limit",
    "register_activation",
    "unregister_activation",
    "z",
]


_Kernel = Callable[..., FloatArray]
_MPMATH_TURN = threading.Lock()
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_POSITIVE = sympy.Interval.open(0, sympy.oo)
_NONNEGATIVE = sympy.Interval(0, sympy.oo)


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

    @property
    def derivative(self) -> sympy.Expr:
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
class _Entry:
    """One registry entry: a family (expression with parameter symbols) or a member of one."""

    name: str
    expr: sympy.Expr
    params: tuple[Param, ...]
    latex: str
    reference: str
    kernel: tuple[_Kernel, _Kernel] | None = None
    fixed: tuple[tuple[str, sympy.Expr], ...] = ()
    family: str = ""


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
    _kernel: tuple[_Kernel, _Kernel] | None = field(default=None, repr=False, compare=False)

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
        return _split(self._piecewise)

    @cached_property
    def breakpoints(self) -> tuple[sympy.Expr, ...]:
        """Finite endpoints of the pieces (kinks and smooth joins)."""
        return tuple(p.hi for p in self.pieces[:-1])

    @cached_property
    def kinks(self) -> tuple[Kink, ...]:
        """Breakpoints where the one-sided derivatives differ."""
        found = []
        for left, right in zip(self.pieces, self.pieces[1:], strict=False):
            dl = _limit(left.derivative, left.hi, "-")
            dr = _limit(right.derivative, right.lo, "+")
            if sympy.simplify(dl - dr) != 0:
                found.append(Kink(left.hi, dl, dr))
        return tuple(found)

    def one_sided_derivatives(self, at: RealLike) -> tuple[sympy.Expr, sympy.Expr]:
        """(φ'(at⁻), φ'(at⁺)), exact; equal wherever φ is differentiable.

        >>> activation("relu").one_sided_derivatives(0)
        (0, 1)
        """
        point = as_exact_real(at, "at")
        left = right = None
        for piece in self.pieces:
            if (piece.lo < point) == sympy.true and (point <= piece.hi) == sympy.true:
                left = _limit(piece.derivative, point, "-")
            if (piece.lo <= point) == sympy.true and (point < piece.hi) == sympy.true:
                right = _limit(piece.derivative, point, "+")
        if left is None or right is None:  # pragma: no cover - pieces cover the line
            raise InvalidArgument(f"{self.label} is not defined at {point}")
        return left, right

    # ---- numeric evaluators ----

    @cached_property
    def _mp_funcs(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        # Cancellation-free forms (expm1, log1p, sech², erfc(−u)): values correct relative
        # to themselves far into saturation and at tiny |z| (tanh'(100) is not 0).
        from symgrad._exact.mpforms import _stable

        return (
            sympy.lambdify(z, _stable(self.expr), modules="mpmath"),
            sympy.lambdify(z, _stable(self.derivative), modules="mpmath"),
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
    value = expr.subs(z, at)
    if value.has(sympy.nan, sympy.zoo, sympy.oo, -sympy.oo) or not value.is_finite:
        value = sympy.limit(expr, z, at, direction)
    return value


def _limit(expr: sympy.Expr, at: sympy.Expr, direction: str) -> sympy.Expr:
    """:func:`one_sided_limit`, with a float result written as the number it rounds."""
    value = one_sided_limit(expr, at, direction)
    return sympy.nsimplify(value) if value.is_Float else value


def _split(expr: sympy.Expr) -> tuple[Piece, ...]:
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


# ---- the registry ----

_REGISTRY: dict[str, _Entry] = {}


def _family(
    name: str,
    expr: sympy.Expr,
    *,
    params: tuple[Param, ...] = (),
    latex: str,
    reference: str,
    kernel: tuple[_Kernel, _Kernel] | None = None,
) -> None:
    _REGISTRY[name] = _Entry(name, expr, params, latex, reference, kernel)


def _member(name: str, family: str, *, latex: str, reference: str, **fixed: Any) -> None:
    base = _REGISTRY[family]
    values = tuple((p.name, sympy.sympify(fixed[p.name])) for p in base.params)
    _REGISTRY[name] = _Entry(
        name, base.expr, base.params, latex, reference, base.kernel, values, family
    )


def _p(name: str) -> sympy.Symbol:
    return sympy.Symbol(name, real=True)


_alpha, _beta, _scale = _p("alpha"), _p("beta"), _p("scale")


def _logistic(x: sympy.Expr) -> sympy.Expr:
    return 1 / (1 + sympy.exp(-x))


# SELU's constants (Klambauer et al. 2017, eq. 14), in closed form.
_E1 = sympy.erfc(1 / sympy.sqrt(2))
_SELU_ALPHA = -sympy.sqrt(2 / sympy.pi) / (_E1 * sympy.exp(sympy.Rational(1, 2)) - 1)
_SELU_SCALE = (
    (1 - _E1 * sympy.sqrt(sympy.E))
    * sympy.sqrt(2 * sympy.pi)
    * (
        2 * sympy.erfc(sympy.sqrt(2)) * sympy.E**2
        + sympy.pi * _E1**2 * sympy.E
        - 2 * (2 + sympy.pi) * _E1 * sympy.sqrt(sympy.E)
        + sympy.pi
        + 2
    )
    ** sympy.Rational(-1, 2)
)

K = _kernels

# ---- smooth saturating ----
_family("identity", z, latex=r"\operatorname{id}", reference="linear network",
        kernel=(K.identity, K.identity_prime))
_family("sigmoid", _logistic(z), latex=r"\sigma",
        reference="logistic function; Hochreiter 1991", kernel=(K.sigmoid, K.sigmoid_prime))
_family("tanh", sympy.tanh(z), latex=r"\tanh", reference="LeCun et al. 1998",
        kernel=(K.tanh, K.tanh_prime))
_family("erf", sympy.erf(z), latex=r"\operatorname{erf}",
        reference="Williams 1997 (closed-form arc-sine kernel)", kernel=(K.erf, K.erf_prime))
_family("softsign", sympy.Piecewise((z / (1 - z), z < 0), (z / (1 + z), True)),
        latex=r"\operatorname{softsign}", reference="Glorot and Bengio 2010",
        kernel=(K.softsign, K.softsign_prime))
# ---- piecewise linear ----
_family("hard_sigmoid",
        sympy.Piecewise((0, z <= -3), (z / 6 + sympy.Rational(1, 2), z <= 3), (1, True)),
        latex=r"\operatorname{hard\_sigmoid}", reference="PyTorch Hardsigmoid: ReLU6(z+3)/6",
        kernel=(K.hard_sigmoid, K.hard_sigmoid_prime))
_family("hard_tanh", sympy.Piecewise((-1, z <= -1), (z, z <= 1), (1, True)),
        latex=r"\operatorname{hard\_tanh}", reference="Collobert 2004",
        kernel=(K.hard_tanh, K.hard_tanh_prime))
_family("leaky_relu", sympy.Piecewise((_alpha * z, z <= 0), (z, True)),
        params=(Param("alpha", sympy.Rational(1, 100)),),
        latex=r"\operatorname{LeakyReLU}", reference="Maas, Hannun and Ng 2013",
        kernel=(K.leaky_relu, K.leaky_relu_prime))
_member("relu", "leaky_relu", alpha=0, latex=r"\operatorname{ReLU}",
        reference="Nair and Hinton 2010; Glorot, Bordes and Bengio 2011")
_family("elu", _scale * sympy.Piecewise((_alpha * (sympy.exp(z) - 1), z <= 0), (z, True)),
        params=(Param("alpha", sympy.Integer(1), _NONNEGATIVE),
                Param("scale", sympy.Integer(1), _POSITIVE)),
        latex=r"\operatorname{ELU}", reference="Clevert, Unterthiner and Hochreiter 2016",
        kernel=(K.elu, K.elu_prime))
_member("selu", "elu", alpha=_SELU_ALPHA, scale=_SELU_SCALE, latex=r"\operatorname{SELU}",
        reference="Klambauer et al. 2017")
# ---- smooth, non-monotone ----
_family("gelu", z / 2 * (1 + sympy.erf(z / sympy.sqrt(2))), latex=r"\operatorname{GELU}",
        reference="Hendrycks and Gimpel 2016", kernel=(K.gelu, K.gelu_prime))
_family("gelu_tanh",
        z / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi)
                                * (z + sympy.Rational(44715, 10**6) * z**3))),
        latex=r"\operatorname{GELU}_{\tanh}",
        reference="Hendrycks and Gimpel 2016 (tanh approximation)",
        kernel=(K.gelu_tanh, K.gelu_tanh_prime))
_family("softplus", sympy.log(1 + sympy.exp(_beta * z)) / _beta,
        params=(Param("beta", sympy.Integer(1), _POSITIVE),),
        latex=r"\operatorname{softplus}", reference="Dugas et al. 2001",
        kernel=(K.softplus, K.softplus_prime))
_family("swish", z * _logistic(_beta * z), params=(Param("beta", sympy.Integer(1), _POSITIVE),),
        latex=r"\operatorname{swish}", reference="Ramachandran, Zoph and Le 2017",
        kernel=(K.swish, K.swish_prime))
_member("silu", "swish", beta=1, latex=r"\operatorname{SiLU}",
        reference="Elfwing, Uchibe and Doya 2018")
_family("mish", z * sympy.tanh(sympy.log(1 + sympy.exp(z))), latex=r"\operatorname{mish}",
        reference="Misra 2019", kernel=(K.mish, K.mish_prime))

_CATALOGUE = frozenset(_REGISTRY)


def activation_names() -> tuple[str, ...]:
    """Every registered name, sorted.

    >>> "sigmoid" in activation_names()
    True
    """
    return tuple(sorted(_REGISTRY))


def activation(name: str, **params: Any) -> Activation:
    """The activation called ``name``, with family parameters overriding the defaults.

    Parameters are converted exactly (``alpha=0.2`` is 1/5) and checked against the
    family's domain.  Members such as ``relu`` take no parameters.

    >>> activation("elu", alpha=2).params
    (('alpha', 2), ('scale', 1))
    """
    if not isinstance(name, str):
        raise InvalidArgument(f"activation name must be a string, got {describe(name)}")
    entry = _REGISTRY.get(name)
    if entry is None:
        known = ", ".join(activation_names())
        raise InvalidArgument(f"unknown activation {name!r}; known activations: {known}")
    if entry.fixed:
        if params:
            raise InvalidArgument(
                f"{name} takes no parameters (it fixes {', '.join(k for k, _ in entry.fixed)});"
                f" got {', '.join(sorted(params))}"
            )
        values = entry.fixed
    else:
        allowed = {p.name for p in entry.params}
        unknown = sorted(set(params) - allowed)
        if unknown:
            what = ", ".join(sorted(allowed)) if allowed else "none"
            raise InvalidArgument(
                f"{name} has no parameter {', '.join(unknown)}; its parameters: {what}"
            )
        values = tuple(
            (p.name, _magnitude_checked(
                as_exact_real(params[p.name], f"{name} {p.name}", domain=p.domain),
                f"{name} {p.name}") if p.name in params else p.default)
            for p in entry.params
        )
    expr = entry.expr.subs({sympy.Symbol(k, real=True): v for k, v in values})
    family = entry.family or name
    act = Activation(name, expr, values, entry.latex, entry.reference, family, entry.kernel)
    _check_continuous(act)
    return act


# Parameters feed float64 kernels and quadratures: keep them far inside float64's range.
_PARAM_MAX = sympy.Integer(10) ** 100


def _magnitude_checked(value: sympy.Expr, name: str) -> sympy.Expr:
    size = abs(value)
    if value != 0 and not (1 / _PARAM_MAX <= size <= _PARAM_MAX):
        raise InvalidArgument(
            f"{name} must be 0 or of magnitude between 1e-100 and 1e100, got "
            f"{sympy.sstr(sympy.Float(value, 3))}"
        )
    return value


def as_activation(act: Activation | str) -> Activation:
    """Accept an :class:`Activation` or a registered name (with default parameters)."""
    if isinstance(act, Activation):
        return act
    if isinstance(act, str):
        return activation(act)
    raise InvalidArgument(f"expected an Activation or an activation name, got {describe(act)}")


def _check_continuous(act: Activation) -> None:
    for left, right in zip(act.pieces, act.pieces[1:], strict=False):
        jump = sympy.simplify(_limit(left.expr, left.hi, "-") - _limit(right.expr, right.lo, "+"))
        if jump != 0:
            raise InvalidArgument(
                f"{act.label} jumps by {jump} at z = {left.hi}; symgrad needs a continuous φ"
            )


def register_activation(
    name: str,
    expr: sympy.Expr,
    *,
    params: Mapping[str, RealLike] | None = None,
    domains: Mapping[str, sympy.Set] | None = None,
    latex: str | None = None,
    reference: str = "user-registered",
    replace: bool = False,
) -> Activation:
    """Register φ = ``expr`` (a SymPy expression in :data:`z`) and return it with defaults.

    ``params`` maps each parameter symbol's name to its default; ``domains`` optionally
    restricts a parameter (a SymPy set, all reals by default).  Kinks may be written with
    ``Piecewise``, ``Abs``, ``Max``, ``Min`` or ``Heaviside``; φ must be continuous.
    Every analysis in symgrad then works for it.

    >>> import sympy
    >>> from symgrad import z
    >>> act = register_activation("cube_root_ish", z / sympy.sqrt(1 + z**2), replace=True)
    >>> act.derivative
    -z**2/(z**2 + 1)**(3/2) + 1/sqrt(z**2 + 1)
    >>> unregister_activation("cube_root_ish")
    """
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidArgument(
            f"activation name must match [a-z][a-z0-9_]*, got {describe(name)}"
        )
    if name in _CATALOGUE:
        raise InvalidArgument(f"{name!r} is a catalogue activation and cannot be replaced")
    if name in _REGISTRY and not replace:
        raise InvalidArgument(f"{name!r} is already registered; pass replace=True to replace it")
    if not isinstance(expr, sympy.Expr):
        raise InvalidArgument(f"expr must be a SymPy expression in z, got {describe(expr)}")
    defaults = dict(params or {})
    domains = dict(domains or {})
    stray = sorted(set(domains) - set(defaults))
    if stray:
        raise InvalidArgument(f"domains given for unknown parameters: {', '.join(stray)}")
    # A plain Symbol('z') is taken to mean the shared real z.
    expr = expr.subs(sympy.Symbol("z"), z)
    symbols = {s.name: s for s in expr.free_symbols}
    unknown = sorted(set(symbols) - {"z"} - set(defaults))
    if unknown:
        raise InvalidArgument(
            f"expr has free symbols {', '.join(unknown)} that are neither z nor parameters"
        )
    expr = expr.subs({s: sympy.Symbol(n, real=True) for n, s in symbols.items() if n != "z"})
    if z not in expr.free_symbols:
        raise InvalidArgument(f"expr must depend on z, got {describe(expr)}")
    spec = tuple(
        Param(k, as_exact_real(v, f"default of {k}", domain=domains.get(k, sympy.S.Reals)),
              domains.get(k, sympy.S.Reals))
        for k, v in defaults.items()
    )
    previous = _REGISTRY.get(name)
    _REGISTRY[name] = _Entry(name, expr, spec, latex or rf"\operatorname{{{name}}}", reference)
    try:
        return activation(name)
    except InvalidArgument:
        if previous is None:
            del _REGISTRY[name]
        else:
            _REGISTRY[name] = previous
        raise


def unregister_activation(name: str) -> None:
    """Remove a user-registered activation (catalogue members stay)."""
    if name in _CATALOGUE:
        raise InvalidArgument(f"{name!r} is a catalogue activation and cannot be removed")
    if name not in _REGISTRY:
        raise InvalidArgument(f"{name!r} is not registered")
    del _REGISTRY[name]
