"""The data of an activation report, gathered and checked: :func:`activation_profile`.

The records (:func:`~symgrad.slopes.sup.max_slope`, :func:`~symgrad.slopes.saturation.saturation`
for ε ∈ {1e-1, 1e-2, 1e-3, 1e-4}, :func:`~symgrad.slopes.gaussian.expected_slope` with powers 1
and 2) and the checks against computations that share nothing with them: |φ'| on a dense
float64 grid (the NumPy kernels) never exceeds the supremum; the supremum against mpmath's
numerical differentiation of φ itself (not of the symbolic φ') at 60 digits, maximised from
the grid's best point; |φ'| by the same numerical differentiation on both sides of every
saturation boundary, against ε; a seeded Monte Carlo estimate of E[φ'(Z)] and E[φ'(Z)²]
within 5 standard errors.  :mod:`symgrad.reports.pages.activation` renders it.
"""


from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Step
from symgrad.slopes import (
    ExpectedSlope,
    MaxSlope,
    Reach,
    Saturation,
    expected_slope,
    max_slope,
    saturation,
)
from symgrad.slopes.candidates import Candidate, candidates

__all__ = ["CHECK_DPS", "EPSILONS", "MC_SAMPLES", "MC_SEED", "MC_Z", "ActivationProfile",
           "BoundaryCheck", "MonteCarlo", "SupCheck",
           "activation_profile", "numeric_slope"]

#: The saturation tolerances every activation report tabulates.
EPSILONS = (sympy.Rational(1, 10), sympy.Rational(1, 100), sympy.Rational(1, 1000),
            sympy.Rational(1, 10000))
#: Monte Carlo sample size and seed for the expected-slope cross-check.
MC_SAMPLES = 400_000
MC_SEED = 20240601
#: Standard errors allowed between the Gaussian expectation and its Monte Carlo mean
#: (a 5σ two-sided band: a false alarm has probability 6e-7 per comparison).
MC_Z = 5.0


#: Digits of the independent mpmath checks.
CHECK_DPS = 60


def numeric_slope(act: Activation, x: mpmath.mpf, direction: int = 0) -> mpmath.mpf:
    """|φ'(x)| by mpmath's numerical differentiation of φ (one-sided when ``direction`` is
    ±1): independent of the symbolic φ' and of ball arithmetic."""
    value: mpmath.mpf = abs(mpmath.diff(act.mpmath, x, direction=direction))
    return value


@dataclass(frozen=True)
class BoundaryCheck:
    """|φ'| just left and right of a saturation boundary b (numerical differentiation of
    φ at 60 digits), against ε: where φ' is continuous both equal ε; at a kink ε lies
    between them."""

    eps: sympy.Expr
    point: sympy.Expr
    left: mpmath.mpf
    right: mpmath.mpf

    @property
    def residual(self) -> mpmath.mpf:
        """Distance from ε to the interval between the two one-sided values."""
        with mpmath.workdps(30):
            lo, hi = sorted((self.left, self.right))
            eps = mpmath.mpf(sympy.Float(self.eps, 40))
            return max(lo - eps, eps - hi, mpmath.mpf(0))

    @property
    def ok(self) -> bool:
        with mpmath.workdps(30):
            return bool(self.residual <= mpmath.mpf(10) ** -25 * mpmath.mpf(
                sympy.Float(self.eps, 40)))


@dataclass(frozen=True)
class SupCheck:
    """The supremum against an independent maximisation: ``reference`` is |φ'| by numerical
    differentiation of φ at 60 digits where a numerical φ'' vanishes (Newton from the
    grid's best point; ``at``), or beside the sup's kink or constant piece, or far out;
    ``digits`` how many of the printed sup's digits were compared."""

    reference: mpmath.mpf
    at: mpmath.mpf | None
    shown: str
    digits: int
    ok: bool


@dataclass(frozen=True)
class MonteCarlo:
    """A sample mean of φ'(Z)^power, Z ~ N(0, 1), with its standard error."""
    power: int
    samples: int
    mean: float
    stderr: float
    expected: float

    @property
    def tolerance(self) -> float:
        # 5 standard errors, plus float64 rounding of the sum (≈ 1e-12 relative).
        return MC_Z * self.stderr + 1e-12 * abs(self.expected)

    @property
    def ok(self) -> bool:
        return abs(self.mean - self.expected) <= self.tolerance


@dataclass(frozen=True, eq=False)
class ActivationProfile:
    """Everything an activation report shows; every number comes from a library record."""
    act: Activation
    peak: MaxSlope
    saturations: tuple[tuple[sympy.Expr, Saturation], ...]
    expected: ExpectedSlope
    expected_sq: ExpectedSlope
    boundary_checks: tuple[BoundaryCheck, ...]
    grid: np.ndarray
    grid_slope: np.ndarray
    grid_max: float
    grid_argmax: float
    monte_carlo: tuple[MonteCarlo, ...]
    plot_range: tuple[float, float]
    sup_check: SupCheck | None = None
    steps: tuple[Step, ...] = ()
    #: Every candidate of the sup search, largest |φ'| first (as the derivation lists them).
    candidates: tuple[Candidate, ...] = ()

    def title(self) -> str:
        return f"{self.act.label}: slope and saturation"

    def summary(self) -> list[tuple[str, Any]]:
        return [("sup |φ'|", self.peak.value), ("at z", self.peak.at),
                ("E[φ'(Z)]", self.expected.value), ("E[φ'(Z)²]", self.expected_sq.value)]


def _plot_range(saturations: tuple[tuple[sympy.Expr, Any], ...]) -> tuple[float, float]:
    """A symmetric window showing the ε = 1e-2 thresholds (between ±4 and ±12)."""
    reach = 4.0
    for eps, sat in saturations:
        if eps != EPSILONS[1]:
            continue
        for point in sat.boundary:
            value = abs(float(point))
            if np.isfinite(value):
                reach = max(reach, 1.15 * value)
    reach = min(reach, 12.0)
    return (-reach, reach)


def activation_profile(act: Activation | str) -> ActivationProfile:
    """Derive (and cross-check) everything the report for activation ``act`` (a
    registered name or an :class:`~symgrad.activations.Activation`) shows."""
    return _profile(as_activation(act))


@functools.cache
def _profile(act: Activation) -> ActivationProfile:
    # Cached per record, not per name: re-registering a name gives a new record.
    peak = max_slope(act)
    saturations = tuple((eps, saturation(act, eps)) for eps in EPSILONS)
    expected = expected_slope(act)
    expected_sq = expected_slope(act, power=2)

    checks = []
    with mpmath.workdps(CHECK_DPS):
        for eps, sat in saturations:
            for point in sat.boundary:
                b = mpmath.mpf(sympy.Float(sympy.N(point, CHECK_DPS + 10), CHECK_DPS + 10))
                checks.append(BoundaryCheck(eps, point, numeric_slope(act, b, -1),
                                            numeric_slope(act, b, 1)))

    # The supremum against a dense float64 grid (the point where it is attained,
    # when finite, is added to the grid so an attained sup is hit exactly).
    lo, hi = _plot_range(saturations)
    grid = np.linspace(-40.0, 40.0, 16001)
    at_float = float(peak.at) if sympy.sympify(peak.at).is_finite else None
    if at_float is not None:
        grid = np.union1d(grid, [at_float])
    slopes = np.abs(act.numpy_prime(grid))
    k = int(np.argmax(slopes))

    rng = np.random.default_rng(MC_SEED)
    sample = act.numpy_prime(rng.standard_normal(MC_SAMPLES))
    monte_carlo = tuple(
        MonteCarlo(
            power,
            MC_SAMPLES,
            float(np.mean(sample**power)),
            float(np.std(sample**power, ddof=1) / np.sqrt(MC_SAMPLES)),
            float(record.value),
        )
        for power, record in ((1, expected), (2, expected_sq))
    )
    window = np.linspace(lo, hi, 961)
    sup_check = _sup_check(act, peak, float(grid[k]))
    return ActivationProfile(
        act=act,
        peak=peak,
        saturations=saturations,
        expected=expected,
        expected_sq=expected_sq,
        boundary_checks=tuple(checks),
        grid=window,
        grid_slope=act.numpy_prime(window),
        grid_max=float(slopes[k]),
        grid_argmax=float(grid[k]),
        monte_carlo=monte_carlo,
        plot_range=(lo, hi),
        sup_check=sup_check,
        candidates=tuple(sorted(candidates(act)[0], key=lambda c: -(
            c.number.lower if c.number is not None else 10**9))),
    )


def _sup_check(act: Activation, peak: MaxSlope, start: float) -> SupCheck:
    """|φ'| at an independently located maximiser, compared with the printed sup."""
    shown = str(sympy.sstr(peak.value if peak.value.is_Float else sympy.N(peak.value, 40)))
    smooth = all(abs(start - float(b)) > 1e-3 for b in act.breakpoints)
    with mpmath.workdps(CHECK_DPS):
        at: mpmath.mpf | None = None
        if peak.reach is Reach.INFINITY:
            far = mpmath.mpf(10) ** 12 * (1 if peak.at == sympy.oo else -1)
            reference = numeric_slope(act, far)
        elif peak.reach is Reach.POINT and smooth:
            def second(x: mpmath.mpf) -> mpmath.mpf:
                return mpmath.diff(act.mpmath, x, 2)

            at = mpmath.findroot(second, mpmath.mpf(start))
            reference = numeric_slope(act, at)
        else:
            # a kink, a breakpoint or a constant piece: the sides of the point, the grid's
            x = mpmath.mpf(sympy.N(peak.at, CHECK_DPS + 10))
            tiny = mpmath.mpf(10) ** -(CHECK_DPS // 2)
            reference = max(numeric_slope(act, x - tiny), numeric_slope(act, x + tiny),
                            numeric_slope(act, mpmath.mpf(start)))
        # a certified sup is compared to all its printed digits (at most 30), else 12
        digits = 12 if at is None else min(30, len(shown.lstrip("-0.").replace(".", "")))
        value = mpmath.mpf(shown)
        ok = bool(abs(value - reference) <= mpmath.mpf(10) ** (1 - digits) * max(
            1, abs(reference)))
    return SupCheck(reference, at, shown, digits, ok)
