"""One parametric page for a scale family: φ_β(z) = φ_1(βz)/β (swish, with silu = swish(1)).

For such a family φ_β'(z) = φ_1'(βz), and z ↦ βz is a bijection of ℝ for β > 0, so

* γ(β) = sup|φ_β'| = γ_1 for every β > 0: the steepness does not depend on β;
* argmax(β) = argmax_1 / β, and every saturation threshold scales the same way:
  t_β(ε) = t_1(ε) / β.

SymPy proves the two identities for a symbolic β > 0 (``simplify`` of the difference is
0); the β = 1 member's certified sup and argmax give every β; a table checks a few β
against an independent 50-digit maximisation of |φ_β'| (mpmath's numerical φ'' and
Newton), sharing nothing with the certified values.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import mpmath
import sympy

from symgrad._core.format import latex
from symgrad._core.symbols import z
from symgrad.activations.record import Activation
from symgrad.activations.registry import activation_names, entry
from symgrad.errors import InvalidArgument
from symgrad.reports.pages.activation_profile import ActivationProfile
from symgrad.reports.pages.activation_text import approx
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page
from symgrad.slopes import Reach

__all__ = ["BETAS", "FamilyRow", "family_page", "family_rows", "is_scale_family"]

#: The β of the family table.
BETAS = (sympy.Rational(1, 4), sympy.Rational(1, 2), sympy.Integer(1), sympy.Integer(2),
         sympy.Integer(10))
#: Digits of the independent maximisation.
CHECK_DPS = 50


def _beta() -> sympy.Symbol:
    return sympy.Symbol("beta", real=True)


def _member_name(act: Activation) -> str | None:
    """The catalogue member that fixes β = 1 (silu for swish)."""
    for name in activation_names():
        e = entry(name)
        if e.family == act.name and dict(e.fixed).get("beta") == 1:
            return name
    return None


@functools.cache
def _scaling_proven(name: str) -> bool:
    """SymPy proves φ_β(z) = φ_1(βz)/β and φ_β'(z) = φ_1'(βz) for a symbolic β > 0."""
    general = entry(name).expr
    b = sympy.Symbol("b", positive=True)
    phi_b = general.subs(_beta(), b)
    phi_1 = general.subs(_beta(), 1)
    same = sympy.simplify(phi_b - phi_1.subs(z, b * z) / b) == 0
    slopes = sympy.simplify(sympy.diff(phi_b, z) - sympy.diff(phi_1, z).subs(z, b * z)) == 0
    return bool(same and slopes)


def is_scale_family(act: Activation) -> bool:
    """A catalogue family at its defaults with the one parameter β, a β = 1 member in the
    catalogue, and the scaling law proven (swish)."""
    try:
        e = entry(act.name)
    except InvalidArgument:  # an unregistered record has no family page
        return False
    if act.family != act.name or [p.name for p in e.params] != ["beta"]:
        return False
    if act.params != tuple((p.name, p.default) for p in e.params):
        return False
    return _member_name(act) is not None and _scaling_proven(act.name)


@dataclass(frozen=True)
class FamilyRow:
    """γ(β) and argmax(β) from the scaling law, against an independent maximisation."""

    beta: sympy.Expr
    gamma: sympy.Expr
    argmax: sympy.Expr
    reference_gamma: mpmath.mpf
    reference_argmax: mpmath.mpf

    @property
    def ok(self) -> bool:
        with mpmath.workdps(CHECK_DPS):
            g = abs(mpmath.mpf(sympy.N(self.gamma, CHECK_DPS)) - self.reference_gamma)
            a = abs(mpmath.mpf(sympy.N(self.argmax, CHECK_DPS)) - self.reference_argmax)
            return bool(g < mpmath.mpf(10) ** -25 and a < mpmath.mpf(10) ** -25 * max(
                1, abs(self.reference_argmax)))


def _independent(name: str, beta: sympy.Expr, start: float) -> tuple[mpmath.mpf, mpmath.mpf]:
    """max |φ_β'| by mpmath alone: numerical φ'' of the family's expression, Newton."""
    general = entry(name).expr.subs(_beta(), beta)
    f = sympy.lambdify(z, general, modules="mpmath")
    with mpmath.workdps(CHECK_DPS + 10):
        at = mpmath.findroot(lambda x: mpmath.diff(f, x, 2), mpmath.mpf(start))
        return abs(mpmath.diff(f, at)), at


def family_rows(profile: ActivationProfile) -> list[FamilyRow]:
    """One row per β in :data:`BETAS`: γ(β) = γ_1, argmax(β) = argmax_1/β."""
    peak = profile.peak
    rows = []
    for beta in BETAS:
        argmax = peak.at / beta
        gamma, at = _independent(profile.act.name, beta, float(argmax))
        rows.append(FamilyRow(beta, peak.value, argmax, gamma, at))
    return rows


def family_page(profile: ActivationProfile, stem: str, fig_path: str,
                figure: bytes) -> list[Any]:
    """The parametric page of a scale family (see the module docstring)."""
    act = profile.act
    member = _member_name(act) or act.name
    b = sympy.Symbol(r"\beta", positive=True)
    general = entry(act.name).expr.subs(_beta(), b)
    page = Page(f"{act.name}(β): one family, every β",
                generated_by=f"symgrad report --only {stem}")
    page.para(f"[All reports](README.md) · Reference: {act.reference}. The member with "
              f"β = 1 is {member}: [activation-{member}.md](activation-{member}.md) has its "
              "full derivation, saturation table and checks.")
    page.section("Definition")
    page.math(rf"\varphi_\beta(z) = {latex(general)}, \qquad \beta > 0")
    page.para("The family is one function rescaled: SymPy proves, for a symbolic β > 0, "
              "that the difference of each side below simplifies to 0.")
    page.math(r"\varphi_\beta(z) = \frac{\varphi_1(\beta z)}{\beta}, \qquad "
              r"\varphi_\beta'(z) = \varphi_1'(\beta z)")
    page.para("Since z ↦ βz maps ℝ onto ℝ, |φ_β'| takes exactly the values of |φ_1'|, "
              "reached at points divided by β:")
    page.math(r"\gamma(\beta) = \sup_z \lvert\varphi_\beta'(z)\rvert = \gamma_1, \qquad "
              r"\operatorname{argmax}(\beta) = \frac{\operatorname{argmax}_1}{\beta}, "
              r"\qquad t_\beta(\epsilon) = \frac{t_1(\epsilon)}{\beta}")
    page.para("So β does not change how steep the family is, only where: a larger β moves "
              "the peak and every saturation threshold towards 0 by the factor 1/β. "
              "E[φ_β'(Z)] = E[φ_1'(βZ)] does depend on β (the Gaussian does not rescale).")

    page.section("Results")
    peak = profile.peak
    if peak.reach is not Reach.POINT:  # pragma: no cover - swish's sup is attained
        page.para(f"γ_1 = {approx(peak.value)} ({peak.where()}).")
    page.para(f"For every β > 0: γ(β) = γ_1 ≈ {approx(peak.value)} (the certified sup of "
              f"{member}), argmax(β) = argmax_1/β with argmax_1 ≈ {approx(peak.at)}, and "
              "every saturation threshold is t_1(ε)/β.")
    page.para("Why E[φ'(Z)²] matters: it is χ₁ at σ_w = 1 and q = 1, the factor a wide random "
              "network multiplies the mean squared gradient by per layer (see "
              "[meanfield.md](meanfield.md)); for this family it depends on β through "
              "E[φ_1'(βZ)²].")
    page.figure(fig_path, f"φ' of {act.name} at β = 1 with the saturated zones shaded")
    page.section("Verification")
    rows = family_rows(profile)
    page.para(f"γ_1 and argmax_1 are the certified values of {member} "
              f"(γ_1 ≈ {approx(peak.value)}, argmax_1 ≈ {approx(peak.at)}); the last two "
              f"columns maximise |φ_β'| independently (mpmath at {CHECK_DPS} digits, "
              "numerical φ'' and Newton from argmax_1/β).")
    eps, sat = profile.saturations[1]
    left = sat.left_threshold
    page.table(["β", "γ(β)", "argmax(β)", "independent max of |φ_β'|", "at z", "agree",
                rf"$`t_\beta({latex(eps)})`$, left"],
               [(f"$`{latex(r.beta)}`$", approx(r.gamma), approx(r.argmax),
                 mpmath.nstr(r.reference_gamma, 12), mpmath.nstr(r.reference_argmax, 12),
                 r.ok, "—" if left is None else approx(left / r.beta)) for r in rows])
    page.details("All digits", as_list=True, items=[
        f"γ_1 = {peak.value}", f"argmax_1 = {peak.at}",
        *[f"β = {r.beta}: independent max {mpmath.nstr(r.reference_gamma, 30)} at "
          f"z = {mpmath.nstr(r.reference_argmax, 30)}" for r in rows]])
    return [Output.text(f"{stem}.md", page.markdown()), Output(fig_path, figure)]
