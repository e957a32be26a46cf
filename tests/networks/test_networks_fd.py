"""Hand-written LayerNorm / BatchNorm / network backward passes against finite differences."""

import numpy as np
import pytest
import sympy

from symgrad import networks as nw
from symgrad.numeric import norms
from symgrad.numeric.networks import simulate_network

U = 2.0**-53


def _central(f, h):
    return (f(h) - f(-h)) / (2 * h), (f(2 * h) - f(-2 * h)) / (4 * h)


def _check(f, analytic, scale, what):
    # Truncation ≈ |D(h) − D(2h)|/3 (Richardson, ×10 margin); rounding ≤ 64u·scale/h.
    h = 1e-5
    d1, d2 = _central(f, h)
    tol = 10 * abs(d1 - d2) / 3 + 64 * U * scale / h
    assert abs(d1 - analytic) <= tol, f"{what}: FD {d1!r} vs backward {analytic!r}, tol {tol:.3g}"


@pytest.mark.parametrize("axis", [1, 0])
@pytest.mark.parametrize("eps", [0.0, 0.3])
def test_norm_backward_matches_finite_differences(axis, eps):
    rng = np.random.default_rng(axis * 10 + int(eps * 10))
    x = rng.normal(size=(7, 9)) * 2 + 0.5
    g = rng.normal(size=x.shape)
    v = rng.normal(size=x.shape)
    fwd = norms.layernorm_forward if axis == 1 else norms.batchnorm_forward
    bwd = norms.layernorm_backward if axis == 1 else norms.batchnorm_backward
    xhat = np.empty_like(x)
    s = fwd(x, eps, xhat)
    out = np.empty_like(x)
    bwd(g, xhat, s, out)

    def loss(t):
        y = np.empty_like(x)
        fwd(x + t * v, eps, y)
        return float(np.sum(g * y))

    _check(loss, float(np.sum(out * v)), float(np.sum(np.abs(g))) * 3, f"axis {axis}")


def test_layernorm_normalises_exactly():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 64)) * 3 + 1
    xhat = np.empty_like(x)
    norms.layernorm_forward(x, 0.0, xhat)
    assert np.allclose(xhat.sum(axis=1), 0, atol=1e-12)
    assert np.allclose((xhat**2).mean(axis=1), 1, rtol=1e-13)


RELU, TANH = nw.activation("relu"), nw.activation("tanh")
NETS = [
    nw.repeat(nw.serial(nw.dense(1.3, 0.2), TANH), 3),
    nw.repeat(nw.residual(nw.serial(nw.layernorm(eps=0.01), nw.activation("gelu"),
                                    nw.dense(1, 0.1))), 3),
    nw.repeat(nw.serial(nw.residual(nw.serial(TANH, nw.dense(1.5))), nw.layernorm()), 3),
    nw.repeat(nw.serial(nw.dense(1), nw.batchnorm(), TANH), 3),
    nw.repeat(nw.residual(nw.serial(nw.dense(1), TANH, nw.dense(1)), scale=1 / sympy.sqrt(nw.L)),
              3),
]


@pytest.mark.parametrize("net", NETS, ids=[str(n)[:40] for n in NETS])
def test_network_input_gradient_matches_finite_differences(net):
    width, batch = 16, 8
    base = simulate_network(net, width=width, batch=batch, rng=3, trace=True)
    v = np.random.default_rng(1).normal(size=(batch, width))

    def loss(t):
        def nudge(x):
            x += t * v
        return simulate_network(net, width=width, batch=batch, rng=3, nudge=nudge).loss

    analytic = float(np.sum(base.grads[0] * v))
    _check(loss, analytic, abs(base.loss) + float(np.abs(base.grads[0]).sum()) * 10,
           str(net))


def test_traced_gradients_give_the_recorded_norms():
    net = NETS[1]
    sim = simulate_network(net, width=16, batch=8, rng=0, trace=True)
    for i, g in enumerate(sim.grads):
        assert sim.grad_h_sq[i] == pytest.approx(float(np.mean(g * g)), rel=1e-12)
    for i, h in enumerate(sim.hidden):
        assert sim.second_moment[i] == pytest.approx(float(np.mean(h * h)), rel=1e-12)
