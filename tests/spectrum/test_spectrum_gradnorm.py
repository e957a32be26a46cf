"""gradient_norm_distribution against references computed here, and against simulations.

References: binomial sums of mpmath's digamma/trigamma at 30 digits (relu), sums of
ψ(n/2) + ln 2 and ψ'(n/2) (linear nets), and networks simulated with full weight matrices
(the row sampler is checked against them too).  Statistical tolerances are z·SE, z = 4.5.
"""

from __future__ import annotations

import json
import math

import mpmath
import numpy as np
import pytest
import sympy

from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import root_seed
from symgrad.numeric.checks.spectrum import check_gradient_norm_beta, check_gradient_norm_exact
from symgrad.numeric.jacobian import simulate_gradient_norms
from symgrad.records import Provenance
from symgrad.spectrum import NormLawMethod, gradient_norm_distribution

Z = 4.5


def _relu_reference(widths, sigma_w2):
    """E ln X, Var ln X | X > 0 for relu: X = ∏ (σ_w²/n_{l−1})χ²_{K_l}·(σ_w²/n_{L−1})χ²_{n_L}."""
    with mpmath.workdps(30):
        s2 = mpmath.mpf(str(sympy.N(sigma_w2, 40)))
        mean = sum(mpmath.log(s2 / n) for n in widths[:-1])
        var = mpmath.mpf(0)
        for n in widths[1:-1]:
            weights = [mpmath.binomial(n, k) / (mpmath.mpf(2) ** n - 1) for k in range(n + 1)]
            psi = [mpmath.digamma(mpmath.mpf(k) / 2) if k else 0 for k in range(n + 1)]
            e1 = sum(weights[k] * psi[k] for k in range(1, n + 1))
            e2 = sum(weights[k] * psi[k] ** 2 for k in range(1, n + 1))
            tri = sum(weights[k] * mpmath.psi(1, mpmath.mpf(k) / 2) for k in range(1, n + 1))
            mean += e1 + mpmath.log(2)
            var += tri + e2 - e1**2
        last = mpmath.mpf(widths[-1]) / 2
        return (mean + mpmath.digamma(last) + mpmath.log(2), var + mpmath.psi(1, last))


def _close(value, reference) -> bool:
    with mpmath.workdps(30):
        return bool(abs(mpmath.mpf(str(sympy.N(value, 30))) - reference) < 1e-25)


@pytest.mark.parametrize(("widths", "sigma_w"), [((7, 9, 5, 11), 1.3), ((3, 2, 2), 2.0),
                                                 ((10, 10, 10), sympy.sqrt(2))])
def test_relu_law_matches_binomial_digamma_sums(widths, sigma_w):
    law = gradient_norm_distribution("relu", widths, sigma_w=sigma_w)
    exact_w = sigma_w if isinstance(sigma_w, sympy.Expr) else sympy.Rational(repr(sigma_w))
    mean, var = _relu_reference(widths, exact_w**2)
    assert law.method is NormLawMethod.EXACT_RELU
    assert _close(law.mean_log, mean) and _close(law.var_log, var)
    alive = math.prod(1 - sympy.Rational(1, 2**n) for n in widths[1:-1])
    assert law.p_zero == 1 - alive
    assert law.how("var_log").kind is Provenance.EXACT


def test_wide_relu_law_is_a_certified_enclosure():
    law = gradient_norm_distribution("relu", (1024, 1024, 1024), sigma_w=sympy.sqrt(2))
    how = law.how("var_log")
    assert how.kind is Provenance.CERTIFIED
    _, var = _relu_reference((1024, 1024, 1024), 2)
    with mpmath.workdps(40):
        assert mpmath.mpf(str(how.lower)) - 1e-28 <= var <= mpmath.mpf(str(how.upper)) + 1e-28
        assert abs(mpmath.mpf(str(how.upper)) - mpmath.mpf(str(how.lower))) < 1e-28


def test_linear_law_is_a_sum_of_digammas():
    widths = (5, 8, 3, 6)
    law = gradient_norm_distribution("identity", widths, sigma_w=sympy.Rational(4, 5))
    with mpmath.workdps(30):
        mean = sum(mpmath.log(mpmath.mpf(16) / 25 / n) for n in widths[:-1]) + sum(
            mpmath.digamma(mpmath.mpf(n) / 2) + mpmath.log(2) for n in widths[1:])
        var = sum(mpmath.psi(1, mpmath.mpf(n) / 2) for n in widths[1:])
    assert law.method is NormLawMethod.EXACT_LINEAR
    assert _close(law.mean_log, mean) and _close(law.var_log, var)


def test_tanh_at_a_zero_fixed_point_is_a_linear_net():
    law = gradient_norm_distribution("tanh", (6, 6, 6), sigma_w=1)
    assert law.method is NormLawMethod.EXACT_LINEAR and "q* = 0" in law.statement


@pytest.mark.parametrize("act", ["relu", "identity"])
def test_beta_expansion_agrees_with_the_exact_laws_within_its_error(act):
    from symgrad.activations import as_activation
    from symgrad.spectrum._beta import beta_expansion

    widths = (256,) * 9
    sw = math.sqrt(2) if act == "relu" else 1.0
    exact = gradient_norm_distribution(act, widths, sigma_w=sw)
    ex = beta_expansion(as_activation(act), widths, 1.0, sw, 0.0)
    assert abs(ex.var_log - float(exact.var_log)) <= ex.var_error
    assert abs(ex.mean_log - float(exact.mean_log)) <= ex.mean_error
    # relu: Var ln X ≈ 5β + 2/n_L (Hanin 2018)
    if act == "relu":
        assert ex.var_log == pytest.approx(5 * 7 / 256 + float(mpmath.psi(1, 128)), rel=1e-9)


def test_exact_laws_agree_with_full_matrix_simulations():
    rows = check_gradient_norm_exact(root_seed(11), Z)
    assert len(rows) == 5 and all(r.ok for r in rows), [r for r in rows if not r.ok]


def test_tanh_beta_expansion_agrees_and_the_naive_prediction_is_rejected():
    rows = check_gradient_norm_beta(root_seed(12), Z)
    assert len(rows) == 3 and all(r.ok for r in rows), [r for r in rows if not r.ok]


def test_row_sampler_has_the_law_of_full_matrices():
    kwargs = dict(sigma_w=1.3, sigma_b=0.2, q_input=0.5, networks=10000)
    widths = (24, 24, 24, 24, 24)
    a = simulate_gradient_norms("tanh", widths, sampler="matrices", rng=3, **kwargs)
    b = simulate_gradient_norms("tanh", widths, sampler="rows", rng=4, **kwargs)
    ma, sa, va, sva, _ = a.log_stats()
    mb, sb, vb, svb, _ = b.log_stats()
    assert abs(ma - mb) <= Z * math.hypot(sa, sb)
    assert abs(va - vb) <= Z * math.hypot(sva, svb)


def test_simulations_are_pure_functions_of_the_seed():
    a = simulate_gradient_norms("relu", (8, 8, 8), sigma_w=1.4, networks=50, rng=7)
    b = simulate_gradient_norms("relu", (8, 8, 8), sigma_w=1.4, networks=50, rng=7)
    assert np.array_equal(a.values, b.values)


def test_record_is_json_ready():
    law = gradient_norm_distribution("tanh", (32,) * 5, sigma_w=1.2, sigma_b=0.2)
    d = json.loads(json.dumps(law.as_dict()))
    assert d["method"] == "beta expansion"
    assert d["provenance"]["var_log"]["kind"] == "estimated"
    assert law.naive_var_log is not None and law.naive_var_log < law.var_log


@pytest.mark.parametrize(("args", "kwargs", "message"), [
    (((8,),), dict(sigma_w=1), "widths"),
    (((8, 0, 8),), dict(sigma_w=1), "width"),
    (((8, 5000),), dict(sigma_w=1), "4096"),
    (("88",), dict(sigma_w=1), "widths"),
    (((8, 8),), dict(sigma_w=0), "sigma_w"),
    (((8, 8),), dict(sigma_w=1, sigma_b=-0.5), "sigma_b"),
])
def test_invalid_arguments_are_refused(args, kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        gradient_norm_distribution("relu", *args, **kwargs)


def test_beta_expansion_needs_a_finite_fixed_point():
    with pytest.raises(InvalidArgument, match="fixed point"):
        gradient_norm_distribution("elu", (8, 8, 8), sigma_w=3)


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(widths=(1, 8), sigma_w=1.0, networks=10), "widths"),
    (dict(widths=(8, 8), sigma_w=1.0, networks=1), "networks"),
    (dict(widths=(8, 8), sigma_w=1.0, networks=10, sampler="exact"), "sampler"),
    (dict(widths=(8, 8), sigma_w=1.0, sigma_b=2.0, q_input=1.0, networks=10), "q_input"),
    (dict(widths=(4096, 4096), sigma_w=1.0, networks=10**6, sampler="matrices"), "exceeds"),
])
def test_invalid_simulation_arguments_are_refused(kwargs, message):
    widths = kwargs.pop("widths")
    with pytest.raises(InvalidArgument, match=message):
        simulate_gradient_norms("tanh", widths, **kwargs)
