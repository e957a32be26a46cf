"""How steep is φ?  sup |φ'|, saturation regions, φ'(z₀) and Gaussian slopes.

>>> from symgrad.slopes import max_slope
>>> max_slope("tanh").value
1
"""

from symgrad.slopes.sup import (
    EPSILON,
    ExpectedSlope,
    MaxSlope,
    PointSlope,
    Reach,
    Saturation,
    expected_slope,
    max_slope,
    saturation,
    slope,
)

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
