"""The claims audit: common textbook statements about vanishing gradients, checked.

The statements live in ``symgrad/reports/data/textbook_claims.toml`` (package data);
:func:`symgrad.claims.audit.check_claims` gives the verdicts, computed by the library.
"""

from __future__ import annotations

import functools
from importlib import resources
from typing import Any

import sympy

from symgrad._core.format import number_text
from symgrad.claims import Verdict, check_claims
from symgrad.records import how_text
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page

__all__ = ["CLAIMS_FILE", "audit", "build"]

NAME = "claims"
TITLE = "Claims audit: what textbooks say about vanishing gradients"
BLURB = ("Common statements (slope bounds, saturation, the weight bound of 4, the 4-layer "
         "numbers judged on the gradient each is about, the best-known wrong numbers, "
         "initialization variances), each with its source, verdict and witness.")
CLAIMS_FILE = "textbook_claims.toml"


@functools.cache
def audit() -> tuple[Any, ...]:
    path = resources.files("symgrad.reports") / "data" / CLAIMS_FILE
    with resources.as_file(path) as file:
        return tuple(check_claims(file, require_source=True))


def _claimed(result: Any) -> str:
    """The claimed number as the file writes it: a decimal for an approximate claim."""
    if result.claimed is None:
        return "—"
    if result.approximate:
        return f"≈ {float(result.claimed):g}"
    return number_text(result.claimed, 8)


def _witness(z: Any) -> str:
    """A witness point as a number (its closed form is in the computed column or the
    derivation): exact when rational, else 10 digits of the closed form."""
    value = sympy.sympify(z)
    if value.is_Rational:
        return number_text(value)
    return f"≈ {sympy.sstr(sympy.N(value, 10))}"


def build() -> list[Any]:
    results = audit()
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    holds = sum(r.verdict is Verdict.HOLDS for r in results)
    fails = sum(r.verdict is Verdict.FAILS for r in results)
    page.para(
        "Each statement is written as a claim in `symgrad/reports/data/textbook_claims.toml`",
        "and checked with `symgrad claims` (or `symgrad.check_claims`): the quantity is",
        "computed by symgrad's derivations and compared with the claimed number — exactly",
        "when the claim gives an exact number, within 1 % when it gives a decimal. A",
        "universal claim that fails comes with a witness z. A claim about the 4-layer chain",
        "names the gradient it is about — ∂L/∂a (activation), ∂L/∂w (weight, what an",
        "optimizer uses), ∂L/∂b (bias) or ∂L/∂x (input) — and a verdict that depends on a",
        "convention (Xavier as 2/(fan_in + fan_out) or as Caffe's 1/fan_in) names it.",
    )
    page.section("Result")
    page.para(f"{holds} of {len(results)} statements hold; {fails} fail.")
    page.table(
        ["claim", "statement", "verdict", "claimed", "computed", "witness z"],
        [(f"`{r.id}`", r.text, f"**{r.verdict.value}**",
          _claimed(r),
          "—" if r.value is None else number_text(r.value, 8),
          "—" if r.witness is None else _witness(r.witness))
         for r in results],
    )
    page.section("Why the wrong ones are wrong")
    for r in results:
        if r.verdict is Verdict.FAILS:
            page.para(f"**`{r.id}`** — “{r.text}” {r.detail}.")
    page.section("Sources")
    page.bullets(f"`{r.id}`: {r.source}" for r in results)
    page.section("Derivation")
    page.para("How each value was obtained:")
    page.bullets(f"`{r.id}`: {r.detail or r.error} ({how_text(r.how('value'))})"
                 if r.provenance else f"`{r.id}`: {r.detail or r.error}" for r in results)
    page.section("Verification")
    page.para(
        "Every computed value comes from a record whose own report carries its symbolic",
        "check and its simulation cross-check: the slope values and thresholds from the",
        "activation reports, the weight bounds from the weight-bound report, the chain values",
        "from the worked 4-layer chain (checked there against a float64 simulation), the",
        "variances from the initialization report. Rerun the audit with:",
    )
    page.code("symgrad claims symgrad/reports/data/textbook_claims.toml", lang="bash")
    page.see_also(('README', 'every activation at a glance'),
                  ('chain-4-layer-sigmoid', 'the chain the chain claims are about'))
    return [Output.text(f"{NAME}.md", page.markdown())]
