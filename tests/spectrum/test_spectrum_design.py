"""isometry_point: the returned critical point, re-derived here with mpmath quadrature."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from symgrad import activation
from symgrad.errors import InvalidArgument
from symgrad.spectrum import isometry_point


def _gauss(fn, q):
    with mpmath.workdps(30):
        root = mpmath.sqrt(mpmath.mpf(str(q)))
        return mpmath.quad(lambda x: fn(root * x) * mpmath.npdf(x), [-mpmath.inf, 0, mpmath.inf])


@pytest.mark.parametrize("act", ["tanh"])
def test_point_is_critical_and_its_spread_is_at_the_tolerance(act):
    depth, tol = 12, 0.2
    p = isometry_point(act, depth=depth, tolerance=tol)
    a = activation(act)
    q = p.q_star
    mu1 = _gauss(lambda h: a.mpmath_prime(h) ** 2, q)
    mu2 = _gauss(lambda h: a.mpmath_prime(h) ** 4, q)
    phi2 = _gauss(lambda h: a.mpmath(h) ** 2, q)
    sw, sb = mpmath.mpf(str(p.sigma_w)), mpmath.mpf(str(p.sigma_b))
    assert abs(sw**2 * mu1 - 1) < 1e-9                       # χ₁ = 1
    assert abs(sw**2 * phi2 + sb**2 - mpmath.mpf(str(q))) < 1e-9  # q* is the fixed point
    spread = depth * (mu2 / mu1**2 - 1)
    assert 0.99 * tol <= spread <= tol * (1 + 1e-8)           # the largest q* that fits
    assert float(p.spectrum.variance) == pytest.approx(float(spread), rel=1e-8)


def test_gaussian_weights_cannot_beat_their_floor():
    p = isometry_point("tanh", depth=10, tolerance=5, weights="gaussian")
    assert not p.feasible and "≥ L" in p.statement


def test_relu_spread_does_not_depend_on_the_fixed_point():
    assert not isometry_point("relu", depth=10, tolerance=5).feasible
    p = isometry_point("relu", depth=10, tolerance=20, weights="gaussian")
    assert p.feasible and p.sigma_w == sympy.sqrt(2) and p.spectrum.variance == 20


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(depth=0, tolerance=1), "depth"),
    (dict(depth=3, tolerance=0), "tolerance"),
    (dict(depth=3, tolerance=1, weights="haar"), "weights"),
])
def test_invalid_arguments_are_refused(kwargs, message):
    with pytest.raises(InvalidArgument, match=message):
        isometry_point("tanh", **kwargs)
