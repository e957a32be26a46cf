"""The third rule of each function: its derivative, forward mode on dual balls.

A :class:`Dual` carries (f, f') with f' enclosed over the whole ball, which is what
interval Newton and the monotonicity tests need, without differentiating symbolically.
Values come from :data:`symgrad._exact.ball_rules.REAL` (exact ranges); each rule adds
the derivative by the chain rule.

>>> d = DUAL["erf"](Dual(arb(0), arb(1)))
>>> print(d.v, d.d.str(5, radius=False))
0 1.1284
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flint import arb, fmpq

from symgrad._exact.ball_rules import REAL

__all__ = ["DUAL", "Dual"]

# The real rules the derivatives are made of.
_ipow, _rpow, _abs = REAL["ipow"], REAL["rpow"], REAL["abs"]
_cosh, _sech2 = REAL["cosh"], REAL["sech2"]
_decide: Callable[[Any, str], bool | None] = REAL["decide"]


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
