"""… and after T time steps?  Backpropagation through time, gates and spectral norms.

A vanilla RNN h_t = φ(z_t), z_t = W h_{t−1} + U x_t + b, has

    ∂h_T/∂h_0 = ∏_{t=T}^{1} diag(φ'(z_t)) W,   ‖∂h_T/∂h_0‖₂ ≤ (σ_max(W)·γ)^T

with γ = sup|φ'|, so σ_max(W) < 1/γ is sufficient for vanishing and σ_max(W) > 1/γ
is necessary for exploding (Pascanu, Mikolov and Bengio 2013, §3.1; Bengio, Simard
and Frasconi 1994).  The LSTM's cell c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t (Hochreiter
and Schmidhuber 1997; forget gate: Gers, Schmidhuber and Cummins 2000) gives
∂c_t/∂c_{t−1} = diag(f_t) on the direct path, so ∏ f_t: the constant error carousel
is exact when f_t = 1.  The GRU, written h_t = (1 − u_t) ⊙ h_{t−1} + u_t ⊙ h̃_t
(Cho et al. 2014; Chung et al. 2014), has the direct path ∏ (1 − u_t).

>>> pascanu_conditions("tanh", [[0.5, 0], [0, 0.25]]).vanishing_guaranteed
True
>>> after_steps(0.9).log10
-9.15149811...
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.validate import as_exact_real, as_positive_int, describe
from symgrad._exact.precision import exact_power
from symgrad._exact.signs import sign_of
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.depth.bounds import Growth
from symgrad.errors import InvalidArgument
from symgrad.records import (
    Estimated,
    Exact,
    How,
    Provenances,
    Record,
    Step,
    provenances,
)
from symgrad.slopes.sup import max_slope
from symgrad.types import FloatArray, RealLike

__all__ = [
    "BpttJacobian",
    "GatePath",
    "SpectralCondition",
    "StepsProduct",
    "after_steps",
    "bptt_jacobian",
    "gru_update_path",
    "lstm_carousel",
    "pascanu_conditions",
]

#: The symbolic number of time steps.
T = sympy.Symbol("T", integer=True, positive=True)
_EXACT_SIZE = 4  # largest matrix whose spectral norm is found exactly


def _matrix(W: Any, name: str = "W") -> tuple[list[list[Any]], FloatArray]:
    if isinstance(W, sympy.MatrixBase):
        rows = W.tolist()
    else:
        try:
            rows = [list(r) for r in W]
        except TypeError:
            raise InvalidArgument(f"{name} must be a square matrix, got {describe(W)}") from None
    n = len(rows)
    if n == 0 or any(len(r) != n for r in rows):
        raise InvalidArgument(f"{name} must be a non-empty square matrix, got {describe(W)}")
    exact = [[as_exact_real(v, f"{name}[{i}][{j}]") for j, v in enumerate(r)]
             for i, r in enumerate(rows)]
    return exact, np.array([[float(v) for v in r] for r in exact], dtype=np.float64)


def _spectral_norm(exact: list[list[Any]], approx: FloatArray) -> tuple[sympy.Expr, How]:
    """σ_max(W): exact (√ of the largest root of det(WᵀW − λI)) for small rational W,
    else mpmath's SVD at 40 digits kept to 30 (n ≤ 24) or LAPACK's (estimates either way:
    a backward-stable SVD is off by about n·u relative)."""
    n = len(exact)
    M = sympy.Matrix(exact)
    if n <= _EXACT_SIZE and all(v.is_Rational for v in M):
        lam = sympy.Symbol("lambda")
        poly = sympy.Poly((M.T * M).charpoly(lam).as_expr(), lam)
        top = max(poly.real_roots(), key=lambda r: r.evalf(50))
        return sympy.sqrt(top), Exact("largest root of det(WᵀW − λI)")
    if n <= 24:
        with mpmath.workdps(40):
            A = mpmath.matrix([[v._to_mpmath(mpmath.mp.prec) for v in r] for r in exact])
            s = mpmath.svd_r(A, compute_uv=False)
            return sympy.Float(max(s[i] for i in range(n)), 30), Estimated(
                sympy.Float(n * 10.0**-38, 2), "mpmath SVD at 40 digits", relative=True)
    return sympy.Float(float(np.linalg.norm(approx, 2)), 15), Estimated(
        sympy.Float(4 * n * 2.0**-53, 2), "LAPACK SVD in float64", relative=True)


_PRODUCT = provenances(product=Exact("product of exact gate values"))
_POWER = provenances(value=Exact("exact power"))

@dataclass(frozen=True)
class SpectralCondition(Record):
    """Pascanu et al.'s conditions for one recurrent matrix W and activation φ.

    ``eta`` = σ_max(W)·γ; ``decay_bound`` = η^T bounds ‖∂h_T/∂h_0‖₂ for every input.
    ``vanishing_guaranteed``: σ_max < 1/γ (sufficient).  ``exploding_possible``:
    σ_max > 1/γ (necessary, not sufficient).  At σ_max = 1/γ neither holds.
    """

    activation: Activation
    sigma_max: sympy.Expr
    gamma: sympy.Expr
    threshold: sympy.Expr
    eta: sympy.Expr
    decay_bound: sympy.Expr
    vanishing_guaranteed: bool
    exploding_possible: bool
    provenance: Provenances
    steps: tuple[Step, ...]


    def title(self) -> str:
        return f"Pascanu conditions, {self.activation.label}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("σ_max(W)", self.sigma_max), ("1/γ", self.threshold), ("η = σ_max γ", self.eta),
                ("vanishing guaranteed", str(self.vanishing_guaranteed)),
                ("exploding possible", str(self.exploding_possible))]


def pascanu_conditions(act: Activation | str, W: Any) -> SpectralCondition:
    """σ_max(W) against 1/γ, and the decay bound (σ_max·γ)^T for symbolic T.

    >>> c = pascanu_conditions("sigmoid", [[3, 4], [0, 0]])
    >>> c.sigma_max, c.threshold, c.exploding_possible
    (5, 4, True)
    """
    phi = as_activation(act)
    exact, approx = _matrix(W)
    sigma, how_sigma = _spectral_norm(exact, approx)
    ms = max_slope(phi)
    gamma = sympy.sympify(ms.value)
    threshold = sympy.oo if gamma == 0 else 1 / gamma
    eta = sympy.simplify(sigma * gamma)
    if threshold == sympy.oo:
        side = -1
    else:
        decided = sign_of(sigma - threshold)
        side = 0 if decided is None else decided
    bound = sympy.Pow(eta, T)
    steps = (
        Step("Jacobian through T steps (BPTT)",
             r"\frac{\partial h_T}{\partial h_0} = \prod_{t=T}^{1}"
             r" \operatorname{diag}(\varphi'(z_t))\, W"),
        Step("Submultiplicativity, ‖diag(φ'(z_t))‖₂ ≤ γ",
             sympy.Le(sympy.Symbol(r"\left\|\frac{\partial h_T}{\partial h_0}\right\|_2"),
                      bound)),
        Step("Spectral norm of W", sympy.Eq(sympy.Symbol(r"\sigma_{\max}(W)"), sigma)),
    )
    how = provenances(sigma_max=how_sigma, gamma=ms.how("value"))
    return SpectralCondition(phi, sigma, gamma, threshold, eta, bound, side < 0, side > 0,
                             how, steps)


@dataclass(frozen=True)
class BpttJacobian(Record):
    """A vanilla RNN run forward in float64 and its Jacobian ∂h_t/∂h_0 for t = 1..T.

    ``jacobian`` is ∂h_T/∂h_0; ``norms[t−1]`` = ‖∂h_t/∂h_0‖₂; ``preactivations`` the z_t.
    """

    jacobian: FloatArray
    norms: FloatArray
    preactivations: FloatArray
    states: FloatArray
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def summary(self) -> list[tuple[str, Any]]:
        return [("T", len(self.norms)), ("‖∂h_T/∂h_0‖₂", float(self.norms[-1]))]


def bptt_jacobian(
    act: Activation | str,
    W: Any,
    *,
    h0: Any,
    steps: int,
    inputs: Any = None,
    U: Any = None,
    bias: Any = None,
) -> BpttJacobian:
    """Run h_t = φ(W h_{t−1} + U x_t + b) for ``steps`` steps and multiply the Jacobians
    diag(φ'(z_t))·W in float64 (the numeric cross-check of :func:`pascanu_conditions`).

    >>> J = bptt_jacobian("tanh", [[0.5, 0.0], [0.0, 0.5]], h0=[0.1, -0.2], steps=3)
    >>> J.norms.shape
    (3,)
    """
    phi = as_activation(act)
    _, Wf = _matrix(W)
    n = Wf.shape[0]
    T_ = as_positive_int(steps, "steps")
    h = _vector(h0, "h0", n)
    b = np.zeros(n) if bias is None else _vector(bias, "bias", n)
    if inputs is None:
        drive = np.zeros((T_, n))
    else:
        x = np.asarray(inputs, dtype=np.float64)
        if x.ndim != 2 or x.shape[0] != T_:
            raise InvalidArgument(f"inputs must have shape (steps, m) = ({T_}, m), got {x.shape}")
        Uf = np.eye(n) if U is None else np.asarray(U, dtype=np.float64)
        if Uf.shape != (n, x.shape[1]):
            raise InvalidArgument(f"U must have shape ({n}, {x.shape[1]}), got {Uf.shape}")
        drive = x @ Uf.T
    if not np.all(np.isfinite(drive)):
        raise InvalidArgument("inputs and U must be finite")
    P = np.eye(n)
    norms = np.empty(T_)
    zs = np.empty((T_, n))
    hs = np.empty((T_, n))
    for t in range(T_):
        zt = Wf @ h + drive[t] + b
        h = phi.numpy(zt)
        P = (phi.numpy_prime(zt)[:, None] * Wf) @ P  # diag(φ'(z_t)) W · P
        norms[t] = np.linalg.norm(P, 2)
        zs[t], hs[t] = zt, h
    # float64 products of T steps: each step rounds by a few ulps (relative, per entry).
    how = provenances(norms=Estimated(sympy.Float(T_ * n * 2.0**-53, 2), "float64 products",
                                      relative=True))
    return BpttJacobian(P, norms, zs, hs, how, (Step("Jacobian product", r"\prod_{t=T}^{1}"
                                                r" \operatorname{diag}(\varphi'(z_t))\,W"),))


def _vector(v: Any, name: str, n: int) -> FloatArray:
    arr = np.asarray(v, dtype=np.float64)
    if arr.shape != (n,):
        raise InvalidArgument(f"{name} must have shape ({n},), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidArgument(f"{name} must be finite, got {describe(v)}")
    return arr


# ---- gated paths ----


@dataclass(frozen=True)
class GatePath(Record):
    """The direct-path product of a gated cell: ∏ f_t (LSTM) or ∏ (1 − u_t) (GRU).

    ``factors`` are the per-step factors (exact), ``product`` their product (exact;
    symbolic in T when one constant gate value and no step count are given).
    """

    cell: str
    factors: tuple[sympy.Expr, ...]
    product: sympy.Expr
    steps: tuple[Step, ...]
    provenance: Provenances = _PRODUCT

    def summary(self) -> list[tuple[str, Any]]:
        return [("direct-path product", self.product)]

    def __float__(self) -> float:
        return float(self.product)


def _gate_values(values: Any, name: str, count: int | None) -> tuple[sympy.Expr, ...] | None:
    unit = sympy.Interval(0, 1)
    if isinstance(values, Sequence | np.ndarray) and not isinstance(values, str | bytes):
        if count is not None:
            raise InvalidArgument(f"give either a sequence of {name} values or steps, not both")
        if len(values) == 0:
            raise InvalidArgument(f"{name} needs at least one value")
        return tuple(as_exact_real(v, f"{name}[{i}]", domain=unit) for i, v in enumerate(values))
    return None


def lstm_carousel(forget: Any, *, steps: int | None = None) -> GatePath:
    """∂c_T/∂c_0 on the direct path: ∏_{t=1}^{T} f_t, gates f_t ∈ [0, 1].

    ``forget`` is one value per step, or one constant value (then ``steps`` gives T,
    or T stays symbolic).  f_t = 1 gives exactly 1: the constant error carousel.

    >>> lstm_carousel(1).product
    1
    >>> lstm_carousel([0.5, 1, 0.5]).product
    1/4
    >>> lstm_carousel(0.9).product
    (9/10)**T
    """
    return _gate_path("lstm", forget, steps, lambda f: f, "f_t")


def gru_update_path(update: Any, *, steps: int | None = None) -> GatePath:
    """∂h_T/∂h_0 on the GRU's direct path: ∏_{t=1}^{T} (1 − u_t), gates u_t ∈ [0, 1].

    >>> gru_update_path([0.1, 0.2]).product
    18/25
    >>> gru_update_path(0, steps=200).product
    1
    """
    return _gate_path("gru", update, steps, lambda u: 1 - u, "1 - u_t")


def _gate_path(cell: str, values: Any, steps: int | None, factor: Any, label: str) -> GatePath:
    count = None if steps is None else as_positive_int(steps, "steps")
    per_step = _gate_values(values, "gate", count)
    sym = sympy.Symbol(label)
    rule = ("c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t, so ∂c_t/∂c_{t−1} = diag(f_t) on the direct path"
            if cell == "lstm" else
            "h_t = (1 − u_t) ⊙ h_{t−1} + u_t ⊙ h̃_t, so the direct path is diag(1 − u_t)")
    if per_step is None:
        g = as_exact_real(values, "gate", domain=sympy.Interval(0, 1))
        f = factor(g)
        product = sympy.Pow(f, T) if count is None else exact_power(f, count)
        return GatePath(cell, (f,), product, (Step(rule, None), Step(
            "Direct-path product", sympy.Eq(sympy.Product(sym, (sympy.Symbol("t"), 1,
                                                                 T if count is None else count)),
                                            product, evaluate=False))))
    factors = tuple(factor(v) for v in per_step)
    product = sympy.prod(factors)
    return GatePath(cell, factors, product, (Step(rule, None), Step(
        "Direct-path product", sympy.Eq(sympy.Symbol(r"\prod_t " + label), product,
                                        evaluate=False))))


# ---- the "200 steps" example ----


@dataclass(frozen=True)
class StepsProduct(Record):
    """What a per-step factor does after ``count`` steps: factor^count, exactly."""

    factor: sympy.Expr
    count: int
    value: sympy.Expr
    log10: sympy.Expr
    growth: Growth | None
    steps: tuple[Step, ...]
    provenance: Provenances = _POWER

    def summary(self) -> list[tuple[str, Any]]:
        return [("factor", self.factor), ("steps", self.count), ("factor^steps", self.value),
                ("log10|factor^steps|", self.log10)]

    def __float__(self) -> float:
        if self.log10 > 400:
            return math.inf if self.factor > 0 or self.count % 2 == 0 else -math.inf
        if self.log10 < -400:
            return 0.0
        return float(sympy.N(self.value, 20))


def after_steps(factor: RealLike, *, steps: int = 200) -> StepsProduct:
    """factor^steps exactly, its log₁₀ and whether it vanishes or explodes.

    The classic illustration: a factor 0.9 leaves 7·10⁻¹⁰ after 200 steps, 1.1 gives
    1.9·10⁸ (Pascanu et al. 2013 motivate clipping with such growth).

    >>> float(after_steps(1.1).value)
    189905276.4...
    """
    f = as_exact_real(factor, "factor")
    n = as_positive_int(steps, "steps")
    mag = abs(f)
    value = exact_power(f, n)  # its size is read from log₁₀
    with mpmath.workdps(40 + len(str(n))):  # 30 digits of n·log10|f| for any n
        log10 = sympy.Float(-mpmath.inf) if f == 0 else sympy.Float(
            n * mpmath.log10(mag._to_mpmath(mpmath.mp.prec)), 30)
    growth = None if mag == 1 else (Growth.VANISHING if mag < 1 else Growth.EXPLODING)
    steps_ = (Step(f"{n} steps multiply the factor {n} times",
                   sympy.Eq(sympy.Pow(f, n, evaluate=False), value, evaluate=False)),)
    return StepsProduct(f, n, value, log10, growth, steps_)
