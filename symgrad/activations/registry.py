"""The registry: activations by name, the catalogue's and the user's.

>>> from symgrad.activations import activation
>>> activation("leaky_relu", alpha=0.2).label
'leaky_relu(alpha=1/5)'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real, describe
from symgrad.activations.catalogue import CATALOGUE, Entry
from symgrad.activations.record import Activation, Param, exact_limit
from symgrad.activations.validity import check_real_and_finite
from symgrad.errors import InvalidArgument
from symgrad.types import RealLike

__all__ = [
    "activation",
    "activation_names",
    "as_activation",
    "entry",
    "register_activation",
    "unregister_activation",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_REGISTRY: dict[str, Entry] = dict(CATALOGUE)


def entry(name: str) -> Entry:
    """The registry entry of ``name``: its general form, parameters and family."""
    found = _REGISTRY.get(name)
    if found is None:
        raise InvalidArgument(f"unknown activation {name!r}; known activations: "
                              + ", ".join(activation_names()))
    return found


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
    return _build(entry, values)


@functools.lru_cache(maxsize=512)
def _build(entry: Entry, values: tuple[tuple[str, sympy.Expr], ...]) -> Activation:
    """The activation of ``entry`` at parameter ``values``, checked once: real and finite
    on every piece (user entries; the catalogue's are known to be) and continuous."""
    expr = entry.expr.subs({sympy.Symbol(k, real=True): v for k, v in values})
    family = entry.family or entry.name
    act = Activation(entry.name, expr, values, entry.latex, entry.reference, family,
                     entry.kernel)
    if entry.name not in CATALOGUE:
        for piece in act.pieces:
            check_real_and_finite(piece.expr, piece.lo, piece.hi)
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


#: name → (its registry entry, the activation with default parameters): built once per
#: registration (splitting a Piecewise into pieces takes SymPy tens of milliseconds).
_DEFAULTS: dict[str, tuple[Any, Activation]] = {}


def as_activation(act: Activation | str) -> Activation:
    """Accept an :class:`Activation` or a registered name (with default parameters)."""
    if isinstance(act, Activation):
        return act
    if isinstance(act, str):
        entry = _REGISTRY.get(act)
        cached = _DEFAULTS.get(act)
        if cached is not None and entry is not None and cached[0] is entry:
            return cached[1]
        made = activation(act)
        _DEFAULTS[act] = (entry, made)
        return made
    raise InvalidArgument(f"expected an Activation or an activation name, got {describe(act)}")


def _check_continuous(act: Activation) -> None:
    for left, right in zip(act.pieces, act.pieces[1:], strict=False):
        jump = sympy.simplify(exact_limit(left.expr, left.hi, "-")
                              - exact_limit(right.expr, right.lo, "+"))
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
    ``Piecewise``, ``Abs``, ``Max``, ``Min`` or ``Heaviside``; φ must be continuous, and
    real and finite for every real z (each piece is checked: see
    :mod:`symgrad.activations.validity` — ``sqrt(z)``, ``log(z)``, ``1/z``, ``tan(z)``,
    ``floor(z)``, ``I*z`` or an undefined ``f(z)`` are refused with the reason).
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
    if name in CATALOGUE:
        raise InvalidArgument(f"{name!r} is a catalogue activation and cannot be replaced")
    if name in _REGISTRY and not replace:
        raise InvalidArgument(f"{name!r} is already registered; pass replace=True to replace it")
    if not isinstance(expr, sympy.Expr):
        raise InvalidArgument(f"expr must be a SymPy expression in z, got {describe(expr)}")
    for label, value in (("params", params), ("domains", domains)):
        if value is not None and not isinstance(value, Mapping):
            raise InvalidArgument(f"{label} must be a mapping from parameter names, got "
                                  f"{describe(value)}")
    for label, text in (("latex", latex), ("reference", reference)):
        if text is not None and not isinstance(text, str):
            raise InvalidArgument(f"{label} must be a string, got {describe(text)}")
    defaults = dict(params or {})
    domains = dict(domains or {})
    for key, domain in domains.items():
        if not isinstance(domain, sympy.Set):
            raise InvalidArgument(f"the domain of {key!r} must be a SymPy set such as "
                                  f"sympy.Interval.open(0, sympy.oo), got {describe(domain)}")
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
    _REGISTRY[name] = Entry(name, expr, spec, latex or rf"\operatorname{{{name}}}", reference)
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
    if not isinstance(name, str):
        raise InvalidArgument(f"activation name must be a string, got {describe(name)}")
    if name in CATALOGUE:
        raise InvalidArgument(f"{name!r} is a catalogue activation and cannot be removed")
    if name not in _REGISTRY:
        raise InvalidArgument(f"{name!r} is not registered")
    del _REGISTRY[name]
