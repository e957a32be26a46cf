"""Public Hypothesis strategies for symgrad's tests and for users' own suites.

>>> from hypothesis import given
>>> from symgrad.strategies import activations, preactivations
>>> @given(activations(), preactivations())
... def test_slope_is_finite(act, x):
...     assert abs(float(act.numpy_prime(x))) < float("inf")

Parameters are drawn as exact rationals with few digits inside each family's domain,
so exact derivations stay exact and fast.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import sympy
from hypothesis import strategies as st

from symgrad.activations.record import Activation
from symgrad.activations.registry import activation, activation_names, entry

__all__ = [
    "activation_names_st",
    "activations",
    "depths",
    "preactivations",
    "tolerances",
    "weights",
]


def _rational_in(domain: sympy.Set, *, lo: int = -4, hi: int = 4) -> st.SearchStrategy[Fraction]:
    """Rationals with denominator ≤ 8 in [lo, hi] ∩ domain."""
    base = st.builds(
        lambda n, d: Fraction(n, d),
        st.integers(min_value=lo * 8, max_value=hi * 8),
        st.sampled_from([1, 2, 4, 5, 8]),
    )
    return base.filter(lambda q: domain.contains(sympy.Rational(q.numerator, q.denominator))
                       == sympy.true)


def activation_names_st() -> st.SearchStrategy[str]:
    """Registered names: the catalogue plus the user registrations at draw time."""
    return st.deferred(lambda: st.sampled_from(activation_names()))


def activations(
    *, names: tuple[str, ...] | None = None, default_params: bool = False
) -> st.SearchStrategy[Activation]:
    """Activations from the registry, with parameters drawn inside their domains.

    ``names`` restricts the draw; ``default_params=True`` keeps the defaults.
    """

    @st.composite
    def _draw(draw: Any) -> Activation:
        name = draw(st.sampled_from(names or activation_names()))
        found = entry(name)
        if found.fixed or default_params or not found.params:
            return activation(name)
        params = {p.name: draw(_rational_in(p.domain, lo=0 if name != "leaky_relu" else -1,
                                             hi=3)) for p in found.params}
        return activation(name, **params)

    return _draw()


def preactivations(*, bound: float = 30.0) -> st.SearchStrategy[float]:
    """Finite pre-activation values z in [−bound, bound]."""
    return st.floats(min_value=-bound, max_value=bound, allow_nan=False, allow_infinity=False)


def tolerances(*, smallest: float = 1e-8, largest: float = 0.9) -> st.SearchStrategy[float]:
    """Saturation tolerances ε in [smallest, largest], log-uniform-ish."""
    return st.floats(min_value=smallest, max_value=largest, allow_nan=False).map(
        lambda x: float(f"{x:.3g}")
    ).filter(lambda x: smallest <= x <= largest)


def weights(*, bound: float = 8.0, nonzero: bool = False) -> st.SearchStrategy[float]:
    """Scalar weights w in [−bound, bound] with three significant digits."""
    s = st.floats(min_value=-bound, max_value=bound, allow_nan=False).map(
        lambda x: float(f"{x:.3g}")
    )
    return s.filter(lambda x: x != 0.0) if nonzero else s


def depths(*, max_depth: int = 64) -> st.SearchStrategy[int]:
    """Network depths 1..max_depth."""
    return st.integers(min_value=1, max_value=max_depth)
