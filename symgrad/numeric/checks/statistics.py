"""Cross-checks of expectations against sample means: tolerances z·SE.

Each check takes ``(seed, z)`` and returns :class:`~symgrad.numeric.checks.table.CheckRow` s;
every row says how its standard error was estimated.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from symgrad.numeric._rng import child
from symgrad.numeric.checks.rows import CheckRow, mean_and_se, statistical_row
from symgrad.numeric.mlp import simulate
from symgrad.numeric.rnn import simulate_lstm
from symgrad.numeric.weights import weight_variance
from symgrad.slopes.gaussian import expected_slope

__all__ = [
    "check_expected_slope",
    "check_he_vs_xavier",
    "check_lstm_forget_decay",
    "check_residual_highway",
]


def check_expected_slope(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """Mean φ'(z) over a layer fed normalised inputs against ``expected_slope(act, q=q)``.

    With x ~ N(0, I_n) and W = √q·Q (Q orthogonal), z = Wx ~ N(0, q I_n) exactly, so the
    batch × width slopes are independent draws of φ'(√q Z): SE = √(sample variance / N),
    the variance taken from the layer's mean and mean square of φ'."""

    rows = []
    width, batch = 512, 512
    for i, (act, q) in enumerate((("tanh", 1.0), ("sigmoid", 4.0), ("relu", 1.0))):
        sim = simulate(act, width=width, depth=1, sigma_w=math.sqrt(q), batch=batch,
                       init="orthogonal", rng=child(seed, i))
        n = width * batch
        m1, m2 = float(sim.slope_mean[0]), float(sim.slope_second_moment[0])
        se = math.sqrt(max(m2 - m1 * m1, 0.0) * n / (n - 1) / n)
        predicted = float(expected_slope(act, q=q).value)
        rows.append(statistical_row(
            f"E[φ'(√q Z)], {act}, q = {q:g}", predicted, m1, se, z,
            f"SE from the per-unit variance of φ' over {n} independent draws"))
    return rows


def check_residual_highway(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """∂y/∂x = I + W^T diag(φ') per residual block: with φ = identity and
    W_ij ~ N(0, σ_w²/n), E‖(I + Wᵀ)δ‖² = (1 + σ_w²)‖δ‖² exactly (the cross term has mean
    0 and δ_l depends only on the layers above), so E[‖∂L/∂x‖²/‖g‖²] = (1 + σ_w²)^L;
    without the skip it is σ_w^{2L}.  SE from k independent networks (seeds)."""
    depth, sigma_w, k = 10, 0.5, 24
    rows = []
    for residual in (True, False):
        ratios = []
        for s in range(k):
            sim = simulate("identity", width=128, depth=depth, sigma_w=sigma_w, batch=16,
                           residual=residual, rng=child(seed, int(residual), s))
            ratios.append(sim.grad_input_sq / sim.grad_a_sq[-1])
        measured, se = mean_and_se(ratios)
        predicted = (1 + sigma_w**2) ** depth if residual else sigma_w ** (2 * depth)
        kind = "residual" if residual else "plain"
        rows.append(statistical_row(
            f"{kind} linear net, σ_w = {sigma_w:g}, depth {depth}: E‖∂L/∂x‖²/‖g‖²",
            predicted, measured, se, z, f"SE from {k} independent networks"))
    return rows


def check_he_vs_xavier(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """ReLU nets: He keeps E[z_L²], Xavier halves it per layer (He et al. 2015).

    Given a_{l−1}, each unit of z_l is exactly N(0, Var(w)‖a_{l−1}‖²), and relu keeps half
    of a symmetric variable's square: E relu(z)² = E z²/2.  So, with q_l the mean of z_l²,
    E q_1 = n Var(w) (x ~ N(0, I_n)) and E q_l = (n Var(w)/2)·E q_{l−1}, i.e.
    E q_l = (n Var(w)/2)^{l−1}·n Var(w): 2 at every layer for He (Var = 2/n), 2^{−(l−1)}
    for Xavier on square layers (Var = 1/n).  SE from k independent networks."""
    width, depth, k = 128, 6, 16
    rows = []
    for i, init in enumerate(("he_normal", "xavier_normal")):
        var = weight_variance(init, width, width, sigma_w=1.0)
        predicted = (width * var / 2) ** (depth - 1) * width * var
        samples = [
            simulate("relu", width=width, depth=depth, sigma_w=1.0, batch=32, init=init,
                     rng=child(seed, i, s)).preact_second_moment[-1]
            for s in range(k)
        ]
        measured, se = mean_and_se(samples)
        rows.append(statistical_row(
            f"relu, {init}: E[z²] at layer {depth} (layer 1: {width * var:g})",
            predicted, measured, se, z, f"SE from {k} independent networks"))
    return rows


def check_lstm_forget_decay(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """The carousel in expectation: with W = 0 and the loss on c_T,
    E‖∂L/∂c_0‖² = Σ_j (E σ(b_f + ‖u_j‖ Z)²)^T, u_j the forget gate's input-weight row
    (given U, the gates are independent over steps and items).  The Gaussian expectation
    is a 120-node Gauss–Hermite rule (error far below 1e−12 for this smooth integrand);
    SE from the spread of ‖g ⊙ ∏ f‖² over the batch's independent items."""
    steps, hidden, batch, bias = 20, 64, 512, 2.0
    sim = simulate_lstm(hidden=hidden, steps=steps, batch=batch, sigma_w=0.0,
                        forget_bias=bias, readout="cell", rng=seed, record=True)
    if sim.forget is None or sim.upstream is None or sim.input_weights is None:
        raise RuntimeError("simulate_lstm(record=True) kept nothing")  # pragma: no cover
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    weights = weights / math.sqrt(2 * math.pi)
    norms = np.linalg.norm(sim.input_weights[hidden:2 * hidden], axis=1)
    gate = 1.0 / (1.0 + np.exp(-(bias + np.outer(norms, nodes))))
    per_unit = (gate**2) @ weights
    predicted = float(np.sum(per_unit**steps))
    per_item = np.sum((sim.upstream * np.prod(sim.forget, axis=0)) ** 2, axis=1)
    se = float(per_item.std(ddof=1) / math.sqrt(batch))
    return [statistical_row(
        f"LSTM, W = 0, b_f = {bias:g}: E‖∂L/∂c_0‖² after {steps} steps",
        predicted, float(sim.grad_c_sq[0]), se, z,
        f"SE from {batch} independent batch items")]
