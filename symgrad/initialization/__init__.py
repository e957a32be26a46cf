"""Which weight variance keeps signals alive?  Xavier/He derived, gains by two
principles, the frameworks' gains table.

>>> from symgrad.initialization import he_variance
>>> he_variance(100, 300).variance
1/50
"""

from symgrad.initialization.gains import (
    FanMode,
    Gain,
    InitVariance,
    MomentFactor,
    Principle,
    gain,
    he_variance,
    moment_factor,
    second_moment,
    xavier_variance,
)
from symgrad.initialization.table import (
    FRAMEWORK_GAINS,
    GainRow,
    GainTable,
    gain_table,
)

__all__ = [
    "FRAMEWORK_GAINS",
    "FanMode",
    "Gain",
    "GainRow",
    "GainTable",
    "InitVariance",
    "MomentFactor",
    "Principle",
    "gain",
    "gain_table",
    "he_variance",
    "moment_factor",
    "second_moment",
    "xavier_variance",
]
