"""predict and depth laws against closed forms derived here and mpmath recursions."""

import json
import math

import mpmath
import numpy as np
import pytest
import sympy

from symgrad import InvalidArgument
from symgrad import networks as nw

RELU = nw.activation("relu")
Ls = sympy.Symbol("L", positive=True)


def pre_ln(act="relu", sigma_w=1, sigma_b=0, scale=1):
    return nw.residual(nw.serial(nw.layernorm(), nw.activation(act), nw.dense(sigma_w, sigma_b)),
                       scale=scale)


@pytest.mark.parametrize("sigma_w, q0, depth",
                         [(1, 1, 40), (2, 3, 7), (sympy.Rational(1, 2), 2, 100)])
def test_pre_ln_relu_is_linear_in_depth(sigma_w, q0, depth):
    # Derived here: K_{l+1} = K_l + σ_w²/2 (LN feeds unit variance; E relu(Z)² = 1/2) and
    # G_l = G_{l+1}(1 + σ_w²/(2K_l)): the product telescopes to 1 + σ_w²L/(2K₀).
    p = nw.predict(nw.repeat(pre_ln(sigma_w=sigma_w), depth), q0=q0)
    expected = 1 + sympy.Rational(sigma_w) ** 2 * depth / (2 * sympy.Rational(q0))
    assert p.jacobian_exact == expected
    assert p.grad_h_sq[0] == pytest.approx(float(expected), rel=1e-13)
    assert p.law.kind == "power" and p.law.constant == 1
    assert p.how("jacobian_exact").kind.value == "exact"


def test_pre_ln_with_bias_has_exponent_from_the_ratio():
    # exponent y = σ_w²S/(σ_w²V + σ_b²) with V = S = 1/2 for relu.
    law = nw.predict(nw.repeat(pre_ln(sigma_w=1, sigma_b=1), 10)).law
    assert law.kind == "power" and law.constant == sympy.Rational(1, 3)


@pytest.mark.parametrize("sigma_w", [1, 2])
def test_residual_relu_is_exponential(sigma_w):
    net = nw.repeat(nw.residual(nw.serial(RELU, nw.dense(sigma_w))), 12)
    p = nw.predict(net)
    factor = 1 + sympy.Integer(sigma_w) ** 2 / 2
    assert p.law.kind == "exponential" and p.law.constant == factor
    assert p.jacobian_exact == factor**12
    assert p.grad_h_sq[0] == pytest.approx(float(factor**12), rel=1e-13)


def test_branch_scales_one_over_sqrt_depth_and_one_over_depth_are_bounded():
    a, sw = 2, 1
    plain = nw.serial(RELU, nw.dense(sw))
    law = nw.predict(nw.repeat(nw.residual(plain, scale=a / sympy.sqrt(nw.L)), 30)).law
    limit = sympy.exp(sympy.Rational(a**2 * sw**2, 2))
    assert law.kind == "bounded" and sympy.simplify(law.constant - limit) == 0
    law = nw.predict(nw.repeat(nw.residual(plain, scale=a / nw.L), 30)).law
    assert law.kind == "bounded" and law.constant == 1
    law = nw.predict(nw.repeat(nw.residual(plain, scale=a / nw.L ** sympy.Rational(1, 4)), 30)).law
    assert law.kind == "stretched_exponential" and law.power == sympy.Rational(1, 2)
    assert law.constant == sympy.Rational(a**2 * sw**2, 2)


def test_rezero_and_fixup():
    net = nw.repeat(nw.residual(nw.serial(RELU, nw.dense(1)), scale=0), 50)
    p = nw.predict(net)
    assert p.law.kind == "bounded" and p.jacobian_exact == 1
    # Fixup, m = 2 layers per branch each scaled by L^{−1/(2m−2)} = L^{−1/2}: the branch's
    # factor is σ_w⁴/(2L²)... per block 1 + L^{−2}/2 → bounded, limit 1.
    f = 1 / sympy.sqrt(nw.L)
    fixup = nw.residual(nw.serial(RELU, nw.dense(f), RELU, nw.dense(f)))
    law = nw.predict(nw.repeat(fixup, 30)).law
    assert law.kind == "bounded" and law.constant == 1


def test_batchnorm_relu_factor_is_pi_over_pi_minus_one():
    # Derived here: after BN the units are N(0, 1) over the batch; the next BN divides by
    # Var(relu(Z)) = 1/2 − 1/(2π), and φ' contributes E relu'(Z)² = 1/2.
    z = sympy.Symbol("z", real=True)
    pdf = sympy.exp(-z**2 / 2) / sympy.sqrt(2 * sympy.pi)
    second = sympy.integrate(z**2 * pdf, (z, 0, sympy.oo))
    mean = sympy.integrate(z * pdf, (z, 0, sympy.oo))
    factor = sympy.Rational(1, 2) / (second - mean**2)
    law = nw.predict(nw.repeat(nw.serial(nw.dense(1), nw.batchnorm(), RELU), 10)).law
    assert law.kind == "exponential" and sympy.simplify(law.constant - factor) == 0


def test_post_ln_relu_is_bounded_and_tanh_grows():
    post = nw.repeat(nw.serial(nw.residual(nw.serial(RELU, nw.dense(1))), nw.layernorm()), 10)
    p = nw.predict(post, q0=4)
    assert p.law.kind == "bounded"
    # first block: (1 + σ_w²/2)/(q0(1 + σ_w²/2)) = 1/q0, then exactly 1 per block.
    assert p.grad_h_sq[0] == pytest.approx(0.25, rel=1e-13)
    assert np.allclose(p.grad_h_sq[1:], 1.0, rtol=1e-13)
    tanh_post = nw.repeat(nw.serial(nw.residual(nw.serial(nw.activation("tanh"), nw.dense(1))),
                                    nw.layernorm()), 10)
    law = nw.predict(tanh_post).law
    with mpmath.workdps(30):
        line = [-mpmath.inf, 0, mpmath.inf]
        s = mpmath.quad(lambda x: mpmath.sech(x) ** 4 * mpmath.npdf(x), line)
        v = mpmath.quad(lambda x: mpmath.tanh(x) ** 2 * mpmath.npdf(x), line)
    assert law.kind == "exponential"
    assert float(law.constant) == pytest.approx(float((1 + s) / (1 + v)), rel=1e-9)


def test_critical_tanh_power_law_from_its_taylor_series():
    # tanh² = x² − 2x⁴/3 + …, so V(K) = K − 2K²; tanh'² = 1 − 2x² + …, so S = 1 − 2K;
    # K_l ≈ 1/(2l) and J ~ L^{−2/2} = L^{−1}.
    law = nw.predict(nw.repeat(nw.serial(nw.dense(1), nw.activation("tanh")), 20)).law
    assert law.kind == "power" and law.constant == -1
    assert law.how("constant").kind.value == "exact"


def test_residual_tanh_stretched_exponential():
    # ∫sech⁴ = 4/3, so γ₂ = 4/(3√(2π)), V∞ = 1: c = 2sσ_w γ₂.
    law = nw.predict(nw.repeat(nw.residual(nw.serial(nw.activation("tanh"), nw.dense(1))), 20)).law
    assert law.kind == "stretched_exponential" and law.power == sympy.Rational(1, 2)
    assert sympy.simplify(law.constant - 8 / (3 * sympy.sqrt(2 * sympy.pi))) == 0


def _mp_moment(f, q):
    return mpmath.quad(lambda x: f(mpmath.sqrt(q) * x) ** 2 * mpmath.npdf(x),
                       [-mpmath.inf, -1, 0, 1, mpmath.inf])


def test_issue_tanh_mlp_against_an_mpmath_recursion():
    # Independent reference: the same recursion with mpmath.quad at every layer.
    depth = 20
    p = nw.predict(nw.repeat(nw.serial(nw.dense(1, init="xavier_normal"), nw.activation("tanh")),
                             depth))
    with mpmath.workdps(20):
        k, chis = mpmath.mpf(1), []
        for _ in range(depth):
            chis.append(_mp_moment(lambda u: mpmath.sech(u) ** 2, k))
            k = _mp_moment(mpmath.tanh, k)
        j1 = mpmath.fprod(chis[1:])
    assert float(p.grad_h_sq[1]) == pytest.approx(float(j1), rel=1e-8)
    assert float(p.second_moment[-1]) == pytest.approx(float(k), rel=1e-8)
    assert p.how("grad_h_sq").error < 1e-8


def test_record_is_json_ready():
    p = nw.predict(nw.repeat(pre_ln(), 5), width=64)
    text = json.dumps(p.as_dict())
    back = json.loads(text)
    assert len(back["grad_h_sq"]) == 6 and len(back["grad_w_sq"]) == 5
    assert back["law"]["kind"] == "power"
    # width scales the weight gradient by N²
    p1 = nw.predict(nw.repeat(pre_ln(), 5))
    assert p.grad_w_sq[0] == pytest.approx(64**2 * p1.grad_w_sq[0], rel=1e-14)


def test_deep_stack_is_fast_and_does_not_underflow():
    p = nw.predict(nw.repeat(nw.serial(nw.dense(1), nw.batchnorm(), RELU), 100_000))
    assert p.grad_h_sq[0] == math.inf or p.log10_grad_h_sq[0] > 16000


@pytest.mark.parametrize("call, message", [
    (lambda: nw.dense(-1), "sigma_w"),
    (lambda: nw.dense(1, init="lecun"), "unknown init"),
    (lambda: nw.residual(nw.activation("relu")), "needs a dense layer"),
    (lambda: nw.serial(), "at least one"),
    (lambda: nw.repeat(RELU, 0), "depth"),
    (lambda: nw.repeat(RELU, 10**6 + 1), "at most"),
    (lambda: nw.batchnorm(2), "batch"),
    (lambda: nw.residual(nw.serial(RELU, nw.dense(1)), scale=sympy.Symbol("x")), "depth symbol"),
    (lambda: nw.residual(nw.serial(RELU, nw.dense(1)), scale=1 - nw.L), ">= 0"),
    (lambda: nw.predict("relu"), "must be a block"),
    (lambda: nw.predict(nw.repeat(nw.serial(RELU, RELU), 2)), "Gaussian input"),
    (lambda: nw.predict(nw.dense(1), q0=0), "q0"),
    (lambda: nw.predict(nw.dense(1), c0=2), "c0"),
    (lambda: nw.predict(nw.dense(1), width=10**5), "width"),
])
def test_invalid_arguments(call, message):
    with pytest.raises(InvalidArgument, match=message):
        call()


def test_provenance_says_how_each_number_was_obtained():
    closed = nw.predict(nw.pre_ln("relu", 10))
    assert "closed-form" in closed.how("grad_h_sq").method
    assert closed.how("grad_h_sq").relative and closed.how("grad_h_sq").error < 1e-13
    assert closed.how("jacobian_exact").kind.value == "exact"
    assert {"q0", "depth", "law", "grad_w_sq", "second_moment"} <= set(closed.provenance)
    table = nw.predict(nw.mlp("gelu", 10))
    assert "quadrature" in table.how("grad_h_sq").method
    assert 1e-15 < table.how("grad_h_sq").error < 1e-8
    quick = nw.predict(nw.pre_ln("relu", 10), law=False)
    assert quick.law is None and quick.jacobian_exact is None
    assert quick.grad_h_sq[0] == closed.grad_h_sq[0]


def test_a_vanishing_signal_below_the_table_is_still_predicted():
    # tanh at σ_w = 1/2: q_l → 0 like 4^{−l}; below e^{−28} the expansion at 0 takes over.
    # Derived here: for tiny q, V(q) = q − 2q² + …, S(q) = 1 − 2q + …, so once q is tiny
    # the per-block factor of J is σ_w²·S(q) → 1/4 and q shrinks by the same factor.
    p = nw.predict(nw.mlp("tanh", 120, sigma_w=sympy.Rational(1, 2)))
    factors = p.grad_h_sq[:-1] / p.grad_h_sq[1:]
    assert factors[-1] == pytest.approx(0.25, rel=1e-12)  # q ~ 4^{-120}: S = 1 to 1e-70
    assert p.second_moment[-1] < 1e-60 and np.all(np.isfinite(p.log10_grad_h_sq))
    ratio = p.second_moment[-1] / p.second_moment[-2]
    assert ratio == pytest.approx(0.25, rel=1e-12)
