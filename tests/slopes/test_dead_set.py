"""dead_set: {z : φ'(z) = 0}, against mpmath roots of φ' computed from φ itself."""

from __future__ import annotations

import mpmath
import pytest
import sympy

from symgrad.errors import InvalidArgument
from symgrad.records import Certified
from symgrad.slopes.dead import dead_set


def _numeric_prime(f):  # φ' by mpmath's numerical differentiation of φ, not the symbolic φ'
    return lambda x: mpmath.diff(f, x)


@pytest.mark.parametrize(("name", "phi", "guess"), [
    ("gelu", lambda x: x * mpmath.ncdf(x), -0.75),
    ("silu", lambda x: x / (1 + mpmath.exp(-x)), -1.28),
    ("mish", lambda x: x * mpmath.tanh(mpmath.log1p(mpmath.exp(x))), -1.19),
])
def test_single_dead_points_match_mpmath(name, phi, guess):
    found = dead_set(name)
    assert len(found.points) == 1 and found.region == sympy.FiniteSet(*found.points)
    with mpmath.workdps(40):
        root = mpmath.findroot(_numeric_prime(phi), guess)
        how = found.how[0]
        assert isinstance(how, Certified)
        lo, hi = (mpmath.mpf(sympy.Float(b, 50)) for b in (how.lower, how.upper))
        # Numerical differentiation at 40 digits leaves the root good to ~1e-35: the
        # enclosure (~1e-42 wide) must lie within 1e-30 of it.
        assert lo - mpmath.mpf(10) ** -30 <= root <= hi + mpmath.mpf(10) ** -30
    assert found.completeness


@pytest.mark.parametrize(("name", "region"), [
    ("relu", sympy.Interval(-sympy.oo, 0)),
    ("hard_tanh", sympy.Union(sympy.Interval(-sympy.oo, -1), sympy.Interval.open(1, sympy.oo))),
    ("sigmoid", sympy.S.EmptySet),
    ("tanh", sympy.S.EmptySet),
    ("leaky_relu", sympy.S.EmptySet),
])
def test_dead_regions(name, region):
    assert dead_set(name).region == region


def test_unknown_activation_is_invalid():
    with pytest.raises(InvalidArgument):
        dead_set("no-such-activation")
