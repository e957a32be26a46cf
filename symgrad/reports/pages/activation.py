"""One report per catalogue activation: φ, φ', sup|φ'|, saturation, E[φ'(Z)].

The data and its independent checks come from
:func:`~symgrad.reports.pages.activation_profile.activation_profile`; :func:`build_for`
renders them.
"""

from __future__ import annotations

from typing import Any

import mpmath
import sympy

from symgrad._core.format import latex, number_text
from symgrad.activations.record import Activation
from symgrad.records import Provenance, Record, how_text
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
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, inline
from symgrad.slopes import (
    Saturation,
)

__all__ = ["EPSILONS", "ActivationProfile", "activation_profile", "build_for", "report_name"]

# ---- report ----

def report_name(name: str) -> str:
    return f"activation-{name}"


def _figure(profile: ActivationProfile) -> bytes:
    return slope_figure(profile)


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

