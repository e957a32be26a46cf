"""Formula versus simulation: every cross-check of a derived number against simulated
networks lives here, one module per question, run by :func:`crosscheck`.

:mod:`~symgrad.numeric.checks.rows` (the one row type and its tolerances),
:mod:`~symgrad.numeric.checks.table` (the table of checks and :func:`crosscheck`),
:mod:`~symgrad.numeric.checks.chains` (exact rows: chains, RNNs, the LSTM carousel),
:mod:`~symgrad.numeric.checks.statistics` (statistical rows: slopes, residual
highways, initialisations, forget gates), :mod:`~symgrad.numeric.checks.meanfield`.

>>> report = crosscheck(["lstm_carousel"], rng=0)
>>> [row.ok for row in report.rows]
[True]
"""

from symgrad.numeric.checks.rows import (
    CheckRow,
    exact_row,
    mean_and_se,
    rejected_row,
    statistical_row,
)
from symgrad.numeric.checks.table import CHECKS, CrossCheck, check_names, crosscheck

__all__ = [
    "CHECKS",
    "CheckRow",
    "CrossCheck",
    "check_names",
    "crosscheck",
    "exact_row",
    "mean_and_se",
    "rejected_row",
    "statistical_row",
]
