"""The residual highway: y = x + F(x) keeps the gradient alive.

Records: :func:`~symgrad.depth.residual.residual_product` (the product for symbolic depth),
:func:`~symgrad.depth.residual.residual_lower_bound` and
:func:`~symgrad.depth.residual.residual_negative_cases` (SymPy-checked facts), exact traces
(:func:`~symgrad.depth.trace.residual_trace` against :func:`~symgrad.depth.trace.chain_trace`),
and the cross-checks ``residual_chain`` and ``residual_highway`` of
:func:`~symgrad.numeric.checks.table.crosscheck`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import mpmath
import numpy as np
import sympy

from symgrad._core.plot import PALETTE, Figure
from symgrad.depth.residual import residual_lower_bound, residual_negative_cases, residual_product
from symgrad.depth.trace import chain_trace, residual_trace
from symgrad.numeric.chain import simulate_chain
from symgrad.numeric.checks.table import crosscheck
from symgrad.records import Step
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, check_rows

__all__ = ["ResidualReport", "build", "residual_report"]

NAME = "residual"
TITLE = "The residual highway"
BLURB = ("∂y/∂x = 1 + F'(x): the product ∏(1 + w_k φ'(z_k)) is at least 1 when every "
         "w_k φ'(z_k) ≥ 0, and what a negative term does.")
DEPTH = 50
WEIGHT = sympy.Rational(1, 10)


@dataclass(frozen=True, eq=False)
class ResidualReport:
    product: Any
    lower_bound: Any
    negative: tuple[Any, ...]
    plain: Any
    residual: Any
    simulation: Any
    crosscheck: Any
    steps: tuple[Step, ...] = ()


@functools.cache
def residual_report() -> ResidualReport:
    return ResidualReport(
        product=residual_product("sigmoid"),
        lower_bound=residual_lower_bound(4),
        negative=residual_negative_cases(),
        plain=chain_trace("sigmoid", depth=DEPTH, weight=WEIGHT),
        residual=residual_trace("sigmoid", depth=DEPTH, weight=WEIGHT),
        simulation=simulate_chain("sigmoid", depth=DEPTH, weight=0.1, residual=True),
        crosscheck=crosscheck(["residual_chain", "residual_highway"], rng=0),
    )


def _figure(data: ResidualReport) -> bytes:
    fig = Figure(height=380, alt=f"plain and residual sigmoid chains, w = 0.1, {DEPTH} layers:"
                 " the gradient per layer on a log scale, the residual one on a linear inset")
    ax = fig.axes()
    k = np.arange(1, DEPTH + 1)
    plain = [10.0 ** float(r.log10_grad) for r in data.plain.rows]
    residual = [10.0 ** float(r.log10_grad) for r in data.residual.rows]
    simulated = np.abs(data.simulation.grad_a)
    ax.line(k, plain, color=PALETTE[0], label="plain chain (exact)")
    ax.line(k, residual, color=PALETTE[1], label="residual chain (exact)")
    ax.points(k[::4], simulated[::4], color=PALETTE[2], filled=False,
              label="residual chain, float64 simulation")
    ax.hline(1.0, color="#4d4d4d", label="1, the residual chain's lower bound")
    ax.set(xlabel="layer k", ylabel="|∂L/∂a_k|", yscale="log", legend="lower right",
           title=f"sigmoid, w = 0.1, {DEPTH} layers: the plain chain vanishes, the residual "
                 "stays ≥ 1")
    # On the log axis the residual chain is a flat line at 1: the inset shows its values.
    inset = fig.inset(ax, (0.11, 0.2, 0.28, 0.3))
    inset.line(k, residual, color=PALETTE[1])
    inset.points(k[::4], simulated[::4], color=PALETTE[2], filled=False)
    inset.hline(1.0, color="#4d4d4d")
    inset.set(xlabel="layer k", ylabel="|∂L/∂a_k|", ylim=(0.95, 1.05 * max(residual)),
              title="the residual chain, linear scale", legend=None)
    return fig.svg()


def build() -> list[Any]:
    data = residual_report()
    fig_path = f"figures/{NAME}.svg"
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "A residual block computes y = x + F(x) (He et al. 2016), so ∂y/∂x = 1 + F'(x). In the",
        "scalar residual chain y_k = y_{k−1} + w_k φ(y_{k−1} + b_k) the gradient is multiplied",
        "by 1 + w_k φ'(z_k) per layer instead of w_k φ'(z_k).",
    )
    page.section("Result")
    page.math(r"\frac{\partial y_L}{\partial y_0} = \prod_{k=1}^{L}\bigl(1 + w_k\varphi'(z_k)"
              r"\bigr) \;\ge\; 1 \quad\text{whenever every } w_k\varphi'(z_k) \ge 0.")
    first_plain = data.plain.rows[0].grad_a
    first_res = data.residual.rows[0].grad_a
    page.para(
        f"With sigmoid units and w = 0.1 over {DEPTH} layers the plain chain's first-layer",
        f"gradient is {mpmath.nstr(first_plain, 6)}; the residual chain's is",
        f"{mpmath.nstr(first_res, 6)}.",
    )
    page.section("Derivation")
    page.steps(tuple(data.product.steps))
    page.section("The lower bound", level=3)
    page.steps(tuple(data.lower_bound.steps), start=len(data.product.steps) + 1)
    page.section("When a term is negative", level=3)
    page.table(["case", "checked by SymPy"], [(f.statement, f.holds) for f in data.negative])
    page.para(
        "So a negative w_k φ'(z_k) can bring back vanishing (−1 < t < 0) or cut the gradient",
        "(t = −1), and t < −2 can make it explode; with t ≥ 0 (positive weights and a",
        "monotone φ) the highway guarantees at least the identity's 1.",
    )
    page.section("Verification")
    page.section("Symbolic", level=3)
    page.table(
        ["fact", "SymPy verdict"],
        [(data.lower_bound.statement, data.lower_bound.holds)]
        + [(f.statement, f.holds) for f in data.negative],
    )
    page.section("Numeric", level=3)
    page.para("`crosscheck(['residual_chain', 'residual_highway'], rng=0)`: the float64",
              "residual chain against the exact trace, and a wide residual network's gradient",
              "against the highway prediction.")
    check_rows(page, data.crosscheck.rows)
    page.figure(fig_path, "gradient per layer, plain and residual sigmoid chains")
    page.see_also(('chain-4-layer-sigmoid', 'the same chain without the identity path'),
                  ('networks-residual', 'residual stacks at finite depth'))
    return [Output.text(f"{NAME}.md", page.markdown()), Output(fig_path, _figure(data))]
