"""Mean field against wide networks: E‖∂L/∂z_l‖² ∝ χ₁^{L−l} (Schoenholz et al. 2017).

Backward, ∂L/∂z_{l−1} = φ'(z_{l−1}) ⊙ W_lᵀ ∂L/∂z_l, and in the wide limit the per-layer
factor of E‖∂L/∂z‖² is χ₁ = σ_w²·E[φ'(√q* Z)²].  For each setting (ordered, critical,
chaotic; tanh and relu) the network's inputs are drawn so that layer 1 already sits at
the fixed point (a₀ = φ(√q*·Z) with the bias adding σ_b², so q₁ = q*), and the
measured rate is

    r̂ = (‖∂L/∂z_1‖² / ‖∂L/∂z_L‖²)^{1/(L−1)}  per network,

averaged in the log over k independent networks (seeds).  Predicted: ln χ₁.

Sampling error: the k networks are independent, so SE(mean ln r̂) = s/√k with s the
sample standard deviation of the k values — nothing about the per-layer noise has to be
assumed.  A finite-width network is not the infinite-width one: its per-layer factor
differs from χ₁ by O(1/n) (the gradient-independence approximation), i.e. ln r̂ is
biased by at most c/n; with n = 512 and |c| ≲ 1 this is ≤ 2e-3, so the tolerance is
z·SE + 2/n (stated in each row's basis).  relu with σ_w² > 2 has no finite q*, but φ is
positively homogeneous, so χ₁ = σ_w²/2 at every q and the inputs need no scaling.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from symgrad.activations.registry import activation
from symgrad.meanfield.criticality import critical_sigma_w
from symgrad.meanfield.field import mean_field
from symgrad.meanfield.record import VarianceFixedPoint
from symgrad.numeric._rng import child, generator
from symgrad.numeric.checks.rows import CheckRow
from symgrad.numeric.mlp import simulate

__all__ = ["check_meanfield_gradients", "gradient_rates"]

WIDTH, DEPTH, BATCH, NETWORKS = 512, 10, 16, 6


def gradient_rates(name: str, sigma_w: float, sigma_b: float, seed: np.random.SeedSequence,
                   *, width: int = WIDTH, depth: int = DEPTH, batch: int = BATCH,
                   networks: int = NETWORKS) -> tuple[float, np.ndarray]:
    """(predicted ln χ₁, measured ln r̂ of ``networks`` independent wide networks)."""
    act = activation(name)
    mf = mean_field(act, sigma_w=sigma_w, sigma_b=sigma_b)
    q_in = float(mf.q_star) if mf.fixed_point is VarianceFixedPoint.FINITE else 1.0
    rng = generator(child(seed, 0))
    logs = []
    for s in range(networks):
        if mf.fixed_point is VarianceFixedPoint.FINITE:
            # a₀ = φ(√q*·Z) gives E[z₁²] = σ_w²·E[φ(√q* Z)²] + σ_b² = q*.
            inputs = act.numpy(math.sqrt(q_in) * rng.standard_normal((batch, width)))
        else:
            inputs = rng.standard_normal((batch, width))
        sim = simulate(act, width=width, depth=depth, sigma_w=sigma_w, sigma_b=sigma_b,
                       batch=batch, inputs=inputs, rng=child(seed, s + 1))
        g = sim.grad_z_sq
        logs.append(math.log(g[0] / g[-1]) / (depth - 1))
    return math.log(float(mf.chi1)), np.array(logs)


def _settings() -> list[tuple[str, str, float, float]]:
    tanh_crit = float(critical_sigma_w("tanh", sigma_b=0.1))
    return [
        ("tanh", "ordered", 0.8, 0.1),
        ("tanh", "critical", tanh_crit, 0.1),
        ("tanh", "chaotic", 2.0, 0.1),
        ("relu", "ordered", 1.2, 0.1),
        ("relu", "critical", math.sqrt(2.0), 0.0),
        ("relu", "chaotic", 1.6, 0.0),
    ]


def check_meanfield_gradients(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """Per-layer rate of E‖∂L/∂z_l‖² against χ₁, six settings (see the module docstring)."""
    rows = []
    for i, (name, phase, sw, sb) in enumerate(_settings()):
        predicted, logs = gradient_rates(name, sw, sb, child(seed, i))
        k = logs.size
        mean = float(logs.mean())
        se = float(logs.std(ddof=1) / math.sqrt(k))
        bias = 2.0 / WIDTH
        rate_pred, rate_meas = math.exp(predicted), math.exp(mean)
        # Compare rates: |r̂ − χ₁|/χ₁ ≈ |Δ ln| for small differences; tolerance in the log.
        rel = abs(rate_meas - rate_pred) / rate_pred
        tol = math.expm1(z * se + bias)
        rows.append(CheckRow(
            f"{name} {phase} (σ_w = {sw:.6g}, σ_b = {sb:g}): per-layer factor of E‖∂L/∂z_l‖²",
            rate_pred, rate_meas, rel, tol, rel <= tol, "=",
            f"z·SE + 2/n, z = {z:g}; SE from {k} independent networks of width {WIDTH}, "
            f"depth {DEPTH}, batch {BATCH}; 2/n bounds the finite-width bias"))
    return rows
