"""Cross-checks of :func:`symgrad.networks.predict` against :func:`simulate_network`.

Each check takes ``(seed, z)`` and returns :class:`~symgrad.numeric.checks.CheckRow` s
comparing the predicted J^{L,0} = E‖∂L/∂h_0‖²/E‖∂L/∂h_L‖² (and, for some rows, the
weight-gradient ratio ‖∂L/∂W_1‖²/‖∂L/∂W_L‖²) with the mean over k independent networks.

Tolerances, derived rather than blanket:

* finite width and batch: the measured ratio is f(N, B) = f∞·(1 + a/N + b/B + O(N⁻², B⁻²))
  (LayerNorm's projection removes 2 of N directions, BatchNorm's inverse-χ² scale gives
  B/(B − 3) and its projections 2 of B directions: all first order in 1/N, 1/B, per
  layer), so the row measures at (N, B) and (2N, 2B) and extrapolates
  f∞ ≈ 2f(2N, 2B) − f(N, B) (Richardson), which cancels the first order;
* the remaining second order is allowed for as (depth/N)² + (depth/B)² relative (a
  coefficient up to 1 per layer pair; the batch term only with batchnorm, since without
  it the batch items are independent given the weights);
* sampling: SE = √(4·SE₂² + SE₁²) of the extrapolation, from the spread over the k
  independent networks at each size; the row passes when
  |measured − predicted| ≤ z·SE + allowance·|predicted|.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy

from symgrad.networks import (
    BatchNorm,
    Block,
    L,
    activation,
    batchnorm,
    dense,
    layernorm,
    predict,
    repeat,
    residual,
    serial,
)
from symgrad.numeric._rng import child
from symgrad.numeric.checks import CheckRow, mean_and_se
from symgrad.numeric.networks import simulate_network

__all__ = ["check_networks", "network_row", "standard_networks"]


def network_row(quantity: str, net: Block, seed: np.random.SeedSequence, z: float, *,
                width: int = 128, batch: int = 64, k: int = 6, q0: float = 1.0,
                weights: bool = False) -> CheckRow:
    """One row: predicted against the Richardson-extrapolated mean of k networks per size
    (module docstring).  ``weights``: compare ‖∂L/∂W_1‖²/‖∂L/∂W_L‖² instead of J^{L,0}."""
    p = predict(net, q0=q0)
    depth = p.depth
    predicted = (float(p.grad_w_sq[0] / p.grad_w_sq[-1]) if weights
                 else float(p.grad_h_sq[0] / p.grad_h_sq[-1]))
    means, ses = [], []
    for i, (n, b) in enumerate(((width, batch), (2 * width, 2 * batch))):
        samples = []
        for s in range(k):
            sim = simulate_network(net, width=n, batch=b, rng=child(seed, i, s), q0=q0)
            samples.append(sim.grad_w_sq[0] / sim.grad_w_sq[-1] if weights
                           else sim.grad_h_sq[0] / sim.grad_h_sq[-1])
        m, se = mean_and_se(samples)
        means.append(m)
        ses.append(se)
    measured = 2 * means[1] - means[0]
    se = math.sqrt(4 * ses[1] ** 2 + ses[0] ** 2)
    # Without batchnorm the batch items are independent given the weights: no batch bias.
    has_bn = any(isinstance(b, BatchNorm) for b in net.walk())
    allowance = (depth / width) ** 2 + ((depth / batch) ** 2 if has_bn else 0.0)
    scale = abs(predicted) if predicted else 1.0
    rel = abs(measured - predicted) / scale
    tol = (z * se) / scale + allowance
    return CheckRow(quantity, predicted, float(measured), float(rel), float(tol),
                    bool(rel <= tol), "=",
                    f"z·SE + (L/N)² + (L/B)², z = {z:g}; Richardson over (N, B) = ({width},"
                    f" {batch}) and ({2 * width}, {2 * batch}), {k} networks each")


def standard_networks() -> list[tuple[str, Block, dict[str, float]]]:
    """The architectures the cross-check covers: (label, network, options)."""
    relu = activation("relu")
    plain = serial(activation("relu"), dense(1))
    return [
        ("plain relu MLP, σ_w = √2 (critical), depth 10",
         repeat(serial(dense(2**0.5), relu), 10), {}),
        ("plain tanh MLP, Xavier normal, depth 20 (the issue's net)",
         repeat(serial(dense(1, init="xavier_normal"), activation("tanh")), 20), {}),
        ("residual relu, scale 1, depth 8", repeat(residual(plain), 8), {}),
        ("residual relu, scale 1/√L, depth 16",
         repeat(residual(plain, scale=1 / sympy.sqrt(L)), 16), {}),
        ("residual relu, scale 1/L, depth 16", repeat(residual(plain, scale=1 / L), 16), {}),
        ("pre-LN relu, depth 20", repeat(residual(serial(layernorm(), relu, dense(1))), 20),
         {}),
        ("post-LN tanh, depth 12",
         repeat(serial(residual(serial(activation("tanh"), dense(1))), layernorm()), 12), {}),
        ("BatchNorm relu (B → ∞), depth 8",
         repeat(serial(dense(1), batchnorm(), relu), 8), {"batch": 128}),
    ]


def check_networks(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """Every architecture of :func:`standard_networks`: J^{L,0}, and the weight-gradient
    ratio for the issue's tanh net."""
    rows = []
    for i, (label, net, options) in enumerate(standard_networks()):
        batch = int(options.get("batch", 64))
        rows.append(network_row(f"{label}: J^(L,0)", net, child(seed, i), z, batch=batch))
    label, net, _ = standard_networks()[1]
    rows.append(network_row(f"{label}: ‖∂L/∂W_1‖²/‖∂L/∂W_L‖²", net, child(seed, 99), z,
                            weights=True))
    return rows
