"""Gradient clipping by norm: the identities, and what clipping cannot do.

Records: :func:`~symgrad.depth.clipping.clipping_facts` (each identity proved case by case
with SymPy) and :func:`~symgrad.depth.clipping.clip` on exact vectors.  The cross-check:
clipping seeded random float64 vectors of 1000 entries, whose norms span ten orders
of magnitude, and measuring the three identities.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad._core.plot import Figure
from symgrad.depth.clipping import clip, clipping_facts
from symgrad.records import Step
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, inline

__all__ = ["ClippingReport", "build", "clipping_report"]

NAME = "clipping"
TITLE = "Gradient clipping"
BLURB = ("clip(g, c) = g·min(1, c/‖g‖): the norm becomes min(‖g‖, c), the direction stays, "
         "clipping twice is clipping once; it tames explosion, not vanishing.")
SEED = 11
THRESHOLD = 1.0
SAMPLES = 400
SIZE = 1000


@dataclass(frozen=True, eq=False)
class ClippingReport:
    facts: tuple[Any, ...]
    examples: tuple[tuple[Any, Any, Any], ...]
    norms: np.ndarray
    clipped_norms: np.ndarray
    norm_error: float
    cosine_error: float
    idempotence_error: float
    steps: tuple[Step, ...] = ()

    @property
    def tolerance(self) -> float:
        # ‖g‖ in float64 has relative error ≤ n·u (n = 1000 summands, u = 2⁻⁵³), the
        # scaling one more u, the second norm n·u again: 2n + 2 units of roundoff.
        return (2 * SIZE + 2) * 2.0**-53


@functools.cache
def clipping_report() -> ClippingReport:
    examples = tuple((g, c, clip(g, c)) for g, c in (([3, 4], 1), ([0.3, 0.4], 1),
                                                      ([6, 8], 5)))
    rng = np.random.default_rng(SEED)
    scales = 10.0 ** rng.uniform(-5, 5, SAMPLES)
    norms, clipped, norm_err, cos_err, idem_err = [], [], 0.0, 0.0, 0.0
    for s in scales:
        g = rng.standard_normal(SIZE) * s
        h = np.asarray(clip(g, THRESHOLD))
        n, m = float(np.linalg.norm(g)), float(np.linalg.norm(h))
        norms.append(n)
        clipped.append(m)
        norm_err = max(norm_err, abs(m - min(n, THRESHOLD)) / min(n, THRESHOLD))
        cos_err = max(cos_err, abs(1 - float(g @ h) / (n * m)))
        again = np.asarray(clip(h, THRESHOLD))
        idem_err = max(idem_err, float(np.max(np.abs(again - h))) / m)
    return ClippingReport(clipping_facts(), examples, np.array(norms), np.array(clipped),
                          norm_err, cos_err, idem_err)


def _figure(data: ClippingReport) -> bytes:
    fig = Figure(width=550, alt="clipped norms against min(‖g‖, 1)")
    ax = fig.axes()
    order = np.argsort(data.norms)
    ax.points(data.norms[order], data.clipped_norms[order], size=2.5, filled=False,
              label="measured ‖clip(g, 1)‖")
    line = np.logspace(-4, 6, 200)
    ax.line(line, np.minimum(line, THRESHOLD), width=1.2, label="min(‖g‖, 1)")
    ax.set(xlabel="‖g‖", ylabel="‖clip(g, 1)‖", xscale="log", yscale="log",
           title=f"{SAMPLES} seeded random gradients of {SIZE} entries")
    return fig.svg()


def build() -> list[Any]:
    data = clipping_report()
    fig_path = f"figures/{NAME}.svg"
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "Clipping by norm (Pascanu, Mikolov and Bengio 2013, Algorithm 1) rescales a gradient",
        "whose norm exceeds a threshold c:",
    )
    page.math(r"\operatorname{clip}(g, c) = g\cdot\min\!\Bigl(1, \frac{c}{\lVert g\rVert}\Bigr)")
    page.section("Result")
    page.bullets(f.statement for f in data.facts)
    page.table(["g", "c", "clip(g, c)"],
               [(str(tuple(g)), str(c), inline(list(out))) for g, c, out in data.examples])
    page.para(
        "Clipping caps an exploding gradient but leaves a small one unchanged: it cannot",
        "revive a vanishing gradient (‖clip(g, c)‖ = ‖g‖ whenever ‖g‖ ≤ c).",
    )
    page.section("Derivation")
    start = 1
    for fact in data.facts:
        page.section(fact.statement, level=3)
        page.steps(tuple(fact.steps), start=start)
        start += len(fact.steps)
    page.section("Verification")
    page.section("Symbolic", level=3)
    page.table(["identity", "SymPy verdict (both cases)"], [(f.statement, f.holds)
                                                           for f in data.facts])
    page.section("Numeric", level=3)
    page.para(
        f"{SAMPLES} gradients g = s·N(0, I_{SIZE}) with log10 s uniform on [−5, 5] (seed {SEED}),",
        f"clipped at c = {THRESHOLD:g} in float64. Tolerance: (2n + 2)·2⁻⁵³ with n = {SIZE},",
        "the rounding of two norms of n terms and one scaling.",
    )
    tol = data.tolerance
    page.table(
        ["identity", "largest relative deviation", "tolerance", "ok"],
        [("‖clip(g, c)‖ = min(‖g‖, c)", f"{data.norm_error:.2e}", f"{tol:.2e}",
          data.norm_error <= tol),
         ("cos∠(g, clip(g, c)) = 1", f"{data.cosine_error:.2e}", f"{tol:.2e}",
          data.cosine_error <= tol),
         ("clip(clip(g, c), c) = clip(g, c)", f"{data.idempotence_error:.2e}", f"{tol:.2e}",
          data.idempotence_error <= tol)],
    )
    page.figure(fig_path, "norm after clipping against norm before")
    page.see_also(('recurrent', 'where exploding gradients come from in recurrent nets'),
                  ('residual', 'the other cure: an identity path'))
    return [Output.text(f"{NAME}.md", page.markdown()), Output(fig_path, _figure(data))]
