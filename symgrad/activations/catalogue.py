"""The catalogue: every built-in activation as one registry entry.

Families are one general form whose parameters are SymPy symbols; members are
one-line specialisations (``relu`` is ``leaky_relu`` with α = 0, ``silu`` is
``swish`` with β = 1, ``selu`` is ``elu`` with SELU's fixed-point constants in closed
form).  This module only describes entries; :mod:`symgrad.activations.registry`
turns them into :class:`~symgrad.activations.record.Activation` records.

>>> CATALOGUE["relu"].family, CATALOGUE["relu"].fixed
('leaky_relu', (('alpha', 0),))
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.symbols import z
from symgrad.activations import kernels as K
from symgrad.activations.record import Kernel, Param

__all__ = ["CATALOGUE", "Entry"]

_POSITIVE = sympy.Interval.open(0, sympy.oo)
_NONNEGATIVE = sympy.Interval(0, sympy.oo)


@dataclass(frozen=True)
class Entry:
    """One registry entry: a family (expression with parameter symbols) or a member of one."""

    name: str
    expr: sympy.Expr
    params: tuple[Param, ...]
    latex: str
    reference: str
    kernel: tuple[Kernel, Kernel] | None = None
    fixed: tuple[tuple[str, sympy.Expr], ...] = ()
    family: str = ""



def _family(
    name: str,
    expr: sympy.Expr,
    *,
    params: tuple[Param, ...] = (),
    latex: str,
    reference: str,
    kernel: tuple[Kernel, Kernel] | None = None,
) -> Entry:
    return Entry(name, expr, params, latex, reference, kernel)


def _member(name: str, base: Entry, *, latex: str, reference: str, **fixed: Any) -> Entry:
    values = tuple((p.name, sympy.sympify(fixed[p.name])) for p in base.params)
    return Entry(name, base.expr, base.params, latex, reference, base.kernel, values, base.name)


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


# ---- smooth saturating ----
_IDENTITY = _family(
    "identity", z, latex=r"\operatorname{id}", reference="linear network",
    kernel=(K.identity, K.identity_prime))
_SIGMOID = _family(
    "sigmoid", _logistic(z), latex=r"\sigma", reference="logistic function; Hochreiter 1991",
    kernel=(K.sigmoid, K.sigmoid_prime))
_TANH = _family(
    "tanh", sympy.tanh(z), latex=r"\tanh", reference="LeCun et al. 1998",
    kernel=(K.tanh, K.tanh_prime))
_ERF = _family(
    "erf", sympy.erf(z), latex=r"\operatorname{erf}",
    reference="Williams 1997 (closed-form arc-sine kernel)", kernel=(K.erf, K.erf_prime))
_SOFTSIGN = _family(
    "softsign", sympy.Piecewise((z / (1 - z), z < 0), (z / (1 + z), True)),
    latex=r"\operatorname{softsign}", reference="Glorot and Bengio 2010",
    kernel=(K.softsign, K.softsign_prime))

# ---- piecewise linear ----
_HARD_SIGMOID = _family(
    "hard_sigmoid",
    sympy.Piecewise((0, z <= -3), (z / 6 + sympy.Rational(1, 2), z <= 3), (1, True)),
    latex=r"\operatorname{hard\_sigmoid}", reference="PyTorch Hardsigmoid: ReLU6(z+3)/6",
    kernel=(K.hard_sigmoid, K.hard_sigmoid_prime))
_HARD_TANH = _family(
    "hard_tanh", sympy.Piecewise((-1, z <= -1), (z, z <= 1), (1, True)),
    latex=r"\operatorname{hard\_tanh}", reference="Collobert 2004",
    kernel=(K.hard_tanh, K.hard_tanh_prime))
_LEAKY_RELU = _family(
    "leaky_relu", sympy.Piecewise((_alpha * z, z <= 0), (z, True)),
    params=(Param("alpha", sympy.Rational(1, 100)),),
    latex=r"\operatorname{LeakyReLU}", reference="Maas, Hannun and Ng 2013",
    kernel=(K.leaky_relu, K.leaky_relu_prime))
_RELU = _member(
    "relu", _LEAKY_RELU, alpha=0, latex=r"\operatorname{ReLU}",
    reference="Nair and Hinton 2010; Glorot, Bordes and Bengio 2011")
_ELU = _family(
    "elu", _scale * sympy.Piecewise((_alpha * (sympy.exp(z) - 1), z <= 0), (z, True)),
    params=(Param("alpha", sympy.Integer(1), _NONNEGATIVE),
            Param("scale", sympy.Integer(1), _POSITIVE)),
    latex=r"\operatorname{ELU}", reference="Clevert, Unterthiner and Hochreiter 2016",
    kernel=(K.elu, K.elu_prime))
_SELU = _member(
    "selu", _ELU, alpha=_SELU_ALPHA, scale=_SELU_SCALE, latex=r"\operatorname{SELU}",
    reference="Klambauer et al. 2017")

# ---- smooth, non-monotone ----
_GELU = _family(
    "gelu", z / 2 * (1 + sympy.erf(z / sympy.sqrt(2))), latex=r"\operatorname{GELU}",
    reference="Hendrycks and Gimpel 2016", kernel=(K.gelu, K.gelu_prime))
_GELU_TANH = _family(
    "gelu_tanh",
    z / 2 * (1 + sympy.tanh(sympy.sqrt(2 / sympy.pi) * (z + sympy.Rational(44715, 10**6) * z**3))),
    latex=r"\operatorname{GELU}_{\tanh}",
    reference="Hendrycks and Gimpel 2016 (tanh approximation)",
    kernel=(K.gelu_tanh, K.gelu_tanh_prime))
_SOFTPLUS = _family(
    "softplus", sympy.log(1 + sympy.exp(_beta * z)) / _beta,
    params=(Param("beta", sympy.Integer(1), _POSITIVE),),
    latex=r"\operatorname{softplus}", reference="Dugas et al. 2001",
    kernel=(K.softplus, K.softplus_prime))
_SWISH = _family(
    "swish", z * _logistic(_beta * z), params=(Param("beta", sympy.Integer(1), _POSITIVE),),
    latex=r"\operatorname{swish}", reference="Ramachandran, Zoph and Le 2017",
    kernel=(K.swish, K.swish_prime))
_SILU = _member(
    "silu", _SWISH, beta=1, latex=r"\operatorname{SiLU}",
    reference="Elfwing, Uchibe and Doya 2018")
_MISH = _family(
    "mish", z * sympy.tanh(sympy.log(1 + sympy.exp(z))), latex=r"\operatorname{mish}",
    reference="Misra 2019", kernel=(K.mish, K.mish_prime))

#: Every built-in entry by name.
CATALOGUE: dict[str, Entry] = {e.name: e for e in (
    _IDENTITY,
    _SIGMOID,
    _TANH,
    _ERF,
    _SOFTSIGN,
    _HARD_SIGMOID,
    _HARD_TANH,
    _LEAKY_RELU,
    _RELU,
    _ELU,
    _SELU,
    _GELU,
    _GELU_TANH,
    _SOFTPLUS,
    _SWISH,
    _SILU,
    _MISH,
)}
