"""What happens to a gradient after L layers?  The product in closed form.

Conventions (``DESIGN.md``): a₀ = x, z_k = w_k a_{k−1} + b_k, a_k = φ(z_k), so the
gradient reaching the input is ∂L/∂a₀ = g·∏_{k=1}^{L} w_k φ'(z_k) (Bengio, Simard and
Frasconi 1994).  With a constant weight the chain settles at a fixed point
a* = φ(w a* + b), and the product behaves like (w φ'(z*))^L (at a kink z*, the slope of
the side the chain approaches from, or the geometric mean of both when it alternates
sides); every factor is at most
|w|·γ (γ = sup|φ'|), so it is at most (|w|γ)^L.  Bounds: :mod:`symgrad.depth.bounds`;
traces: :mod:`symgrad.depth.trace`.

>>> gradient_product("sigmoid", weight=0.1).bound
(1/40)**L
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.format import latex
from symgrad._core.symbols import z
from symgrad._core.validate import as_exact_real
from symgrad._exact.ball import bits_for_digits, working_precision
from symgrad._exact.ball_constants import constant_ball
from symgrad._exact.digits import CertifiedNumber
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.depth.fixed_point import ITERATIONS, FixedPoint, fixed_point, kink_factor
from symgrad.errors import NoClosedForm
from symgrad.records import Certified, Exact, How, Provenances, Record, Step, provenances
from symgrad.slopes.sup import max_slope
from symgrad.types import RealLike

__all__ = ["GradientProduct", "gradient_product"]

#: The symbolic depth and layer index used in every closed form.
L = sympy.Symbol("L", integer=True, positive=True)
k = sympy.Symbol("k", integer=True, positive=True)
_w = sympy.IndexedBase("w", real=True)
_z = sympy.IndexedBase("z", real=True)
_a = sympy.Symbol("a", real=True)
_ITERATIONS = ITERATIONS


# ---- the gradient product ----


@dataclass(frozen=True)
class GradientProduct(Record):
    """∂a_L/∂a₀ = ∏_{k=1}^{L} w_k φ'(z_k) for symbolic depth L, with what follows from it.

    ``product`` is the SymPy ``Product``; ``bound`` the worst case (|w|γ)^L; for a
    constant weight, ``fixed_point`` a* (or ``None``), ``factor`` = w φ'(z*) (at a kink
    the factor per layer the chain sees there, see
    :func:`~symgrad.depth.fixed_point.kink_factor`), the asymptotic form ``asymptotic`` =
    factor^L, the decay ``rate`` = −ln|factor| per layer (negative: growth) and
    ``depth_scale`` = 1/|rate|; ``provenance`` for γ, the factor and the rate.
    """

    activation: Activation
    depth: sympy.Symbol
    product: sympy.Expr
    gamma: sympy.Expr
    bound: sympy.Expr
    weight: sympy.Expr | None
    bias: sympy.Expr
    fixed_point: FixedPoint | None
    factor: sympy.Expr | None
    asymptotic: sympy.Expr | None
    rate: sympy.Expr | None
    depth_scale: sympy.Expr | None
    provenance: Provenances
    steps: tuple[Step, ...]

    def title(self) -> str:
        return f"Gradient product through depth, {self.activation.label}"

    def summary(self) -> list[tuple[str, Any]]:
        out: list[tuple[str, Any]] = [("γ = sup|φ'|", self.gamma)]
        if self.factor is not None:
            out += [("a*", self.fixed_point.value if self.fixed_point else "none"),
                    ("factor per layer f (w φ'(z*) off kinks)", self.factor),
                    ("rate −ln|f|", self.rate)]
        return out


def gradient_product(
    act: Activation | str,
    *,
    weight: RealLike | None = None,
    bias: RealLike = 0,
    x: RealLike = 1,
    dps: int = 30,
) -> GradientProduct:
    """The gradient product through L layers, symbolic in L.

    Without ``weight`` the product keeps per-layer symbols w_k, z_k and the bound is
    (γ·max|w_k|)^L written with a symbol |w|.  With a constant ``weight`` it adds the
    forward fixed point and the geometric asymptotics (the chain's z_k → z*, so the
    product behaves like (w φ'(z*))^L).

    >>> gp = gradient_product("sigmoid", weight=4)
    >>> gp.bound
    1
    >>> gradient_product("relu", weight=0.5, bias=1).asymptotic
    (1/2)**L

    Leaky ReLU with w = −½ alternates sides of its kink at 0, slopes 1/100 and 1:

    >>> gradient_product("leaky_relu", weight=-0.5).factor
    -1/20
    """
    phi = as_activation(act)
    ms = max_slope(phi)
    gamma = sympy.sympify(ms.value)
    b = as_exact_real(bias, "bias")
    term = _w[k] * phi.derivative.subs(z, _z[k])
    product = sympy.Product(term, (k, 1, L))
    steps = [
        Step("Chain rule through the scalar chain (a_k = φ(w_k a_{k−1} + b_k))",
             sympy.Eq(sympy.Symbol(r"\frac{\partial a_L}{\partial a_0}"), product)),
    ]
    if weight is None:
        wabs = sympy.Symbol("|w|", nonnegative=True)
        bound = (wabs * gamma) ** L
        steps.append(Step("Worst case with |w_k| ≤ |w| and |φ'| ≤ γ", sympy.Le(
            sympy.Abs(product), bound)))
        return GradientProduct(phi, L, product, gamma, bound, None, b, None, None, None, None,
                               None, provenances(gamma=ms.how("value")), tuple(steps))
    w = as_exact_real(weight, "weight")
    bound = sympy.Pow(sympy.Abs(w) * gamma, L)
    steps.append(Step("Worst case, |φ'| ≤ γ", sympy.Le(sympy.Abs(product), bound)))
    fp = fixed_point(phi, weight=w, bias=b, x=x, dps=dps)
    factor = asymptotic = rate = scale = None
    if fp is not None:
        kink = kink_factor(phi, w, b, x, fp, dps) if fp.reached else None
        if kink is not None:
            factor = kink[0]
            steps.append(kink[1])
        elif fp.exact:
            factor = w * fp.slope
        else:
            certified = _certified_factor(w, fp, dps)
            factor = certified[0].sympy_float()
        if fp.reached:
            asymptotic = sympy.Pow(factor, L)
        if factor == 0:
            rate, scale = sympy.oo, sympy.Integer(0)
        else:
            rate = -sympy.log(sympy.Abs(factor))
            if not fp.exact and kink is None:
                rate = _certified_factor(w, fp, dps)[1].sympy_float()
            scale = sympy.oo if rate == 0 else 1 / sympy.Abs(rate)
        steps.append(Step("Forward fixed point", sympy.Eq(_a, fp.value)))
        if asymptotic is not None:
            steps.append(Step("Geometric asymptotics (z_k → z*): the product behaves like "
                              "C·f^L, C a constant set by the first layers (∼, not =)",
                              r"\frac{\partial a_L}{\partial a_0} \sim C\," + latex(asymptotic)))
        else:
            steps.append(Step(f"The chain from x does not settle at a* within {_ITERATIONS}"
                              " layers (it cycles or drifts): no geometric asymptotics.", None))
    hows: dict[str, How] = {"gamma": ms.how("value")}
    if factor is not None and fp is not None:
        # w φ'(z*) is as good as a*: exact with it, else enclosed at the certified a*.
        if fp.exact or kink is not None:
            derived: How = Exact("w·φ'(z*) at the exact a*")
            hows |= {"factor": derived, "rate": derived}
        else:
            number, log_rate = _certified_factor(w, fp, dps)
            hows |= {"factor": number.certified("w·φ'(z*) enclosed at the certified a*"),
                     "rate": log_rate.certified("−ln|f| of the enclosure of f")}
    return GradientProduct(phi, L, product, gamma, bound, w, b, fp, factor, asymptotic, rate,
                           scale, Provenances(hows), tuple(steps))


def _certified_factor(w: sympy.Expr, fp: FixedPoint, dps: int) -> tuple[CertifiedNumber,
                                                                        CertifiedNumber]:
    """Enclosures of f = w·φ'(z*) and of −ln|f|, from the certified φ'(z*)."""
    how = fp.how("slope")
    if not isinstance(how, Certified):  # pragma: no cover - a certified a* has both
        raise NoClosedForm("φ'(z*) has no enclosure")
    with working_precision(bits_for_digits(dps) + 32):
        slope = constant_ball(sympy.sympify(how.lower)).union(
            constant_ball(sympy.sympify(how.upper)))
        f = constant_ball(w) * slope
        rate = -(abs(f).log()) if (f > 0 or f < 0) else None
    number = CertifiedNumber.from_arb(f, dps)
    if rate is None:
        raise NoClosedForm("the factor w·φ'(z*) is not separated from 0")
    return number, CertifiedNumber.from_arb(rate, dps)
