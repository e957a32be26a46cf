"""Gradient products through depth: traces, closed forms, bounds, residual paths, clipping.

Every reference is computed here, independently of the code under test: a hand-written
float64 forward/backward pass, exact SymPy evaluation, mpmath loops at higher
precision, exact ``fractions.Fraction`` powers.
"""

from __future__ import annotations

import functools
import itertools
import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from symgrad import (
    InvalidArgument,
    activation,
    activation_names,
    chain_trace,
    clip,
    clipping_facts,
    exploding_depth,
    fixed_point,
    gradient_product,
    residual_block,
    residual_lower_bound,
    residual_negative_cases,
    residual_product,
    residual_trace,
    vanishing_depth,
    weight_bound,
)
from symgrad._core.symbols import z
from symgrad._exact.mpforms import compiled
from symgrad.strategies import activations, depths, weights

# ---- an independent float64 backward pass (DESIGN.md conventions) ----


def _sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


_FLOAT_ACTS = {
    "sigmoid": (_sigmoid, lambda v: _sigmoid(v) * (1.0 - _sigmoid(v))),
    "tanh": (math.tanh, lambda v: 1.0 - math.tanh(v) ** 2),
    "relu": (lambda v: max(v, 0.0), lambda v: 1.0 if v > 0 else 0.0),
}


def _float_chain(name, depth, w, b=0.0, x=1.0, g=1.0):
    """Rows (z, a, slope, grad_a, grad_z, grad_w) by the textbook backward pass."""
    phi, dphi = _FLOAT_ACTS[name]
    ws = w if isinstance(w, list) else [w] * depth
    bs = b if isinstance(b, list) else [b] * depth
    zs, acts, prev = [], [], [x]
    for k in range(depth):
        zk = ws[k] * prev[-1] + bs[k]
        zs.append(zk)
        acts.append(phi(zk))
        prev.append(acts[-1])
    grad_a = [0.0] * depth
    grad_z = [0.0] * depth
    grad_w = [0.0] * depth
    upstream = g
    for k in reversed(range(depth)):
        grad_a[k] = upstream
        grad_z[k] = upstream * dphi(zs[k])
        grad_w[k] = grad_z[k] * prev[k]
        upstream = grad_z[k] * ws[k]
    return [(zs[k], acts[k], dphi(zs[k]), grad_a[k], grad_z[k], grad_w[k]) for k in range(depth)]


# Float64 tolerance: each reference value is at most ~8 roundings per layer × 6 layers
# × 2 passes ≈ 100 unit roundoffs (1.1e-16) away from the exact value, plus libm's
# ≤ 1 ulp per exp/tanh call: relative 1e-13 leaves a factor ≥ 5 of margin.
_F64_REL = 1e-13

WORKED = [
    ("sigmoid", 4, 0.1),
    ("sigmoid", 5, 0.1),
    ("sigmoid", 6, 0.1),
    ("sigmoid", 4, 0.5),
    ("sigmoid", 4, 2.0),
    ("relu", 4, 0.1),
    ("relu", 4, 0.5),
    ("relu", 4, 2.0),
    ("relu", 6, 2.0),
    ("tanh", 5, 0.5),
]


@pytest.mark.parametrize(("name", "depth", "w"), WORKED)
def test_worked_examples_match_an_independent_float64_backward_pass(name, depth, w):
    trace = chain_trace(name, depth=depth, weight=w, lr=0.5)
    ref = _float_chain(name, depth, w)
    assert len(trace.rows) == depth
    for row, (zk, a, s, ga, gz, gw) in zip(trace.rows, ref, strict=True):
        got = (row.z, row.a, row.slope, row.grad_a, row.grad_z, row.grad_w)
        for mine, theirs in zip(got, (zk, a, s, ga, gz, gw), strict=True):
            assert float(mine) == pytest.approx(theirs, rel=_F64_REL, abs=0.0)
        assert float(row.update) == pytest.approx(-0.5 * gw, rel=_F64_REL, abs=0.0)
        if ga != 0:
            assert float(row.log10_grad) == pytest.approx(math.log10(abs(ga)), rel=1e-12)
    assert float(trace.ratio()) == pytest.approx(ref[-1][3] / ref[0][3], rel=_F64_REL)


def test_four_layer_sigmoid_chain_matches_exact_sympy():
    # a_0 = 1, w = 1/10, b = 0, exact nested expressions; 30-digit rounding gives a
    # relative error ≤ 10^-29, the mpmath loop's guard digits keep it there.
    w = sympy.Rational(1, 10)
    sig = activation("sigmoid")
    a = sympy.Integer(1)
    zs, acts = [], []
    for _ in range(4):
        zk = w * a
        a = sig.expr.subs(z, zk)
        zs.append(zk)
        acts.append(a)
    slopes = [sig.derivative.subs(z, zk) for zk in zs]
    grads = [sympy.Integer(1)] * 4
    for k in (2, 1, 0):
        grads[k] = grads[k + 1] * w * slopes[k + 1]
    trace = chain_trace("sigmoid", depth=4, weight=0.1, dps=30)
    with mpmath.workdps(60):
        for k, row in enumerate(trace.rows):
            for mine, exact in ((row.z, zs[k]), (row.a, acts[k]), (row.slope, slopes[k]),
                                (row.grad_a, grads[k]), (row.grad_z, grads[k] * slopes[k])):
                ref = sympy.N(exact, 60)._to_mpmath(200)
                assert abs(mine - ref) <= abs(ref) * mpmath.mpf(10) ** -29
        ratio = sympy.N(grads[3] / grads[0], 60)._to_mpmath(200)
        assert abs(trace.ratio() - ratio) <= abs(ratio) * mpmath.mpf(10) ** -29


def test_per_layer_weights_and_biases_match_the_float_reference():
    ws, bs = [0.5, -1.5, 2.0, 0.25, 1.0], [0.1, 0.0, -0.3, 0.2, 0.0]
    trace = chain_trace("tanh", depth=5, weight=ws, bias=bs, x=-0.7, upstream=3)
    ref = _float_chain("tanh", 5, ws, bs, x=-0.7, g=3.0)
    for row, r in zip(trace.rows, ref, strict=True):
        assert float(row.grad_w) == pytest.approx(r[5], rel=_F64_REL)
        assert float(row.grad_a) == pytest.approx(r[3], rel=_F64_REL)


def _mp_chain_log10_first_grad(name, depth, w, warm):
    """log10|∂L/∂a_1| for a constant-weight chain: `warm` explicit layers at 60 digits,
    then the fixed point's factor to the power of the remaining layers."""
    phi = activation(name)
    with mpmath.workdps(60):
        a, factors = mpmath.mpf(1), []
        wm = mpmath.mpf(w)
        for _ in range(warm):
            zk = wm * a
            factors.append(wm * phi.mpmath_prime(zk))
            a = phi.mpmath(zk)
        # the last warm factors equal the fixed point's to 60 digits
        tail = factors[-1]
        total = sum(mpmath.log10(abs(f)) for f in factors[1:])
        return total + (depth - warm) * mpmath.log10(abs(tail))


def test_depth_one_million_does_not_underflow():
    trace = chain_trace("sigmoid", depth=10**6, weight=0.5)
    expected = _mp_chain_log10_first_grad("sigmoid", 10**6, 0.5, 400)
    got = trace.rows[0].log10_grad
    # relative error of log10 |g_1| ≈ 1e6 × 1e-31 from the 30-digit factors
    assert abs(got - expected) <= mpmath.mpf(10) ** -20 * abs(expected)
    assert trace.rows[0].grad_a > 0
    assert trace.rows[-1].grad_a == 1
    assert len(trace.rows) == 10**6
    assert trace.stationary_from is not None


def test_long_chain_without_a_fixed_point_is_exact():
    # ReLU with w = 1/2 from x = 1: z_k = 2^-k, every slope 1, so ∂L/∂a_1 = 2^-(n−1).
    n = 200_000
    trace = chain_trace("relu", depth=n, weight=0.5)
    assert trace.rows[0].grad_a == mpmath.ldexp(1, -(n - 1))
    assert trace.rows[-2].z == mpmath.ldexp(1, -(n - 1))
    assert trace.rows[123_456].grad_a == mpmath.ldexp(1, -(n - 123_457))
    assert trace.ratio() == mpmath.ldexp(1, n - 1)


def test_rows_behave_as_a_sequence():
    trace = chain_trace("sigmoid", depth=3000, weight=3.0, bias=-1)
    rows = trace.rows
    assert rows[-1].layer == 3000 and rows[0].layer == 1
    assert [r.layer for r in rows[5:8]] == [6, 7, 8]
    assert sum(1 for _ in rows) == 3000
    # iteration and indexing agree, also past the stationary point
    assert list(rows)[2500] == rows[2500]
    with pytest.raises(IndexError):
        rows[3000]
    # ∂L/∂a_0 = ∂L/∂a_1 · w_1 φ'(z_1), the input gradient the rows do not list
    assert trace.gradient(2500) == rows[2499].grad_a
    with mpmath.workdps(30):
        assert abs(trace.gradient(0) - rows[0].grad_a * rows[0].factor) <= mpmath.mpf(
            10) ** -28 * abs(trace.gradient(0))


def test_markdown_and_latex_render_every_layer_or_elide():
    small = chain_trace("sigmoid", depth=4, weight=0.1, lr=1)
    md = small.to_markdown()
    assert md.count("\n| ") == 6 and "−lr·∂L/∂w_k" in md
    assert small._repr_markdown_() == md
    tex = small.to_latex()
    assert tex.startswith(r"\begin{tabular}") and tex.count(r"\\") == 5
    big = chain_trace("tanh", depth=100, weight=0.5)
    assert "…" in big.to_markdown(max_rows=6)
    assert r"\vdots" in big.to_latex(max_rows=6)


@functools.lru_cache(maxsize=64)
def _raw(act):
    """φ and φ' lambdified from the registry's expressions exactly as written (no
    cancellation-free rewriting: independent of the code under test)."""
    return (sympy.lambdify(z, act.expr, modules="mpmath"),
            sympy.lambdify(z, act.derivative, modules="mpmath"))


def _accurate(fn, v):
    """fn(v) correct to the working precision relative to itself, however much cancels
    inside fn (α(eᶻ − 1) at tiny z, 1 − tanh²): evaluated at twice the bits again and
    again (starting with enough to resolve a |v| < 1) until two evaluations agree."""
    prec = mpmath.mp.prec
    extra = 32 + (max(0, -int(mpmath.mag(v))) if v else 0)
    while True:
        with mpmath.workprec(prec + extra):
            lo = fn(v)
        with mpmath.workprec(2 * (prec + extra)):
            hi = fn(v)
        if hi != 0 and abs(hi - lo) <= abs(hi) * mpmath.mpf(2) ** -(prec + 8):
            return +hi
        if hi == lo == 0 and extra > 2**15:  # a true 0 (ReLU's left piece), or < 2^−32768
            return hi
        extra = 2 * (prec + extra)


def _naive_mp_trace(act, depth, w, b, x, digits=60, residual=False):
    """Every layer forward, then every ∂L/∂a_k backward, in mpmath at ``digits``, each
    φ and φ' correct to ``digits`` relative to itself (:func:`_accurate`)."""
    with mpmath.workdps(digits):
        wm, bm = mpmath.mpf(sympy.Rational(repr(w))._to_mpmath(250)), mpmath.mpf(
            sympy.Rational(repr(b))._to_mpmath(250))
        a, zs, ys = mpmath.mpf(sympy.Rational(repr(x))._to_mpmath(250)), [], []
        for _ in range(depth):
            if residual:  # y_k = y_{k−1} + w φ(y_{k−1} + b)
                zs.append(a + bm)
                a = a + wm * _accurate(_raw(act)[0], zs[-1])
            else:
                zs.append(wm * a + bm)
                a = _accurate(_raw(act)[0], zs[-1])
            ys.append(a)
        grads, g = [None] * depth, mpmath.mpf(1)
        for k in reversed(range(depth)):
            grads[k] = g
            slope = _accurate(_raw(act)[1], zs[k])
            g = g * (1 + wm * slope if residual else wm * slope)
        if residual:
            return zs, grads, ys
        return zs, grads


@pytest.mark.parametrize(("name", "w", "b"), [
    ("tanh", -3.0, 0.0),  # a 2-cycle ±a*
    ("sigmoid", -8.0, 4.0),  # a 2-cycle
    ("hard_tanh", -2.0, 0.0),  # an exact 2-cycle from the first layer
    ("relu", -1.0, 0.0),  # every factor 0 (ReLU'(0) = 0)
    ("relu", -2.0, 1.0),  # a 2-cycle 0 ↔ 1 whose factors are 0 and −2
    ("sigmoid", 3.0, -1.0),  # a fixed point
    ("softsign", -4.0, 0.0),
    ("relu", 0.3, 0.0),  # homogeneous: every layer scales z by 0.3, never repeats
    ("relu", 1.5, 0.0),  # ... grows by 1.5
    ("leaky_relu", -0.5, 0.0),  # ... alternates sign: period 2
    ("identity", 0.999, 0.0),
])
def test_long_tails_match_a_naive_loop(name, w, b):
    # The trace copies the repeating layers and raises cycle products to powers; the
    # naive loop computes all 3000 layers at 60 digits.  30-digit rows: relative 1e-28.
    act = activation(name)
    n = 3000
    trace = chain_trace(act, depth=n, weight=w, bias=b, x=0.7)
    assert trace.stationary_from is not None and trace.stationary_from < n
    zs, grads = _naive_mp_trace(act, n, w, b, 0.7)
    with mpmath.workdps(60):
        for k in (0, 1, 2, 57, 1500, 2001, n - 2, n - 1):
            row = trace.rows[k]
            assert abs(row.z - zs[k]) <= mpmath.mpf(10) ** -28 * max(1, abs(zs[k]))
            assert abs(row.grad_a - grads[k]) <= mpmath.mpf(10) ** -28 * abs(grads[k])


@pytest.mark.parametrize("name", activation_names())
def test_compiled_phi_is_correct_relative_to_itself(name):
    # The engine's φ and φ' at 150 bits against the registry's expressions evaluated
    # until they stop cancelling (_accurate).  Tolerance: a few roundings at 150 bits
    # times the condition number, which is below 1 + |z|³ here: GELU's e^{−z²/2}
    # multiplies its rounded argument's relative error by z², gelu_tanh's e^{−2u}
    # (u ≈ 0.8 z + 0.036 z³) by 2u.
    act = activation(name)
    both = compiled(act.expr, act.derivative, 150)[0]
    for text in ("-30", "-1", "-1e-5", "-1e-60", "1e-60", "1e-5", "1", "30"):
        with mpmath.workprec(150):
            v = mpmath.mpf(text)
            got = both(v)
        with mpmath.workprec(300):
            ref = [_accurate(_raw(act)[0], v), _accurate(_raw(act)[1], v)]
            tol = mpmath.mpf(2) ** -140 * (1 + abs(v) ** 3)
            for g, r in zip(got, ref, strict=True):
                assert abs(mpmath.mpf(g) - r) <= tol * abs(r), (name, text, g, r)


# Chains that alternate sign while shrinking to a kink at 0 (w < 0, φ(0) = 0): the
# slope alternates between the two one-sided slopes forever, so every z_k must keep
# its sign, i.e. φ must be correct relative to itself at |z| far below the precision
# (ELU's α(eᶻ − 1) written as is rounds to 0 = the kink, whose slope is the left one).
_KINK_CHAINS = [
    # name, params, w, depth: the factors w·φ'(0±) are both < 0 and their product < 1
    ("elu", {"alpha": 0.5}, -0.125, 44),  # the case Hypothesis found: rows[0] was ½ off
    ("elu", {"alpha": 0.5}, -0.125, 400),
    ("elu", {"alpha": 2}, -0.3, 5000),  # −0.6, −0.3 per layer
    ("selu", {}, -0.5, 300),  # −0.5λα, −0.5λ
    ("leaky_relu", {}, -0.5, 5000),  # homogeneous: the scaled tail repeats the 2-cycle
    ("leaky_relu", {"alpha": 0.2}, -2.0, 5000),  # −2, −0.4 per layer
    ("relu", {}, -0.5, 5000),  # lands on the kink exactly: ReLU'(0) = 0 from layer 2
]


@pytest.mark.parametrize(("name", "params", "w", "n"), _KINK_CHAINS)
def test_chains_alternating_into_a_kink_match_a_naive_loop(name, params, w, n):
    act = activation(name, **params)
    trace = chain_trace(act, depth=n, weight=w, x=1.0)
    zs, grads = _naive_mp_trace(act, n, w, 0.0, 1.0)
    with mpmath.workdps(60):
        for k in sorted({0, 1, n // 3, n // 2, n - 2, n - 1}):
            row = trace.rows[k]
            # 30-digit rows, relative to z_k itself: on these chains each layer adds at
            # most ~2 roundings at 40 + digits, so the error stays ≪ 10^−28 relative.
            assert abs(row.z - zs[k]) <= mpmath.mpf(10) ** -28 * abs(zs[k])
            assert (row.z > 0) == (zs[k] > 0)
            assert abs(row.grad_a - grads[k]) <= mpmath.mpf(10) ** -28 * abs(grads[k])
        first = mpmath.mpf(repr(w)) * _accurate(_raw(act)[1], zs[0])
        assert abs(trace.product() - grads[0] * first) <= mpmath.mpf(10) ** -28 * abs(
            grads[0] * first)


@pytest.mark.parametrize(("name", "params", "w", "n"), [
    # 1 + w·φ'(0±) both < 0 with product < 1: y_k alternates sign and shrinks to 0
    ("elu", {"alpha": 0.5}, -2.5, 300),  # −1.5, −0.25
    ("leaky_relu", {"alpha": 0.5}, -2.5, 3000),  # homogeneous: scaled tail
    ("selu", {}, -1.2, 400),
])
def test_residual_chains_alternating_into_a_kink_match_a_naive_loop(name, params, w, n):
    act = activation(name, **params)
    trace = residual_trace(act, depth=n, weight=w, x=1.0)
    _, grads, ys = _naive_mp_trace(act, n, w, 0.0, 1.0, residual=True)
    with mpmath.workdps(60):
        for k in sorted({0, 1, n // 3, n // 2, n - 2, n - 1}):
            row = trace.rows[k]
            assert abs(row.a - ys[k]) <= mpmath.mpf(10) ** -28 * abs(ys[k])
            assert abs(row.grad_a - grads[k]) <= mpmath.mpf(10) ** -28 * abs(grads[k])


def test_saturated_slopes_are_not_rounded_to_zero():
    # tanh'(100) = sech²(100) ≈ 5.5·10⁻⁸⁷ is far below the working precision's 1 − tanh²
    # resolution; the gradient through it is tiny, not 0.
    trace = chain_trace("tanh", depth=3, weight=100)
    _, grads = _naive_mp_trace(activation("tanh"), 3, 100.0, 0.0, 1.0)
    with mpmath.workdps(60):
        for k in range(3):
            assert abs(trace.rows[k].grad_a - grads[k]) <= mpmath.mpf(10) ** -28 * grads[k]
        assert 0 < trace.rows[0].grad_a < mpmath.mpf(10) ** -168  # (100 sech² 100)²


# ---- Hypothesis laws ----

_SMOOTHISH = ("sigmoid", "tanh", "softplus", "relu", "leaky_relu", "elu", "swish", "softsign")


@settings(max_examples=25)
@given(activations(names=_SMOOTHISH), st.integers(1, 5), weights(bound=3.0),
       st.sampled_from([0, 0.5, -0.25]))
def test_trace_product_equals_the_closed_form_product(act, depth, w, b):
    trace = chain_trace(act, depth=depth, weight=w, bias=b)
    gp = gradient_product(act)
    # Substitute the trace's own w_k and z_k into the symbolic Product, evaluate exactly.
    bases = {i.base.label.name: i.base for i in gp.product.function.atoms(sympy.Indexed)}
    subs = {}
    for row in trace.rows:
        subs[bases["w"][row.layer]] = sympy.Rational(repr(w))
        if "z" in bases:  # absent when φ' is constant (leaky_relu with alpha = 1)
            subs[bases["z"][row.layer]] = sympy.Float(row.z, 40)
    closed = sympy.N(gp.product.subs(gp.depth, depth).doit().subs(subs), 35)
    tol = mpmath.mpf(10) ** -25 * max(1, abs(closed._to_mpmath(150)))
    assert abs(trace.product() - closed._to_mpmath(150)) <= tol


@settings(max_examples=20)
@given(activations(names=_SMOOTHISH), st.integers(1, 400), weights(bound=4.0),
       st.sampled_from([0.0, 0.5, -1.0]), st.sampled_from([1.0, -0.3]))
def test_trace_rows_match_a_naive_loop(act, depth, w, b, x):
    trace = chain_trace(act, depth=depth, weight=w, bias=b, x=x)
    zs, grads = _naive_mp_trace(act, depth, w, b, x)
    with mpmath.workdps(60):
        for k in {0, depth // 3, depth // 2, depth - 1}:
            row = trace.rows[k]
            # 30-digit rows; forward errors shrink or stay put for these bounded chains
            assert abs(row.z - zs[k]) <= mpmath.mpf(10) ** -27 * max(1, abs(zs[k]))
            assert abs(row.grad_a - grads[k]) <= mpmath.mpf(10) ** -27 * abs(grads[k])


@settings(max_examples=25)
@given(activations(names=("sigmoid", "tanh", "softsign", "erf")), depths(max_depth=40),
       st.floats(0.0, 0.95))
def test_gradient_decays_monotonically_when_every_factor_is_below_one(act, depth, frac):
    bound = weight_bound(act).bound
    w = sympy.Rational(str(round(frac, 3))) * bound
    trace = chain_trace(act, depth=depth, weight=w, x=0.3)
    grads = [abs(r.grad_a) for r in trace.rows]
    assert all(lo <= hi for lo, hi in itertools.pairwise(grads))


@settings(max_examples=60)
@given(st.fractions(Fraction(1, 50), Fraction(49, 50), max_denominator=50),
       st.integers(1, 40))
def test_vanishing_depth_is_minimal(f, digits):
    eps = Fraction(1, 10**digits) * 3
    assume(eps < 1)
    n = vanishing_depth(f, eps).depth
    assert f**n < eps
    assert n == 1 or f ** (n - 1) >= eps


@settings(max_examples=60)
@given(st.fractions(Fraction(51, 50), Fraction(5), max_denominator=50), st.integers(0, 40))
def test_exploding_depth_is_minimal(f, digits):
    size = Fraction(10**digits)
    n = exploding_depth(f, size).depth
    assert f**n > size
    assert n == 1 or f ** (n - 1) <= size


@pytest.mark.parametrize(("f", "eps", "n"), [
    (Fraction(1, 2), Fraction(1, 8), 4),  # 1/8 is not < 1/8
    (0.5, 0.125, 4),
    (0.1, 1e-3, 4),  # 0.1 read as 1/10: 10^-3 is not < 10^-3
    (sympy.sqrt(2) / 2, sympy.Rational(1, 4), 5),
    (-0.5, 0.3, 2),
    (0, 0.5, 1),
])
def test_vanishing_depth_boundary_cases(f, eps, n):
    assert vanishing_depth(f, eps).depth == n


def test_vanishing_depth_huge_depth_decided_exactly():
    n = vanishing_depth(Fraction(999999, 10**6), Fraction(1, 10**300)).depth
    # ln(1e-300)/ln(0.999999) = 690 775 182.6…, independently in mpmath at 50 digits
    with mpmath.workdps(50):
        ref = mpmath.log(mpmath.mpf(10) ** -300) / mpmath.log(mpmath.mpf("0.999999"))
    assert n == int(mpmath.floor(ref)) + 1
    assert exploding_depth(2, 1024).depth == 11


@settings(max_examples=25)
@given(activations(names=("sigmoid", "tanh", "relu", "softplus", "elu", "erf")),
       depths(max_depth=30), st.lists(st.floats(0, 3), min_size=1, max_size=1),
       st.floats(-2, 2))
def test_residual_product_is_at_least_one_when_factors_are_nonnegative(act, depth, ws, x):
    # These φ are nondecreasing, so w_k ≥ 0 gives t_k = w_k φ'(z_k) ≥ 0.
    trace = residual_trace(act, depth=depth, weight=ws[0], x=x)
    assert all(r.grad_a >= 1 for r in trace.rows)
    assert trace.product() >= 1


def test_residual_trace_matches_a_float64_reference():
    w, b, x, n = 0.3, 0.1, -0.5, 6
    ys, zs = [x], []
    for _ in range(n):
        zs.append(ys[-1] + b)
        ys.append(ys[-1] + w * math.tanh(zs[-1]))
    g, grads = 1.0, [0.0] * n
    for k in reversed(range(n)):
        grads[k] = g
        g *= 1 + w * (1 - math.tanh(zs[k]) ** 2)
    trace = residual_trace("tanh", depth=n, weight=w, bias=b, x=x)
    for k, row in enumerate(trace.rows):
        assert float(row.a) == pytest.approx(ys[k + 1], rel=_F64_REL)
        assert float(row.grad_a) == pytest.approx(grads[k], rel=_F64_REL)
        assert float(row.grad_w) == pytest.approx(grads[k] * math.tanh(zs[k]), rel=_F64_REL)
    assert float(trace.product()) == pytest.approx(g, rel=_F64_REL)


def test_residual_scaled_tail_matches_a_naive_loop():
    # ReLU, b = 0, y_0 = 0.7 > 0: y_k = 1.25^k·0.7, ∂L/∂y_k = 1.25^(n−k), exactly.
    n = 5000
    trace = residual_trace("relu", depth=n, weight=0.25, x=0.7)
    assert trace.stationary_from is not None and trace.stationary_from < n
    with mpmath.workdps(60):
        for k in (1, 77, 2500, n - 1, n):
            row = trace.rows[k - 1]
            y = mpmath.mpf(5) ** k / mpmath.mpf(4) ** k * mpmath.mpf("0.7")
            g = mpmath.mpf(5) ** (n - k) / mpmath.mpf(4) ** (n - k)
            assert abs(row.a - y) <= mpmath.mpf(10) ** -28 * y
            assert abs(row.grad_a - g) <= mpmath.mpf(10) ** -28 * g
            assert abs(row.grad_w - g * y / mpmath.mpf("1.25")) <= mpmath.mpf(10) ** -28 * g * y


def test_residual_negative_factor_can_cut_the_gradient():
    # identity φ, w = −1: factor 1 + w·1 = 0 exactly.
    trace = residual_trace("identity", depth=3, weight=-1)
    assert trace.rows[0].grad_a == 0 and trace.rows[-1].grad_a == 1


def test_residual_facts_and_closed_forms():
    fact = residual_lower_bound(5)
    assert fact.holds
    # The claim ∏(1 + t_k) ≥ 1 re-checked here at L = 5 with sample t_k: true for t_k ≥ 0,
    # and false once one t_k is negative (the condition is needed, the claim is not vacuous).
    (ts,) = {i.base for i in fact.claim.atoms(sympy.Indexed)}
    L = fact.claim.lhs.limits[0][2]  # the upper limit of ∏_{k=1}^{L}
    claim5 = fact.claim.subs(L, 5).doit()
    nonneg = [sympy.Rational(v, 7) for v in (0, 1, 3, 0, 9)]
    assert claim5.subs({ts[k + 1]: nonneg[k] for k in range(5)}) == sympy.true
    neg = [*nonneg[:4], sympy.Rational(-1, 2)]
    assert claim5.subs({ts[k + 1]: neg[k] for k in range(5)}) == sympy.false
    # The negative cases, each checked at a sample of its own range and refuted at a sample
    # of the next range: (−1, 0), −1, (−2, −1), −2, (−∞, −2).
    cases = residual_negative_cases()
    samples = [sympy.Rational(-1, 2), -1, sympy.Rational(-3, 2), -2, -3]
    assert len(cases) == len(samples) and all(f.holds for f in cases)
    for k, (case, t0) in enumerate(zip(cases, samples, strict=True)):
        (t,) = case.claim.free_symbols
        assert case.claim.subs(t, t0) == sympy.true, case.statement
        assert case.claim.subs(t, samples[(k + 1) % 5]) == sympy.false, case.statement
    x = sympy.Symbol("x")
    w = sympy.Symbol("w")
    block = residual_block(w * sympy.sin(x), x)
    assert sympy.simplify(block.jacobian - (1 + w * sympy.cos(x))) == 0
    prod = residual_product("sigmoid").product
    assert isinstance(prod, sympy.Product)
    # The factor is 1 + w_k σ'(z_k), with σ' = e^{−z}/(1 + e^{−z})² written out here.
    bases = {i.base.label.name: i.base for i in prod.function.atoms(sympy.Indexed)}
    k = prod.limits[0][0]
    wk, zk = bases["w"][k], bases["z"][k]
    expected = 1 + wk * sympy.exp(-zk) / (1 + sympy.exp(-zk)) ** 2
    assert sympy.simplify(prod.function - expected) == 0


# ---- fixed points and the geometric form ----


def test_fixed_point_exact_on_affine_pieces():
    fp = fixed_point("relu", weight=0.5, bias=1)
    assert fp.value == 2 and fp.exact
    assert fixed_point("identity", weight=sympy.Rational(1, 3), bias=2).value == 3
    assert fixed_point("tanh", weight=0.5).value == 0


def test_fixed_point_short_closed_forms_are_recognised_and_exact():
    # σ(2·½ − 1) = σ(0) = ½, and w σ'(0) = 2·¼
    fp = fixed_point("sigmoid", weight=2, bias=-1)
    assert fp.value == sympy.Rational(1, 2) and fp.exact
    assert gradient_product("sigmoid", weight=2, bias=-1).factor == sympy.Rational(1, 2)
    # softsign(2a − 1) = a at a = −1/√2: (−√2 − 1)/(2 + √2) = −1/√2
    fp = fixed_point("softsign", weight=2, bias=-1)
    assert sympy.simplify(fp.value + 1 / sympy.sqrt(2)) == 0


def test_fixed_point_certified_bracket_has_a_sign_change():
    fp = fixed_point("sigmoid", weight=0.1)
    assert not fp.exact and fp.reached and fp.how("value").kind.value == "certified"
    lo, hi = fp.bracket
    with mpmath.workdps(150):
        def g(a):
            return 1 / (1 + mpmath.exp(-a / 10)) - a
        # the enclosure's exact rational ends, read at 150 digits: g changes sign
        assert g(mpmath.mpf(lo.p) / lo.q) * g(mpmath.mpf(hi.p) / hi.q) < 0
        # independent iteration to the fixed point, rounded as printed
        a = mpmath.mpf(1)
        for _ in range(400):
            a = 1 / (1 + mpmath.exp(-a / 10))
        assert abs(fp.value._to_mpmath(250) - a) < mpmath.mpf(10) ** -29
        # z* = a*/10 and φ'(z*) = σ(z*)(1 − σ(z*)) = a*(1 − a*) at the fixed point
        assert abs(fp.preactivation._to_mpmath(250) - a / 10) < mpmath.mpf(10) ** -29
        assert abs(fp.slope._to_mpmath(250) - a * (1 - a)) < mpmath.mpf(10) ** -29


def test_geometric_rate_matches_the_trace_ratio_of_consecutive_layers():
    gp = gradient_product("sigmoid", weight=2, bias=-1)
    trace = chain_trace("sigmoid", depth=500, weight=2, bias=-1)
    per_layer = trace.rows[0].grad_a / trace.rows[1].grad_a  # factor at layer 2
    late = trace.rows[400].grad_a / trace.rows[401].grad_a
    assert abs(late - gp.factor._to_mpmath(150)) < mpmath.mpf(10) ** -25
    assert per_layer != late  # the first layers are not yet at the fixed point
    assert gp.bound == sympy.Rational(1, 2) ** gp.depth
    assert float(gp.rate) == pytest.approx(-math.log(abs(float(gp.factor))), rel=1e-14)


@pytest.mark.parametrize(("name", "params", "w", "x"), [
    ("elu", {"alpha": 0.5}, -0.125, 1.0),  # alternates: two layers multiply by w²·½·1
    ("selu", {}, -0.5, 1.0),  # alternates
    ("leaky_relu", {"alpha": 0.2}, -2.0, 1.0),  # alternates: −2, −0.4
    ("leaky_relu", {}, 0.5, 1.0),  # stays above 0: w·1, not w·φ'(0) = w/100
    ("leaky_relu", {}, 0.5, -1.0),  # stays below 0: w/100
    ("elu", {"alpha": 2}, 0.25, -1.0),  # below: w·2
    ("relu", {}, -0.5, 1.0),  # lands on 0 at layer 2: ReLU'(0) = 0 from then on
])
def test_fixed_point_at_a_kink_gives_the_factor_the_chain_sees(name, params, w, x):
    # z* = 0 is a kink; the factor per layer is the one-sided slope of the side the chain
    # approaches from, or −|w|√(s₋s₊) when the sides alternate.  The naive loop's last
    # factors are taken where |z| < 10^−30, so they differ from their limits by O(|z|).
    act = activation(name, **params)
    gp = gradient_product(act, weight=w, x=x)
    assert gp.fixed_point.value == 0 and gp.asymptotic == gp.factor ** gp.depth
    assert not gp.factor.has(sympy.Float)  # exact
    n = 400
    _, grads = _naive_mp_trace(act, n, w, 0.0, x)
    with mpmath.workdps(60):
        f = gp.factor._to_mpmath(200)
        if grads[n - 2] == 0:
            assert f == 0
            return
        one, two = grads[n - 2] / grads[n - 1], grads[n - 3] / grads[n - 1]
        assert abs(two - f**2) <= mpmath.mpf(10) ** -25 * abs(two)  # two layers: f²
        assert (one > 0) == (f > 0)


def test_weight_bound_reference_values():
    for name in ("sigmoid", "tanh"):
        act = activation(name)
        # γ is attained at z = 0 for both (σ' and tanh' are even, decreasing on z > 0)
        assert weight_bound(name).bound == 1 / act.derivative.subs(z, 0)
        assert weight_bound(name).attained


# ---- clipping ----


@settings(max_examples=60)
@given(st.lists(st.floats(-1e6, 1e6, allow_subnormal=False), min_size=1, max_size=8),
       st.floats(1e-3, 1e3))
def test_clipping_identities_hold_numerically(g, c):
    arr = np.array(g)
    out = clip(arr, c)
    norm = math.sqrt(math.fsum(v * v for v in g))
    # float64 norms: ≤ (n + 3) roundings, relative ≤ 11 × 1.1e-16; use 1e-14.
    assert np.linalg.norm(out) == pytest.approx(min(norm, c), rel=1e-14, abs=1e-300)
    again = clip(out, c)
    np.testing.assert_allclose(again, out, rtol=1e-14, atol=0)
    if norm > 0:
        lam = min(1.0, c / norm)
        np.testing.assert_allclose(out, lam * arr, rtol=1e-14, atol=0)
        assert np.all(np.sign(out) == np.sign(arr))


@settings(max_examples=30)
@given(st.lists(st.fractions(-20, 20, max_denominator=9), min_size=1, max_size=4),
       st.fractions(Fraction(1, 9), 10, max_denominator=9))
def test_clipping_identities_hold_exactly(g, c):
    out = clip(list(g), c)
    norm = sympy.sqrt(sum(sympy.Rational(v.numerator, v.denominator) ** 2 for v in g))
    cc = sympy.Rational(c.numerator, c.denominator)
    assert sympy.simplify(sympy.sqrt(sum(v**2 for v in out)) - sympy.Min(norm, cc)) == 0
    assert clip(list(out), c) == out


def test_clipping_facts_are_proved():
    facts = clipping_facts()
    assert len(facts) == 3 and all(f.holds for f in facts)
    # Each claim re-checked here at norms below, at and above c (positive rationals).
    for fact in facts:
        symbols = sorted(fact.claim.free_symbols, key=str)
        assert len(symbols) == 2, fact.statement  # ‖g‖ and c
        for norm, c in ((sympy.Rational(1, 3), 2), (2, 2), (7, sympy.Rational(1, 5))):
            values = {sym: (c if sym.name == "c" else norm) for sym in symbols}
            assert sympy.simplify(fact.claim.subs(values)) == sympy.true, (fact.statement,
                                                                           norm, c)


# ---- invalid inputs ----

INVALID = [
    (chain_trace, ("sigmoid",), {"depth": 0, "weight": 0.1}),
    (chain_trace, ("sigmoid",), {"depth": -3, "weight": 0.1}),
    (chain_trace, ("sigmoid",), {"depth": 2.5, "weight": 0.1}),
    (chain_trace, ("sigmoid",), {"depth": 4.0, "weight": 0.1}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": float("nan")}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": float("inf")}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": [0.1, float("nan"), 0.2]}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": [0.1, 0.2]}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": 0.1, "bias": [0, 0, 0, 0]}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": "0.1"}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": 0.1, "x": float("-inf")}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": 0.1, "upstream": 0}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": 0.1, "lr": -1}),
    (chain_trace, ("sigmoid",), {"depth": 3, "weight": 0.1, "dps": 2}),
    (chain_trace, ("nope",), {"depth": 3, "weight": 0.1}),
    (residual_trace, ("tanh",), {"depth": 0, "weight": 0.1}),
    (vanishing_depth, (0.5, 0), {}),
    (vanishing_depth, (0.5, 1), {}),
    (vanishing_depth, (0.5, 1.5), {}),
    (vanishing_depth, (0.5, -0.1), {}),
    (vanishing_depth, (1.0, 0.5), {}),
    (vanishing_depth, (float("nan"), 0.5), {}),
    (exploding_depth, (0.5, 10), {}),
    (exploding_depth, (2, 0.5), {}),
    (exploding_depth, (float("inf"), 10), {}),
    (gradient_product, ("sigmoid",), {"weight": float("nan")}),
    (fixed_point, ("sigmoid",), {"weight": True}),
    (clip, ([1.0, 2.0], 0), {}),
    (clip, ([1.0, 2.0], -1), {}),
    (clip, ([], 1), {}),
    (clip, (np.array([1.0, np.nan]), 1.0), {}),
    (clip, ([1.0, float("inf")], 1), {}),
    (residual_lower_bound, (0,), {}),
    (residual_block, (sympy.Symbol("x"), 3), {}),
]


# What each message must name (the offending argument), case by case: a message that
# only says "invalid" does not tell the user what was wrong.
NAMED = [
    "depth", "depth", "depth", "depth", "weight", "weight", "weight[1]", "weight", "bias",
    "weight", "x", "upstream", "lr", "dps", "activation", "depth", "eps", "eps", "eps",
    "eps", "factor", "factor", "factor", "size", "factor", "weight", "weight", "c", "c",
    "g", "g", "g[1]", "depth", "x",
]


@pytest.mark.parametrize(("fn", "args", "kwargs", "named"),
                         [(*case, n) for case, n in zip(INVALID, NAMED, strict=True)])
def test_invalid_arguments_raise(fn, args, kwargs, named):
    with pytest.raises(InvalidArgument) as info:
        fn(*args, **kwargs)
    assert named in str(info.value), str(info.value)
