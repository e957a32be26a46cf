"""The SymPy symbols every question shares.

>>> z.is_real, EPSILON.is_positive
(True, True)
"""

from __future__ import annotations

import sympy

__all__ = ["EPSILON", "z"]

#: The shared real symbol every activation is written in.
z = sympy.Symbol("z", real=True)

#: The symbol standing for ε in closed-form saturation thresholds.
EPSILON = sympy.Symbol("epsilon", positive=True)
