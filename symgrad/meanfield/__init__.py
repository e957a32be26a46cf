"""What does a wide random network do?  q*, χ₁, c*, the depth scales, the phase,
the critical line and the phase diagram.

>>> from symgrad.meanfield import mean_field
>>> mean_field("relu", sigma_w=1.2, sigma_b=0.1).chi1
18/25
"""

from symgrad.meanfield.criticality import (
    CriticalPoint,
    critical_line,
    critical_sigma_w,
)
from symgrad.meanfield.field import mean_field
from symgrad.meanfield.phase import (
    PhaseDiagram,
    phase_diagram,
)
from symgrad.meanfield.record import MeanField, MeanFieldMode, Phase, VarianceFixedPoint

__all__ = [
    "CriticalPoint",
    "MeanField",
    "MeanFieldMode",
    "Phase",
    "PhaseDiagram",
    "VarianceFixedPoint",
    "critical_line",
    "critical_sigma_w",
    "mean_field",
    "phase_diagram",
]
