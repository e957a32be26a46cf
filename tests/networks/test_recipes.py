"""The recipes as theorems: predict's depth laws against closed forms derived here.

Derivations (relu: E[relu(u)²] = q/2 and E[relu'(u)²] = 1/2 for u ~ N(0, q); a dense
layer of gain g and init factor v multiplies the second moment by v·g²):

* resnet, branch φ → W (gain σ), scale s: the branch's backward factor is s²σ²/2 at
  every K (relu is positively homogeneous), so J^{L,0} = (1 + s²σ²/2)^L exactly;
  s = a/√L gives (1 + a²σ²/(2L))^L → e^{a²σ²/2}, s = a/L gives (1 + a²σ²/(2L²))^L → 1.
* Fixup, m layers per branch (He, v = 2), the first m − 1 with gain L^{−1/(2m−2)}, the
  last with gain ε: the branch factor is (1/2)^m · (2L^{−1/(m−1)})^{m−1} · 2ε² = ε²/L,
  so J^{L,0} = (1 + ε²/L)^L → e^{ε²} for every m; with ε = 0, J = 1, the second moment
  stays q0, and only the last layer of each branch gets a gradient:
  ‖∂L/∂W_m‖²/N² = E[δ²]·E[a²] = 1·q0/(2L) in every block (a = relu of a second moment
  q0·L^{−1}).
* ReZero (scale 0): J = 1 and every h_l = h_0.
* pre-LN, scale s = a/√L: LN feeds unit variance, so K_l = K_0 + l·a²σ²/(2L) and the
  block factor is 1 + (a²σ²/(2L))/K_{l−1}; the product telescopes to
  (K_0 + a²σ²/2)/K_0 = 1 + a²σ²/(2K_0) at every depth; with s = a/L it is
  1 + a²σ²/(2K_0 L) → 1.
"""

import math

import numpy as np
import pytest
import sympy

from symgrad import InvalidArgument
from symgrad import networks as nw
from symgrad.numeric.networks import simulate_network

Ls = nw.L


@pytest.mark.parametrize("scale, sigma_w, depth", [(1, 1, 12), (sympy.Rational(1, 2), 2, 30),
                                                   (3, sympy.sqrt(2), 5)])
def test_resnet_relu_is_a_power_of_its_block_factor(scale, sigma_w, depth):
    p = nw.predict(nw.resnet("relu", depth, sigma_w=sigma_w, scale=scale))
    factor = 1 + sympy.sympify(scale) ** 2 * sympy.sympify(sigma_w) ** 2 / 2
    assert sympy.simplify(p.jacobian_exact - factor**depth) == 0
    assert p.law.kind == "exponential" and sympy.simplify(p.law.constant - factor) == 0
    assert p.grad_h_sq[0] == pytest.approx(float(factor**depth), rel=1e-13)


@pytest.mark.parametrize("a, sigma_w", [(1, 1), (2, sympy.Rational(1, 2)), (sympy.sqrt(3), 1)])
def test_one_over_sqrt_depth_is_bounded_by_exp_a2_sigma2_over_2(a, sigma_w):
    depth = 64
    p = nw.predict(nw.resnet("relu", depth, sigma_w=sigma_w, scale=a / sympy.sqrt(Ls)))
    c = sympy.sympify(a) ** 2 * sympy.sympify(sigma_w) ** 2 / 2
    assert p.law.kind == "bounded"
    assert sympy.simplify(p.law.constant - sympy.exp(c)) == 0
    assert sympy.simplify(p.law.formula - (1 + c / Ls) ** Ls) == 0
    assert p.grad_h_sq[0] == pytest.approx(float((1 + c / depth) ** depth), rel=1e-12)
    assert p.law.how("constant").kind.value == "exact"


def test_one_over_depth_tends_to_one():
    depth, a = 50, 3
    p = nw.predict(nw.resnet("relu", depth, scale=sympy.Integer(a) / Ls))
    c = sympy.Rational(a**2, 2)
    assert p.law.kind == "bounded" and p.law.constant == 1
    assert sympy.simplify(p.law.formula - (1 + c / Ls**2) ** Ls) == 0
    assert p.grad_h_sq[0] == pytest.approx((1 + a**2 / 2 / depth**2) ** depth, rel=1e-12)


@pytest.mark.parametrize("m", [2, 3, 5])
def test_fixup_zero_init_passes_the_gradient_and_feeds_only_the_last_layers(m):
    depth, q0 = 40, 3
    p = nw.predict(nw.fixup("relu", depth, m=m), q0=q0)
    assert p.jacobian_exact == 1 and p.law.kind == "bounded" and p.law.constant == 1
    assert np.all(p.second_moment == q0)
    assert np.allclose(p.grad_w_sq, q0 / (2 * depth), rtol=1e-13, atol=0)
    # Simulated: with W_m = 0 the backward pass is exactly the identity.
    sim = simulate_network(nw.fixup("relu", 6, m=m), width=32, batch=8, rng=m)
    assert np.all(sim.grad_h_sq == sim.grad_h_sq[-1])
    assert np.all(sim.second_moment == sim.second_moment[0])


@pytest.mark.parametrize("m, eps", [(2, sympy.Rational(1, 2)), (3, 1), (4, sympy.Rational(3, 2))])
def test_fixup_with_a_moved_last_layer_is_bounded_by_exp_eps2_for_every_m(m, eps):
    depth = 36
    p = nw.predict(nw.fixup("relu", depth, m=m, last=eps))
    assert p.law.kind == "bounded"
    assert sympy.simplify(p.law.constant - sympy.exp(eps**2)) == 0
    assert p.grad_h_sq[0] == pytest.approx(float((1 + eps**2 / depth) ** depth), rel=1e-12)


def test_rezero_is_the_identity():
    p = nw.predict(nw.rezero("tanh", 25), q0=2)
    assert p.jacobian_exact == 1 and p.law.kind == "bounded"
    assert np.all(p.grad_h_sq == 1) and np.all(p.second_moment == 2)


@pytest.mark.parametrize("a, sigma_w, q0", [(1, 1, 1), (2, 1, 3), (1, 2, sympy.Rational(1, 2))])
def test_pre_ln_with_one_over_sqrt_depth_is_the_same_at_every_depth(a, sigma_w, q0):
    expected = 1 + sympy.Rational(a**2 * sigma_w**2, 2) / q0
    for depth in (3, 40, 500):
        p = nw.predict(nw.pre_ln("relu", depth, sigma_w=sigma_w, scale=a / sympy.sqrt(Ls)),
                       q0=q0)
        assert p.grad_h_sq[0] == pytest.approx(float(expected), rel=1e-12)
    assert p.law.kind == "bounded" and sympy.simplify(p.law.constant - expected) == 0


def test_pre_ln_with_one_over_depth_tends_to_one():
    depth = 200
    p = nw.predict(nw.pre_ln("relu", depth, scale=1 / Ls))
    assert p.law.kind == "bounded" and p.law.constant == 1
    assert p.grad_h_sq[0] == pytest.approx(1 + 1 / (2 * depth), rel=1e-12)


def test_recipes_build_what_they_say():
    assert str(nw.mlp("tanh", 3, sigma_w=2)) == "repeat(serial(dense(2), activation(tanh)), 3)"
    assert str(nw.post_ln("relu", 2)) == ("repeat(serial(residual(serial(activation(relu),"
                                          " dense(1))), layernorm()), 2)")
    assert str(nw.bn_mlp("relu", 2, batch=64)) == ("repeat(serial(dense(1), batchnorm(batch=64),"
                                                   " activation(relu)), 2)")
    branch = nw.fixup("relu", 4, m=3).block.branch.layers
    assert [type(b).__name__ for b in branch] == ["Activate", "Dense"] * 3
    assert branch[1].sigma_w == Ls ** sympy.Rational(-1, 4) and branch[-1].sigma_w == 0
    assert math.isclose(float(nw.predict(nw.rezero("relu", 3)).grad_h_sq[0]), 1.0)


@pytest.mark.parametrize("call, message", [
    (lambda: nw.fixup("relu", 4, m=1), "m must be"),
    (lambda: nw.fixup("relu", 4, m=17), "at most 16"),
    (lambda: nw.fixup("relu", 4, last=-1), "sigma_w"),
    (lambda: nw.resnet("relu", 0), "depth"),
    (lambda: nw.mlp("nope", 3), "unknown activation"),
])
def test_invalid_recipes(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()
