"""simulate(): backward pass against finite differences for every activation, seeds,
recorded networks re-evaluated independently, statistics against exact expectations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from _numeric_fd import assert_directional, clear_of_kinks

import symgrad.numeric._rng as rng_module
import symgrad.numeric.backprop as backprop
import symgrad.numeric.mlp as mlp
from symgrad import activation, activation_names
from symgrad.numeric import Init, simulate
from symgrad.numeric.backprop import propagate

ARCHITECTURES = [(False, False), (True, False), (False, True)]


@pytest.fixture(params=["one block", "row blocks"])
def cut(request, monkeypatch):
    """Run these tiny networks both in one block and cut into row blocks on 3 threads (as
    large layers are), whatever this machine's core count."""
    if request.param == "row blocks":
        import symgrad.numeric._parallel as parallel

        request.getfixturevalue("blocks_on_three_threads")
        monkeypatch.setattr(parallel, "MIN_ROWS", 1)
    return request.param


def _small_network(act_name: str, residual: bool, batchnorm: bool):
    """A 3-layer network whose pre-activations all stay 1e-3 away from φ's kinks."""
    phi = activation(act_name)
    widths = (6, 6, 6, 6) if residual else (5, 7, 6, 4)
    for attempt in range(50):
        rs = np.random.default_rng(1000 + attempt)
        ws = [rs.standard_normal((widths[i + 1], widths[i])) * 1.3 / math.sqrt(widths[i])
              for i in range(3)]
        bs = [rs.standard_normal(widths[i + 1]) * 0.3 for i in range(3)]
        x = rs.standard_normal((4, widths[0]))
        g = rs.standard_normal((4, widths[-1]))
        run = propagate(phi, widths, ws.__getitem__, bs.__getitem__, x, g,
                        residual=residual, batchnorm=batchnorm, trace=True)
        inputs_to_phi = run.z if not batchnorm else [
            (z - z.mean(0)) / np.sqrt(z.var(0) + backprop.BN_EPS) for z in run.z]
        if clear_of_kinks(phi, inputs_to_phi, 1e-3):
            return phi, widths, ws, bs, x, g, run, rs
    raise AssertionError("no kink-free draw")  # pragma: no cover


@pytest.mark.parametrize("residual,batchnorm", ARCHITECTURES)
@pytest.mark.parametrize("name", activation_names())
def test_backward_matches_finite_differences(name, residual, batchnorm, cut):
    phi, widths, ws, bs, x, g, run, rs = _small_network(name, residual, batchnorm)
    scale = float(np.sum(np.abs(g * run.a[-1])))
    for kind, grads in (("z", run.dz), ("a", run.da)):
        for layer in range(1, 4):
            v = rs.standard_normal((4, widths[layer]))

            def loss(t, kind=kind, layer=layer, v=v):
                return propagate(phi, widths, ws.__getitem__, bs.__getitem__, x, g,
                                 residual=residual, batchnorm=batchnorm, backward=False,
                                 nudge=(kind, layer, t * v)).loss

            # ops: 3 layers × (GEMM of length ≤ 7 + bias + φ ≤ 8 roundings + batchnorm's 8).
            assert_directional(loss, float(np.vdot(grads[layer - 1], v)), scale=scale + 1,
                               ops=3 * 24, what=f"{name} ∂L/∂{kind}_{layer}")
    # And the gradient reaching the inputs.
    v = rs.standard_normal(x.shape)
    assert_directional(
        lambda t: propagate(phi, widths, ws.__getitem__, bs.__getitem__, x + t * v, g,
                            residual=residual, batchnorm=batchnorm, backward=False).loss,
        float(np.vdot(_input_grad(run, ws, residual), v)),
        scale=scale + 1, ops=3 * 24, what=f"{name} ∂L/∂x")


def _input_grad(run, ws, residual):
    back = run.dz[0] @ ws[0]
    return back + run.da[0] if residual else back


def _independent_norms(phi, weights, biases, x, g, *, residual=False):
    """A second, plain implementation: forward keeping everything, backward by the
    chain rule written with einsum."""
    acts, zs = [x], []
    for w, b in zip(weights, biases, strict=True):
        z = np.einsum("bi,oi->bo", acts[-1], w) + b
        zs.append(z)
        acts.append(acts[-1] + phi.numpy(z) if residual else phi.numpy(z))
    grad_a, grad_z = [None] * len(weights), [None] * len(weights)
    d = g
    for layer in reversed(range(len(weights))):
        grad_a[layer] = np.mean(np.sum(d * d, axis=1))
        dz = d * phi.numpy_prime(zs[layer])
        grad_z[layer] = np.mean(np.sum(dz * dz, axis=1))
        d = np.einsum("bo,oi->bi", dz, weights[layer]) + (d if residual else 0)
    second = [np.mean(z * z) for z in zs]
    return np.array(grad_a), np.array(grad_z), np.array(second)


@pytest.mark.parametrize("init", list(Init))
@pytest.mark.parametrize("name,residual", [("tanh", False), ("relu", True), ("gelu", False)])
def test_recorded_network_reevaluates_to_the_same_norms(name, residual, init, cut):
    sim = simulate(name, width=24 if residual else [10, 24, 16, 8], depth=3, sigma_w=1.2,
                   sigma_b=0.1, batch=9, init=init, residual=residual, rng=5, record=True)
    assert [w.shape for w in sim.weights] == (
        [(24, 24)] * 3 if residual else [(24, 10), (16, 24), (8, 16)])
    assert sim.inputs.shape == (9, sim.widths[0]) and sim.upstream.shape == (9, sim.widths[-1])
    grad_a, grad_z, second = _independent_norms(
        activation(name), sim.weights, sim.biases, sim.inputs, sim.upstream, residual=residual)
    # Two summation orders of the same ≤ 24-term sums, over 3 layers: 1e-12 relative is
    # ~50 × (24·3)·u, ample for reassociation but far below any real discrepancy.
    np.testing.assert_allclose(sim.grad_a_sq, grad_a, rtol=1e-12)
    np.testing.assert_allclose(sim.grad_z_sq, grad_z, rtol=1e-12)
    np.testing.assert_allclose(sim.preact_second_moment, second, rtol=1e-12)


@pytest.mark.parametrize("seed_kind", ["int", "seedsequence", "generator"])
def test_same_seed_is_bit_identical(seed_kind):
    def make():
        return {"int": 11, "seedsequence": np.random.SeedSequence(11),
                "generator": np.random.default_rng(11)}[seed_kind]

    kwargs = dict(width=48, depth=5, sigma_w=1.5, sigma_b=0.2, batch=7, init="orthogonal")
    a = simulate("tanh", rng=make(), **kwargs)
    b = simulate("tanh", rng=make(), **kwargs)
    c = simulate("tanh", rng=12, **kwargs)
    for field in ("grad_z_sq", "grad_a_sq", "preact_mean", "preact_second_moment",
                  "saturated_fraction", "slope_mean"):
        assert np.array_equal(getattr(a, field), getattr(b, field)), field
    assert not np.array_equal(a.grad_a_sq, c.grad_a_sq)


def test_memory_policies_and_threads_do_not_change_results(monkeypatch):
    kwargs = dict(width=600, depth=3, sigma_w=1.0, batch=5, rng=3)
    kept = simulate("sigmoid", **kwargs)
    monkeypatch.setattr(mlp, "_KEEP_WEIGHTS_BYTES", 0)  # re-draw weights in the backward pass
    redrawn = simulate("sigmoid", **kwargs)
    monkeypatch.setattr(rng_module, "_pool", lambda: None)  # one thread draws every block
    serial = simulate("sigmoid", **kwargs)
    for other in (redrawn, serial):
        assert np.array_equal(kept.grad_a_sq, other.grad_a_sq)
        assert np.array_equal(kept.preact_second_moment, other.preact_second_moment)


def test_upstream_and_inputs_are_used_as_given():
    x = np.ones((3, 4))
    sim = simulate("identity", width=4, depth=1, sigma_w=1.0, batch=3, inputs=x,
                   upstream=[1.0, 0.0, 0.0, 0.0], rng=0, record=True)
    # Identity net: ∂L/∂a_1 = g, so its batch-mean squared norm is exactly 1.
    assert sim.grad_a_sq[0] == 1.0
    assert np.array_equal(sim.inputs, x)
    # ∂L/∂x = g W: row 0 of W, for every item.
    assert sim.grad_input_sq == pytest.approx(float(np.sum(sim.weights[0][0] ** 2)), rel=1e-15)


def test_relu_saturation_and_dead_units_match_their_probabilities():
    # One Gaussian layer, batch 1: given x, the z_j = w_j·x are iid N(0, σ_w²‖x‖²/n), so
    # every unit is dead (z ≤ 0) independently with probability exactly 1/2:
    # SE = √(1/4 / n); tolerance 4.5 SE.
    n = 4096
    sim = simulate("relu", width=n, depth=1, sigma_w=1.0, batch=1, rng=2)
    assert abs(sim.dead_fraction[0] - 0.5) <= 4.5 * math.sqrt(0.25 / n)
    assert sim.saturated_fraction[0] == sim.dead_fraction[0]  # batch 1: same event
    assert simulate("tanh", width=8, depth=1, sigma_w=1.0, batch=2, rng=0).dead_fraction is None


def test_sigmoid_saturated_fraction_matches_the_gaussian_tail():
    # σ'(z) = 1/(4 cosh²(z/2)) < ε  ⇔  |z| > t = 2 arccosh(1/(2√ε));  z ~ N(0, q) iid
    # (orthogonal layer, Gaussian inputs), so P = erfc(t/√(2q)); SE = √(P(1−P)/N).
    eps, q, n, batch = 0.01, 16.0, 256, 512
    sim = simulate("sigmoid", width=n, depth=1, sigma_w=math.sqrt(q), batch=batch,
                   init="orthogonal", eps=eps, rng=4)
    t = 2 * math.acosh(1 / (2 * math.sqrt(eps)))
    p = math.erfc(t / math.sqrt(2 * q))
    assert abs(sim.saturated_fraction[0] - p) <= 4.5 * math.sqrt(p * (1 - p) / (n * batch))


@pytest.mark.parametrize("init", [Init.GAUSSIAN, Init.XAVIER_NORMAL, Init.XAVIER_UNIFORM,
                                  Init.HE_NORMAL, Init.HE_UNIFORM])
def test_weight_variance_of_each_scheme(init):
    from symgrad.numeric import draw_weights, weight_variance
    from symgrad.numeric._rng import root_seed

    n_out, n_in = 300, 500
    w = draw_weights(init, n_out, n_in, sigma_w=1.7, seed=root_seed(9))
    # Closed forms, written out independently of the code under test.
    expected = {Init.GAUSSIAN: 1.7**2 / n_in, Init.XAVIER_NORMAL: 1.7**2 * 2 / (n_in + n_out),
                Init.XAVIER_UNIFORM: 1.7**2 * 2 / (n_in + n_out), Init.HE_NORMAL:
                1.7**2 * 2 / n_in, Init.HE_UNIFORM: 1.7**2 * 2 / n_in}[init]
    assert weight_variance(init, n_out, n_in, sigma_w=1.7) == pytest.approx(expected, rel=1e-15)
    # The sample mean of w² has SE = Var·√(κ − 1)/√N, κ the kurtosis: 3 for a normal,
    # 9/5 for a uniform.
    kurtosis = 1.8 if init in (Init.XAVIER_UNIFORM, Init.HE_UNIFORM) else 3.0
    se = expected * math.sqrt((kurtosis - 1) / w.size)
    assert abs(np.mean(w**2) - expected) <= 4.5 * se
    if kurtosis == 1.8:
        assert np.max(np.abs(w)) <= math.sqrt(3 * expected)


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7)])
def test_orthogonal_weights_are_orthogonal(shape):
    from symgrad.numeric import draw_weights
    from symgrad.numeric._rng import root_seed

    w = draw_weights("orthogonal", *shape, sigma_w=0.5, seed=root_seed(1))
    small = min(shape)
    gram = w.T @ w if shape[0] >= shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 0.25 * np.eye(small), atol=50 * small * 2.0**-53)


def test_no_overflow_warnings_at_huge_preactivations():
    # filterwarnings = error turns any overflow warning into a failure.
    for name in activation_names():
        sim = simulate(name, width=16, depth=3, sigma_w=3000.0, batch=4, rng=0)
        assert np.isfinite(sim.grad_z_sq).all(), name
        assert np.isfinite(sim.preact_second_moment).all(), name


def test_record_summary_renders():
    sim = simulate("tanh", width=8, depth=2, sigma_w=1.0, batch=2, rng=0)
    text = sim._repr_markdown_()
    assert "Simulation" in text and "tanh" in text


def test_memory_is_what_the_outputs_need(monkeypatch):
    """With weights re-drawn, the peak is a few weight matrices plus φ' per layer — not
    the whole stack (20 matrices of 2 MiB)."""
    import tracemalloc

    width, depth, batch = 512, 20, 16
    matrix = 8 * width * width
    slopes = 8 * batch * width * depth
    monkeypatch.setattr(mlp, "_KEEP_WEIGHTS_BYTES", 0)
    simulate("tanh", width=width, depth=depth, sigma_w=1.0, batch=batch, rng=0)  # warm up
    tracemalloc.start()
    try:
        simulate("tanh", width=width, depth=depth, sigma_w=1.0, batch=batch, rng=0)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # At most: the matrix in use, the two drawn ahead, the slopes, and O(batch·width)
    # workspaces (one matrix's worth is ample for those).
    assert peak < 4 * matrix + slopes, (peak, matrix)
    assert peak < depth * matrix / 2
