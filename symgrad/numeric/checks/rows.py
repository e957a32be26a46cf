"""The one check-row type: a predicted number against a measured one, with the
tolerance and where it comes from.

>>> row = statistical_row("E[x]", 1.0, 1.02, se=0.01, z=4.5, basis="10 runs")
>>> row.ok, round(row.tolerance, 3)
(True, 0.045)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad.errors import InvalidArgument

__all__ = ["CheckRow", "U", "exact_row", "mean_and_se", "rejected_row", "statistical_row"]

#: Unit roundoff of float64, 2^−53.
U = 2.0**-53


@dataclass(frozen=True)
class CheckRow:
    """One comparison.  ``relation`` is ``"="`` (|measured − predicted| ≤ tolerance·|predicted|),
    ``"<="`` (measured ≤ predicted·(1 + tolerance), for bounds) or ``"≠"`` (a rejected
    prediction: |measured − predicted| > tolerance·|predicted|); ``basis`` says where the
    tolerance comes from."""

    quantity: str
    predicted: float
    measured: float
    rel_error: float
    tolerance: float
    ok: bool
    relation: str = "="
    basis: str = ""


def statistical_row(quantity: str, predicted: float, measured: float, se: float, z: float,
                    basis: str) -> CheckRow:
    """A sample mean against its expectation: ok when |measured − predicted| ≤ z·SE."""
    scale = abs(predicted)
    rel = abs(measured - predicted) / scale if scale else abs(measured - predicted)
    tol = z * se / scale if scale else z * se
    return CheckRow(quantity, float(predicted), float(measured), float(rel), float(tol),
                    bool(rel <= tol), "=", f"z·SE, z = {z:g}; {basis}")


def exact_row(quantity: str, predicted: float, measured: float, tolerance: float, basis: str,
              *, relation: str = "=") -> CheckRow:
    """Two computations of one number (or a bound), within a derived rounding tolerance."""
    scale = abs(predicted)
    if relation == "<=":
        rel = max(0.0, (measured - predicted) / scale) if scale else max(0.0, measured)
    else:
        rel = abs(measured - predicted) / scale if scale else abs(measured - predicted)
    return CheckRow(quantity, float(predicted), float(measured), float(rel), float(tolerance),
                    bool(rel <= tolerance), relation, basis)


def rejected_row(quantity: str, predicted: float, measured: float, se: float, z: float,
                 basis: str, *, allowance: float = 0.0) -> CheckRow:
    """A prediction the simulation must *reject*: ok when |measured − predicted| exceeds
    z·SE + ``allowance`` (the tolerance a correct prediction would have been given).

    >>> rejected_row("naive", 0.25, 0.31, se=0.005, z=4.5, basis="10⁴ nets").ok
    True
    """
    scale = abs(predicted)
    gap = abs(measured - predicted)
    rel = gap / scale if scale else gap
    tol = (z * se + allowance) / scale if scale else z * se + allowance
    return CheckRow(quantity, float(predicted), float(measured), float(rel), float(tol),
                    bool(rel > tol), "≠", f"rejected beyond z·SE + allowance, z = {z:g}; {basis}")


def mean_and_se(samples: Any) -> tuple[float, float]:
    """Sample mean and its standard error s/√k from k independent samples."""
    arr = np.asarray(samples, dtype=np.float64)
    k = arr.size
    if k < 2:
        raise InvalidArgument("a standard error needs at least 2 independent samples")
    return float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(k))
