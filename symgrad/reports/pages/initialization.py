"""Initialization: Xavier and He from variance conditions, and the gains table.

Records: :func:`~symgrad.initialization.gains.xavier_variance`,
:func:`~symgrad.initialization.gains.he_variance`, :func:`~symgrad.initialization.table.gain_table`
(framework gains beside the second-moment and criticality gains) and
:func:`~symgrad.initialization.gains.moment_factor` (Xavier with ReLU halves the second
moment per layer).  Cross-check: the ``he_vs_xavier`` rows of
:func:`~symgrad.numeric.checks.table.crosscheck` (wide ReLU networks simulated with both).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import sympy

from symgrad._core.format import number_text
from symgrad.activations.registry import activation
from symgrad.errors import InvalidArgument
from symgrad.initialization.gains import gain, he_variance, moment_factor, xavier_variance
from symgrad.initialization.table import FRAMEWORK_GAINS
from symgrad.meanfield.field import mean_field
from symgrad.numeric.checks.table import crosscheck
from symgrad.records import Step
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, check_rows, inline

__all__ = ["InitializationReport", "build", "initialization_report"]

NAME = "initialization"
TITLE = "Initialization and the gains table"
BLURB = ("Glorot's 2/(n_in + n_out) and He's 2/n_in derived from variance conditions; "
         "framework gains against second-moment and criticality gains.")
FAN_IN, FAN_OUT = 256, 512


@dataclass(frozen=True)
class GainRow:
    """One framework entry beside the library's two principled gains (records)."""
    activation: str
    framework: sympy.Expr
    second_moment: Any
    criticality: Any | None
    #: mean field at σ_w = the framework gain, σ_b = 0 (its χ₁ and phase).
    at_framework: Any

    @property
    def agrees(self) -> str:
        on_sm = _close(self.framework, self.second_moment.value)
        on_crit = self.criticality is not None and _close(self.framework,
                                                          self.criticality.value)
        return ("both" if on_sm and on_crit else "second moment" if on_sm
                else "criticality" if on_crit else "neither")


def _close(a: Any, b: Any) -> bool:
    """Equal to 12 significant digits (compared numerically at 30 digits, no simplify)."""
    x, y = sympy.N(a, 30), sympy.N(b, 30)
    return bool(abs(x - y) <= sympy.Float("1e-12", 30) * abs(y))


@dataclass(frozen=True, eq=False)
class InitializationReport:
    xavier: Any
    he_in: Any
    he_out: Any
    table: tuple[GainRow, ...]
    mismatch: Any
    crosscheck: Any
    steps: tuple[Step, ...] = ()


@functools.cache
def initialization_report() -> InitializationReport:
    rows = []
    for name, g in FRAMEWORK_GAINS:
        act = activation(name)
        try:
            crit = gain(act, principle="criticality")
        except InvalidArgument:
            crit = None  # χ₁ jumps across 1: no critical gain
        rows.append(GainRow(act.label, g, gain(act, principle="second_moment"), crit,
                            mean_field(act, sigma_w=g, sigma_b=0)))

    n = sympy.Symbol("n", positive=True, integer=True)
    return InitializationReport(
        xavier=xavier_variance(FAN_IN, FAN_OUT),
        he_in=he_variance(FAN_IN, FAN_OUT, mode="fan_in"),
        he_out=he_variance(FAN_IN, FAN_OUT, mode="fan_out"),
        table=tuple(rows),
        mismatch=moment_factor("relu", 2 / (n + n), fan_in=n),
        crosscheck=crosscheck(["he_vs_xavier"], rng=0),
    )


def build() -> list[Any]:
    data = initialization_report()
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "A layer z = W a with W_ij of variance σ² keeps the forward second moment when",
        "n_in·σ²·E[φ(z)²]/Var(z) = 1 and the backward one when n_out·σ²·E[φ'(z)²] = 1",
        "(Glorot and Bengio 2010; He et al. 2015).",
    )
    page.section("Result")
    page.table(
        ["scheme", f"Var(w) for n_in = {FAN_IN}, n_out = {FAN_OUT}", "std", "uniform bound a"],
        [(rec.rule, inline(rec.variance), inline(rec.std), inline(rec.uniform_bound))
         for rec in (data.xavier, data.he_in, data.he_out)],
    )
    page.section("Derivation: Xavier/Glorot", level=3)
    page.steps(tuple(data.xavier.steps))
    page.section("Derivation: He/Kaiming", level=3)
    page.steps(tuple(data.he_in.steps), start=len(data.xavier.steps) + 1)
    page.section("The mismatch: Xavier with ReLU", level=3)
    page.para(
        "With n_in = n_out = n, Xavier gives Var(w) = 1/n; ReLU keeps half of the second",
        f"moment, so each layer multiplies it by {inline(data.mismatch.value)}: after L layers",
        f"by {inline(data.mismatch.after(sympy.Symbol('L', positive=True)))}.",
    )
    page.steps(tuple(data.mismatch.steps))
    page.section("The gains table")
    page.para(
        "The frameworks' gains (PyTorch's `calculate_gain`; Var(w) = g²/fan_in) beside the gain",
        "that preserves the forward second moment, 1/√E[φ(Z)²], and the critical gain",
        "(χ₁ = 1 at σ_b = 0), with the χ₁ a network at the framework gain actually gets:",
    )
    page.table(
        ["activation", "framework", "second moment 1/√E[φ(Z)²]", "criticality (χ₁ = 1)",
         "χ₁ at framework gain", "phase there", "agrees with"],
        [(r.activation, number_text(r.framework, 8), number_text(r.second_moment.value, 8),
          "none" if r.criticality is None else number_text(r.criticality.value, 8),
          number_text(r.at_framework.chi1, 8), r.at_framework.phase.value, r.agrees)
         for r in data.table],
    )
    page.para(
        "ReLU's √2 (He) satisfies both principles; tanh's 5/3 is neither: it puts a tanh",
        "network in the chaotic phase (χ₁ > 1), while its critical gain is 1. SELU's",
        "second-moment gain is 1 (Var(w) = 1/fan_in, what Klambauer et al. 2017 prescribe);",
        "the frameworks' 3/4 matches neither principle.",
    )
    page.section("Verification")
    page.section("Symbolic", level=3)
    x = data.xavier.variance - sympy.Rational(2, FAN_IN + FAN_OUT)
    h = data.he_in.variance - sympy.Rational(2, FAN_IN)
    page.table(
        ["identity", "difference"],
        [("Var_Xavier − 2/(n_in + n_out)", inline(sympy.simplify(x))),
         ("Var_He(fan_in) − 2/n_in", inline(sympy.simplify(h))),
         ("a² − 3·Var (uniform bound, Xavier)",
          inline(sympy.simplify(data.xavier.uniform_bound**2 - 3 * data.xavier.variance)))],
    )
    page.section("Simulation", level=3)
    page.para("`crosscheck(['he_vs_xavier'], rng=0)`: wide ReLU networks initialized both ways,",
              "the measured per-layer second-moment factor against the derived one.")
    check_rows(page, data.crosscheck.rows)
    page.see_also(('meanfield', 'why these variances: χ₁ = 1'),
                  ('networks-init', 'the advice tested on deep networks'))
    return [Output.text(f"{NAME}.md", page.markdown())]
