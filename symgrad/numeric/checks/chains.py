"""Cross-checks between two computations of one number: tolerances are rounding bounds.

Each check takes ``(seed, z)`` (``z`` is unused: nothing here is random sampling) and
returns :class:`~symgrad.numeric.checks.table.CheckRow` s.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from symgrad.depth.trace import chain_trace, residual_trace
from symgrad.numeric._rng import child, inner
from symgrad.numeric.chain import simulate_chain
from symgrad.numeric.checks.rows import CheckRow, U, exact_row
from symgrad.numeric.rnn import simulate_lstm, simulate_rnn

__all__ = [
    "check_lstm_carousel",
    "check_residual_chain",
    "check_rnn_spectral_bound",
    "check_scalar_chain",
]

# sup|φ'| = γ, sup|φ''| and sup|φ''/φ'| (closed forms): σ' = σ(1−σ) ≤ 1/4,
# |σ''| ≤ 1/(6√3) (at σ = 1/2 ± 1/(2√3)), σ''/σ' = 1 − 2σ; tanh' = 1 − tanh² ≤ 1,
# |tanh''| ≤ 4/(3√3) (at tanh = ±1/√3), tanh''/tanh' = −2 tanh.
_CONSTANTS = {
    "sigmoid": (0.25, 1 / (6 * math.sqrt(3)), 1.0),
    "tanh": (1.0, 4 / (3 * math.sqrt(3)), 2.0),
}
_TINY = float(np.finfo(np.float64).tiny)


def _chain_tolerance(act: str, w: float, depth: int, zmax: float, residual: bool) -> float:
    """Relative rounding bound on ∂L/∂a_k of the float64 chain (derivation inline).

    Forward: each layer adds ≤ 4u·max|z| of absolute error to z_k (one product, one sum,
    the kernel's own ≤ 2u on φ), and passes earlier errors on with Lipschitz constant
    L = |w|γ (plain) or 1 + |w|γ (residual), so |Δz_k| ≤ F = 4u·max|z|·Σ_{j<depth} L^j.
    Backward: a plain factor w φ'(z) is off by ≤ sup|φ''/φ'|·F relatively (mean value
    theorem) plus ≤ 10u for the kernel and the product; a residual factor 1 + wφ' ≥
    1 − |w|γ is off by ≤ |w|·sup|φ''|·F/(1 − |w|γ) + 10u.  ∂L/∂a_k multiplies at most
    depth factors, so its relative error is ≤ depth × the per-factor bound (to first order).
    """
    gamma, phi2, ratio = _CONSTANTS[act]
    lip = (1.0 if residual else 0.0) + abs(w) * gamma
    spread = sum(lip**j for j in range(depth))
    forward = 4 * U * max(zmax, 1.0) * spread
    if residual:
        per_factor = abs(w) * phi2 * forward / (1.0 - abs(w) * gamma) + 10 * U
    else:
        per_factor = ratio * forward + 10 * U
    return depth * per_factor


def _compare_chain(act: str, w: float, b: float, depth: int, residual: bool) -> CheckRow:
    make = residual_trace if residual else chain_trace
    exact = make(act, depth=depth, weight=w, bias=b)
    sim = simulate_chain(act, depth=depth, weight=w, bias=b, residual=residual)
    want = np.array([float(r.grad_a) for r in exact.rows])
    zmax = max(abs(float(r.z)) for r in exact.rows)
    # "Where representable": entries whose exact value is a normal float64.
    usable = (np.abs(want) >= _TINY) & np.isfinite(want)
    rel = np.abs(sim.grad_a[usable] - want[usable]) / np.abs(want[usable])
    first = int(np.argmax(usable))
    kind = "residual chain" if residual else "scalar chain"
    tolerance = _chain_tolerance(act, w, depth, zmax, residual)
    worst = float(rel.max()) if rel.size else math.inf
    return CheckRow(
        f"{kind} {act} w={w:g} b={b:g}, depth {depth}: ∂L/∂a_{first + 1}"
        f" ({int(usable.sum())} of {depth} layers representable)",
        float(want[first]), float(sim.grad_a[first]), worst, tolerance, worst <= tolerance,
        "=", "float64 rounding bound (forward error propagation × depth); rel. error is"
        " the max over the representable layers",
    )


def check_scalar_chain(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """float64 :func:`simulate_chain` against the exact ``chain_trace`` (∂L/∂a_k, all k).

    Depth 300 with w = 0.1 underflows float64 below layer ~200: only representable
    layers are compared."""
    cases = [("sigmoid", 0.1, 0.0, 30), ("sigmoid", 2.0, 0.5, 30), ("tanh", 0.5, 0.1, 30),
             ("sigmoid", 0.1, 0.0, 300)]
    return [_compare_chain(act, w, b, depth, False) for act, w, b, depth in cases]


def check_residual_chain(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """The residual chain's factor 1 + wφ'(z): float64 against ``residual_trace``."""
    cases = [("sigmoid", 0.5, 0.0, 20), ("tanh", -0.5, 0.2, 20)]
    return [_compare_chain(act, w, b, depth, True) for act, w, b, depth in cases]


def check_rnn_spectral_bound(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """‖∂L/∂h_0‖² / ‖∂L/∂h_T‖² ≤ (σ_max(W)·γ)^{2T} (Pascanu, Mikolov and Bengio 2013).

    The bound holds item by item, hence for batch means; the only slack granted is
    float64 rounding of the T matrix products (≤ 2·T·(hidden + 2)·u relative)."""
    rows = []
    for i, (act, gain) in enumerate((("tanh", 0.9), ("sigmoid", 3.0))):
        steps, hidden = 30, 64
        sim = simulate_rnn(act, hidden=hidden, steps=steps, batch=32, sigma_w=gain,
                           init="orthogonal", rng=child(seed, i))
        gamma = _CONSTANTS[act][0]
        bound = (sim.spectral_norm * gamma) ** (2 * steps)
        measured = float(sim.grad_h_sq[0] / sim.grad_h_sq[-1])
        rows.append(exact_row(
            f"{act} RNN, σ_max(W) = {sim.spectral_norm:.4g}: ‖∂L/∂h_0‖²/‖∂L/∂h_{steps}‖²",
            bound, measured, 2 * steps * (hidden + 2) * U,
            "bound: (σ_max γ)^(2T); slack: float64 rounding of T matrix products",
            relation="<=",
        ))
    return rows


def check_lstm_carousel(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """With no recurrent weights and the loss on c_T, ∂L/∂c_t = g ⊙ ∏_{s>t} f_s exactly
    (the constant error carousel, ∂c_t/∂c_{t−1} = diag(f_t))."""
    steps, hidden = 25, 32
    sim = simulate_lstm(hidden=hidden, steps=steps, batch=16, sigma_w=0.0, forget_bias=1.0,
                        readout="cell", rng=seed, record=True)
    if sim.forget is None or sim.upstream is None:  # pragma: no cover - record=True keeps them
        raise RuntimeError("simulate_lstm(record=True) kept no forget gates")
    carried = sim.upstream.copy()
    predicted = np.empty(steps + 1)
    predicted[steps] = inner(carried, carried) / sim.batch
    for t in range(steps, 0, -1):
        carried = carried * sim.forget[t - 1]
        predicted[t - 1] = inner(carried, carried) / sim.batch
    rel = np.abs(sim.grad_c_sq - predicted) / predicted
    # Two products of ≤ T + 1 factors each, then a sum of positive squares (≤ n + 2 roundings).
    tolerance = 2 * (2 * (steps + 1) + hidden + 2) * U
    return [CheckRow(
        f"LSTM carousel, W = 0: ‖∂L/∂c_0‖² vs ‖g ⊙ ∏ f_t‖² (max over t ≤ {steps})",
        float(predicted[0]), float(sim.grad_c_sq[0]), float(rel.max()), tolerance,
        bool(rel.max() <= tolerance), "=", "float64 rounding bound of the products",
    )]
