"""The Gaussian maps predict uses, against mpmath at 40 digits: the quintic-Hermite table,
its error estimate, and the expansion at 0 below the table."""

import math

import mpmath
import pytest

from symgrad.activations import as_activation
from symgrad.networks._gaussian import gaussian_maps

# Activations with kinks (elu, selu at 0; hard_tanh at ±1), saturating, unbounded.
QUICK = ("tanh", "elu")
HEAVY = ("gelu", "softplus", "selu", "hard_tanh", "mish", "softsign")


def _reference(act, q):
    # 40 digits: mpmath's tanh (and φ built on it) loses about log10(1/|x|) digits to
    # cancellation at tiny arguments; at 20 digits and q = 3e-17 the reference itself was
    # off by 3e-10 relative.
    with mpmath.workdps(40):
        r = mpmath.sqrt(q)
        cuts = sorted({0.0, *(float(b) for b in act.breakpoints)})
        line = [-mpmath.inf, *[mpmath.mpf(c) / r for c in cuts], mpmath.inf]
        # extra panels at the activation's own scale and the Gaussian's: doubling out to
        # |t| = 40 (mass beyond: < 1e-340), so no panel is too wide for tanh-sinh to see
        # the Gaussian tail (one panel [5, 1/√q] lost 1e-5 of E[t²] at q = 3e-17)
        tails = {s * 5 * 2**k for s in (-1, 1) for k in range(4)}
        line = sorted(set(line) | tails | {-1, 1, -1 / r, 1 / r}, key=float)

        def e(g):
            return mpmath.quad(lambda t: g(r * t) * mpmath.npdf(t), line)

        return (e(lambda u: act.mpmath(u) ** 2), e(lambda u: act.mpmath_prime(u) ** 2),
                e(act.mpmath))


def _check(name, points):
    act = as_activation(name)
    maps = gaussian_maps(act)
    for q in points:
        v, s, m, err = maps.at(q)
        rv, rs, rm = (float(x) for x in _reference(act, q))
        # The estimate bounds the actual error (×2 for mpmath's own and float rounding).
        assert abs(v - rv) <= 2 * err * abs(rv) + 1e-15 * abs(rv), (name, q, v, rv, err)
        assert abs(s - rs) <= 2 * err * abs(rs) + 1e-15 * abs(rs), (name, q, s, rs, err)
        assert abs(m - rm) <= 2 * err * math.sqrt(abs(rv)) + 1e-15 * math.sqrt(abs(rv)), (
            name, q, m, rm, err)
        assert err <= (1e-5 if q < 1e-12 else 1e-9)


@pytest.mark.parametrize("name", QUICK)
def test_maps_and_their_error_estimates_against_mpmath(name):
    _check(name, (4e-13, 0.7, 5.3))


@pytest.mark.slow
@pytest.mark.parametrize("name", QUICK + HEAVY)
def test_maps_and_their_error_estimates_against_mpmath_everywhere(name):
    # selu's φ' jumps at 0: the expansion below the table is the point to check.
    _check(name, (3e-17, 0.7) if name == "selu" else (3e-17, 0.013, 2.4e3))


def test_vectorised_maps_match_the_scalar_ones_and_their_slope():
    maps = gaussian_maps(as_activation("gelu"))
    qs = [1e-15, 0.2, 3.0, 40.0]
    v, s, m, dv, _ = maps.at_many(qs)
    for i, q in enumerate(qs):
        sv, ss, sm, _ = maps.at(q)
        assert (v[i], s[i], m[i]) == pytest.approx((sv, ss, sm), rel=1e-14)
        h = q * 1e-4
        slope = (maps.at(q + h)[0] - maps.at(q - h)[0]) / (2 * h)
        assert dv[i] == pytest.approx(slope, rel=1e-5)
