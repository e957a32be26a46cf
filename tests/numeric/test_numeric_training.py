"""train() and compare(): the backward pass, determinism, and the sigmoid plateau."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _numeric_fd import assert_directional, clear_of_kinks

from symgrad import activation, activation_names
from symgrad.numeric.training import compare, loss_and_gradients, train


@pytest.mark.parametrize("name", activation_names())
def test_weight_gradients_match_finite_differences(name):
    phi = activation(name)
    for attempt in range(50):
        rs = np.random.default_rng(200 + attempt)
        sizes = (3, 5, 4)
        ws = [rs.standard_normal((sizes[i + 1], sizes[i])) for i in range(2)]
        ws.append(rs.standard_normal((1, 4)))
        bs = [rs.standard_normal(5) * 0.2, rs.standard_normal(4) * 0.2, np.zeros(1)]
        x = rs.standard_normal((6, 3))
        y = (rs.random(6) > 0.5).astype(float)
        z1 = x @ ws[0].T + bs[0]
        z2 = phi.numpy(z1) @ ws[1].T + bs[1]
        if clear_of_kinks(phi, [z1, z2], 1e-3):
            break
    _, gw, gb, _ = loss_and_gradients(phi, ws, bs, x, y)
    for layer in range(3):
        v = rs.standard_normal(ws[layer].shape)

        def loss(t, layer=layer, v=v):
            bumped = [w.copy() for w in ws]
            bumped[layer] += t * v
            return loss_and_gradients(phi, bumped, bs, x, y)[0]

        assert_directional(loss, float(np.vdot(gw[layer], v)), scale=10.0, ops=40,
                           what=f"{name} ∂L/∂W_{layer + 1}")
        vb = rs.standard_normal(bs[layer].shape)

        def loss_b(t, layer=layer, vb=vb):
            bumped = [b.copy() for b in bs]
            bumped[layer] += t * vb
            return loss_and_gradients(phi, ws, bumped, x, y)[0]

        assert_directional(loss_b, float(np.vdot(gb[layer], vb)), scale=10.0, ops=40,
                           what=f"{name} ∂L/∂b_{layer + 1}")


def test_same_seed_same_run_and_initial_loss():
    a = train("tanh", depth=2, width=8, epochs=2, rng=3)
    b = train("tanh", depth=2, width=8, epochs=2, rng=3)
    assert np.array_equal(a.loss, b.loss) and np.array_equal(a.update_norm, b.update_norm)
    assert a.loss.shape == (3,) and a.update_norm.shape == (2, 3)


def test_sigmoid_plateaus_and_its_first_layer_barely_moves():
    """The classic picture (Glorot and Bengio 2010), same data, init and minibatch order.

    Thresholds, and why:
    * The task is balanced, so the best constant predictor has loss ln 2.  A net that has
      learned nothing beyond that stays at ≥ ln 2 − 0.02 (0.02 nats allows the small gain
      from fitting the readout bias to sampling noise); the relu net must reach
      ≤ ln 2 / 2, i.e. it has genuinely learned the sphere.
    * Backward, each sigmoid layer multiplies by at most σ_max(W)/4, and σ_max of a square
      N(0, 1/n) matrix is ≈ 2 (the Marchenko–Pastur edge), so the 4 layers between
      layer 1 and layer 5 shrink its gradient by ≈ (2/4)⁴ = 1/16 or more, while the inputs
      to both layers have comparable norms (‖x‖² ≈ 8 features, ‖a‖² ≈ 32·0.3).  We require
      the sigmoid's layer-1 total movement to be below 1/16 of its layer-5 movement, and
      the relu's (whose slope is 1, not capped at 1/4) to be above 1/16 of its own.
    """
    cmp = compare("sigmoid", "relu", depth=5, width=32, epochs=15, rng=0)
    sig, relu = cmp.first, cmp.second
    assert sig.loss[0] != relu.loss[0]  # the activations differ…
    np.testing.assert_array_equal(sig.grad_norm.shape, relu.grad_norm.shape)
    plateau = math.log(2) - 0.02
    assert np.all(sig.loss[1:] >= plateau), sig.loss
    assert relu.loss[-1] <= math.log(2) / 2, relu.loss
    sig_moved, relu_moved = sig.total_update(), relu.total_update()
    assert sig_moved[0] < sig_moved[4] / 16, sig_moved
    assert relu_moved[0] > relu_moved[4] / 16, relu_moved


def test_compare_gives_both_runs_the_same_data_weights_and_order():
    # The same activation given once as a mapping and once as a name: if both runs got
    # the same data, initial weights and minibatch order, they are bit-identical.
    cmp = compare({"act": "tanh", "lr": 0.1}, "tanh", depth=2, width=6, epochs=2, rng=4,
                  lr=0.1)
    assert np.array_equal(cmp.first.loss, cmp.second.loss)
    assert np.array_equal(cmp.first.update_norm, cmp.second.update_norm)
    # …and a different seed changes them.
    other = compare("tanh", "tanh", depth=2, width=6, epochs=2, rng=5, lr=0.1)
    assert not np.array_equal(other.first.loss, cmp.first.loss)


def test_shift_moves_the_inputs_only():
    """shift = 0 is the default run bit for bit; another shift changes the run, and the
    record says which shift it was."""
    base = train("tanh", depth=2, width=8, epochs=2, rng=3)
    zero = train("tanh", depth=2, width=8, epochs=2, rng=3, shift=0.0)
    assert np.array_equal(base.loss, zero.loss) and zero.shift == 0.0
    shifted = train("tanh", depth=2, width=8, epochs=2, rng=3, shift=1.0)
    assert shifted.shift == 1.0 and not np.array_equal(base.loss, shifted.loss)


def test_shifted_inputs_remove_the_first_layer_gap_of_a_sigmoid_net():
    """∂L/∂W_1 = Σ_n δ_{1,n} x_nᵀ: with centred x only the part of δ correlated with x
    survives, while a hidden layer's inputs (sigmoid outputs near 1/2) add the mean error
    coherently.  So the first layer-to-layer factor is far above the hidden ones (≈ 4,
    the slope's 1/4 against σ_max(W) ≈ 1) for centred inputs, and in line with them once
    the inputs are shifted.  Thresholds: 4 + 4 = 8 separates ≈ 4.5 from ≈ 78 with room
    on both sides (seeded runs)."""
    factors = {}
    for shift in (0.0, 1.0):
        run = train("sigmoid", depth=5, width=32, epochs=1, lr=0.05, shift=shift, rng=0)
        g = run.grad_norm[:5]
        factors[shift] = g[1:] / g[:-1]
    hidden = factors[0.0][1:]
    assert np.all((hidden > 2) & (hidden < 8)), factors
    assert factors[0.0][0] > 4 * max(hidden), factors
    assert factors[1.0][0] < 8, factors


def test_smoothed_loss_is_the_mean_and_spread_of_the_last_epochs():
    run = train("relu", depth=2, width=8, epochs=6, lr=0.1, rng=2)
    mean, sd, lo, hi = run.smoothed_loss(4)
    tail = [float(v) for v in run.loss[-4:]]
    assert mean == pytest.approx(sum(tail) / 4, rel=1e-15)
    assert sd == pytest.approx(math.sqrt(sum((v - mean) ** 2 for v in tail) / 4), rel=1e-12)
    assert (lo, hi) == (min(tail), max(tail))
    # More epochs asked for than were run: all of them (the initial loss excluded).
    assert run.smoothed_loss(100)[0] == pytest.approx(float(np.mean(run.loss[1:])))
