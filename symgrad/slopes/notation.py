"""The notation the slope derivations write their steps in: φ, φ', φ'' as SymPy objects.

>>> PRIME
Derivative(varphi(z), z)
"""

from __future__ import annotations

import sympy

from symgrad._core.symbols import z

__all__ = ["PHI", "PRIME", "SECOND"]

PHI = sympy.Function("varphi")(z)
PRIME = sympy.Derivative(PHI, z)
SECOND = sympy.Derivative(PHI, (z, 2))
