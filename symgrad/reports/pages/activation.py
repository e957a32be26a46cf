"""One report per catalogue activation: φ, φ', sup|φ'|, saturation, E[φ'(Z)].

:func:`activation_profile` gathers the records (:func:`~symgrad.slopes.sup.max_slope`,
:func:`~symgrad.slopes.saturation.saturation` for ε ∈ {1e-1, 1e-2, 1e-3, 1e-4},
:func:`~symgrad.slopes.gaussian.expected_slope` with powers 1 and 2) and the checks against
computations that share nothing with them: |φ'| on a dense float64 grid (the NumPy
kernels) never exceeds the supremum; the supremum against mpmath's numerical
differentiation of φ itself (not of the symbolic φ') at 60 digits, maximised from the
grid's best point; |φ'| by the same numerical differentiation on both sides of every
saturation boundary, against ε; a seeded Monte Carlo estimate of E[φ'(Z)] and E[φ'(Z)²]
within 5 standard errors.  :func:`build` renders it.
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
    Reach,
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
    text: str = peak.where()
    return text


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
            ("no critical point missed", p.peak.completeness, ""),
            ("E[φ'(Z)], Z ~ N(0, 1)", inline(p.expected.value), _how(p.expected)),
            ("E[φ'(Z)²]", inline(p.expected_sq.value), _how(p.expected_sq)),
            ("≈ E[φ'(Z)]", number_text(p.expected.value), ""),
            ("≈ E[φ'(Z)²]", number_text(p.expected_sq.value), ""),
        ],
    )
    if p.peak.convention:
        page.para(p.peak.convention)
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
             _opt(sat.right_threshold), _sat_how(sat))
            for eps, sat in p.saturations
        ],
    )
    decided = next((sat.convention for _, sat in p.saturations if sat.convention), "")
    if decided:
        page.para(decided)
    complete = next((sat.completeness for _, sat in p.saturations if sat.completeness), "")
    if complete:
        page.para(f"No boundary point is missed (ε = {number_text(p.saturations[0][0])}): "
                  f"{complete}.")
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
    page.para("|φ'| on both sides of every saturation boundary b, by mpmath's numerical",
              f"differentiation of φ itself (not the symbolic φ') at {CHECK_DPS} digits: where",
              "φ' is continuous both equal ε; at a kink ε must lie between them. The",
              "residual is the distance from ε to that range.")
    page.table(
        ["ε", "boundary b", "|φ'(b⁻)|", "|φ'(b⁺)|", "residual", "ok"],
        [(number_text(c.eps), number_text(c.point), mpmath.nstr(c.left, 15),
          mpmath.nstr(c.right, 15), mpmath.nstr(c.residual, 3), c.ok)
         for c in p.boundary_checks],
    )
    if p.sup_check is not None:
        c = p.sup_check
        where = (f"where the numerical φ'' vanishes, z = {mpmath.nstr(c.at, 30)} (Newton from "
                 "the grid's best point)" if c.at is not None else
                 "beside the sup's point or piece, or far out")
        page.para("The sup against an independent maximisation: |φ'| by numerical",
                  f"differentiation of φ at {CHECK_DPS} digits {where} is",
                  f"{mpmath.nstr(c.reference, 35)}; the printed sup {c.shown} agrees to",
                  f"{c.digits} digits: {'yes' if c.ok else 'NO'}.")
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


def _sat_how(sat: Saturation) -> str:
    """How the boundary points were obtained: exact, or certified (with the method)."""
    hows = list(sat.provenance.values())
    if not hows:
        return "exact (no boundary)"
    weakest = next((h for h in hows if h.kind.value != "exact"), hows[0])
    return how_text(weakest)


def _opt(value: Any) -> str:
    return "—" if value is None else inline(value)


def _inverse(value: Any) -> str:
    v = sympy.sympify(value)
    if v == 0:
        return "∞"
    return number_text(1 / v)

