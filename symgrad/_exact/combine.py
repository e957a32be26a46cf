"""``sympy.together`` with each term of a sum combined once per process.

The certified engine brings f − ε over one denominator for every tolerance ε it is asked
about (saturation boundaries at ε = 10⁻¹ … 10⁻⁴, each side, each tail): the terms of f
are the same every time, and combining them is most of the cost.  SymPy's ``together``
of a sum is ``gcd_terms`` of the ``together`` of each term (``sympy.polys.rationaltools``),
so keeping the terms' results keeps the answer identical, object for object.

>>> import sympy
>>> from symgrad._core.symbols import z
>>> e = 1 / (1 + sympy.exp(-z)) - sympy.Rational(1, 10)
>>> together(e) == sympy.together(e)
True
"""

from __future__ import annotations

from functools import lru_cache

import sympy
from sympy.core.exprtools import gcd_terms

__all__ = ["together"]


@lru_cache(maxsize=4096)
def _term(e: sympy.Expr) -> sympy.Expr:
    together: sympy.Expr = sympy.together(e)
    return together


def together(e: sympy.Expr) -> sympy.Expr:
    """``sympy.together(e)`` (deep=False, fraction=True), each term of a sum cached."""
    if isinstance(e, sympy.Add):
        combined: sympy.Expr = gcd_terms([_term(a) for a in e.args], fraction=True)
        return combined
    return _term(e)
