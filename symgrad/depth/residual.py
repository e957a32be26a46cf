"""Residual paths: why y = x + F(x) keeps the gradient alive, as closed forms and facts.

A residual block y = x + F(x) (He et al. 2016) has ∂y/∂x = 1 + F'(x) (I + J_F for
vectors).  The scalar residual chain y_k = y_{k−1} + w_k φ(y_{k−1} + b_k) multiplies
the factors 1 + w_k φ'(z_k); expanded, ∏(1 + t_k) = Σ_S ∏_{k∈S} t_k is a sum over
paths, and the empty path, the identity highway, contributes the 1.  When every
t_k = w_k φ'(z_k) ≥ 0 the product is ≥ 1: the gradient cannot vanish.  Traces are
:func:`symgrad.residual_trace`.

>>> residual_lower_bound(4).holds
True
>>> residual_block(sympy.Symbol("w") * sympy.tanh(sympy.Symbol("x")), sympy.Symbol("x")).jacobian
w*(1 - tanh(x)**2) + 1
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.symbols import z
from symgrad._core.validate import as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.depth.facts import Fact, Step
from symgrad.errors import InvalidArgument
from symgrad.records import Exact, Provenances, Record, provenances

__all__ = [
    "ResidualBlock",
    "ResidualProduct",
    "residual_block",
    "residual_lower_bound",
    "residual_negative_cases",
    "residual_product",
]

L = sympy.Symbol("L", integer=True, positive=True)
k = sympy.Symbol("k", integer=True, positive=True)
_w = sympy.IndexedBase("w", real=True)
_z = sympy.IndexedBase("z", real=True)


_DIFFERENTIATED = provenances(jacobian=Exact("SymPy differentiation"))
_CHAIN_RULE = provenances(product=Exact("chain rule, symbolic in L"))


@dataclass(frozen=True)
class ResidualBlock(Record):
    """y = x + F(x) and its Jacobian 1 + F'(x) (or I + J_F for a vector block)."""

    output: Any
    jacobian: Any
    steps: tuple[Step, ...]
    provenance: Provenances = _DIFFERENTIATED

    def summary(self) -> list[tuple[str, Any]]:
        return [("y", self.output), ("∂y/∂x", self.jacobian)]


def residual_block(F: Any, x: Any) -> ResidualBlock:
    """The Jacobian of y = x + F(x): ``F`` a SymPy expression in the Symbol ``x``, or a
    column ``Matrix`` in a column ``Matrix`` of symbols.

    >>> x1, x2 = sympy.symbols("x1 x2")
    >>> residual_block(sympy.Matrix([x1 * x2, 0]), sympy.Matrix([x1, x2])).jacobian
    Matrix([
    [x2 + 1, x1],
    [     0,  1]])
    """
    if isinstance(F, sympy.MatrixBase) and isinstance(x, sympy.MatrixBase):
        if F.shape != x.shape or F.shape[1] != 1:
            raise InvalidArgument(
                f"F and x must be column vectors of one shape, got {F.shape} and {x.shape}")
        if not all(isinstance(v, sympy.Symbol) for v in x):
            raise InvalidArgument(f"x must hold symbols, got {describe(x)}")
        jac = sympy.eye(x.shape[0]) + F.jacobian(x)
        return ResidualBlock(x + F, jac, (Step("Jacobian", sympy.Eq(
            sympy.Symbol(r"\frac{\partial y}{\partial x}"), jac, evaluate=False)),))
    if not isinstance(x, sympy.Symbol):
        raise InvalidArgument(f"x must be a SymPy Symbol (or a Matrix of them), got {describe(x)}")
    if not isinstance(F, sympy.Expr):
        raise InvalidArgument(f"F must be a SymPy expression in x, got {describe(F)}")
    jac = 1 + sympy.diff(F, x)
    return ResidualBlock(x + F, jac, (
        Step("Sum rule: the identity path contributes 1", sympy.Eq(
            sympy.Derivative(x + sympy.Function("F")(x), x),
            1 + sympy.Derivative(sympy.Function("F")(x), x))),
        Step("Here", sympy.Eq(sympy.Symbol(r"\frac{\partial y}{\partial x}"), jac,
                              evaluate=False)),
    ))


@dataclass(frozen=True)
class ResidualProduct(Record):
    """∂y_L/∂y_0 = ∏_{k=1}^{L} (1 + w_k φ'(z_k)) for the scalar residual chain."""

    activation: Activation
    product: sympy.Expr
    plain: sympy.Expr
    lower_bound: Fact
    steps: tuple[Step, ...]
    provenance: Provenances = _CHAIN_RULE

    def summary(self) -> list[tuple[str, Any]]:
        return [("residual product", self.product), ("plain product", self.plain)]


def residual_product(act: Activation | str) -> ResidualProduct:
    """The residual chain's product for symbolic depth L, next to the plain chain's.

    >>> residual_product("tanh").product
    Product((1 - tanh(z[k])**2)*w[k] + 1, (k, 1, L))
    """
    phi = as_activation(act)
    slope = phi.derivative.subs(z, _z[k])
    product = sympy.Product(1 + _w[k] * slope, (k, 1, L))
    plain = sympy.Product(_w[k] * slope, (k, 1, L))
    steps = (
        Step("Chain rule through y_k = y_{k−1} + w_k φ(y_{k−1} + b_k)",
             sympy.Eq(sympy.Symbol(r"\frac{\partial y_L}{\partial y_0}"), product)),
        Step("Without the identity path (plain chain)",
             sympy.Eq(sympy.Symbol(r"\frac{\partial a_L}{\partial a_0}"), plain)),
    )
    return ResidualProduct(phi, product, plain, residual_lower_bound(3), steps)


def residual_lower_bound(depth: int = 3) -> Fact:
    """∏_{k=1}^{L} (1 + t_k) ≥ 1 when every t_k ≥ 0, proved two ways.

    Induction: P_k = P_{k−1}(1 + t_k) ≥ P_{k−1} because P_{k−1} ≥ 1 > 0 and t_k ≥ 0.
    Expansion (checked for L = ``depth``): P − 1 = Σ_{S≠∅} ∏_{k∈S} t_k is a polynomial
    with nonnegative coefficients and no constant term in nonnegative t_k.
    """
    n = as_positive_int(depth, "depth")
    if n > 12:
        raise InvalidArgument(f"depth must be at most 12 for the expanded check, got {n}")
    ts = sympy.symbols(f"t1:{n + 1}", nonnegative=True)
    P = sympy.prod([1 + t for t in ts])
    excess = sympy.expand(P) - 1
    poly = sympy.Poly(excess, *ts)
    nonneg = bool(excess.is_nonnegative) and all(c >= 0 for c in poly.coeffs()) and (
        poly.coeff_monomial(1) == 0)
    p_prev, t_k = sympy.symbols("P_{k-1} t_k", nonnegative=True)
    induction = sympy.expand(p_prev * (1 + t_k) - p_prev)  # = P_{k−1} t_k ≥ 0
    step_ok = bool(induction.is_nonnegative)
    proof = (
        Step("Induction step: P_k − P_{k−1} = P_{k−1}·t_k ≥ 0, and P_0 = 1",
             sympy.Eq(sympy.Symbol("P_k - P_{k-1}"), induction)),
        Step(f"Expanded for L = {n}: every term of P − 1 is a product of t's ≥ 0",
             sympy.Eq(sympy.Symbol("P - 1"), excess)),
        Step("The identity path is the constant term 1", sympy.Eq(
            sympy.expand(P).subs({t: 0 for t in ts}), 1, evaluate=False)),
    )
    claim = sympy.Ge(sympy.Product(1 + sympy.Indexed("t", k), (k, 1, L)), 1)
    return Fact("∏(1 + t_k) ≥ 1 when every t_k = w_k φ'(z_k) ≥ 0", claim, proof,
                nonneg and step_ok)


def residual_negative_cases() -> tuple[Fact, ...]:
    """What one factor 1 + t does when t = w φ'(z) < 0, each case checked by SymPy.

    −1 < t < 0: 0 < 1 + t < 1 (shrinks: vanishing is possible again); t = −1: the
    factor is 0 (the gradient is cut); −2 < t < −1: −1 < 1 + t < 0 (sign flip, shrinks);
    t = −2: |1 + t| = 1; t < −2: |1 + t| > 1 (grows: exploding is possible).
    """
    s = sympy.Symbol("s", positive=True)
    u = sympy.Symbol("u", positive=True)
    t = sympy.Symbol("t", real=True)
    out: list[Fact] = []
    # t = −θ with θ = 1/(1+u) ∈ (0, 1)
    theta = 1 / (1 + u)
    f1 = 1 - theta
    out.append(Fact("−1 < t < 0: 0 < 1 + t < 1, the factor shrinks the gradient",
                    sympy.And(sympy.StrictLessThan(0, 1 + t),
                              sympy.StrictLessThan(1 + t, 1)),
                    (Step("t = −1/(1 + u), u > 0", sympy.Eq((1 + t), f1)),),
                    bool(f1.is_positive) and bool((1 - f1).is_positive)))
    cut = (1 + t).subs(t, -1)
    out.append(Fact("t = −1: the factor is 0 and cuts the gradient",
                    sympy.Eq(1 + t, 0), (Step("At t = −1", sympy.Eq(1 + t, cut)),), cut == 0))
    f3 = 1 - (1 + theta)
    out.append(Fact("−2 < t < −1: −1 < 1 + t < 0, the sign flips and the gradient shrinks",
                    sympy.StrictLessThan(sympy.Abs(1 + t), 1),
                    (Step("t = −1 − 1/(1 + u), u > 0", sympy.Eq((1 + t), f3)),),
                    bool(f3.is_negative) and bool((1 + f3).is_positive)))
    flip = (1 + t).subs(t, -2)
    out.append(Fact("t = −2: 1 + t = −1, the sign flips and the magnitude is kept",
                    sympy.Eq(sympy.Abs(1 + t), 1), (Step("At t = −2", sympy.Eq(1 + t, flip)),),
                    flip == -1))
    f4 = 1 - (2 + s)
    out.append(Fact("t < −2: |1 + t| > 1, the factor grows the gradient",
                    sympy.StrictGreaterThan(sympy.Abs(1 + t), 1),
                    (Step("t = −2 − s, s > 0", sympy.Eq((1 + t), f4)),),
                    bool((sympy.Abs(f4) - 1).is_positive)))
    return tuple(out)
