"""Recurrent nets: spectral norms, BPTT Jacobians, gated paths, the 200-steps example.

References are independent: NumPy's SVD, hand-written finite differences, SymPy
derivatives of the cell equations, exact ``Fraction`` products.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import (
    InvalidArgument,
    activation,
    after_steps,
    bptt_jacobian,
    gru_update_path,
    lstm_carousel,
    pascanu_conditions,
)
from symgrad.depth.bounds import Growth


def test_spectral_norm_exact_for_small_rational_matrices():
    assert pascanu_conditions("tanh", [[0.5, 0], [0, 0.25]]).sigma_max == sympy.Rational(1, 2)
    # rank one: σ_max = ‖(3, 4)‖ = 5
    assert pascanu_conditions("sigmoid", [[3, 4], [0, 0]]).sigma_max == 5
    W = [[1, 2, 0], [0, 1, 3], [1, 0, 1]]
    got = pascanu_conditions("tanh", W)
    assert got.exact
    assert float(got.sigma_max) == pytest.approx(np.linalg.norm(np.array(W, float), 2), rel=1e-14)


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.integers(5, 12))
def test_spectral_norm_numeric_matches_lapack(seed, n):
    W = np.random.default_rng(seed).normal(size=(n, n)) / math.sqrt(n)
    got = pascanu_conditions("tanh", W)
    # LAPACK's SVD is backward stable: |Δσ| ≤ c·n·u·σ_max; 1e-12 covers c·n ≤ 4500.
    assert float(got.sigma_max) == pytest.approx(np.linalg.norm(W, 2), rel=1e-12)


@settings(max_examples=20)
@given(st.integers(0, 2**32 - 1), st.sampled_from(["tanh", "sigmoid"]),
       st.floats(0.3, 3.0), st.integers(1, 4))
def test_pascanu_bound_holds_for_the_computed_jacobian(seed, name, scale, n):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(n, n)) * scale / math.sqrt(n)
    h0, xs = rng.normal(size=n), rng.normal(size=(30, n))
    cond = pascanu_conditions(name, W)
    # Independent references: γ = sup|φ'| by hand (tanh' ≤ 1 at 0, σ' ≤ 1/4 at 0),
    # σ_max by LAPACK, and ∂h_t/∂h_0 = ∏ diag(φ'(z_s))·W by a plain NumPy loop.
    gamma = 1.0 if name == "tanh" else 0.25
    eta = np.linalg.norm(W, 2) * gamma
    # σ_max is good to ~n·u relative: the verdicts are only asked for away from η = 1.
    if abs(eta - 1) > 1e-9:
        assert cond.vanishing_guaranteed is bool(eta < 1)
        assert cond.exploding_possible is bool(eta > 1)
    assert float(cond.eta) == pytest.approx(eta, rel=1e-12)
    h, P, norms = h0, np.eye(n), []
    for t in range(30):
        zt = W @ h + xs[t]
        h = np.tanh(zt) if name == "tanh" else 1.0 / (1.0 + np.exp(-zt))
        # φ' in forms without cancellation (1 − h² loses digits where tanh saturates).
        e = np.exp(-np.abs(zt))
        slope = 1.0 / np.cosh(zt) ** 2 if name == "tanh" else e / (1.0 + e) ** 2
        P = (slope[:, None] * W) @ P
        norms.append(np.linalg.norm(P, 2))
    J = bptt_jacobian(name, W, h0=h0, steps=30, inputs=xs)
    # Each step adds ≤ n + 8 roundings (the n-term products, φ' to a few ulps) to a
    # 30-step product: ≤ 30·12·u ≈ 4e-14 relative, so 1e-12.
    np.testing.assert_allclose(J.norms, norms, rtol=1e-12, atol=0)
    # ‖∏ diag(φ')W‖ ≤ (σγ)^t; float64 products add ≤ t·n roundings: relative 1e-12.
    for t, norm in enumerate(norms, start=1):
        assert norm <= eta**t * (1 + 1e-12 * t * n) + 1e-300
    # exploding needs σ_max > 1/γ: a norm above 1 at late t implies it
    if norms[-1] > 1:
        assert eta > 1 and cond.exploding_possible


def test_bptt_jacobian_matches_central_differences():
    rng = np.random.default_rng(7)
    n, T = 3, 6
    W = rng.normal(size=(n, n))
    x = rng.normal(size=(T, n))
    h0 = rng.normal(size=n) * 0.5
    phi = activation("tanh")

    def run(h):
        for t in range(T):
            h = np.tanh(W @ h + x[t])
        return h

    J = bptt_jacobian(phi, W, h0=h0, steps=T, inputs=x).jacobian
    delta = 1e-5
    for j in range(n):
        e = np.zeros(n)
        e[j] = delta
        fd = (run(h0 + e) - run(h0 - e)) / (2 * delta)
        # truncation ≈ δ²|h'''|/6 ≲ 1e-10·‖W‖³, rounding ≈ u/δ ≈ 1e-11: 1e-7 is ample
        np.testing.assert_allclose(J[:, j], fd, rtol=0, atol=1e-7)


def test_lstm_direct_path_is_the_forget_gate():
    c_prev, f, i, g = sympy.symbols("c_prev f i g", real=True)
    c_t = f * c_prev + i * g  # Hochreiter & Schmidhuber's cell with a forget gate
    assert sympy.diff(c_t, c_prev) == f
    gates = [Fraction(9, 10), Fraction(1), Fraction(1, 2), Fraction(3, 4)]
    assert lstm_carousel(gates).product == sympy.Rational(
        *(lambda p: (p.numerator, p.denominator))(math.prod(gates)))
    assert lstm_carousel(1, steps=10**6).product == 1
    T = sympy.Symbol("T", integer=True, positive=True)
    assert lstm_carousel(0.9).product == sympy.Rational(9, 10) ** T


def test_gru_direct_path_is_one_minus_the_update_gate():
    h_prev, u, h_tilde = sympy.symbols("h_prev u h_tilde", real=True)
    h_t = (1 - u) * h_prev + u * h_tilde
    assert sympy.diff(h_t, h_prev) == 1 - u
    gates = [Fraction(1, 10), Fraction(1, 5), Fraction(0)]
    expected = math.prod(1 - g for g in gates)
    assert gru_update_path(gates).product == sympy.Rational(expected.numerator,
                                                           expected.denominator)
    assert gru_update_path(0, steps=200).product == 1


@pytest.mark.parametrize(("factor", "growth"), [(0.9, Growth.VANISHING),
                                                 (1.1, Growth.EXPLODING), (1, None)])
def test_two_hundred_steps(factor, growth):
    got = after_steps(factor)
    exact = Fraction(str(factor)) ** 200
    assert got.value == sympy.Rational(exact.numerator, exact.denominator)
    assert got.growth is growth
    assert float(got.log10) == pytest.approx(200 * math.log10(factor), rel=1e-14, abs=1e-300)


INVALID = [
    (pascanu_conditions, ("tanh", [[1, 2]]), {}),
    (pascanu_conditions, ("tanh", []), {}),
    (pascanu_conditions, ("tanh", [[float("nan")]]), {}),
    (pascanu_conditions, ("tanh", 3), {}),
    (bptt_jacobian, ("tanh", [[1.0]]), {"h0": [0.0], "steps": 0}),
    (bptt_jacobian, ("tanh", [[1.0]]), {"h0": [0.0, 1.0], "steps": 3}),
    (bptt_jacobian, ("tanh", [[1.0]]), {"h0": [float("inf")], "steps": 3}),
    (bptt_jacobian, ("tanh", [[1.0]]), {"h0": [0.0], "steps": 3, "inputs": np.zeros((2, 1))}),
    (lstm_carousel, (1.5,), {}),
    (lstm_carousel, ([0.5, -0.1],), {}),
    (lstm_carousel, ([],), {}),
    (lstm_carousel, ([0.5],), {"steps": 3}),
    (lstm_carousel, (0.5,), {"steps": 0}),
    (gru_update_path, (float("nan"),), {}),
    (after_steps, (0.9,), {"steps": -1}),
    (after_steps, (float("inf"),), {}),
]


# What each message must name (the offending argument), case by case: a message that
# only says "invalid" does not tell the user what was wrong.
NAMED = [
    "W", "W", "W[0][0]", "W", "steps", "h0", "h0", "inputs", "gate", "gate[1]", "gate",
    "steps", "steps", "gate", "steps", "factor",
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "named"),
                         [(*case, n) for case, n in zip(INVALID, NAMED, strict=True)])
def test_invalid_arguments_raise(fn, args, kwargs, named):
    with pytest.raises(InvalidArgument) as info:
        fn(*args, **kwargs)
    assert named in str(info.value), str(info.value)


def test_after_steps_with_a_huge_count_stays_exact_and_instant():
    import time

    import mpmath

    began = time.perf_counter()
    r = after_steps(1.5, steps=10**20)
    assert time.perf_counter() - began < 2
    assert r.value == sympy.Pow(sympy.Rational(3, 2), 10**20, evaluate=False)
    with mpmath.workdps(60):
        reference = 10**20 * mpmath.log10(mpmath.mpf(3) / 2)
    assert abs(r.log10._to_mpmath(200) - reference) < mpmath.mpf(10) ** -9
    assert float(r) == float("inf") and float(after_steps(0.5, steps=10**9)) == 0.0
