"""Certified q*, slope moments and edges, against references computed here.

* q*: the variance map G(q) = σ_w²E[φ(√q Z)²] + σ_b² evaluated with mpmath.quad at 40
  digits at both ends of the claimed enclosure must change sign there;
* μ_k = E[φ'(√q Z)^{2k}]: mpmath.quad at 40 digits at q* (tanh, sigmoid, gelu_tanh) and
  closed forms derived here (erf: φ'² = (4/π)e^{−2h²}, so μ_k = (4/π)^k/√(1 + 4kq);
  hard_tanh: φ'² = 1 on |h| < 1, so μ_k = erf(1/√(2q))) must lie inside the enclosures;
* the edge of a two-atom law: F'(y) = 0 solved here with mpmath.findroot at 40 digits
  (F from its definition, masses from mpmath.erf), compared with the certified enclosure;
* critical points: χ₁ = 1 and G(q*) = q* re-derived here from those closed forms.
"""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import sympy

from symgrad import activation
from symgrad.errors import InvalidArgument
from symgrad.records import Provenance
from symgrad.spectrum import jacobian_spectrum
from symgrad.spectrum._mu import slope_tails
from symgrad.spectrum.critical import critical_point

R = sympy.Rational


def _mp(x) -> mpmath.mpf:
    return mpmath.mpf(str(sympy.N(x, 50)))


def _expect(name: str, q, fn) -> mpmath.mpf:
    a = activation(name)
    with mpmath.workdps(40):
        root = mpmath.sqrt(_mp(q))
        kinks = sorted({mpmath.mpf(0), *(_mp(b) / root for b in a.breakpoints)})
        return mpmath.quad(lambda t: fn(a, root * t) * mpmath.npdf(t),
                           [-mpmath.inf, *kinks, mpmath.inf])


def _variance_map(name: str, sw, sb, q) -> mpmath.mpf:
    with mpmath.workdps(40):
        v = _expect(name, q, lambda a, h: a.mpmath(h) ** 2)
        return _mp(sw) ** 2 * v + _mp(sb) ** 2


@pytest.mark.parametrize(("name", "sw", "sb"), [
    ("tanh", R(7, 5), R(3, 10)),
    pytest.param("hard_tanh", R(6, 5), R(1, 10), marks=pytest.mark.slow),
    pytest.param("sigmoid", 2, R(1, 2), marks=pytest.mark.slow),
])
def test_certified_q_star_brackets_a_sign_change_of_the_variance_map(name, sw, sb):
    s = jacobian_spectrum(name, sigma_w=sw, sigma_b=sb, depth=2, moments=2, density_points=0)
    how = s.how("q_star")
    assert how.kind is Provenance.CERTIFIED
    lo, hi = sympy.Rational(how.lower), sympy.Rational(how.upper)
    assert 0 < hi - lo < R(1, 10**18) * hi
    with mpmath.workdps(40):
        below = _variance_map(name, sw, sb, lo) - _mp(lo)
        above = _variance_map(name, sw, sb, hi) - _mp(hi)
    # G(q) − q is positive below a stable fixed point and negative above it.
    assert below > 0 > above


@pytest.mark.parametrize("name", ["tanh", pytest.param("sigmoid", marks=pytest.mark.slow),
                                  pytest.param("gelu_tanh", marks=pytest.mark.slow)])
def test_certified_slope_moments_hold_the_quadrature_value(name):
    s = jacobian_spectrum(name, sigma_w=R(6, 5), sigma_b=R(1, 10), depth=2, moments=3,
                          density_points=0)
    how_q = s.how("q_star")
    q = (sympy.Rational(how_q.lower) + sympy.Rational(how_q.upper)) / 2
    for k in range(1, 4):
        how = s.how(f"slope_moments[{k}]")
        assert how.kind is Provenance.CERTIFIED
        ref = _expect(name, q, lambda a, h, k=k: a.mpmath_prime(h) ** (2 * k))
        with mpmath.workdps(40):
            lower, upper = _mp(how.lower), _mp(how.upper)
            assert lower <= ref <= upper
            assert upper - lower < mpmath.mpf(10) ** -18 * ref


def test_erf_and_hard_tanh_slope_moments_against_closed_forms_derived_here():
    for name, sw, sb in (("erf", R(3, 2), R(1, 5)), ("hard_tanh", R(6, 5), R(1, 10))):
        s = jacobian_spectrum(name, sigma_w=sw, sigma_b=sb, depth=2, moments=3,
                              density_points=0)
        how_q = s.how("q_star")
        with mpmath.workdps(40):
            q = (_mp(how_q.lower) + _mp(how_q.upper)) / 2
            for k in range(1, 4):
                if name == "erf":  # (2/√π)^{2k}·E[e^{−2k h²}] = (4/π)^k/√(1 + 4kq)
                    ref = (4 / mpmath.pi) ** k / mpmath.sqrt(1 + 4 * k * q)
                else:  # φ'^{2k} is the indicator of |h| < 1
                    ref = mpmath.erf(1 / mpmath.sqrt(2 * q))
                how = s.how(f"slope_moments[{k}]")
                assert _mp(how.lower) <= ref <= _mp(how.upper), (name, k)


def test_slope_tail_bounds_hold_on_a_grid_beyond_their_start():
    for name in ("tanh", "gelu_tanh", "swish", "sigmoid"):
        a = activation(name)
        tails = slope_tails(a)
        assert tails is not None
        for side, (start, bound) in zip((-1, 1), tails, strict=True):
            grid = side * np.geomspace(float(start), 1e4, 2000)
            assert np.max(np.abs(a.numpy_prime(grid))) <= float(bound), name


def _two_atom_edge(x1, p1, x2, p2, depth: int, gaussian: bool) -> mpmath.mpf:
    """λ̃_max·(normalisation) of the law {x1: p1, x2: p2, 0: rest} from F'(y) = 0, found
    here by bisection on the sign change of F' (F as defined in symgrad.spectrum.edge)."""
    m1 = p1 * x1 + p2 * x2
    a, b = x1 / m1, x2 / m1

    def F(y):
        w = p1 * a * y / (1 - a * y) + p2 * b * y / (1 - b * y)
        if gaussian:
            return (1 - depth) * mpmath.log(w) - mpmath.log(1 + w) + depth * mpmath.log(y)
        return (1 - depth) * mpmath.log(w) + (depth - 1) * mpmath.log(1 + w) \
            + depth * mpmath.log(y)

    top = 1 / max(a, b)
    lo, hi = top * mpmath.mpf("1e-12"), top * (1 - mpmath.mpf("1e-30"))
    grid = [lo + (hi - lo) * j / 4000 for j in range(4001)]
    slopes = [mpmath.diff(F, y) for y in grid]
    turn = next(j for j in range(4000) if slopes[j] > 0 >= slopes[j + 1])
    y_c = mpmath.findroot(lambda y: mpmath.diff(F, y), (grid[turn], grid[turn + 1]),
                          solver="bisect")
    return mpmath.exp(-F(y_c)) * m1**depth


@pytest.mark.parametrize(("weights", "depth"), [("gaussian", 5), ("orthogonal", 8)])
def test_certified_hard_tanh_edge_against_mpmath_root_of_the_edge_equation(weights, depth):
    sw, sb = R(6, 5), R(1, 10)
    s = jacobian_spectrum("hard_tanh", sigma_w=sw, sigma_b=sb, depth=depth, weights=weights,
                          moments=2, density_points=0)
    how = s.how("lambda_max")
    assert how.kind is Provenance.CERTIFIED
    q_how = s.how("q_star")
    with mpmath.workdps(40):
        q = (_mp(q_how.lower) + _mp(q_how.upper)) / 2
        p = mpmath.erf(1 / mpmath.sqrt(2 * q))  # P(|h| < 1): φ'² = 1 there, 0 outside
        ref = _two_atom_edge(mpmath.mpf(1), p, mpmath.mpf(1), 0, depth,
                             weights == "gaussian") * _mp(sw) ** (2 * depth)
        assert abs(ref / _mp(s.lambda_max) - 1) < mpmath.mpf(10) ** -12
        assert _mp(how.lower) * (1 - mpmath.mpf(10) ** -25) <= ref <= _mp(how.upper) * (
            1 + mpmath.mpf(10) ** -25)
    assert float(s.atom_at_zero) == pytest.approx(float(1 - p), rel=1e-14)


@pytest.mark.slow
def test_selu_at_q_star_zero_has_a_certified_edge():
    # q* = 0 at σ_b = 0, σ_w = 3/5: φ'² is λ² or (λα)², each with mass ½.
    s = jacobian_spectrum("selu", sigma_w=R(3, 5), depth=4, moments=2, density_points=0)
    assert s.degenerate and s.how("lambda_max").kind is Provenance.CERTIFIED
    a = activation("selu")
    left, right = a.one_sided_derivatives(0)
    with mpmath.workdps(40):
        ref = _two_atom_edge(_mp(left**2), mpmath.mpf(1) / 2, _mp(right**2),
                             mpmath.mpf(1) / 2, 4, True) * _mp(R(3, 5)) ** 8
        assert abs(ref / _mp(s.lambda_max) - 1) < mpmath.mpf(10) ** -12


def test_orthogonal_elu_keeps_the_top_atom_at_small_depth():
    # φ'² = 1 on h > 0 (mass ½) is the top of the law; 2·½ − 1 = 0: a hard edge at
    # (σ_w²)^L for L ≤ 2 (Bercovici–Voiculescu), exactly.
    for depth in (1, 2):
        s = jacobian_spectrum("elu", sigma_w=R(6, 5), sigma_b=R(1, 10), depth=depth,
                              weights="orthogonal", moments=2, density_points=0)
        assert s.lambda_max == R(36, 25) ** depth
        assert s.how("lambda_max").kind is Provenance.EXACT


def test_exact_numbers_stay_exact():
    # (1.4142135623730951)²/2 is not 1: it must not be "simplified" to 1.
    sw = R("1.4142135623730951")
    s = jacobian_spectrum("relu", sigma_w=sw, depth=2, moments=2, density_points=0)
    assert s.chi1 == sw**2 / 2 != 1


def test_critical_point_of_erf_is_exact_and_critical():
    q = R(1, 4)
    p = critical_point("erf", q_star=q)
    mu1 = 4 / (sympy.pi * sympy.sqrt(1 + 4 * q))  # E[(2/√π)² e^{−2h²}], derived here
    v = 2 / sympy.pi * sympy.asin(2 * q / (1 + 2 * q))  # the arc-sine kernel at c = 1
    assert sympy.simplify(p.sigma_w**2 * mu1 - 1) == 0
    assert sympy.simplify(p.sigma_w**2 * v + p.sigma_b**2 - q) == 0
    s = jacobian_spectrum("erf", sigma_w=p.sigma_w, sigma_b=p.sigma_b, depth=3, q_star=q,
                          moments=3, density_points=0)
    assert s.chi1 == 1 and s.moments[0] == 1
    for k in range(1, 4):
        assert sympy.simplify(s.slope_moments[k - 1]
                              - (4 / sympy.pi) ** k / sympy.sqrt(1 + 4 * k * q)) == 0


def test_critical_point_of_tanh_is_certified_to_thirty_digits():
    p = critical_point("tanh", q_star=R(1, 4))
    assert p.how("sigma_w").kind is Provenance.CERTIFIED
    with mpmath.workdps(40):
        mu1 = _expect("tanh", R(1, 4), lambda a, h: a.mpmath_prime(h) ** 2)
        assert abs(_mp(p.sigma_w) ** 2 * mu1 - 1) < mpmath.mpf(10) ** -28
        assert abs(_variance_map("tanh", p.sigma_w, p.sigma_b, R(1, 4)) - mpmath.mpf(1) / 4) \
            < mpmath.mpf(10) ** -28


@pytest.mark.parametrize(("kwargs", "message"), [
    (dict(act="erf", sigma_w=1, sigma_b=R(1, 10), q_star=R(1, 4)), "not a fixed point"),
    (dict(act="tanh", sigma_w=1, sigma_b=R(1, 10), q_star=R(1, 4)), "closed form"),
    (dict(act="erf", sigma_w=1, sigma_b=0, q_star=-1), "q_star"),
])
def test_a_given_q_star_must_be_proven(kwargs, message):
    act = kwargs.pop("act")
    with pytest.raises(InvalidArgument, match=message):
        jacobian_spectrum(act, depth=2, density_points=0, **kwargs)


@pytest.mark.parametrize(("args", "message"), [
    (("relu", R(1, 4)), "does not depend on q"),
    (("tanh", 0), "q_star"),
    (("sigmoid", 1), "σ_b"),
])
def test_critical_point_refuses(args, message):
    with pytest.raises(InvalidArgument, match=message):
        critical_point(args[0], q_star=args[1])


def test_design_helper_takes_exact_sigmas_for_erf():
    from symgrad.spectrum import isometry_point

    p = isometry_point("erf", depth=6, tolerance=0.2)
    assert p.how("sigma_w").kind is Provenance.EXACT and p.q_star.is_Rational
    assert float(p.spectrum.variance) <= 0.2
    assert p.spectrum.how("variance").kind is Provenance.CERTIFIED
