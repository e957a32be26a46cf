"""Every certified number the slope records print has only digits its enclosure proves.

For every catalogue activation: sup |φ'| and its argmax, the saturation thresholds for
ε = 1e-1 … 1e-4, and E[φ'(Z)^p] (p = 1, 2).  The references are computed here at 80
digits from the derivatives written by hand in ``_hand.py`` (never symgrad's φ'): a
critical point is a root of mpmath's numerical derivative of the hand-written φ', a
threshold a root of |φ'| − ε, an expectation mpmath's tanh-sinh quadrature.  A printed
certified number must equal its reference rounded at its last printed place; a closed
form must agree with the reference to 45 digits.  Each record also carries its proof:
the enclosure (exact rational ends) contains the reference.
"""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy
from _hand import HAND, assert_proven, significant

from symgrad import activation, activation_names, expected_slope, max_slope, saturation
from symgrad.records import Certified, Exact

NAMES = activation_names()
EPSILONS = [sympy.Rational(1, 10**k) for k in (1, 2, 3, 4)]
DPS = 80


def _check(value: sympy.Expr, how: object, reference: mp.mpf) -> None:
    """A closed form to 45 digits, or a certified Float: proven digits, ≥ 30 of them, and
    an enclosure containing the reference."""
    with mp.workdps(DPS):
        if isinstance(how, Exact):
            exact = mp.mpf(sympy.N(value, 60))
            assert abs(exact - reference) <= mp.mpf(10) ** -45 * max(1, abs(reference))
            return
        assert isinstance(how, Certified), how
        text = str(value)
        assert significant(text) >= 30 or abs(reference) < mp.mpf(10) ** -40, text
        assert_proven(text, reference)
        lo = mp.mpf(sympy.Rational(how.lower).p) / sympy.Rational(how.lower).q
        hi = mp.mpf(sympy.Rational(how.upper).p) / sympy.Rational(how.upper).q
        assert lo <= reference <= hi


def _root(f: object, start: float) -> mp.mpf:
    with mp.workdps(DPS):
        return mp.findroot(f, mp.mpf(start), tol=mp.mpf(10) ** -(DPS - 5))


@pytest.mark.parametrize("name", NAMES)
def test_sup_and_argmax_digits_are_proven(name: str) -> None:
    prime = HAND[name]
    m = max_slope(name)
    with mp.workdps(DPS):
        if m.reach.value == "point" and m.at.is_finite and m.how("at").kind.value != "exact":
            # a smooth critical point: a root of the numerical derivative of the hand φ'
            at = _root(lambda x: mp.diff(prime, x), float(m.at))
            _check(m.at, m.how("at"), at)
            _check(m.value, m.how("value"), abs(prime(at)))
        elif m.reach.value == "infinity":
            far = mp.mpf(10) ** 30 * (1 if m.at == sympy.oo else -1)
            assert abs(abs(prime(far)) - mp.mpf(sympy.N(m.value, 60))) < mp.mpf(10) ** -25
        else:
            # attained at a closed-form point or on an interval: |φ'| there, by hand
            inside = next(iter(m.argmax)) if isinstance(m.argmax, sympy.FiniteSet) else (
                m.at + sympy.Rational(1, 10**6) if m.argmax.contains(
                    m.at + sympy.Rational(1, 10**6)) else m.at - sympy.Rational(1, 10**6))
            _check(m.value, m.how("value"), abs(prime(mp.mpf(sympy.N(inside, 90)))))


@pytest.mark.parametrize("name", NAMES)
def test_threshold_digits_are_proven(name: str) -> None:
    prime = HAND[name]
    for eps in EPSILONS:
        sat = saturation(name, eps)
        for i, point in enumerate(sat.boundary):
            how = sat.how(f"boundary[{i}]")
            with mp.workdps(DPS):
                b = mp.mpf(sympy.N(point, 90))
                e = mp.mpf(sympy.N(eps, 90))
                # which equation b solves: φ' = ε or φ' = −ε (φ' continuous there), or a
                # kink (a piece's end, where the region changes by the convention)
                if point in activation(name).breakpoints:
                    continue
                sign = 1 if prime(b) > 0 else -1
                ref = _root(lambda x, s=sign, e=e: prime(x) - s * e, float(b))
            _check(point, how, ref)


CERTIFIED_EXPECTATIONS = [(n, p) for n in NAMES for p in (1, 2)]


@pytest.mark.slow
@pytest.mark.parametrize(("name", "power"), CERTIFIED_EXPECTATIONS)
def test_expected_slope_digits_are_proven(name: str, power: int) -> None:
    prime = HAND[name]
    rec = expected_slope(name, power=power)
    with mp.workdps(DPS):
        cuts = [-mp.inf, -4, -3, -1, 0, 1, 3, 4, mp.inf]  # every catalogue kink is a cut
        ref = mp.quad(lambda x: prime(x) ** power * mp.npdf(x), cuts)
    _check(rec.value, rec.how("value"), ref)


@pytest.mark.parametrize(("name", "power"), [("gelu_tanh", 2), ("tanh", 1), ("softsign", 2)])
def test_expected_slope_digits_are_proven_default_run(name: str, power: int) -> None:
    # a sample of the slow test above in the default run (each 80-digit quadrature ≈ 1 s)
    test_expected_slope_digits_are_proven(name, power)
