"""One rule per function, two ways here: its exact range on a real ball and its analytic
continuation on a complex ball (the third, its derivative on dual balls, is
:mod:`symgrad._exact.ball_dual`).

Each table maps a name (``"exp"``, ``"erf"``…) to a helper ``(x, analytic) -> ball``;
:mod:`symgrad._exact.ball` generates code calling them.  Real helpers return the exact
range of a monotone function on a wide ball by evaluating its two end points (Arb's own
wide-ball bounds are looser: erf([1, 2]) ⊂ [0.76, 1.17] instead of [0.84, 0.996]).

>>> y = REAL["erf"](arb(1).union(arb(2)))
>>> print(y.lower().str(4, radius=False), y.upper().str(4, radius=False))
0.8427 0.9953
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sympy
from flint import acb, arb, fmpq
from sympy.codegen.cfunctions import expm1, log1p

from symgrad._exact.mpforms import logistic, softplus

__all__ = ["ARB", "COMPLEX", "FUNCTIONS", "METHODS", "NAMED", "REAL", "SUPPORTED", "decide",
           "erfcx", "three_and", "three_or"]


class erfcx(sympy.Function):  # type: ignore[misc]  # lower case: it prints as erfcx(x)
    """The scaled complementary error function erfcx(x) = e^{x²}·erfc(x), decreasing on
    the whole line, used in tail forms (erfc(x) = erfcx(x)·e^{−x²} without underflow).

    >>> erfcx(sympy.Symbol("x")).diff(sympy.Symbol("x"))
    2*x*erfcx(x) - 2/sqrt(pi)
    """

    @classmethod
    def eval(cls, x: sympy.Expr) -> sympy.Expr | None:
        return sympy.Integer(1) if x == 0 else None

    def fdiff(self, argindex: int = 1) -> sympy.Expr:
        # erfcx'(x) = 2x·erfcx(x) − 2/√π
        x = self.args[0]
        return 2 * x * erfcx(x) - 2 / sympy.sqrt(sympy.pi)

    def _eval_rewrite_as_erfc(self, x: sympy.Expr, **kwargs: Any) -> sympy.Expr:
        return sympy.exp(x**2) * sympy.erfc(x)

    def _eval_evalf(self, prec: int) -> sympy.Expr | None:
        x = self.args[0].evalf(prec)
        if not x.is_Number:
            return None
        return (sympy.exp(x**2) * sympy.erfc(x)).evalf(prec + 10, maxn=prec + 4000)


# ---- the cancellation-free forms of symgrad._exact.mpforms ----


def _softplus(u: arb) -> arb:
    """log(1 + eᵘ) as u + log1p(e^{−u}) for u > 0 (eᵘ would lose the relative accuracy)."""
    return u + (-u).exp().log1p() if u > 0 else u.exp().log1p()


def _logistic(u: arb) -> arb:
    """eᵘ/(eᵘ + 1) as 1/(1 + e^{−u}) for u > 0."""
    if u > 0:
        return 1 / (1 + (-u).exp())
    e = u.exp()
    return e / (1 + e)


_HALF = arb(1) / 2


def _sech2(u: arb, t: arb, analytic: bool = False) -> arb:
    """sech² u from t = tanh u: 1 − t² loses at most a bit while |t| ≤ ½; beyond, it
    would cancel, so sech u is evaluated (as :mod:`symgrad._exact.mpforms` does)."""
    if t.abs_upper() <= _HALF:
        return 1 - t * t
    s = u.sech()
    return s * s


# ---- Piecewise: conditions decided on the ball, three-valued ----

_RELATIONS: dict[str, tuple[Callable[[Any, int], bool], Callable[[Any, int], bool]]] = {
    "<": (operator.lt, operator.ge), "<=": (operator.le, operator.gt),
    ">": (operator.gt, operator.le), ">=": (operator.ge, operator.lt),
}


def decide(holds: bool, fails: bool) -> bool | None:
    """True (the condition holds on the whole ball), False (nowhere), None (undecided)."""
    return True if holds else False if fails else None


def three_and(*verdicts: bool | None) -> bool | None:
    return False if False in verdicts else None if None in verdicts else True


def three_or(*verdicts: bool | None) -> bool | None:
    return True if True in verdicts else None if None in verdicts else False


def _decide(d: Any, op: str) -> bool | None:
    """``d op 0`` on a real ball (or number)."""
    holds, fails = _RELATIONS[op]
    return decide(holds(d, 0), fails(d, 0))


def _join(out: arb | None, value: Any, analytic: bool = False) -> arb:
    """The union of the candidate pieces so far (``out``, None at first) and ``value``."""
    ball = value if isinstance(value, arb) else arb(value)
    return ball if out is None else out.union(ball)


# ---- which SymPy function is which rule ----

#: The rule of each SymPy function.
FUNCTIONS: dict[type, str] = {
    sympy.exp: "exp", sympy.log: "log", sympy.erf: "erf", sympy.erfc: "erfc", erfcx: "erfcx",
    sympy.tanh: "tanh", sympy.atan: "atan", sympy.asinh: "asinh", sympy.sinh: "sinh",
    sympy.cosh: "cosh", sympy.sin: "sin", sympy.cos: "cos", sympy.Abs: "abs",
    sympy.asin: "asin", expm1: "expm1", log1p: "log1p", softplus: "softplus",
    logistic: "logistic",
}
#: Functions :mod:`symgrad._exact.mpforms` makes with ``implemented_function``, by name.
NAMED = {"sech2": "sech2"}
#: Rules that are Arb's own method of the same name (``x.exp()``).
METHODS = frozenset({"exp", "expm1", "log", "log1p", "tanh", "erf", "erfc", "atan", "asinh",
                      "asin", "sinh", "cosh", "sin", "cos"})
SUPPORTED = ("+ − × ÷, integer and rational powers, exp, expm1, log, log1p, sqrt, erf, erfc, "
             "erfcx, tanh, sech², softplus, logistic, atan, asin, asinh, sinh, cosh, sin, cos, "
             "Abs, Max, Min, Piecewise (conditions <, ≤, >, ≥, And, Or)")


# ---- real: exact ranges ----


def _hull(f: Callable[[arb], arb]) -> Callable[..., arb]:
    """A monotone function on a ball: its values at the two ends, hulled."""

    def apply(x: arb, analytic: bool = False) -> arb:
        if x.is_exact() or not x.is_finite():
            return f(x)
        return f(x.lower()).union(f(x.upper()))

    return apply


def _abs(x: arb, analytic: bool = False) -> arb:
    if x > 0:
        return x
    if x < 0:
        return -x
    return arb(0).union(x.abs_upper())


def _ipow(x: arb, n: int) -> arb:
    """xⁿ, n ≥ 1: even powers of a ball straddling 0 start at 0."""
    if x.is_exact() or not x.is_finite():
        return x**n
    lo, hi = x.lower() ** n, x.upper() ** n
    if n % 2 == 0 and not (x > 0 or x < 0):
        return arb(0).union(lo).union(hi)
    return lo.union(hi)


def _rpow(x: arb, p: int, q: int, analytic: bool = False) -> arb:
    """x^(p/q) for x > 0 (non-finite otherwise)."""
    root = REAL["sqrt"](x) if q == 2 else _hull(lambda v: v.root(q))(x)
    return _ipow(root, p) if p > 0 else 1 / _ipow(root, -p)


def _cosh(x: arb, analytic: bool = False) -> arb:
    if x.is_exact() or x > 0 or x < 0 or not x.is_finite():
        return _hull(arb.cosh)(x)
    return arb(1).union(x.lower().cosh()).union(x.upper().cosh())


REAL: dict[str, Any] = {
    name: _hull(getattr(arb, name))
    for name in ("exp", "log", "sqrt", "erf", "erfc", "tanh", "atan", "asinh", "sinh", "asin")
}
REAL.update(
    erfcx=_hull(lambda x: (x * x).exp() * x.erfc()), cosh=_cosh,
    sin=lambda x, a=False: x.sin(), cos=lambda x, a=False: x.cos(), abs=_abs,
    ipow=_ipow, rpow=_rpow,
    pow=lambda x, y, a=False: REAL["exp"](arb(y) * REAL["log"](arb(x))),
    # arb(·): a constant argument may arrive as a Python int
    max=lambda x, y, a=False: arb(x).max(arb(y)), min=lambda x, y, a=False: arb(x).min(arb(y)),
    expm1=_hull(arb.expm1), log1p=_hull(arb.log1p), softplus=_hull(_softplus),
    logistic=_hull(_logistic), sech2=_sech2, decide=_decide, join=_join, nan=arb("nan"),
)

#: Arb's own evaluation where the real table hulls end points: for long chains of narrow
#: balls, where one evaluation instead of two is what counts.
ARB: dict[str, Any] = {**REAL, "softplus": _softplus, "logistic": _logistic}


# ---- complex: for the integrator (``analytic`` refuses branch cuts) ----


def _branch(name: str) -> Callable[..., acb]:
    def apply(x: acb, analytic: bool = False) -> acb:
        result: acb = getattr(x, name)(analytic=analytic)
        return result

    return apply


def _cut_on_imaginary_axis(name: str) -> Callable[..., acb]:
    """atan, asinh: branch cuts on the imaginary axis beyond ±i."""

    def apply(x: acb, analytic: bool = False) -> acb:
        if analytic and not (x.imag.abs_upper() < 1):
            return acb(arb("nan"))
        result: acb = getattr(x, name)()
        return result

    return apply


def _cut_on_real_axis(name: str) -> Callable[..., acb]:
    """asin: branch cuts on the real axis beyond ±1."""

    def apply(x: acb, analytic: bool = False) -> acb:
        if analytic and not (x.real.abs_upper() < 1):
            return acb(arb("nan"))
        result: acb = getattr(x, name)()
        return result

    return apply


def _entire(name: str) -> Callable[..., acb]:
    def apply(x: acb, analytic: bool = False) -> acb:
        result: acb = getattr(x, name)()
        return result

    return apply


def _complex_decide(d: Any, op: str) -> bool | None:
    """Decided only where d is real (a piece need not be analytic off the real axis)."""
    if isinstance(d, acb):
        return _decide(d.real, op) if d.imag.is_zero() else None
    return _decide(d, op)


def _complex_join(out: acb | None, value: Any, analytic: bool = False) -> acb:
    """Two pieces at once are not one analytic function: non-finite when ``analytic``."""
    ball = acb(value)
    if out is None:
        return ball
    return acb(arb("nan")) if analytic else out.union(ball)


COMPLEX: dict[str, Any] = {
    name: _entire(name) for name in ("exp", "erf", "erfc", "tanh", "sinh", "cosh", "sin", "cos")
}
COMPLEX.update(
    log=_branch("log"), sqrt=_branch("sqrt"), atan=_cut_on_imaginary_axis("atan"),
    asin=_cut_on_real_axis("asin"),
    asinh=_cut_on_imaginary_axis("asinh"), erfcx=lambda x, a=False: (x * x).exp() * x.erfc(),
    abs=lambda x, a=False: acb.real_abs(x, analytic=a), ipow=lambda x, n: x**n,
    rpow=lambda x, p, q, a=False: x.pow(arb(fmpq(p, q)), analytic=a),
    pow=lambda x, y, a=False: acb(x).pow(acb(y), analytic=a),
    max=lambda x, y, a=False: acb.real_max(acb(x), acb(y), analytic=a),
    min=lambda x, y, a=False: acb.real_min(acb(x), acb(y), analytic=a),
    expm1=_entire("expm1"), log1p=lambda x, a=False: (1 + x).log(analytic=a),
    softplus=lambda x, a=False: (1 + x.exp()).log(analytic=a),
    logistic=lambda x, a=False: 1 / (1 + (-x).exp()),
    sech2=lambda u, t, a=False: u.sech() ** 2,
    decide=_complex_decide, join=_complex_join, nan=acb(arb("nan")),
)
