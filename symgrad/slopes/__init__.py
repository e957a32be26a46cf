"""How steep is φ?  sup |φ'|, saturation regions, φ'(z₀) and Gaussian slopes.

One module per question: :mod:`~symgrad.slopes.sup` (γ = sup |φ'|, where and how it
is reached), :mod:`~symgrad.slopes.saturation` ({z : |φ'(z)| < ε}),
:mod:`~symgrad.slopes.point` (φ'(z₀) at any precision) and
:mod:`~symgrad.slopes.gaussian` (E[φ'(√q Z)^p]).

>>> from symgrad.slopes import max_slope
>>> max_slope("tanh").value
1
"""

from symgrad._core.symbols import EPSILON
from symgrad.slopes.gaussian import ExpectedSlope, expected_slope
from symgrad.slopes.point import PointSlope, slope
from symgrad.slopes.saturation import Saturation, saturation
from symgrad.slopes.sup import MaxSlope, Reach, max_slope

__all__ = [
    "EPSILON",
    "ExpectedSlope",
    "MaxSlope",
    "PointSlope",
    "Reach",
    "Saturation",
    "expected_slope",
    "max_slope",
    "saturation",
    "slope",
]
