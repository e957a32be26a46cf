"""The β-expansion of ln X, X = ‖J u‖², for any activation, to first order in 1/n.

Forward pass h_l = W_l a_{l−1} + b_l, a_l = φ(h_l), tangent v_l = W_l D_{l−1} v_{l−1}
(v_0 = u, D_0 = I, D_l = diag(φ'(h_l))), X = ‖v_L‖².  Given the past, the units
(h_{l,i}, v_{l,i}) of layer l are i.i.d. Gaussian with variance q̂_l (the realised forward
variance, σ_w²‖a_{l−1}‖²/n_{l−1} + σ_b²), g_l and correlation ρ_l.  Telescoping,

    ln X = ln(σ_w^{2L}/n_0) + ln χ²_{n_L} + Σ_{l<L} [ln μ_1(q̂_l) + ln(1 + ρ_l²θ) + ln(1 + ξ_l)],

ξ_l the layer's relative sampling noise of (1/n)Σφ'(h_i)²v_i²/g_l (variance v_ξ/n_l,
v_ξ = 3μ_2/μ_1² − 1).  The realised variance δ_l = q̂_l − q* is driven by the noise
η_j of (1/n)Σφ(h_i)² in earlier layers: δ_{l+1} = r·δ_l + A·η_l + ½V''δ_l², with
r = V'(q*) the slope of the variance map, A = q* − σ_b².  So μ_1(q̂_l) fluctuates too, and
to first order in 1/n (c = μ_1'/μ_1, R_l = Σ_{m=l+1}^{L−1} r^{m−l−1}, γ_l = c·A·R_l):

    Var ln X = ψ'(n_L/2) + Σ_{l<L} Var[φ'(h)²ε²/μ_1 + γ_l·φ(h)²/E φ²]/n_l
             = ψ'(n_L/2) + Σ_{l<L} (v_ξ + 2γ_l·κ + γ_l²·v_η)/n_l,
    E ln X  = ln(σ_w^{2L}/n_0) + ψ(n_L/2) + ln 2
              + Σ_{l<L} [ln μ_1 + c·Eδ_l + ½(c₂ − c²)·Eδ_l² + θ·Eρ_l² − v_ξ/(2n_l)],

with κ = E[φ'²φ²]/(μ_1Eφ²) − 1, v_η = Eφ⁴/(Eφ²)² − 1, θ = E[φ'²Z²]/μ_1 − 1, and the
recursions Eδ_{l+1} = r·Eδ_l + ½V''·Eδ_l², Eδ²_{l+1} = r²·Eδ²_l + A²v_η/n_l,
Eρ²_{l+1} = a²·Eρ²_l + b²/n_l (a = σ_w E[φφ'Z]/√(q*μ_1), b² = σ_w²E[φ²φ'²]/(q*μ_1)),
all starting at 0 (the input is at the fixed point and u ⟂ x).  Dropping the γ_l, c and θ
terms leaves the per-layer-noise-only prediction (``naive``), which is wrong whenever
μ_1 depends on q (tanh): it is kept as a rejected prediction.  For ReLU c = θ = 0 and
v_ξ = 5: Var ln X ≈ 5β (Hanin 2018).  q-derivatives use ∂_q N(h; 0, q) =
N·(h² − q)/(2q²), so no φ'' is needed.

The error estimate is the first-order part times the largest per-layer expansion
parameter max_l (v_ξ + 2γ_lκ + γ_l²v_η)/n_l — the usual size of the next order.

>>> from symgrad.activations import as_activation
>>> ex = beta_expansion(as_activation("relu"), (100, 100, 100), 1.0, 2**0.5, 0.0)
>>> round(ex.var_log - ex.naive_var_log, 12), round(dict(ex.coefficients)["v_xi"], 9)
(0.0, 5.0)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import mpmath

from symgrad.activations import Activation
from symgrad.spectrum._law import gauss_expect
from symgrad.types import FloatArray

__all__ = ["BetaExpansion", "beta_expansion"]


@dataclass(frozen=True)
class BetaExpansion:
    """E ln X and Var ln X to first order in 1/n, the naive versions and error estimates."""

    mean_log: float
    var_log: float
    naive_mean_log: float
    naive_var_log: float
    mean_error: float
    var_error: float
    #: v_ξ, κ, v_η, c, r, A, θ: the Gaussian coefficients at q*.
    coefficients: tuple[tuple[str, float], ...]


def _coefficients(act: Activation, q: float, sigma_w: float, sigma_b: float
                  ) -> tuple[dict[str, float], float]:
    f, d = act.numpy, act.numpy_prime
    err = 0.0

    def E(fn: object) -> float:
        nonlocal err
        value, e = gauss_expect(act, q, fn)
        err = max(err, e)
        return value

    def dq(h: FloatArray) -> FloatArray:  # ∂_q N(h; 0, q) / N
        return (h * h - q) / (2 * q * q)

    def d2q(h: FloatArray) -> FloatArray:  # ∂²_q N(h; 0, q) / N
        return dq(h) ** 2 - h * h / q**3 + 1 / (2 * q * q)

    mu1 = E(lambda h: d(h) ** 2)
    mu2 = E(lambda h: d(h) ** 4)
    ephi2 = E(lambda h: f(h) ** 2)
    ephi4 = E(lambda h: f(h) ** 4)
    mixed = E(lambda h: f(h) ** 2 * d(h) ** 2)
    k = {
        "v_xi": 3 * mu2 / mu1**2 - 1,
        "kappa": mixed / (mu1 * ephi2) - 1,
        "v_eta": ephi4 / ephi2**2 - 1,
        "c": E(lambda h: d(h) ** 2 * dq(h)) / mu1,
        "c2": E(lambda h: d(h) ** 2 * d2q(h)) / mu1,
        "r": sigma_w**2 * E(lambda h: f(h) ** 2 * dq(h)),
        "V2": sigma_w**2 * E(lambda h: f(h) ** 2 * d2q(h)),
        "A": q - sigma_b**2,
        "theta": E(lambda h: d(h) ** 2 * h * h / q) / mu1 - 1,
        "a": sigma_w * E(lambda h: f(h) * d(h) * h / math.sqrt(q)) / math.sqrt(q * mu1),
        "b2": sigma_w**2 * mixed / (q * mu1),
        "mu1": mu1,
    }
    return k, err


def beta_expansion(act: Activation, widths: Sequence[int], q_star: float, sigma_w: float,
                   sigma_b: float) -> BetaExpansion:
    """The expansion of the module docstring at the fixed point q* > 0."""
    k, quad_err = _coefficients(act, q_star, sigma_w, sigma_b)
    L = len(widths) - 1
    n_last = widths[-1]
    with mpmath.workdps(20):
        last_mean = float(mpmath.digamma(mpmath.mpf(n_last) / 2) + mpmath.log(2))
        last_var = float(mpmath.psi(1, mpmath.mpf(n_last) / 2))
    lead = 2 * L * math.log(sigma_w) - math.log(widths[0]) + last_mean
    mean = naive_mean = lead
    var = naive_var = last_var
    e_d = e_d2 = e_r2 = 0.0
    worst = 0.0
    r = k["r"]
    for layer in range(1, L):
        n = widths[layer]
        R = sum(r ** (m - layer - 1) for m in range(layer + 1, L))
        g = k["c"] * k["A"] * R
        unit = k["v_xi"] + 2 * g * k["kappa"] + g * g * k["v_eta"]
        worst = max(worst, unit / n)
        mean += (math.log(k["mu1"]) + k["c"] * e_d + 0.5 * (k["c2"] - k["c"] ** 2) * e_d2
                 + k["theta"] * e_r2 - k["v_xi"] / (2 * n))
        naive_mean += math.log(k["mu1"]) - k["v_xi"] / (2 * n)
        var += unit / n
        naive_var += k["v_xi"] / n
        e_d, e_d2, e_r2 = (r * e_d + 0.5 * k["V2"] * e_d2,
                           r * r * e_d2 + k["A"] ** 2 * k["v_eta"] / n,
                           k["a"] ** 2 * e_r2 + k["b2"] / n)
    first_var = var - last_var
    first_mean = mean - lead - (L - 1) * math.log(k["mu1"])
    worst = max(worst, 2.0 / n_last)
    var_error = worst * var + L * quad_err
    mean_error = worst * (abs(first_mean) + 0.5 * first_var) + L * quad_err
    coefficients = tuple(sorted((name, float(v)) for name, v in k.items()))
    return BetaExpansion(float(mean), float(var), float(naive_mean), float(naive_var),
                         float(mean_error), float(var_error), coefficients)
