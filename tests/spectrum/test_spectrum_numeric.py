"""The simulated Jacobians: against finite differences, exact isometries and the theory."""

from __future__ import annotations

import math
import time

import numpy as np
import pytest
import sympy

from symgrad.errors import InvalidArgument
from symgrad.numeric._rng import root_seed
from symgrad.numeric.checks.spectrum import check_jacobian_spectrum, spectrum_rows
from symgrad.numeric.jacobian import forward_jacobian, simulate_jacobians

Z = 4.5


def test_forward_jacobian_matches_central_differences():
    gen = np.random.default_rng(0)
    n, depth = 6, 3
    weights = [gen.standard_normal((n, n)) * 1.3 / math.sqrt(n) for _ in range(depth)]
    biases = [gen.standard_normal(n) * 0.2 for _ in range(depth)]
    h0 = gen.standard_normal(n)

    def network(h):
        for w, b in zip(weights, biases, strict=True):
            h = w @ np.tanh(h) + b
        return h

    step = 1e-6
    fd = np.column_stack([(network(h0 + step * e) - network(h0 - step * e)) / (2 * step)
                          for e in np.eye(n)])
    # central differences: error ~ step²·|f'''| + rounding/step ≈ 1e−9
    np.testing.assert_allclose(forward_jacobian("tanh", weights, biases, h0), fd, atol=1e-8)


def test_orthogonal_linear_nets_are_exact_isometries():
    s = simulate_jacobians("identity", width=32, depth=5, sigma_w=1.5, weights="orthogonal",
                           networks=3, rng=1)
    np.testing.assert_allclose(s.squared, 1.5**10, rtol=1e-12)


def test_results_do_not_depend_on_how_networks_are_shared_among_threads(
        blocks_on_three_threads, monkeypatch):
    import symgrad.numeric._rng as rng_module

    shared = simulate_jacobians("tanh", width=16, depth=3, sigma_w=1.2, networks=5, rng=4)
    monkeypatch.setattr(rng_module, "worker_count", lambda: 1)
    alone = simulate_jacobians("tanh", width=16, depth=3, sigma_w=1.2, networks=5, rng=4)
    assert np.array_equal(shared.squared, alone.squared)


def test_spectrum_checks_pass_at_width_256():
    rows = check_jacobian_spectrum(root_seed(21), Z)
    assert len(rows) == 12 and all(r.ok for r in rows), [r for r in rows if not r.ok]


@pytest.mark.slow
def test_spectrum_at_width_2048():
    start = time.perf_counter()
    rows = spectrum_rows(root_seed(22), Z, width=2048, networks=3,
                         cases=(("relu", "gaussian", sympy.sqrt(2), sympy.Integer(0), 4),))
    print(f"relu, Gaussian, depth 4, widths 2048 and 1024, 3 networks each: "
          f"{time.perf_counter() - start:.1f} s")
    assert all(r.ok for r in rows), [r for r in rows if not r.ok]


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(width=1, depth=2, sigma_w=1.0), "width"),
    (dict(width=4096, depth=2, sigma_w=1.0), "width"),
    (dict(width=8, depth=0, sigma_w=1.0), "depth"),
    (dict(width=8, depth=2, sigma_w=0.0), "sigma_w"),
    (dict(width=8, depth=2, sigma_w=1.0, q0=0.0), "q0"),
    (dict(width=8, depth=2, sigma_w=1.0, weights="uniform"), "weights"),
    (dict(width=2048, depth=100, sigma_w=1.0, networks=10), "exceeds"),
])
def test_invalid_arguments_are_refused(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        simulate_jacobians("tanh", **kwargs)
