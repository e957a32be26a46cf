"""One report per catalogue activation: φ, φ', sup|φ'|, saturation, E[φ'(Z)].

:func:`activation_profile` gathers the records (:func:`~symgrad.slopes.sup.max_slope`,
:func:`~symgrad.slopes.saturation.saturation` for ε ∈ {1e-1, 1e-2, 1e-3, 1e-4},
:func:`~symgrad.slopes.gaussian.expected_slope` with powers 1 and 2) and the checks against an
independent computation: |φ'| on a dense float64 grid never exceeds the supremum and
comes close to it where it is attained; |φ'| at every saturation boundary equals ε
at 30 digits; a seeded Monte Carlo estimate of E[φ'(Z)] and E[φ'(Z)²] agrees within
5 standard errors.  :func:`build` renders it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.format import latex, number_text
from symgrad._core.plot import Figure
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.records import Provenance, Record, Step, how_text
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, inline
from symgrad.slopes import (
    ExpectedSlope,
    MaxSlope,
    Saturation,
    expected_slope,
    max_slope,
    saturation,
)

__all__ = ["EPSILONS", "ActivationProfile", "activation_profile", "build_for", "report_name"]

#: The saturation tolerances every activation report tabulates.
EPSILONS = (sympy.Rational(1, 10), sympy.Rational(1, 100), sympy.Rational(1, 1000),
            sympy.Rational(1, 10000))
#: Monte Carlo sample size and seed for the expected-slope cross-check.
MC_SAMPLES = 400_000
MC_SEED = 20240601
#: Standard errors allowed between the Gaussian expectation and its Monte Carlo mean
#: (a 5σ two-sided band: a false alarm has probability 6e-7 per comparison).
MC_Z = 5.0


@dataclass(frozen=True)
class BoundaryCheck:
    """|φ'| on both sides of a saturation boundary b (30 digits), against ε.

    Where φ' is continuous both sides equal ε; at a kink ε lies between them.
    """

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
    #: max(|φ'(at⁻)|, |φ'(at⁺)|) at the claimed maximizer, at 40 digits, minus the sup
    #: (None when the sup is approached at ±∞).
    peak_residual: mpmath.mpf | None = None
    peak_limits: tuple[sympy.Expr, sympy.Expr] | None = None
    steps: tuple[Step, ...] = ()

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
    with mpmath.workdps(30):
        for eps, sat in saturations:
            for point in sat.boundary:
                left, right = act.one_sided_derivatives(point)
                checks.append(BoundaryCheck(
                    eps, point, abs(mpmath.mpf(sympy.Float(left.evalf(40), 40))),
                    abs(mpmath.mpf(sympy.Float(right.evalf(40), 40)))))

    # The sup against the one-sided limits of φ' at the claimed maximizer.
    at = sympy.sympify(peak.at)
    peak_residual = limits = None
    if at.is_finite:
        limits = act.one_sided_derivatives(at)
        with mpmath.workdps(40):
            reached = max(abs(mpmath.mpf(sympy.Float(v.evalf(45), 45))) for v in limits)
            peak_residual = reached - mpmath.mpf(sympy.Float(sympy.sympify(peak.value).evalf(45),
                                                             45))

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
        peak_residual=peak_residual,
        peak_limits=limits,
    )


# ---- report ----

def report_name(name: str) -> str:
    return f"activation-{name}"


def _intervals(region: sympy.Set, lo: float, hi: float) -> list[tuple[float, float]]:
    """The parts of ``region`` inside [lo, hi], as float pairs (for shading only)."""
    window = sympy.Interval(lo, hi)
    inside = sympy.Intersection(region, window)
    parts = inside.args if isinstance(inside, sympy.Union) else (inside,)
    spans = []
    for part in parts:
        if isinstance(part, sympy.Interval):
            spans.append((float(part.start), float(part.end)))
    return sorted(spans)


def _figure(profile: ActivationProfile) -> bytes:
    lo, hi = profile.plot_range
    shades = [(eps, sat) for eps, sat in profile.saturations if eps in EPSILONS[:2]]
    fig = Figure(alt=f"{profile.act.label}: φ'(z) with the saturated zones shaded")
    ax = fig.axes()
    for (eps, sat), alpha in zip(shades, (0.12, 0.28), strict=True):
        label: str | None = f"|φ'| < {number_text(eps)}"
        for a, b in _intervals(sat.region, lo, hi):
            ax.band(a, b, color="#D55E00", alpha=alpha, label=label)
            label = None
    ax.line(profile.grid, profile.grid_slope, color="#0072B2", label="φ'(z)")
    peak = float(profile.peak.value)
    ax.hline(peak, color="#4d4d4d", label=f"sup|φ'| = {peak:.4g}")
    ax.hline(0.0, color="#808080", dash=None, width=0.6)
    ax.set(xlim=(lo, hi), xlabel="z", ylabel="φ'(z)",
           title=f"{profile.act.label}: φ'(z) with the saturated zones shaded")
    return fig.svg()


def _where(peak: Any) -> str:
    at = sympy.sympify(peak.at)
    if at in (sympy.oo, -sympy.oo):
        return f"approached as z → {'+' if at == sympy.oo else '−'}∞, never attained"
    reach = peak.reach.value
    if peak.attained:
        return f"attained ({reach}) at z = {number_text(at)}"
    return f"approached ({reach}) at z = {number_text(at)}, not attained"


def _how(record: Record) -> str:
    """How a record's numbers were obtained, from its provenance: the weakest of them."""
    order = list(Provenance)
    hows = sorted(record.provenance.values(), key=lambda h: order.index(h.kind))
    return how_text(hows[-1]) if hows else "exact (nothing to compute)"


def build_for(act: Activation | str, name: str | None = None) -> list[Any]:
    """The report files of one activation — a registered name (catalogue or user) or an
    :class:`~symgrad.activations.Activation` record — named ``activation-<name>``
    (``name`` defaults to the activation's): the Markdown page and its SVG figure.
    ``symgrad.reports.activation_report`` and ``build_reports(activations=…)`` call it.
    """
    p = activation_profile(act)
    act = p.act
    stem = report_name(name or act.name)
    fig_path = f"figures/{stem}.svg"
    page = Page(f"{act.label}: slope and saturation",
                generated_by=f"symgrad report --only {stem}")
    if act.reference:
        page.para(f"Reference: {act.reference}.")
    page.section("Definition")
    page.math(rf"\varphi(z) = {latex(act.expr)}")
    page.math(rf"\varphi'(z) = {latex(act.derivative)}")
    if act.kinks:
        page.para("Kinks (φ is continuous, φ' jumps); symgrad's φ' takes the value of the "
                  "piece that contains the kink:")
        page.table(["z", "φ'(z⁻)", "φ'(z⁺)"],
                   [(inline(k.at), inline(k.left), inline(k.right)) for k in act.kinks])

    page.section("Results")
    page.table(
        ["quantity", "value", "how"],
        [
            ("sup |φ'|", inline(p.peak.value), _how(p.peak)),
            ("where", _where(p.peak), ""),
            ("E[φ'(Z)], Z ~ N(0, 1)", inline(p.expected.value), _how(p.expected)),
            ("E[φ'(Z)²]", inline(p.expected_sq.value), _how(p.expected_sq)),
            ("≈ E[φ'(Z)]", number_text(p.expected.value), ""),
            ("≈ E[φ'(Z)²]", number_text(p.expected_sq.value), ""),
        ],
    )
    page.para("A layer passes on at most sup|φ'| times |w| of its gradient, so with this "
              f"activation every factor is below 1 whenever |w| < 1/sup|φ'| ≈ "
              f"{_inverse(p.peak.value)}.")

    page.section("Saturation")
    page.para("The saturated set {z : |φ'(z)| < ε}; thresholds are the boundary points on "
              "each side (— when that side never saturates).")
    page.table(
        ["ε", "saturated set", "left threshold", "right threshold", "how"],
        [
            (number_text(eps), inline(sat.region), _opt(sat.left_threshold),
             _opt(sat.right_threshold), _how(sat))
            for eps, sat in p.saturations
        ],
    )
    page.figure(fig_path, f"φ' of {act.label} with the saturated zones shaded")

    page.section("Derivation")
    page.section("The supremum of |φ'|", level=3)
    page.steps(tuple(p.peak.steps))
    sat_steps = tuple(p.saturations[1][1].steps)
    if sat_steps:
        page.section(f"Saturation at ε = {number_text(EPSILONS[1])}", level=3)
        page.steps(sat_steps, start=len(p.peak.steps) + 1)
    exp_steps = p.expected.steps
    if exp_steps:
        page.section("The expected slope", level=3)
        page.steps(exp_steps, start=len(p.peak.steps) + len(sat_steps) + 1)

    page.section("Verification")
    page.section("Symbolic and high precision", level=3)
    page.para("|φ'| on both sides of every saturation boundary b, with mpmath at 30 digits:",
              "where φ' is continuous both equal ε; at a kink ε must lie between them. The",
              "residual is the distance from ε to that range (0 when it holds exactly).")
    page.table(
        ["ε", "boundary b", "|φ'(b⁻)|", "|φ'(b⁺)|", "residual", "ok"],
        [(number_text(c.eps), number_text(c.point), mpmath.nstr(c.left, 15),
          mpmath.nstr(c.right, 15), mpmath.nstr(c.residual, 3), c.ok)
         for c in p.boundary_checks],
    )
    if p.peak_residual is not None and p.peak_limits is not None:
        left, right = p.peak_limits
        page.para(
            f"The sup against φ' at the maximizer z = {number_text(p.peak.at)}: one-sided",
            f"values {inline(left)} and {inline(right)}; the larger in absolute value minus",
            f"sup|φ'|, at 40 digits: {mpmath.nstr(p.peak_residual, 3)}.",
        )
    page.section("Numeric", level=3)
    sup = float(p.peak.value)
    page.para(
        f"|φ'| on 16001 evenly spaced float64 points of [−40, 40] (plus the maximizer when "
        f"it is finite): largest value {p.grid_max:.12g} at z = {p.grid_argmax:.6g}; "
        f"the derived supremum is {sup:.12g}. The grid value may not exceed the supremum "
        "by more than float64 rounding (1e-12 relative)."
    )
    page.table(
        ["check", "derived", "measured", "ok"],
        [("max over the grid ≤ sup", f"{sup:.12g}", f"{p.grid_max:.12g}",
          p.grid_max <= sup * (1 + 1e-12) + 1e-300)],
    )
    page.para(
        f"Monte Carlo: {MC_SAMPLES} draws of Z ~ N(0, 1) (seed {MC_SEED}); the tolerance is "
        f"{MC_Z:g} standard errors of the sample mean."
    )
    page.table(
        ["quantity", "derived", "Monte Carlo", "standard error", "tolerance", "ok"],
        [(f"E[φ'(Z)^{m.power}]", f"{m.expected:.10g}", f"{m.mean:.8g}", f"{m.stderr:.2g}",
          f"{m.tolerance:.2g}", m.ok) for m in p.monte_carlo],
    )
    return [Output.text(f"{stem}.md", page.markdown()), Output(fig_path, _figure(p))]


def _opt(value: Any) -> str:
    return "—" if value is None else inline(value)


def _inverse(value: Any) -> str:
    v = sympy.sympify(value)
    if v == 0:
        return "∞"
    return number_text(1 / v)

