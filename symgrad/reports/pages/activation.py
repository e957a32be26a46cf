"""One report per catalogue activation: φ, φ', sup|φ'|, saturation, E[φ'(Z)].

The data and its independent checks come from
:func:`~symgrad.reports.pages.activation_profile.activation_profile`; :func:`build_for`
renders them.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from symgrad._core.format import number_text
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation as catalogue_activation
from symgrad.errors import InvalidArgument
from symgrad.reports.pages import activation_sections as sections
from symgrad.reports.pages.activation_family import family_page, is_scale_family
from symgrad.reports.pages.activation_figure import slope_figure
from symgrad.reports.pages.activation_profile import (
    CHECK_DPS,
    EPSILONS,
    MC_SAMPLES,
    MC_SEED,
    MC_Z,
    ActivationProfile,
    activation_profile,
)
from symgrad.reports.pages.activation_text import approx, tidy_for
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page

__all__ = ["EPSILONS", "ActivationProfile", "activation_profile", "build_for", "report_name"]

# ---- report ----

def report_name(name: str) -> str:
    return f"activation-{name}"


def _figure(profile: ActivationProfile) -> bytes:
    return slope_figure(profile)


def build_for(act: Activation | str, name: str | None = None) -> list[Any]:
    """The report files of one activation — a registered name (catalogue or user) or an
    :class:`~symgrad.activations.Activation` record — named ``activation-<name>``
    (``name`` defaults to the activation's): the Markdown page and its SVG figure.
    ``symgrad.reports.activation_report`` and ``build_reports(activations=…)`` call it.
    A scale family whose β = 1 member is in the catalogue (swish, with silu) gets one
    parametric page instead (:mod:`~symgrad.reports.pages.activation_family`).
    """
    p = activation_profile(act)
    act = p.act
    stem = report_name(name or act.name)
    fig_path = f"figures/{stem}.svg"
    if is_scale_family(act):
        return family_page(p, stem, fig_path, _figure(p))
    tidy = tidy_for(act)
    page = Page(f"{act.label}: slope and saturation",
                generated_by=f"symgrad report --only {stem}")
    page.para("[All reports](README.md)" + (f" · Reference: {act.reference}." if act.reference
                                            else ""))
    member = _family_link(act)
    if member:
        page.para(member)
    page.section("Definition")
    sections.constants_block(page, tidy, act.label)
    page.math(rf"\varphi(z) = {tidy.latex(act.expr)}")
    page.math(rf"\varphi'(z) = {tidy.latex(act.derivative)}")
    if act.kinks:
        page.para("Kinks (φ is continuous, φ' jumps); symgrad's φ' takes the value of the "
                  "piece that contains the kink:")
        page.table(["z", "φ'(z⁻)", "φ'(z⁺)"],
                   [(tidy.cell(k.at), tidy.cell(k.left), tidy.cell(k.right))
                    for k in act.kinks])
    if tidy.constants:
        page.para("Every rewrite in the named constants is exact by construction: the special"
                  " values in the constants are solved for in terms of the names, SymPy proves"
                  " that substituting the constants back gives them exactly, and each printed"
                  " form also agrees with the original to 50 digits.")

    page.section("Results")
    sections.results(page, tidy, p)
    page.para(f"No critical point missed: {p.peak.completeness}.")
    if p.peak.convention:
        page.para(p.peak.convention)
    page.para("A layer passes on at most γ times |w| of its gradient, so with this "
              "activation every factor is below 1 whenever |w| < 1/γ ≈ "
              f"{_inverse(p.peak.value)}.")
    chi = approx(p.expected_sq.value, 6)
    page.para("Why E[φ'(Z)²] matters: in a wide random network with weight variance σ_w²/n "
              "and pre-activations of variance q, the mean squared gradient is multiplied by "
              "χ₁ = σ_w² E[φ'(√q Z)²] per layer, so at σ_w = 1 and q = 1 "
              f"χ₁ = E[φ'(Z)²] ≈ {chi}: gradients vanish geometrically with depth when χ₁ < 1 "
              "and explode when χ₁ > 1 (see [meanfield.md](meanfield.md) for the fixed point "
              "$`q^*`$ and the critical σ_w).")

    page.section("Saturation")
    page.para("The saturated set {z : |φ'(z)| < ε}; thresholds are the boundary points on "
              "each side (— when that side never saturates; ± when they are symmetric).")
    sections.saturation_table(page, tidy, p)
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
    sections.steps(page, tidy, tuple(p.peak.steps), 1, p)
    sat_steps = tuple(p.saturations[1][1].steps)
    if sat_steps:
        page.section(f"Saturation at ε = {number_text(EPSILONS[1])}", level=3)
        sections.steps(page, tidy, sat_steps, len(p.peak.steps) + 1)
    exp_steps = p.expected.steps
    if exp_steps:
        page.section("The expected slope", level=3)
        sections.steps(page, tidy, exp_steps, len(p.peak.steps) + len(sat_steps) + 1)
    _verification(page, p)
    return [Output.text(f"{stem}.md", page.markdown()), Output(fig_path, _figure(p))]


def _family_link(act: Activation) -> str:
    """A member of a scale family points to the family's parametric page."""
    if not act.family or act.family == act.name:
        return ""
    try:
        family = catalogue_activation(act.family)
    except InvalidArgument:  # a user family may not be registered under its name
        return ""
    if not is_scale_family(family):
        return ""
    values = ", ".join(f"{k} = {sympy.sstr(v)}" for k, v in act.params)
    return (f"{act.label} is {act.family} with {values}: the parametric family, with γ(β) and "
            f"the argmax for every β, is in [activation-{act.family}.md]"
            f"(activation-{act.family}.md).")


def _verification(page: Page, p: ActivationProfile) -> None:
    page.section("Verification")
    page.section("Symbolic and high precision", level=3)
    page.para("On both sides of every saturation boundary b, |φ'| by mpmath's numerical",
              f"differentiation of φ itself (not the symbolic φ') at {CHECK_DPS} digits: where",
              "φ' is continuous both equal ε; at a kink ε must lie between them. The",
              "residual is the distance from ε to that range.")
    page.table(
        ["ε", "boundary b", "|φ'(b⁻)|", "|φ'(b⁺)|", "residual", "ok"],
        [(number_text(c.eps), approx(c.point), mpmath.nstr(c.left, 12),
          mpmath.nstr(c.right, 12), mpmath.nstr(c.residual, 3), c.ok)
         for c in p.boundary_checks],
    )
    if p.sup_check is not None:
        c = p.sup_check
        where = (f"where the numerical φ'' vanishes, z ≈ {mpmath.nstr(c.at, 12)} (Newton from "
                 "the grid's best point)" if c.at is not None else
                 "beside the sup's point or piece, or far out")
        page.para("The sup against an independent maximisation: |φ'| by numerical",
                  f"differentiation of φ at {CHECK_DPS} digits {where} is",
                  f"{mpmath.nstr(c.reference, 12)}…; the printed sup agrees with it to",
                  f"{c.digits} digits: {'yes' if c.ok else 'NO'}.")
        page.details("All digits of the sup check", as_list=True, items=[
            f"independent maximum: {mpmath.nstr(c.reference, 35)}",
            f"printed sup: {c.shown}"])
    page.section("Numeric", level=3)
    sup = float(p.peak.value)
    page.para(
        f"On 16001 evenly spaced float64 points of [−40, 40] (plus the maximizer when "
        f"it is finite) the largest |φ'| is {p.grid_max:.12g} at z = {p.grid_argmax:.6g}; "
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


def _inverse(value: Any) -> str:
    v = sympy.sympify(value)
    if v == 0:
        return "∞"
    return approx(1 / v)
