"""E[φ'(√q Z)^p] for Z ~ N(0, 1): exact where a rule proves it, certified otherwise.

The rules (:func:`~symgrad._exact.gaussian_rules.gaussian_expectation`) are rules, not a
table of activations: parity (φ' − 1/2 odd ⇒ E[φ'] = 1/2 for GELU, gelu_tanh, SiLU,
swish(β), softplus(β)), Gaussian integrals with Stein's lemma and Sheppard's orthant
formula (GELU's E[φ'²] = 1/3 + 2/(3√3·π)), logistic algebra (softplus' E[φ'²] =
1/2 − E[σ'(Z)]), and polynomial × Gaussian on the pieces of a piecewise φ.  What no rule
covers is integrated rigorously in ball arithmetic (Arb) with a proven tail bound.

>>> expected_slope("relu").value
1/2
>>> expected_slope("silu").value
1/2
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_digits, as_exact_real, as_positive_int
from symgrad._exact.digits import CertifiedNumber
from symgrad._exact.gaussian_rules import gaussian_expectation
from symgrad._exact.integrate import gaussian_density
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Estimated, Provenances, Record, Step
from symgrad.types import RealLike

__all__ = ["ExpectedSlope", "expected_slope"]


@dataclass(frozen=True)
class ExpectedSlope(Record):
    """E[φ'(√q·Z)^power] for Z ~ N(0, 1).

    ``value`` is a closed form (``provenance`` exact, naming the rules), or a Float of the
    digits its enclosure proves (certified: the exact part of a reduction plus a rigorous
    integral), or, when neither applies, a quadrature estimate with its error.
    ``reduced`` is the exact reduction, with unevaluated ``E(r)`` for what was integrated
    (equal to ``value`` when exact); ``certified`` the enclosure (None for an estimate).
    """

    activation: str
    q: sympy.Expr
    power: int
    value: sympy.Expr
    provenance: Provenances
    steps: tuple[Step, ...]
    reduced: sympy.Expr | None = None
    certified: CertifiedNumber | None = None

    @property
    def error(self) -> Any:
        """The quadrature's error estimate (None for a closed form or a certified value)."""
        how = self.how("value")
        return how.error if isinstance(how, Estimated) else None

    def __float__(self) -> float:
        return float(self.value)

    def title(self) -> str:
        return f"E[φ'(√q Z)^{self.power}] for {self.activation}, q = {sympy.sstr(self.q)}"

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("value", self.value)]
        if self.reduced is not None and self.reduced != self.value:
            rows.append(("reduced form", self.reduced))
        return rows


def expected_slope(
    act: Activation | str, *, q: RealLike = 1, power: int = 1, dps: int = 30
) -> ExpectedSlope:
    """E[φ'(√q·Z)^power] with Z ~ N(0, 1), to ``dps`` digits when not exact.

    >>> expected_slope("relu").value
    1/2
    >>> expected_slope("erf", q=1, power=2).value
    4*sqrt(5)/(5*pi)
    >>> expected_slope("gelu", power=2).value
    (2*sqrt(3) + 3*pi)/(9*pi)
    """
    a = as_activation(act)
    qq = as_exact_real(q, "q", domain=sympy.Interval.open(0, sympy.oo))
    p = as_positive_int(power, "power", maximum=200)
    digits = as_digits(dps)
    return _expected_slope(a, qq, p, digits)


@lru_cache(maxsize=1024)
def _expected_slope(act: Activation, q: sympy.Expr, power: int, dps: int) -> ExpectedSlope:
    density = gaussian_density(q)
    expectation = sympy.Symbol(rf"\mathbb{{E}}\left[\varphi'(\sqrt{{q}}\,Z)^{{{power}}}\right]")
    steps = [Step("Integrate φ'^p against the N(0, q) density, piece by piece.",
                  sympy.Eq(expectation, sympy.Integral(act.derivative**power * density,
                                                       (z, -sympy.oo, sympy.oo)),
                           evaluate=False))]
    pieces = [(p.lo, p.hi, p.derivative**power) for p in act.pieces]
    result = gaussian_expectation(pieces if len(pieces) > 1 else pieces[0][2], q=q,
                                  digits=min(dps, 300))
    steps += list(result.steps)
    if result.residual:
        steps.append(Step("The exact reduction, with E(r) the part integrated rigorously:",
                          sympy.Eq(expectation, result.reduced, evaluate=False)))
    steps.append(Step("Hence", sympy.Eq(expectation, result.value, evaluate=False)))
    return ExpectedSlope(act.label, q, power, result.value, result.provenance, tuple(steps),
                         result.reduced, result.certified)
