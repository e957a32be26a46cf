"""Documented type aliases used across symgrad's signatures.

``RealLike``
    A real number as a user writes it: ``int``, ``float``, ``fractions.Fraction``,
    ``decimal.Decimal``, a SymPy real number (``sympy.Rational(1, 4)``,
    ``sympy.sqrt(2)``) or an ``mpmath.mpf``.  Floats are read as the decimal the user
    typed (``0.1`` means 1/10), so exact derivations stay exact.
``FloatArray``
    A NumPy ``float64`` array.
``Seed``
    What the numeric layer accepts as ``rng``: ``None`` (a fresh
    ``numpy.random.Generator`` seeded from ``SeedSequence``'s entropy), an ``int``
    seed, a ``numpy.random.SeedSequence`` or a ``numpy.random.Generator``.
"""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "RealLike", "Seed"]

RealLike: TypeAlias = int | float | Fraction | Decimal | Any
FloatArray: TypeAlias = npt.NDArray[np.float64]
Seed: TypeAlias = int | np.random.SeedSequence | np.random.Generator | None
