"""One rule per function, three ways: its exact range on a real ball, its analytic
continuation on a complex ball, and its derivative (forward mode, on :class:`Dual` balls).

Each table maps a name (``"exp"``, ``"erf"``…) to a helper ``(x, analytic) -> ball``;
:mod:`symgrad._exact.ball` generates code calling them.  Real helpers return the exact
range of a monotone function on a wide ball by evaluating its two end points (Arb's own
wide-ball bounds are looser: erf([1, 2]) ⊂ [0.76, 1.17] instead of [0.84, 0.996]).
Dual helpers carry (f, f') with f' enclosed over the whole ball, which is what interval
Newton and the monotonicity tests need, without differentiating symbolically.

>>> d = DUAL["erf"](Dual(arb(0), arb(1)))
>>> print(d.v, d.d.str(5, radius=False))
0 1.1284
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import sympy
from flint import acb, arb, fmpq
from sympy.codegen.cfunctions import expm1, log1p

from symgrad._exact.mpforms import logistic, softplus

__all__ = ["ARB", "COMPLEX", "DUAL", "FUNCTIONS", "METHODS", "NAMED", "REAL", "SUPPORTED",
           "Dual", "decide", "erfcx", "three_and", "three_or"]


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


# ---- dual: (f, f') with f' enclosed over the ball ----


class Dual:
    """A value ``v`` and a derivative ``d`` (Arb balls), for forward-mode derivatives."""

    __slots__ = ("d", "v")

    def __init__(self, v: arb, d: arb) -> None:
        self.v, self.d = v, d

    def __add__(self, o: Any) -> Dual:
        return Dual(self.v + o.v, self.d + o.d) if isinstance(o, Dual) else Dual(self.v + o, self.d)

    __radd__ = __add__

    def __neg__(self) -> Dual:
        return Dual(-self.v, -self.d)

    def __sub__(self, o: Any) -> Dual:
        return self.__add__(-o)

    def __rsub__(self, o: Any) -> Dual:
        return self.__neg__().__add__(o)

    def __mul__(self, o: Any) -> Dual:
        if isinstance(o, Dual):
            return Dual(self.v * o.v, self.v * o.d + self.d * o.v)
        return Dual(self.v * o, self.d * o)

    __rmul__ = __mul__

    def __truediv__(self, o: Any) -> Dual:
        if isinstance(o, Dual):
            q = self.v / o.v
            return Dual(q, (self.d - q * o.d) / o.v)
        return Dual(self.v / o, self.d / o)

    def __rtruediv__(self, o: Any) -> Dual:
        q = o / self.v
        return Dual(q, -q * self.d / self.v)


def _lift(x: Any) -> Dual:
    return x if isinstance(x, Dual) else Dual(arb(x), arb(0))


def _chain(value: Callable[[arb], arb], slope: Callable[[arb, arb], arb]) -> Callable[..., Dual]:
    """f(u) with f'(u) = slope(u, f(u))."""

    def apply(u: Dual, analytic: bool = False) -> Dual:
        fu = value(u.v)
        return Dual(fu, slope(u.v, fu) * u.d)

    return apply


def _two_over_sqrt_pi() -> arb:
    return 2 / arb.pi().sqrt()


def _dual_ipow(u: Dual, n: int) -> Dual:
    return Dual(_ipow(u.v, n), n * _ipow(u.v, n - 1) * u.d if n > 1 else u.d)


def _dual_rpow(u: Dual, p: int, q: int, analytic: bool = False) -> Dual:
    r = _rpow(u.v, p, q)
    return Dual(r, arb(fmpq(p, q)) * r / u.v * u.d)


def _dual_abs(u: Dual, analytic: bool = False) -> Dual:
    if u.v > 0:
        return u
    if u.v < 0:
        return -u
    bound = u.d.abs_upper()
    return Dual(_abs(u.v), (-bound).union(bound))


def _dual_extreme(pick_max: bool) -> Callable[..., Dual]:
    def apply(x: Any, y: Any, analytic: bool = False) -> Dual:
        u, w = _lift(x), _lift(y)
        if u.v > w.v:
            return u if pick_max else w
        if w.v > u.v:
            return w if pick_max else u
        return Dual(u.v.max(w.v) if pick_max else u.v.min(w.v), u.d.union(w.d))

    return apply


def _dual_sech2(u: Dual, t: Dual, analytic: bool = False) -> Dual:
    # (sech² u)' = −2·sech² u·tanh u
    s = _sech2(u.v, t.v)
    return Dual(s, -2 * s * t.v * u.d)


def _dual_decide(d: Any, op: str) -> bool | None:
    return _decide(d.v if isinstance(d, Dual) else d, op)


def _dual_join(out: Any, value: Any, analytic: bool = False) -> Dual:
    u = _lift(value)
    return u if out is None else Dual(out.v.union(u.v), out.d.union(u.d))


DUAL: dict[str, Any] = {
    "exp": _chain(REAL["exp"], lambda u, f: f),
    "log": _chain(REAL["log"], lambda u, f: 1 / u),
    "sqrt": _chain(REAL["sqrt"], lambda u, f: 1 / (2 * f)),
    "erf": _chain(REAL["erf"], lambda u, f: _two_over_sqrt_pi() * REAL["exp"](-_ipow(u, 2))),
    "erfc": _chain(REAL["erfc"], lambda u, f: -_two_over_sqrt_pi() * REAL["exp"](-_ipow(u, 2))),
    # erfcx'(u) = 2u·erfcx(u) − 2/√π
    "erfcx": _chain(REAL["erfcx"], lambda u, f: 2 * u * f - _two_over_sqrt_pi()),
    # tanh' = 1 − tanh²
    "tanh": _chain(REAL["tanh"], lambda u, f: 1 - _ipow(f, 2)),
    "atan": _chain(REAL["atan"], lambda u, f: 1 / (1 + _ipow(u, 2))),
    "asinh": _chain(REAL["asinh"], lambda u, f: 1 / REAL["sqrt"](1 + _ipow(u, 2))),
    "asin": _chain(REAL["asin"], lambda u, f: 1 / REAL["sqrt"](1 - _ipow(u, 2))),
    "sinh": _chain(REAL["sinh"], lambda u, f: _cosh(u)),
    "cosh": _chain(_cosh, lambda u, f: REAL["sinh"](u)),
    "sin": _chain(arb.sin, lambda u, f: u.cos()),
    "cos": _chain(arb.cos, lambda u, f: -u.sin()),
    "abs": _dual_abs, "ipow": _dual_ipow, "rpow": _dual_rpow,
    "pow": lambda x, y, a=False: DUAL["exp"](y * DUAL["log"](_lift(x))),
    "max": _dual_extreme(True), "min": _dual_extreme(False),
    "expm1": _chain(REAL["expm1"], lambda u, f: f + 1),
    "log1p": _chain(REAL["log1p"], lambda u, f: 1 / (1 + u)),
    # softplus' = logistic, logistic' = logistic·(1 − logistic)
    "softplus": _chain(REAL["softplus"], lambda u, f: REAL["logistic"](u)),
    "logistic": _chain(REAL["logistic"], lambda u, f: f * (1 - f)),
    "sech2": _dual_sech2, "decide": _dual_decide, "join": _dual_join,
    "nan": Dual(arb("nan"), arb("nan")),
}
