"""Mean field: closed forms, the fast quadrature and the mpmath mode against independent
references computed here (mpmath.quad at 30 digits, Gauss–Hermite tensor rules)."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mpmath
import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import (
    InvalidArgument,
    NoClosedForm,
    activation,
    activation_names,
    register_activation,
    z,
)
from symgrad.activations.registry import unregister_activation
from symgrad.meanfield.criticality import critical_sigma_w
from symgrad.meanfield.field import MeanFieldMode, Phase, VarianceFixedPoint, mean_field
from symgrad.meanfield.phase import phase_diagram

# ---- independent references ----


def ref_moment(act: Any, q: Any, *, slope: bool = False, dps: int = 30) -> Any:
    """E[φ(√q Z)²] (or φ'²) by mpmath.quad, the line split at 0, kinks and the scales."""
    fn = act.mpmath_prime if slope else act.mpmath
    with mpmath.workdps(dps):
        q = mpmath.mpf(q)
        r = mpmath.sqrt(q)
        cuts = {mpmath.mpf(0), mpmath.mpf(2), mpmath.mpf(-2), 1 / r, -1 / r, 5 / r, -5 / r}
        cuts |= {mpmath.mpf(float(b)) / r for b in act.breakpoints}
        pts = [-mpmath.inf, *sorted(c for c in cuts if abs(c) < 30), mpmath.inf]
        return mpmath.quad(lambda t: fn(r * t) ** 2 * mpmath.npdf(t), pts)


def ref_fixed_point(act: Any, sw: float, sb: float, q_start: float) -> tuple[Any, Any]:
    """(q*, χ₁) by the secant method on G(q) − q with the quadrature above."""
    with mpmath.workdps(30):
        w2, b2 = mpmath.mpf(sw) ** 2, mpmath.mpf(sb) ** 2
        q = mpmath.findroot(lambda x: w2 * ref_moment(act, x) + b2 - x, mpmath.mpf(q_start),
                            tol=mpmath.mpf(10) ** -26)
        return q, w2 * ref_moment(act, q, slope=True)


# ---- known published points ----


def test_tanh_is_critical_at_sigma_w_one_without_bias() -> None:
    # Poole et al. 2016 / Schoenholz et al. 2017: the tanh line starts at (σ_w, σ_b) = (1, 0).
    assert critical_sigma_w("tanh", sigma_b=0).sigma_w == 1
    mf = mean_field("tanh", sigma_w=1, sigma_b=0)
    assert mf.q_star == 0 and mf.chi1 == 1 and mf.phase is Phase.CRITICAL
    assert mf.xi_grad == sympy.oo


def test_relu_is_critical_at_sigma_w_squared_two() -> None:
    assert critical_sigma_w("relu", sigma_b=0).sigma_w == sympy.sqrt(2)
    marginal = mean_field("relu", sigma_w=sympy.sqrt(2), sigma_b=0)
    assert marginal.fixed_point is VarianceFixedPoint.MARGINAL
    assert marginal.chi1 == 1 and marginal.phase is Phase.CRITICAL
    diverging = mean_field("relu", sigma_w=1.5, sigma_b=0)
    assert diverging.fixed_point is VarianceFixedPoint.DIVERGES
    assert diverging.q_star == sympy.oo and "no finite fixed point" in diverging.statement
    # χ₁ > 1 for ReLU is exploding variance and gradients, not chaos (no decorrelation).
    assert diverging.chi1 == sympy.Rational(9, 8) and diverging.phase is Phase.EXPLODING
    # σ_w² = 2 with a bias: the variance grows linearly, still no finite q*.
    assert mean_field("relu", sigma_w=sympy.sqrt(2), sigma_b=1).fixed_point \
        is VarianceFixedPoint.DIVERGES


def test_relu_closed_form_fixed_point() -> None:
    # q* = σ_b²/(1 − σ_w²/2) solves q = σ_w² q/2 + σ_b² by hand.
    mf = mean_field("relu", sigma_w=1.2, sigma_b=0.1)
    assert mf.q_star == sympy.Rational(1, 100) / (1 - sympy.Rational(36, 50))
    assert mf.c_star == 1 and mf.chi_c == mf.chi1 and mf.xi_c == -1 / sympy.log(mf.chi1)


def test_erf_critical_point_is_sqrt_pi_over_two() -> None:
    # erf'(0) = 2/√π, so on the q* = 0 branch χ₁ = σ_w²·4/π.
    assert critical_sigma_w("erf", sigma_b=0).sigma_w == sympy.sqrt(sympy.pi) / 2


# ---- fast and precise modes against the reference ----

# q* from ~0.04 to ~135: the fast mode must stay ≤ 1e-8 relative (the bound) and
# its own error estimate must cover the actual error (floored at 1e-14: float64 rounding).
FAST_POINTS = [
    ("tanh", 1.5, 0.05), ("tanh", 10.0, 0.5), ("tanh", 12.0, 1.0), ("sigmoid", 3.0, 0.5),
    ("gelu", 1.3, 0.3), ("hard_tanh", 1.3, 0.2), ("softsign", 2.0, 0.3),
    ("mish", 1.2, 0.2), ("softplus", 1.0, 0.2), ("elu", 1.1, 0.1), ("silu", 1.5, 0.3),
]


@pytest.mark.parametrize(("name", "sw", "sb"), FAST_POINTS)
def test_fast_mode_matches_mpmath_reference(name: str, sw: float, sb: float) -> None:
    act = activation(name)
    mf = mean_field(act, sigma_w=sw, sigma_b=sb, mode="fast")
    assert mf.fixed_point is VarianceFixedPoint.FINITE
    q_ref, chi_ref = ref_fixed_point(act, sw, sb, float(mf.q_star))
    err_q = abs(float(mf.q_star) / float(q_ref) - 1)
    err_chi = abs(float(mf.chi1) / float(chi_ref) - 1)
    assert err_q <= 1e-8 and err_chi <= 1e-8, (err_q, err_chi)
    assert err_q <= max(mf.error("q_star"), 1e-14)
    assert err_chi <= max(mf.error("chi1"), 1e-14)


@pytest.mark.parametrize(("name", "sw", "sb"), [("tanh", 10.0, 0.5), ("gelu", 1.3, 0.3)])
def test_precise_mode_matches_reference_to_1e_10(name: str, sw: float, sb: float) -> None:
    act = activation(name)
    mf = mean_field(act, sigma_w=sw, sigma_b=sb, mode="precise")
    q_ref, chi_ref = ref_fixed_point(act, sw, sb, float(mf.q_star))
    with mpmath.workdps(30):
        assert abs(mpmath.mpf(str(mf.q_star)) / q_ref - 1) <= 1e-10
        assert abs(mpmath.mpf(str(mf.chi1)) / chi_ref - 1) <= 1e-10


def test_plain_gauss_hermite_would_fail_where_the_fast_mode_does_not() -> None:
    # The reason for the panel rule: 40 Hermite nodes are far off for tanh at q = 100.
    act = activation("tanh")
    x, w = np.polynomial.hermite_e.hermegauss(40)
    hermite = float(np.sum(w * act.numpy_prime(10.0 * x) ** 2) / math.sqrt(2 * math.pi))
    reference = float(ref_moment(act, 100, slope=True))
    assert abs(hermite / reference - 1) > 0.05
    mf = mean_field(act, sigma_w=10, sigma_b=0.5, mode="fast")
    q_ref, chi_ref = ref_fixed_point(act, 10.0, 0.5, float(mf.q_star))
    assert 90 < float(q_ref) < 100  # the regime the issue names: q* near 100
    assert abs(float(mf.q_star) / float(q_ref) - 1) <= 1e-8
    assert abs(float(mf.chi1) / float(chi_ref) - 1) <= 1e-8


def test_chaotic_correlation_fixed_point_solves_its_map() -> None:
    # Independent check of c*: the correlation map by a 200×200 Gauss–Hermite tensor rule
    # (tanh at q* ≈ 0.8 is smooth on the scale of the nodes: error far below 1e-9).
    act = activation("tanh")
    mf = mean_field(act, sigma_w=1.5, sigma_b=0.05, mode="fast")
    q, c = float(mf.q_star), float(mf.c_star)
    x, w = np.polynomial.hermite_e.hermegauss(200)
    w = w / math.sqrt(2 * math.pi)
    Z1, Z2 = np.meshgrid(x, x, indexing="ij")
    W = np.outer(w, w)
    u1 = math.sqrt(q) * Z1
    u2 = math.sqrt(q) * (c * Z1 + math.sqrt(1 - c * c) * Z2)
    cmap = (1.5**2 * np.sum(W * np.tanh(u1) * np.tanh(u2)) + 0.05**2) / q
    assert abs(cmap - c) <= 1e-9
    chi_c = 1.5**2 * np.sum(W * act.numpy_prime(u1) * act.numpy_prime(u2))
    assert abs(chi_c - float(mf.chi_c)) <= 1e-9
    assert 0 < c < 1 and mf.phase is Phase.CHAOTIC and float(mf.xi_grad) < 0


def test_odd_activation_without_bias_decorrelates_fully_in_chaos() -> None:
    mf = mean_field("tanh", sigma_w=2, sigma_b=0, mode="fast")
    assert abs(float(mf.c_star)) <= 1e-12


# ---- Hypothesis laws ----

_sigma_w = st.integers(min_value=3, max_value=40).map(lambda n: sympy.Rational(n, 10))
_sigma_b = st.integers(min_value=0, max_value=20).map(lambda n: sympy.Rational(n, 20))


@settings(max_examples=25, deadline=None)
@given(_sigma_w, _sigma_b)
def test_relu_chi1_is_half_sigma_w_squared(sw: sympy.Expr, sb: sympy.Expr) -> None:
    assert mean_field("relu", sigma_w=sw, sigma_b=sb).chi1 == sw**2 / 2


@settings(max_examples=8, deadline=None)
@given(st.sampled_from(["tanh", "sigmoid", "gelu", "softsign", "hard_tanh", "elu"]),
       _sigma_w, _sigma_b)
def test_q_star_solves_its_own_map(name: str, sw: sympy.Expr, sb: sympy.Expr) -> None:
    act = activation(name)
    mf = mean_field(act, sigma_w=sw, sigma_b=sb, mode="fast")
    w2, b2 = float(sw) ** 2, float(sb) ** 2
    if mf.fixed_point is not VarianceFixedPoint.FINITE:
        # Only the relu-like tails (gelu, elu: E[φ(√q Z)²] ~ q/2) can diverge, and only
        # when σ_w² > 2; then the reference map overshoots q far out: G(10⁴) > 10⁴.
        assert name in ("gelu", "elu") and w2 > 2, (name, sw, mf.fixed_point)
        assert w2 * float(ref_moment(act, 1e4, dps=20)) + b2 > 1e4
        return
    q = float(mf.q_star)
    image = w2 * float(ref_moment(act, q, dps=20)) + b2 if q > 0 else b2
    # q* = 0 is a fixed point only when G(0) = σ_b² + σ_w² φ(0)² vanishes.
    if q == 0:
        assert b2 == 0 and float(act.mpmath(0)) == 0
    assert abs(image - q) <= 1e-8 * q


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=5, max_value=30).map(lambda n: sympy.Rational(n, 10)),
       st.integers(min_value=1, max_value=20).map(lambda n: sympy.Rational(n, 20)))
def test_erf_closed_form_equals_quadrature(sw: sympy.Expr, sb: sympy.Expr) -> None:
    exact = mean_field("erf", sigma_w=sw, sigma_b=sb, mode="exact")
    fast = mean_field("erf", sigma_w=sw, sigma_b=sb, mode="fast")
    for field in ("q_star", "chi1", "c_star", "chi_c"):
        a, b = float(getattr(exact, field)), float(getattr(fast, field))
        assert abs(a - b) <= 1e-9 * max(1.0, abs(a)), field


@settings(max_examples=6, deadline=None)
@given(st.sampled_from(["tanh", "erf", "sigmoid", "hard_tanh"]),
       st.integers(min_value=1, max_value=30).map(lambda n: sympy.Rational(n, 20)))
def test_critical_points_have_chi1_one(name: str, sb: sympy.Expr) -> None:
    act = activation(name)
    point = critical_sigma_w(name, sigma_b=sb)
    sw = float(point)
    # Independent χ₁ at the returned σ_w: q* by mpmath.findroot on the 30-digit quadrature
    # map, started from a plain fixed-point iterate with a 101-node Gauss–Hermite rule (only
    # a starting point: the secant refines it), not from symgrad's q*.
    x, wts = np.polynomial.hermite_e.hermegauss(101)
    wts = wts / math.sqrt(2 * math.pi)
    q0 = 1.0
    for _ in range(200):
        q0 = sw**2 * float(np.sum(wts * act.numpy(math.sqrt(q0) * x) ** 2)) + float(sb) ** 2
    _, chi = ref_fixed_point(act, sw, float(sb), q0)
    # σ_w is good to ~1e-13 relative; χ₁ is smooth in σ_w with slope ~2/σ_w: ≤ 1e-9.
    assert abs(float(chi) - 1) <= 1e-9, (name, sb, sw, chi)
    assert mean_field(name, sigma_w=sw, sigma_b=sb, mode="fast").phase is Phase.CRITICAL
    # Either side of the line the phase flips (χ₁ increases with σ_w).
    assert mean_field(name, sigma_w=sw * 0.99, sigma_b=sb, mode="fast").phase is Phase.ORDERED
    assert mean_field(name, sigma_w=sw * 1.01, sigma_b=sb, mode="fast").phase is Phase.CHAOTIC


@settings(max_examples=10, deadline=None)
@given(st.sampled_from(["tanh", "sigmoid", "erf", "softsign"]), _sigma_b,
       st.integers(min_value=3, max_value=30), st.integers(min_value=1, max_value=10))
def test_chi1_increases_with_sigma_w(name: str, sb: sympy.Expr, n: int, dn: int) -> None:
    lo = mean_field(name, sigma_w=sympy.Rational(n, 10), sigma_b=sb, mode="fast")
    hi = mean_field(name, sigma_w=sympy.Rational(n + dn, 10), sigma_b=sb, mode="fast")
    assert float(hi.chi1) > float(lo.chi1)


# ---- phase diagram ----


def test_phase_diagram_matches_pointwise_solutions_and_the_line() -> None:
    sw, sb = [0.5, 1.0, 1.4, 2.5], [0.0, 0.3]
    d = phase_diagram("tanh", sigma_w=sw, sigma_b=sb)
    for i, b in enumerate(sb):
        for j, w in enumerate(sw):
            assert abs(d.chi1[i, j] - float(mean_field("tanh", sigma_w=w, sigma_b=b,
                                                          mode="fast").chi1)) <= 1e-12
        assert abs(d.critical_sigma_w[i] - float(critical_sigma_w("tanh", sigma_b=b))) <= 1e-9
    assert [p.value for p in d.phase[1]] == ["ordered", "ordered", "chaotic", "chaotic"]
    with ThreadPoolExecutor(2) as pool:
        again = phase_diagram("tanh", sigma_w=sw, sigma_b=sb, executor=pool)
    assert np.array_equal(again.chi1, d.chi1)


def test_phase_diagram_svg_is_deterministic() -> None:
    d = phase_diagram("relu", sigma_w=[1.0, 1.5], sigma_b=[0.0, 0.5])
    first, second = d.figure_svg(), d.figure_svg()
    assert first == second and first.startswith("<?xml") and "date" not in first.lower()
    # 2 × 2 grid: one heat-map cell per (σ_b, σ_w) point, and the critical line drawn.
    assert first.count("<rect") >= 4 and "χ₁ = 1" in first


# ---- invalid input ----


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sigma_w": 0, "sigma_b": 0}, "sigma_w"),
    ({"sigma_w": -1, "sigma_b": 0}, "sigma_w"),
    ({"sigma_w": 1, "sigma_b": -0.1}, "sigma_b"),
    ({"sigma_w": float("nan"), "sigma_b": 0}, "sigma_w"),
    ({"sigma_w": 1, "sigma_b": float("inf")}, "sigma_b"),
    ({"sigma_w": "1", "sigma_b": 0}, "sigma_w"),
    ({"sigma_w": 1, "sigma_b": 0, "mode": "fastest"}, "mode"),
    ({"sigma_w": 1, "sigma_b": 0, "q0": 0}, "q0"),
])
def test_invalid_arguments(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgument, match=message):
        mean_field("tanh", **kwargs)


def test_invalid_activation_and_grids() -> None:
    with pytest.raises(InvalidArgument):
        mean_field("nope", sigma_w=1, sigma_b=0)
    with pytest.raises(InvalidArgument):
        critical_sigma_w("tanh", sigma_b=-1)
    with pytest.raises(InvalidArgument):
        phase_diagram("tanh", sigma_w=[], sigma_b=[0.0])
    with pytest.raises(InvalidArgument):
        phase_diagram("tanh", sigma_w="1.0", sigma_b=[0.0])
    with pytest.raises(NoClosedForm):
        mean_field("tanh", sigma_w=1, sigma_b=0, mode=MeanFieldMode.EXACT)


@pytest.mark.parametrize("expr", [z * sympy.exp(z**2), sympy.exp(z**2)])
def test_diverging_gaussian_moments_are_refused(expr: sympy.Expr) -> None:
    from symgrad import gain

    register_activation("gauss_blowup", expr, replace=True)
    try:
        for mode in ("fast", "precise"):
            with pytest.raises(InvalidArgument, match="diverge"):
                mean_field("gauss_blowup", sigma_w=1, sigma_b=0.5, mode=mode)
        for principle in ("second_moment", "criticality"):
            with pytest.raises(InvalidArgument, match="diverge"):
                gain("gauss_blowup", principle=principle)
    finally:
        unregister_activation("gauss_blowup")


def test_readme_meanfield_examples_run_as_written() -> None:
    import doctest
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    start = text.index("<!-- section: meanfield -->")
    end = text.find("<!-- section:", start + 1)
    test = doctest.DocTestParser().get_doctest(text[start:end], {}, "README:meanfield",
                                               "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.attempted >= 10 and result.failed == 0


@pytest.mark.parametrize("name", activation_names())
def test_every_registered_activation_solves_its_map(name: str) -> None:
    # Registry-driven: a new activation is checked without a new test.  G(q*) by the
    # mpmath reference at 20 digits; the fast mode promises ≤ 1e-8 relative.
    act = activation(name)
    mf = mean_field(act, sigma_w=1.2, sigma_b=0.3, mode="fast")
    if mf.fixed_point is not VarianceFixedPoint.FINITE:
        assert mf.q_star == sympy.oo and float(mf.chi1) >= 1
        return
    q = float(mf.q_star)
    image = 1.44 * float(ref_moment(act, q, dps=20)) + 0.09
    assert abs(image - q) <= 1e-8 * q
    chi = 1.44 * float(ref_moment(act, q, slope=True, dps=20))
    assert abs(float(mf.chi1) - chi) <= 1e-8 * chi
