"""Dynamical isometry: the whole singular-value spectrum of the input-output Jacobian.

Records: :func:`~symgrad.spectrum.jacobian_spectrum` for relu, tanh and erf on the
critical line (relu at σ_w = √2, σ_b = 0; tanh and erf at the critical point with
q* = 1/4 from :func:`~symgrad.spectrum.critical.critical_point`, exact for erf), Gaussian
and orthogonal weights, at depth 8 and on a ladder of depths;
:func:`~symgrad.spectrum.isometry_point`, the design helper.  Cross-checks: histograms
of the squared singular values of simulated Jacobians
(:func:`~symgrad.numeric.jacobian.simulate_jacobians`) under the densities, and the rows
of :func:`~symgrad.numeric.checks.spectrum.spectrum_rows`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from symgrad._core.format import number_text
from symgrad._core.plot import PALETTE, Figure
from symgrad._exact.digits import CertifiedNumber
from symgrad.numeric._rng import child, root_seed
from symgrad.numeric.checks.spectrum import spectrum_rows
from symgrad.numeric.jacobian import simulate_jacobians
from symgrad.records import Certified, Estimated, How
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, inline
from symgrad.spectrum import isometry_point, jacobian_spectrum
from symgrad.spectrum.critical import critical_point

__all__ = ["IsometryReport", "build", "isometry_report", "shown", "simulated_text"]

NAME = "spectrum-isometry"
TITLE = "Dynamical isometry: the singular values of the input-output Jacobian"
BLURB = ("χ₁ = 1 fixes the mean squared singular value, not the spread: relu and Gaussian "
         "weights never reach isometry, orthogonal tanh and erf do; moments, edge and density "
         "by free probability against simulated Jacobians.")

DEPTH, WIDTH, NETWORKS, SEED, Z = 8, 192, 4, 11, 4.5
LADDER = (2, 8, 32, 128)  # depth 8 is the main table's record
Q_STAR = sympy.Rational(1, 4)
ACTIVATIONS = ("relu", "tanh", "erf")
WEIGHTS = ("gaussian", "orthogonal")
CHECK_WIDTH, CHECK_NETWORKS, CHECK_DEPTH = 128, 10, 4


# ---- numbers as they may be printed: proven digits, or rounded to their error / SE ----


def _fraction(x: Any) -> Fraction:
    r = sympy.Rational(x)
    return Fraction(int(r.p), int(r.q))


def shown(value: Any, how: How | None, digits: int = 12) -> str:
    """Exact forms when short, certified numbers to their proven digits (at most
    ``digits``), estimates rounded to their error."""
    if value is None:
        return "—"
    if isinstance(how, Certified):
        return CertifiedNumber(_fraction(how.lower), _fraction(how.upper), digits).text()
    if isinstance(how, Estimated):
        error = float(how.error) * (abs(float(value)) if how.relative else 1.0)
        return simulated_text(float(value), error, plus_minus=False)
    expr = sympy.sympify(value)
    if len(sympy.sstr(expr)) <= 24 and not expr.is_Float:
        return inline(expr)
    return number_text(expr.evalf(digits + 3), digits) + (" (exact)" if how is not None
                                                          else "")


def simulated_text(value: float, se: float, *, plus_minus: bool = True) -> str:
    """value rounded to the decimal of its standard error's leading digit (two digits when
    that digit is 1), with ± se when asked."""
    if not math.isfinite(se) or se <= 0:
        return f"{value:.6g}"
    place = math.floor(math.log10(se))
    if se / 10**place < 2:
        place -= 1
    decimals = max(0, -place)
    rounded = round(value, -place) if place > 0 else round(value, decimals)
    text = f"{rounded:.{decimals}f}"
    if plus_minus:
        text += f" ± {round(se, -place) if place > 0 else se:.{decimals}f}"
    return text


# ---- the data ----


@dataclass(frozen=True, eq=False)
class IsometryReport:
    points: tuple[tuple[str, Any, Any, Any], ...]  # (act, σ_w, σ_b, q_star hint)
    spectra: tuple[tuple[str, str, Any], ...]  # (act, weights, record at DEPTH)
    ladder: tuple[tuple[str, str, tuple[Any, ...]], ...]
    samples: tuple[tuple[str, str, Any], ...]
    designs: tuple[Any, ...]
    symbolic: tuple[tuple[str, Any, Any], ...]
    rows: tuple[Any, ...]


def _points() -> tuple[tuple[str, Any, Any, Any], ...]:
    out: list[tuple[str, Any, Any, Any]] = [("relu", sympy.sqrt(2), sympy.Integer(0), None)]
    for act in ("tanh", "erf"):
        p = critical_point(act, q_star=Q_STAR)
        exact = all(p.how(k).kind.value == "exact" for k in ("sigma_w", "sigma_b"))
        out.append((act, p.sigma_w, p.sigma_b, Q_STAR if exact else None))
    return tuple(out)


def _spectrum(point: tuple[str, Any, Any, Any], weights: str, depth: Any, *,
              density: int = 0, moments: int = 3) -> Any:
    act, sw, sb, q = point
    return jacobian_spectrum(act, sigma_w=sw, sigma_b=sb, depth=depth, weights=weights,
                             moments=moments, density_points=density, q_star=q)


@functools.cache
def isometry_report() -> IsometryReport:
    points = _points()
    spectra, ladder, samples = [], [], []
    root = root_seed(SEED)
    for i, point in enumerate(points):
        act, sw, sb, _ = point
        for j, weights in enumerate(WEIGHTS):
            s = _spectrum(point, weights, DEPTH, density=150)
            spectra.append((act, weights, s))
            ladder.append((act, weights, tuple(s if d == DEPTH else _spectrum(point, weights, d)
                                               for d in LADDER)))
            q0 = float(s.q_star) if 0 < s.q_star < sympy.oo else 1.0
            samples.append((act, weights, simulate_jacobians(
                act, width=WIDTH, depth=DEPTH, sigma_w=float(sw), sigma_b=float(sb), q0=q0,
                weights=weights, networks=NETWORKS, rng=child(root, i, j))))
    designs = tuple(isometry_point(act, depth=DEPTH, tolerance=0.25) for act in ("tanh", "erf"))
    L = sympy.Symbol("L", positive=True, integer=True)
    linear = jacobian_spectrum("identity", sigma_w=1, depth=L, moments=4, density_points=0)
    symbolic = (("gaussian", _spectrum(points[0], "gaussian", L, moments=2), linear),)
    by_name = {act: (sw, sb) for act, sw, sb, _ in points}
    cases = tuple((act, weights, *by_name[act], CHECK_DEPTH) for act, weights in
                  (("relu", "gaussian"), ("relu", "orthogonal"), ("tanh", "orthogonal"),
                   ("erf", "gaussian")))
    rows = spectrum_rows(child(root, 99), Z, width=CHECK_WIDTH, networks=CHECK_NETWORKS,
                         cases=cases)
    return IsometryReport(points, tuple(spectra), tuple(ladder), tuple(samples), designs,
                          symbolic, tuple(rows))


# ---- figures ----


def _spectra_figure(data: IsometryReport) -> bytes:
    fig = Figure(width=800, height=640, rows=3, cols=2, alt="histograms of the simulated "
                 "squared singular values under the free-probability densities")
    for k, ((act, weights, s), (_, _, sim)) in enumerate(zip(data.spectra, data.samples,
                                                             strict=True)):
        ax = fig.axes(k // 2, k % 2)
        m1 = float(s.moments[0])
        ratio = sim.squared / sim.moment(1)[:, None]
        keep = ratio > 1e-12  # the atom at 0 (relu) is not a density: left out of both
        logs = np.log10(ratio[keep])
        bins = np.linspace(max(logs.min(), -12.0), logs.max(), 40)
        ax.hist(logs, bins, weights=np.full(logs.size, 1.0 / (ratio.size * (bins[1] - bins[0]))),
                color=PALETTE[5], label=f"simulated, N = {WIDTH}, {NETWORKS} nets")
        if s.density_log_x:
            x = (np.asarray(s.density_log_x) - math.log(m1)) / math.log(10.0)
            y = np.asarray(s.density_values) * math.log(10.0)
            inside = x >= bins[0]
            ax.line(x[inside], y[inside], color=PALETTE[1], label="free probability")
        # one legend (the same for every panel), where the densities leave room for it
        ax.set(title=f"{act}, {weights}", xlabel="log₁₀(λ/m₁)", ylabel="density of log₁₀ λ",
               legend="upper left" if k == 1 else None)
    return fig.svg()


def _ladder_figure(data: IsometryReport) -> bytes:
    fig = Figure(width=800, height=340, cols=2, alt="spread and edge of the squared singular "
                 "values against depth")
    left, right = fig.axes(0, 0), fig.axes(0, 1)
    for k, (act, weights, records) in enumerate(data.ladder):
        dash = None if weights == "gaussian" else "5 3"
        color = PALETTE[k // 2]
        label = f"{act}, {weights}"
        spread = [float(r.variance) for r in records]
        edge = [float(r.lambda_max) / float(r.moments[0]) for r in records]
        for ax, values in ((left, spread), (right, edge)):
            ax.line(LADDER, values, color=color, dash=dash, label=label)
            ax.points(LADDER, values, color=color, size=2.5)
    for ax, title, ylabel in ((left, "spread m₂/m₁² − 1", "m₂/m₁² − 1"),
                              (right, "edge λ_max/m₁", "λ_max/m₁")):
        ax.set(xscale="log", yscale="log", xlim=(LADDER[0] / 1.25, LADDER[-1] * 1.25),
               xticks=[(d, str(d)) for d in LADDER], xlabel="depth L", ylabel=ylabel,
               title=title, legend="upper left")
    return fig.svg()


# ---- the page ----


def _kinds(s: Any, names: tuple[str, ...]) -> str:
    kinds = sorted({s.how(n).kind.value for n in names if n in s.provenance})
    return ", ".join(kinds)


def _result(page: Page, data: IsometryReport) -> None:
    page.table(
        ["φ", "weights", "q*", "χ₁", "m₂/m₁² − 1", "m₃/m₁³", "λ_max", "numbers"],
        [(act, weights, shown(s.q_star, s.how("q_star"), 8), shown(s.chi1, s.how("chi1"), 8),
          shown(s.variance, s.how("variance")), shown(s.moment_ratios[2],
                                                       s.how("moment_ratios[3]")),
          shown(s.lambda_max, s.how("lambda_max")),
          _kinds(s, ("q_star", "chi1", "variance", "moment_ratios[3]", "lambda_max")))
         for act, weights, s in data.spectra])


def _points_text(data: IsometryReport) -> list[str]:
    out = []
    for act, sw, sb, q in data.points:
        exact = q is not None or act == "relu"
        how = "exact" if exact else ("certified; the networks use their 30-digit values, "
                                     "shown here to 12 digits")
        out.append(f"{act}: σ_w = {inline(sw) if exact else number_text(sympy.Float(sw, 30), 12)}, "
                   f"σ_b = {inline(sb) if exact else number_text(sympy.Float(sb, 30), 12)} ({how})")
    return out


def _designs(page: Page, data: IsometryReport) -> None:
    page.table(
        ["φ", "depth", "tolerance", "q*", "σ_w", "σ_b", "m₂/m₁² − 1", "σ_w, σ_b"],
        [(p.activation, str(p.depth), f"{p.tolerance:g}", shown(p.q_star, p.how("q_star"), 8),
          shown(p.sigma_w, p.how("sigma_w"), 10), shown(p.sigma_b, p.how("sigma_b"), 10),
          shown(p.spectrum.variance, p.spectrum.how("variance"), 8),
          p.how("sigma_w").kind.value) for p in data.designs])


def _symbolic(page: Page, data: IsometryReport) -> None:
    L = sympy.Symbol("L", positive=True, integer=True)
    lines = []
    for weights, relu, linear in data.symbolic:
        floor = 2 * L if weights == "gaussian" else L
        gap = sympy.simplify(relu.variance - floor)
        lines.append(f"relu, {weights}, symbolic depth: m₂/m₁² − 1 = {inline(relu.variance)}; "
                     f"minus {inline(floor)} simplifies to {inline(gap)}.")
        if weights == "gaussian":
            diffs = [sympy.simplify(sympy.expand_func(sympy.binomial((L + 1) * k, k)
                                                      / (L * k + 1)) - m)
                     for k, m in enumerate(linear.moments, start=1)]
            lines.append("linear net, Gaussian weights: m_k minus the Fuss–Catalan numbers "
                         f"binom((L+1)k, k)/(Lk + 1), k = 1 … 4, simplify to "
                         f"{', '.join(inline(d) for d in diffs)}.")
    page.bullets(lines)


def _rows(page: Page, rows: tuple[Any, ...]) -> None:
    table = []
    for r in rows:
        se = r.tolerance * abs(r.predicted) / Z
        table.append((r.quantity, f"{r.predicted:.6g}", simulated_text(r.measured, se),
                      f"{r.tolerance * abs(r.predicted):.2g}", bool(r.ok), r.basis))
    page.table(["quantity", "predicted", "measured ± SE", "tolerance z·SE", "ok",
                "tolerance from"], table, notes=5)


def build() -> list[Any]:
    data = isometry_report()
    fig_spectra, fig_ladder = f"figures/{NAME}.svg", f"figures/{NAME}-depth.svg"
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "A deep random network h_l = W_l φ(h_{l−1}) + b_l at its mean-field fixed point q* has",
        "the input-output Jacobian J = W_L D_L ⋯ W_1 D_1, D_l = diag(φ'(h_{l−1})). χ₁ = 1",
        "makes the mean of the squared singular values λ of J, m₁ = E tr(JJᵀ)/N = χ₁^L,",
        "depth-independent; trainability needs the whole spectrum concentrated (dynamical",
        "isometry; Pennington, Schoenholz and Ganguli 2017, 2018). In the wide limit W_lW_lᵀ and",
        "D_l² are free, so their S-transforms multiply; the moments m_k, the edge λ_max and the",
        "density follow.",
    )
    page.section("Result")
    page.para(f"Depth L = {DEPTH}, on the critical line (χ₁ = 1):")
    page.bullets(_points_text(data))
    _result(page, data)
    page.para(
        "Gaussian weights add a Marchenko–Pastur factor per layer: the spread is at least L",
        "whatever φ. relu's D² is a projection (φ'² ∈ {0, 2}), whose own spread is 1, so",
        "orthogonal weights still leave L. tanh and erf at small q* have φ'² concentrated near",
        "φ'(0)²: with orthogonal weights the spread is L·(μ₂/μ₁² − 1) ≪ 1 — isometry.",
    )
    page.section("Spread and edge against depth", level=3)
    page.math(r"\frac{m_2}{m_1^2} - 1 = L\,\frac{\mu_2}{\mu_1^2}\ \text{(Gaussian)},"
              r"\qquad L\Big(\frac{\mu_2}{\mu_1^2} - 1\Big)\ \text{(orthogonal)},\qquad"
              r"\mu_k = E\big[\varphi'(\sqrt{q^*}Z)^{2k}\big]")
    page.figure(fig_ladder, "spread and edge of the spectrum against depth")
    page.section("Spectra against simulated Jacobians", level=3)
    page.para(
        f"Histograms: log₁₀ of the squared singular values of {NETWORKS} simulated networks of",
        f"width {WIDTH} and depth {DEPTH} per panel, each divided by its own m₁ (seeds from",
        f"{SEED}); curves: the density by Stieltjes inversion. relu's spectrum has an atom at",
        "0 (the mass of φ' = 0); it is left out of both, so each integrates to the rest.",
    )
    page.figure(fig_spectra, "densities of log10 of the squared singular values against "
                "histograms of simulated networks")
    page.section("The design helper", level=3)
    page.para(
        "isometry_point scans the critical line (parametrised by q*) for the largest q* whose",
        f"spread at depth {DEPTH} is at most the tolerance, with orthogonal weights, rounds it",
        "down to 4 significant digits and takes σ_w, σ_b there (closed forms for erf):",
    )
    _designs(page, data)
    page.section("Derivation")
    act, weights, record = data.spectra[5]
    page.para(f"For {act} with {weights} weights at depth {DEPTH}:")
    page.steps(record.steps)
    page.section("Verification")
    page.section("Symbolic", level=3)
    _symbolic(page, data)
    page.para("Numbers labelled certified are Arb enclosures (q* by a proven sign change of "
              "G(q) − q, μ_k by certified Gaussian integration, the algebra in ball "
              "arithmetic); only their proven digits are printed. Estimated edges carry the "
              "difference to a discretisation with half the panels.")
    page.section("Simulated", level=3)
    page.para(
        f"spectrum_rows at widths {CHECK_WIDTH} and {CHECK_WIDTH // 2}, {CHECK_NETWORKS}",
        f"networks each, depth {CHECK_DEPTH}: moments normalised per network by its own m₁,",
        "Richardson extrapolation in 1/N (moments) and N^(−2/3) (edge), tolerance z·SE with",
        f"z = {Z:g}; measured values rounded to their standard error.",
    )
    _rows(page, data.rows)
    page.see_also(('meanfield', 'the mean this report goes beyond'),
                  ('spectrum-finite-width', "one network's spread at finite width"))
    return [Output.text(f"{NAME}.md", page.markdown()),
            Output(fig_spectra, _spectra_figure(data)),
            Output(fig_ladder, _ladder_figure(data))]
