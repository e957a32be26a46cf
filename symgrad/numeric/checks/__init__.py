"""Formula versus simulation: every cross-check of a derived number against
simulated networks lives here (one module per question), run by :func:`crosscheck`.
"""

from symgrad.numeric.checks.table import (
    CHECKS,
    CheckRow,
    CrossCheck,
    check_names,
    crosscheck,
    exact_row,
    statistical_row,
)

__all__ = [
    "CHECKS",
    "CheckRow",
    "CrossCheck",
    "check_names",
    "crosscheck",
    "exact_row",
    "statistical_row",
]
