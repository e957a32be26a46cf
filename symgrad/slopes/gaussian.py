"""E[φ'(√q Z)^p] for Z ~ N(0, 1): in closed form by rule, else by quadrature.

>>> expected_slope("relu").value
1/2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import mpmath
import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real, as_positive_int
from symgrad._exact.moments import (
    gaussian_closed,
    gaussian_density,
    gaussian_integral,
    gaussian_quadrature,
)
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument
from symgrad.records import Estimated, Exact, Provenances, Record, Step, provenances
from symgrad.types import RealLike

__all__ = ["ExpectedSlope", "expected_slope"]


@dataclass(frozen=True)
class ExpectedSlope(Record):
    """E[φ'(√q·Z)^power] for Z ~ N(0, 1): exact, or quadrature with an error estimate
    (``provenance``)."""

    activation: str
    q: sympy.Expr
    power: int
    value: sympy.Expr
    provenance: Provenances
    steps: tuple[Step, ...]


    @property
    def error(self) -> Any:
        """The quadrature's error estimate (None for a closed form)."""
        how = self.how("value")
        return how.error if isinstance(how, Estimated) else None

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"E[φ'(√q Z)^{self.power}] for {self.activation}, q = {sympy.sstr(self.q)}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("value", self.value)]


def expected_slope(
    act: Activation | str, *, q: RealLike = 1, power: int = 1, dps: int = 30
) -> ExpectedSlope:
    """E[φ'(√q·Z)^power] with Z ~ N(0, 1).

    Closed form when every piece of φ'^power is a sum of polynomial × exp(quadratic)
    terms (relu, leaky_relu, hard_*, elu, selu, erf, identity); otherwise mpmath's
    tanh-sinh quadrature split at the kinks, at ``dps`` digits, with the difference to a
    second evaluation at higher precision as the error estimate.

    >>> expected_slope("relu").value
    1/2
    >>> expected_slope("erf", q=1, power=2).value
    4*sqrt(5)/(5*pi)
    """
    a = as_activation(act)
    qq = as_exact_real(q, "q", domain=sympy.Interval.open(0, sympy.oo))
    p = as_positive_int(power, "power")
    digits = as_positive_int(dps, "dps", minimum=5)
    return _expected_slope(a, qq, p, digits)


@lru_cache(maxsize=1024)
def _expected_slope(act: Activation, q: sympy.Expr, power: int, dps: int) -> ExpectedSlope:
    density = gaussian_density(z, q)
    expectation = sympy.Symbol(rf"\mathbb{{E}}\left[\varphi'(\sqrt{{q}}\,Z)^{{{power}}}\right]")
    steps = [Step("Integrate φ'^p against the N(0, q) density, piece by piece.",
                  sympy.Eq(expectation, sympy.Integral(act.derivative**power * density,
                                                       (z, -sympy.oo, sympy.oo)),
                           evaluate=False))]
    if all(gaussian_closed(p.derivative**power) for p in act.pieces):
        total = sum((gaussian_integral(p.derivative**power * density, p.lo, p.hi)
                     for p in act.pieces), sympy.Integer(0))
        if not total.has(sympy.Integral):
            value = sympy.simplify(total)
            steps.append(Step("Every piece integrates in closed form.",
                              sympy.Eq(expectation, value, evaluate=False)))
            how = provenances(value=Exact("Gaussian integral rule: zⁿ·e^{az²+bz} terms"))
            return ExpectedSlope(act.label, q, power, value, how, tuple(steps))
    value, error = _quadrature(act, q, power, dps)
    steps.append(Step(f"No closed form: tanh-sinh quadrature at {dps} digits, split at the "
                      "kinks and at 0.", sympy.Eq(expectation, value, evaluate=False)))
    how = provenances(value=Estimated(error, f"tanh-sinh quadrature at {dps} digits"))
    return ExpectedSlope(act.label, q, power, value, how, tuple(steps))


def _quadrature(act: Activation, q: sympy.Expr, power: int, dps: int) -> tuple[
        sympy.Float, sympy.Float]:
    value, error = gaussian_quadrature(lambda u: act.mpmath_prime(u) ** power, q,
                                       act.breakpoints, dps=dps)
    if not mpmath.isfinite(value):
        raise InvalidArgument(f"E[φ'(√q Z)^{power}] diverges for {act.label}")
    return sympy.Float(mpmath.nstr(value, dps + 5), dps), sympy.Float(mpmath.nstr(error, 5))
