"""σ'(z) ≤ 1/4 without calculus: completing the square, and AM–GM.

The bound behind "a sigmoid layer passes on at most a quarter of the gradient"
(Hochreiter 1991) needs no derivative test.  With s = σ(z) ∈ (0, 1),
σ'(z) = s(1 − s) = 1/4 − (s − 1/2)² ≤ 1/4; independently,
σ'(z) = 1/(eᶻ + 2 + e⁻ᶻ) and eᶻ + e⁻ᶻ ≥ 2 by AM–GM.  Every identity used is
checked by SymPy (the difference of the two sides simplifies to 0) and the bound is
cross-checked numerically with finite differences of σ itself.

>>> proof = sigmoid_bound_proof()
>>> proof.bound, proof.at, all(c.holds for c in proof.checks)
(1/4, 0, True)
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.plot import Figure
from symgrad._core.symbols import z
from symgrad.activations.registry import activation
from symgrad.records import Exact, Provenances, Record, Step, provenances
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, inline

__all__ = ["IdentityCheck", "SigmoidBoundProof", "build", "sigmoid_bound_proof"]

_s = sympy.Symbol("s", real=True)


@dataclass(frozen=True)
class IdentityCheck:
    """``lhs = rhs`` as claimed by a step, and whether ``simplify(lhs − rhs)`` is 0."""
    claim: str
    lhs: sympy.Expr
    rhs: sympy.Expr
    holds: bool

    @property
    def equation(self) -> sympy.Eq:
        return sympy.Eq(self.lhs, self.rhs, evaluate=False)


@dataclass(frozen=True)
class SigmoidBoundProof(Record):
    """The proof that sup σ' = 1/4, attained only at z = 0, and its checks.

    ``grid``/``finite_difference`` are the numeric cross-check: central differences
    (σ(z + h) − σ(z − h))/2h of σ itself (not of the formula for σ'), whose largest
    value ``numeric_max`` at ``numeric_argmax`` must agree with 1/4 at 0 within
    ``numeric_tolerance``.
    """

    bound: sympy.Expr
    at: sympy.Expr
    provenance: Provenances
    square_steps: tuple[Step, ...]
    amgm_steps: tuple[Step, ...]
    checks: tuple[IdentityCheck, ...]
    grid: Any
    finite_difference: Any
    step_size: float
    numeric_max: float
    numeric_argmax: float
    numeric_tolerance: float

    @property
    def steps(self) -> tuple[Step, ...]:  # type: ignore[override]
        return self.square_steps + self.amgm_steps

    def title(self) -> str:
        return "σ'(z) ≤ 1/4 without calculus"

    def summary(self) -> list[tuple[str, Any]]:
        return [
            ("sup σ'", self.bound),
            ("attained at z", self.at),
            ("largest central difference on the grid", self.numeric_max),
        ]


def _check(claim: str, lhs: sympy.Expr, rhs: sympy.Expr) -> IdentityCheck:
    return IdentityCheck(claim, lhs, rhs, sympy.simplify(lhs - rhs) == 0)


@functools.cache
def sigmoid_bound_proof() -> SigmoidBoundProof:
    """Derive sup σ' = 1/4 (at z = 0 only) by completing the square and by AM–GM."""
    sig = activation("sigmoid")
    sigma = sig.expr
    quarter = sympy.Rational(1, 4)
    half = sympy.Rational(1, 2)
    ez = sympy.exp(z)
    checks = (
        _check("σ' = σ(1 − σ)", sig.derivative, sigma * (1 - sigma)),
        _check("s(1 − s) = 1/4 − (s − 1/2)²", _s * (1 - _s), quarter - (_s - half) ** 2),
        _check("σ' = 1/(eᶻ + 2 + e⁻ᶻ)", sig.derivative, 1 / (ez + 2 + 1 / ez)),
        _check(
            "eᶻ + e⁻ᶻ − 2 = (e^{z/2} − e^{−z/2})²",
            ez + 1 / ez - 2,
            (sympy.exp(z / 2) - sympy.exp(-z / 2)) ** 2,
        ),
        _check("σ(0) = 1/2", sigma.subs(z, 0), half),
    )
    sigma_sym = sympy.Function("sigma")(z)
    square = (
        Step(
            "Differentiate the quotient once and divide top and bottom by the same factor: "
            "the slope is a product of the output and its complement.",
            sympy.Eq(sympy.Derivative(sigma_sym, z), sigma_sym * (1 - sigma_sym)),
        ),
        Step(
            "Write s = σ(z). Since 0 < e⁻ᶻ < ∞, s ranges over the open interval (0, 1).",
            sympy.Contains(_s, sympy.Interval.open(0, 1)),
        ),
        Step(
            "Complete the square in s.",
            sympy.Eq(_s * (1 - _s), quarter - (_s - half) ** 2, evaluate=False),
        ),
        Step(
            "A square is never negative, so the product is at most 1/4, with equality "
            "exactly when s = 1/2.",
            sympy.Le(_s * (1 - _s), quarter),
        ),
        Step(
            "σ(z) = 1/2 means e⁻ᶻ = 1, i.e. z = 0: the maximum is attained at 0 and "
            "nowhere else.",
            sympy.Eq(sympy.Derivative(sigma_sym, z).subs(z, 0), quarter, evaluate=False),
        ),
    )
    amgm = (
        Step(
            "Second route, AM–GM. Multiply the numerator and denominator of "
            "e⁻ᶻ/(1 + e⁻ᶻ)² by eᶻ.",
            sympy.Eq(sympy.Derivative(sigma_sym, z), 1 / (ez + 2 + sympy.exp(-z))),
        ),
        Step(
            "The arithmetic mean of eᶻ and e⁻ᶻ is at least their geometric mean, "
            "√(eᶻe⁻ᶻ) = 1; the gap is a square.",
            sympy.Eq(
                ez + sympy.exp(-z) - 2,
                (sympy.exp(z / 2) - sympy.exp(-z / 2)) ** 2,
                evaluate=False,
            ),
        ),
        Step(
            "So the denominator is at least 4, with equality when eᶻ = e⁻ᶻ, i.e. z = 0.",
            sympy.Le(1 / (ez + 2 + sympy.exp(-z)), quarter),
        ),
    )
    # Numeric cross-check from σ alone: central differences carry a truncation error
    # h²·max|σ'''|/6 ≤ h²/6·(1/8) (|σ'''| ≤ 1/8) plus rounding ≈ 2⁻⁵³/h; with h = 1e-5
    # both are below 2e-11, so 1e-10 is a safe tolerance.  The grid contains 0.
    h = 1e-5
    grid = np.linspace(-8.0, 8.0, 1601)
    fd = (sig.numpy(grid + h) - sig.numpy(grid - h)) / (2 * h)
    k = int(np.argmax(fd))
    return SigmoidBoundProof(
        bound=quarter,
        at=sympy.Integer(0),
        provenance=provenances(bound=Exact("completing the square and AM–GM, checked by SymPy")),
        square_steps=square,
        amgm_steps=amgm,
        checks=checks,
        grid=grid,
        finite_difference=fd,
        step_size=h,
        numeric_max=float(fd[k]),
        numeric_argmax=float(grid[k]),
        numeric_tolerance=1e-10,
    )


# ---- report ----

NAME = "sigmoid-bound"
TITLE = "σ'(z) ≤ 1/4 without calculus"
BLURB = "Completing the square and AM–GM give sup σ' = 1/4 at z = 0 only."


def _figure(proof: SigmoidBoundProof) -> bytes:
    fig = Figure(width=700, height=320, cols=2, alt="σ'(z) ≤ 1/4 and the completed square")
    left, right = fig.axes(0, 0), fig.axes(0, 1)
    exact = proof.grid
    left.line(exact, 1 / (np.exp(exact) + 2 + np.exp(-exact)), label="1/(eᶻ + 2 + e⁻ᶻ)")
    left.points(exact[::40], proof.finite_difference[::40], size=3,
                label="central difference of σ")
    left.hline(float(proof.bound), color="#4d4d4d", label="1/4")
    left.set(xlabel="z", ylabel="σ'(z)", title="σ'(z)", legend="upper right")
    s = np.linspace(0.0, 1.0, 201)
    right.line(s, s * (1 - s), label="s(1 − s)")
    right.line(s, 0.25 - (s - 0.5) ** 2, dash="2 4", width=3, label="1/4 − (s − 1/2)²")
    right.hline(0.25, color="#4d4d4d", label="1/4")
    right.set(xlabel="s = σ(z)", ylabel="s(1 − s)", title="the completed square",
              legend="lower center")
    return fig.svg()


def build() -> list[Any]:
    proof = sigmoid_bound_proof()
    fig_path = f"figures/{NAME}.svg"
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "Every sigmoid layer multiplies the backpropagated gradient by σ'(z).",
        "The bound below is the reason a chain of sigmoid layers with |w| < 4 loses",
        "gradient geometrically (Hochreiter 1991). No derivative test is needed:",
    )
    page.section("Result")
    page.math(r"\sigma'(z) \le \tfrac14 \quad\text{for all } z \in \mathbb{R},"
              r"\qquad \sigma'(z) = \tfrac14 \iff z = 0.")
    page.section("Derivation: completing the square")
    page.steps(proof.square_steps)
    page.section("Derivation: AM–GM")
    page.steps(proof.amgm_steps, start=len(proof.square_steps) + 1)
    page.section("Verification")
    page.section("Symbolic", level=3)
    page.para("Each identity used above, with SymPy's verdict on `simplify(lhs − rhs) == 0`:")
    page.table(
        ["identity", "lhs − rhs simplifies to 0"],
        [(inline(c.equation), c.holds) for c in proof.checks],
    )
    page.section("Numeric", level=3)
    page.para(
        f"Central differences (σ(z + h) − σ(z − h))/2h of σ itself, h = {proof.step_size:g},",
        f"on {len(proof.grid)} points of [{proof.grid[0]:g}, {proof.grid[-1]:g}]:",
        "the truncation error is at most h²/48 and the rounding error about 2⁻⁵³/h,",
        f"so agreement within {proof.numeric_tolerance:g} is expected.",
    )
    gap = abs(proof.numeric_max - float(proof.bound))
    page.table(
        ["quantity", "derived", "measured", "difference", "tolerance", "ok"],
        [
            ("max σ'", proof.bound, f"{proof.numeric_max:.15f}", f"{gap:.2e}",
             f"{proof.numeric_tolerance:g}", gap <= proof.numeric_tolerance),
            ("argmax", proof.at, f"{proof.numeric_argmax:g}", "", "grid spacing 0.01",
             abs(proof.numeric_argmax) < 0.01),
        ],
    )
    page.figure(fig_path, "σ' against its bound 1/4, and the completed square")
    page.see_also(('weight-bound', 'what γ = 1/4 means for the weights'),
                  ('activation-sigmoid', "the sigmoid's slope and saturation"))
    return [Output.text(f"{NAME}.md", page.markdown()), Output(fig_path, _figure(proof))]
