"""The edge's fast routes against the SymPy routes they replace, expression for expression:

* the first turn of F' found among ``roots`` and simplified alone equals the root
  ``solve`` returns (its roots, each simplified) after ``radsimp``;
* lim 1/χ̃ at the top end without a turn, y_max^{−L} (orthogonal) or ∞ (Gaussian), equals
  ``simplify(limit(1/χ̃, y, y_max, '-'))``.
"""

from __future__ import annotations

import pytest
import sympy

from symgrad.spectrum import edge
from symgrad.spectrum.edge import _Y, _end_value, _first_turn, _log_chi_expr, _normalised

R = sympy.Rational
LAWS = [
    ((sympy.Integer(0), R(1, 2)), (sympy.Integer(1), R(1, 2))),         # relu
    ((R(1, 25), R(1, 2)), (sympy.Integer(1), R(1, 2))),                # leaky_relu α = 1/5
    ((sympy.Integer(0), R(1, 3)), (sympy.Integer(1), R(2, 3))),
    ((sympy.Integer(0), R(3, 4)), (sympy.Integer(4), R(1, 4))),
    ((sympy.Integer(1), sympy.Integer(1)),),                           # identity
]


def _edge_equation(atoms, depth, gaussian):
    law, _ = _normalised(atoms)
    y_max = 1 / max(x for x, _ in law)
    w = sum((p * x * _Y / (1 - x * _Y) for x, p in law), sympy.Integer(0))
    dw = sympy.diff(w, _Y)
    if gaussian:
        dF = dw * ((1 - depth) / w - 1 / (1 + w)) + depth / _Y
    else:
        dF = dw * (depth - 1) * (1 / (1 + w) - 1 / w) + depth / _Y
    return sympy.expand(sympy.numer(sympy.together(dF))), dF, y_max, w


def _solve_route(numerator, dF, y_max):
    """The former route: every root from ``solve``, each through ``radsimp``."""
    poly = sympy.Poly(numerator, _Y)
    if poly.degree() <= 0:
        return None
    candidates = [sympy.radsimp(r) for r in sympy.solve(poly.as_expr(), _Y)]
    inside = sorted((r for r in candidates if r.is_real and 0 < r < y_max),
                    key=lambda r: sympy.N(r, 40))
    for r in inside:
        eps = sympy.Rational(1, 10**30) * sympy.Min(r, y_max - r)
        if sympy.N(dF.subs(_Y, r - eps), 50) > 0 > sympy.N(dF.subs(_Y, r + eps), 50):
            return r
    return None


@pytest.mark.parametrize("atoms", LAWS)
@pytest.mark.parametrize("gaussian", [True, False])
def test_first_turn_is_the_solve_root(atoms, gaussian):
    turns = 0
    for depth in (1, 2, 3, 5, 8, 32):
        numerator, dF, y_max, _ = _edge_equation(atoms, depth, gaussian)
        if sympy.Poly(numerator, _Y).degree() > 2:
            continue  # real_roots (CRootOf), the route unchanged
        ours = _first_turn(numerator, dF, y_max)
        reference = _solve_route(numerator, dF, y_max)
        assert (ours is None) == (reference is None), depth
        if ours is not None:
            turns += 1
            assert sympy.srepr(ours) == sympy.srepr(reference), (depth, ours, reference)
    # the relu law's equation is quadratic: its turns are compared at depth ≥ 3 at least
    if atoms == LAWS[0]:
        assert turns >= 4


@pytest.mark.parametrize("atoms", LAWS)
@pytest.mark.parametrize("gaussian", [True, False])
@pytest.mark.parametrize("depth", [1, 2, 3, 7])
def test_end_value_is_the_limit(atoms, gaussian, depth):
    _, _, y_max, w = _edge_equation(atoms, depth, gaussian)
    chi = _log_chi_expr(w, depth, gaussian)
    reference = sympy.simplify(sympy.limit(1 / chi, _Y, y_max, "-"))
    assert sympy.srepr(_end_value(chi, y_max, depth, gaussian)) == sympy.srepr(reference)


def test_no_turn_edges_use_the_end_value():
    # orthogonal relu at L ≤ 2 has no interior turn: λ̃ = 2^L (module docstring of the tests)
    for depth in (1, 2):
        assert edge.exact_edge(LAWS[0], depth, gaussian=False) == (None, 2**depth)
