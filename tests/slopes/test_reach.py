"""Where sup |φ'| is reached, for every catalogue activation, against hand derivations.

Each row below is derived on paper from the definition, with the kink convention (φ' at
a kink is the value of the piece containing it; every catalogue kink belongs to its left
piece).  The supremum's value is then checked against the hand-written φ' of ``_hand.py``
(never symgrad's): at the argmax, inside an interval of it, or far out.
"""

from __future__ import annotations

import mpmath as mp
import pytest
import sympy
from _hand import HAND

from symgrad import Reach, activation_names, max_slope, register_activation, z
from symgrad.activations.registry import unregister_activation

oo = sympy.oo
R = sympy.Rational

#: name: (reach, argmax or None when it is a certified point, convention decides?)
#: relu: φ' = 0 on z ≤ 0, 1 on z > 0 — attained on (0, ∞), not at 0;
#: hard_sigmoid: 1/6 on (−3, 3] (−3 is the left piece's, 3 the middle's);
#: elu(1): e^z on z ≤ 0 reaches 1 at 0 and equals 1 beyond: [0, ∞), no kink (1 = 1);
#: selu: λα·e^z on z ≤ 0, λ < λα beyond: only z = 0, and only by the convention;
#: softplus: σ(z) < 1 everywhere, → 1 as z → ∞: not attained.
HAND_REACH: dict[str, tuple[Reach, sympy.Set | None, bool]] = {
    "identity": (Reach.INTERVAL, sympy.S.Reals, False),
    "sigmoid": (Reach.POINT, sympy.FiniteSet(0), False),
    "tanh": (Reach.POINT, sympy.FiniteSet(0), False),
    "erf": (Reach.POINT, sympy.FiniteSet(0), False),
    "softsign": (Reach.POINT, sympy.FiniteSet(0), False),
    "hard_sigmoid": (Reach.INTERVAL, sympy.Interval.Lopen(-3, 3), True),
    "hard_tanh": (Reach.INTERVAL, sympy.Interval.Lopen(-1, 1), True),
    "leaky_relu": (Reach.INTERVAL, sympy.Interval.open(0, oo), True),
    "relu": (Reach.INTERVAL, sympy.Interval.open(0, oo), True),
    "elu": (Reach.INTERVAL, sympy.Interval(0, oo), False),
    "selu": (Reach.POINT, sympy.FiniteSet(0), True),
    "gelu": (Reach.POINT, sympy.FiniteSet(sympy.sqrt(2)), False),
    "gelu_tanh": (Reach.POINT, None, False),
    "softplus": (Reach.INFINITY, sympy.S.EmptySet, False),
    "swish": (Reach.POINT, None, False),
    "silu": (Reach.POINT, None, False),
    "mish": (Reach.POINT, None, False),
}


def test_the_table_covers_the_catalogue() -> None:
    assert set(HAND_REACH) == set(activation_names())


@pytest.mark.parametrize("name", sorted(HAND_REACH))
def test_reach_attained_and_argmax_match_the_hand_derivation(name: str) -> None:
    reach, argmax, decided = HAND_REACH[name]
    m = max_slope(name)
    assert m.reach is reach
    assert m.attained == (reach is not Reach.INFINITY)
    if argmax is not None:
        assert m.argmax == argmax
    else:  # one smooth critical point, certified: a single point of argmax
        assert isinstance(m.argmax, sympy.FiniteSet) and len(m.argmax) == 1
    assert bool(m.convention) is decided
    if reach is Reach.INTERVAL:
        assert m.where().startswith("attained on")
    elif reach is Reach.POINT:
        assert m.where().startswith("attained at z =")


@pytest.mark.parametrize("name", sorted(HAND_REACH))
def test_the_sup_is_the_hand_derivative_where_it_is_reached(name: str) -> None:
    prime = HAND[name]
    m = max_slope(name)
    with mp.workdps(50):
        sup = mp.mpf(sympy.N(m.value, 50))
        if m.reach is Reach.INFINITY:
            assert abs(prime(mp.mpf(10) ** 25) - sup) < mp.mpf(10) ** -20
            return
        # a point of the argmax (its interior for an interval): |hand φ'| equals the sup
        if isinstance(m.argmax, sympy.FiniteSet):
            points = [mp.mpf(sympy.N(p, 50)) for p in m.argmax]
        else:
            points = [mp.mpf(sympy.N(m.at, 50)) + mp.mpf(1) / 10**6 * s for s in (-1, 1)
                      if m.argmax.contains(m.at + R(s, 10**6)) == sympy.true]
        assert points
        for x in points:
            # a certified argmax is good to its printed digits and φ'' = 0 there: |φ'| is
            # flat to second order, so 1e-40 of location is far below 1e-45 of value
            assert abs(abs(prime(x)) - sup) < mp.mpf(10) ** -38
        # and nowhere on a fine scan is the hand φ' larger
        for k in range(-400, 401):
            assert abs(prime(mp.mpf(k) / 40)) <= sup * (1 + mp.mpf(10) ** -40)


def test_user_shapes_negative_lobe_tie_and_limit() -> None:
    # φ' = 1 − 3e^{−z²}: |φ'| peaks at the negative lobe, 2 at 0 (hand derivation).
    register_activation("deep_lobe2", z - 3 * sympy.sqrt(sympy.pi) / 2 * sympy.erf(z),
                        replace=True)
    # φ' even (φ odd): two mirror maxima, an exact tie proven by parity.
    register_activation("twin_peaks2", z * sympy.exp(-((z - 2) ** 2))
                        + z * sympy.exp(-((z + 2) ** 2)), replace=True)
    # φ' = z/(2√(z² + 1)) + 1 → 3/2 as z → ∞, never attained.
    register_activation("bent2", (sympy.sqrt(z**2 + 1) - 1) / 2 + z, replace=True)
    try:
        lobe = max_slope("deep_lobe2")
        assert (lobe.value, lobe.argmax, lobe.reach) == (2, sympy.FiniteSet(0), Reach.POINT)
        twins = max_slope("twin_peaks2")
        a, b = sorted(float(p) for p in twins.argmax)
        assert len(twins.argmax) == 2 and a == pytest.approx(-b, rel=1e-30)

        def twin_prime(x: mp.mpf) -> mp.mpf:
            return (mp.exp(-(x - 2) ** 2) * (1 - 2 * x * (x - 2))
                    + mp.exp(-(x + 2) ** 2) * (1 - 2 * x * (x + 2)))

        with mp.workdps(60):
            at = mp.findroot(lambda x: mp.diff(twin_prime, x), mp.mpf(b))
            assert abs(abs(twin_prime(at)) - mp.mpf(sympy.N(twins.value, 60))) \
                < mp.mpf(10) ** -38
        bent = max_slope("bent2")
        assert (bent.value, bent.at, bent.attained) == (R(3, 2), oo, False)
    finally:
        for name in ("deep_lobe2", "twin_peaks2", "bent2"):
            unregister_activation(name)
