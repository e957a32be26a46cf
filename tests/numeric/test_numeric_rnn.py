"""RNN and LSTM backpropagation through time against finite differences; the scalar chain."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _numeric_fd import assert_directional, clear_of_kinks
from hypothesis import assume, given, settings

from symgrad import activation, chain_trace
from symgrad.numeric import Readout, simulate_chain, simulate_lstm, simulate_rnn
from symgrad.numeric.rnn import lstm_pass, rnn_pass
from symgrad.strategies import activations, depths, preactivations, weights


@pytest.mark.parametrize("name", ["tanh", "sigmoid"])
def test_rnn_bptt_matches_finite_differences(name):
    phi = activation(name)
    rs = np.random.default_rng(3)
    n, m, steps, batch = 5, 3, 6, 4
    w = rs.standard_normal((n, n)) * 0.8
    u = rs.standard_normal((n, m))
    b = rs.standard_normal(n) * 0.3
    xs = rs.standard_normal((steps, batch, m))
    g = rs.standard_normal((batch, n))
    _, grads = rnn_pass(phi, w, u, b, xs, g)
    scale = float(np.sum(np.abs(g))) + 1
    for t in range(steps + 1):
        v = rs.standard_normal((batch, n))
        assert_directional(
            lambda s, t=t, v=v: rnn_pass(phi, w, u, b, xs, g, nudge=(t, s * v),
                                         backward=False)[0],
            float(np.vdot(grads[t], v)), scale=scale, ops=steps * (n + m + 8),
            what=f"{name} RNN ∂L/∂h_{t}")


@pytest.mark.parametrize("readout", list(Readout))
def test_lstm_bptt_matches_finite_differences(readout):
    rs = np.random.default_rng(4)
    n, m, steps, batch = 4, 3, 5, 3
    w = rs.standard_normal((4 * n, n)) * 0.6
    u = rs.standard_normal((4 * n, m))
    b = rs.standard_normal(4 * n) * 0.3
    xs = rs.standard_normal((steps, batch, m))
    g = rs.standard_normal((batch, n))
    _, dhs, dcs, _ = lstm_pass(w, u, b, xs, g, readout)
    scale = float(np.sum(np.abs(g))) + 1
    for kind, grads in (("h", dhs), ("c", dcs)):
        for t in range(steps + 1):
            v = rs.standard_normal((batch, n))
            assert_directional(
                lambda s, kind=kind, t=t, v=v: lstm_pass(
                    w, u, b, xs, g, readout, nudge=(kind, t, s * v), backward=False)[0],
                float(np.vdot(grads[t], v)), scale=scale, ops=steps * (n + m + 20),
                what=f"LSTM ({readout.value}) ∂L/∂{kind}_{t}")


def test_rnn_record_and_spectral_norm():
    sim = simulate_rnn("tanh", hidden=16, steps=12, batch=5, sigma_w=0.7, init="orthogonal",
                       rng=0, record=True)
    # σ_w·Q: every singular value is σ_w.
    assert sim.spectral_norm == pytest.approx(0.7, rel=1e-13)
    assert sim.grad_h_sq.shape == (13,)
    # Re-run the recorded RNN by hand: h_t = tanh(W h + U x + b), then BPTT.
    h = np.zeros((5, 16))
    slopes = []
    for t in range(12):
        zt = h @ sim.recurrent.T + sim.inputs[t] @ sim.input_weights.T + sim.bias
        h = np.tanh(zt)
        slopes.append(1 - h**2)
    d = sim.upstream
    for t in reversed(range(12)):
        d = (d * slopes[t]) @ sim.recurrent
    # Same arithmetic up to summation order: 12 steps × ≤ 2·(16 + 3) roundings, each
    # carried by factors ≤ σ_w·sup tanh' = 0.7 < 1: ≤ 12·38·u ≈ 5e-14, so 1e-12 relative.
    assert sim.grad_h_sq[0] == pytest.approx(np.mean(np.sum(d * d, axis=1)), rel=1e-12)


def test_lstm_record_shapes_and_forget_gates():
    sim = simulate_lstm(hidden=8, steps=6, batch=3, sigma_w=0.5, forget_bias=3.0, rng=1,
                        record=True)
    assert sim.forget.shape == (6, 3, 8)
    assert sim.grad_h_sq.shape == sim.grad_c_sq.shape == (7,)
    # The forget gate is σ(3 + noise): between 0 and 1, mostly near σ(3) ≈ 0.95.
    assert np.all((sim.forget > 0) & (sim.forget < 1))
    assert 0.8 < float(np.mean(sim.forget)) < 1.0


def test_rnn_same_seed_bit_identical():
    a = simulate_rnn("sigmoid", hidden=10, steps=5, batch=2, sigma_w=2.0, rng=7)
    b = simulate_rnn("sigmoid", hidden=10, steps=5, batch=2, sigma_w=2.0, rng=7)
    assert np.array_equal(a.grad_h_sq, b.grad_h_sq)


@pytest.mark.parametrize("name,w,b", [("sigmoid", 0.7, 0.2), ("tanh", -1.3, 0.0)])
@pytest.mark.parametrize("residual", [False, True])
def test_chain_gradients_match_finite_differences(name, w, b, residual):
    depth, x0 = 6, 0.3

    def out(x):
        return simulate_chain(name, depth=depth, weight=w, bias=b, x=x, residual=residual).a[-1]

    sim = simulate_chain(name, depth=depth, weight=w, bias=b, x=x0, residual=residual)
    assert_directional(lambda t: out(x0 + t), sim.grad_input, scale=1.0, ops=depth * 8,
                       what="∂a_depth/∂x")


def test_chain_weight_gradients_match_finite_differences():
    ws = [0.5, -1.2, 0.8, 1.5]
    sim = simulate_chain("tanh", depth=4, weight=ws, bias=0.1, x=0.7, upstream=2.0)
    for k in range(4):
        def loss(t, k=k):
            bumped = list(ws)
            bumped[k] += t
            return 2.0 * simulate_chain("tanh", depth=4, weight=bumped, bias=0.1, x=0.7).a[-1]

        assert_directional(loss, sim.grad_w[k], scale=2.0, ops=32, what=f"∂L/∂w_{k + 1}")


def test_chain_product_formula():
    # ∂L/∂a_1 = ∏_{k≥2} w φ'(z_k): written out from the forward values.
    sim = simulate_chain("sigmoid", depth=5, weight=1.5, bias=-0.5)
    s = 1 / (1 + np.exp(-sim.z))
    product = np.prod(1.5 * s[1:] * (1 - s[1:]))
    assert sim.grad_a[0] == pytest.approx(product, rel=1e-14)
    assert math.isclose(sim.grad_a[-1], 1.0)


@settings(max_examples=25, deadline=None)
@given(act=activations(), w=weights(bound=3.0, nonzero=True), depth=depths(max_depth=8),
       x0=preactivations(bound=3.0))
def test_chain_input_gradient_law(act, w, depth, x0):
    """Law, for any registered activation: float64 ∂a_depth/∂x equals the central
    difference (away from kinks, where it is not defined)."""
    def run(x):
        return simulate_chain(act, depth=depth, weight=w, bias=0.1, x=x)

    sim = run(x0)
    assume(clear_of_kinks(act, [sim.z], 1e-3))
    assume(np.isfinite(sim.a).all() and np.max(np.abs(sim.a)) < 1e6)
    assert_directional(lambda t: run(x0 + t).a[-1], sim.grad_input,
                       scale=1.0 + float(np.max(np.abs(sim.a))), ops=depth * 8,
                       what=f"{act.label} w={w} depth={depth} ∂a/∂x")


@pytest.mark.parametrize("w", [0.1, 0.5, 2.0, -1.3])
@pytest.mark.parametrize("name", ["sigmoid", "tanh", "relu", "softplus", "elu", "gelu",
                                  "softsign"])
def test_float_chain_equals_the_30_digit_trace(name, w):
    # The contract: the float64 scalar chain equals chain_trace wherever float64
    # represents the values.  Tolerance, derived: per layer ≤ 8 roundings (w·a + b, φ, φ',
    # two backward products) of u = 2⁻⁵³ each, carried forward and backward by factors of
    # at most max(1, |w|)·max(1, sup|φ'|, sup|φ''/φ'|) ≤ 2 for these activations and
    # |w| ≤ 2, over 6 layers: 6·8·2⁶·u ≈ 3.4e-13 < 1e-12 relative.
    depth, x0, b = 6, 0.7, 0.1
    sim = simulate_chain(name, depth=depth, weight=w, bias=b, x=x0)
    trace = chain_trace(name, depth=depth, weight=w, bias=b, x=x0)
    for k, row in enumerate(trace.rows):
        for field in ("z", "a", "slope", "grad_a", "grad_z", "grad_w"):
            assert getattr(sim, field)[k] == pytest.approx(float(getattr(row, field)),
                                                           rel=1e-12, abs=0), (field, k)
