"""Recurrent nets: the Pascanu conditions, 200 steps, and the LSTM carousel.

Records: :func:`~symgrad.recurrent.pascanu_conditions` for a few matrices,
:func:`~symgrad.recurrent.after_steps`, :func:`~symgrad.recurrent.lstm_carousel` and
:func:`~symgrad.recurrent.gru_update_path`.  Cross-checks: float64 BPTT Jacobian norms
(:func:`~symgrad.recurrent.bptt_jacobian`) stay below the bound (σ_max·γ)^t, and the
``rnn_spectral_bound``, ``lstm_carousel`` and ``lstm_forget_decay`` rows of
:func:`~symgrad.numeric.checks.table.crosscheck`.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.format import number_text
from symgrad._core.plot import PALETTE, Figure
from symgrad.numeric.checks.table import crosscheck
from symgrad.records import Step
from symgrad.recurrent import (
    after_steps,
    bptt_jacobian,
    gru_update_path,
    lstm_carousel,
    pascanu_conditions,
)
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, check_rows, inline

__all__ = ["RecurrentReport", "build", "recurrent_report"]

NAME = "recurrent"
TITLE = "Recurrent nets and the LSTM carousel"
BLURB = ("σ_max(W) < 1/γ guarantees vanishing, σ_max(W) > 1/γ is needed for exploding; "
         "a factor 0.9 leaves 7e-10 after 200 steps; the LSTM's direct path is ∏ f_t.")
STEPS = 60
H0 = (0.3, -0.2)
#: (label, activation, W): exact matrices, so σ_max is exact.
CASES = (
    ("tanh, W = diag(1/2, 1/4)", "tanh", ((sympy.Rational(1, 2), 0), (0, sympy.Rational(1, 4)))),
    ("sigmoid, W = [[3, 4], [0, 0]]", "sigmoid", ((3, 4), (0, 0))),
    ("tanh, W = 3/2 · rotation", "tanh", ((0, sympy.Rational(3, 2)), (-sympy.Rational(3, 2), 0))),
    ("sigmoid, W = 2·I", "sigmoid", ((2, 0), (0, 2))),
)
FACTORS = ("0.9", "0.99", "1.01", "1.1")


@dataclass(frozen=True, eq=False)
class RecurrentReport:
    conditions: tuple[tuple[str, Any, Any], ...]
    powers: tuple[Any, ...]
    lstm: tuple[Any, ...]
    gru: tuple[Any, ...]
    crosscheck: Any
    steps: tuple[Step, ...] = ()


@functools.cache
def recurrent_report() -> RecurrentReport:
    conditions = []
    for label, act, W in CASES:
        cond = pascanu_conditions(act, [list(row) for row in W])
        jac = bptt_jacobian(act, [[float(v) for v in row] for row in W], h0=list(H0),
                            steps=STEPS)
        conditions.append((label, cond, jac))
    return RecurrentReport(
        conditions=tuple(conditions),
        powers=tuple(after_steps(sympy.Rational(f)) for f in FACTORS),
        lstm=(lstm_carousel(1, steps=200), lstm_carousel(sympy.Rational(9, 10)),
              lstm_carousel([1, sympy.Rational(1, 2), 1, sympy.Rational(1, 2)])),
        gru=(gru_update_path(0, steps=200), gru_update_path([sympy.Rational(1, 10),
                                                             sympy.Rational(1, 5)])),
        crosscheck=crosscheck(["rnn_spectral_bound", "lstm_carousel", "lstm_forget_decay"],
                              rng=0),
    )


def _bound_ok(cond: Any, jac: Any) -> tuple[float, bool]:
    """Largest ‖∂h_t/∂h_0‖₂ / η^t over t, and whether it is ≤ 1 (+ float64 rounding)."""
    eta = float(cond.eta)
    t = np.arange(1, len(jac.norms) + 1)
    bound = eta**t
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bound > 0, jac.norms / bound, 0.0)
    worst = float(np.max(ratio))
    # Each step's product adds O(n·u) relative error; 2-norms add n·u: 8·t·u is generous.
    return worst, bool(worst <= 1 + 8 * len(t) * 2.0**-53)


def _figure(data: RecurrentReport) -> bytes:
    fig = Figure(width=620, height=400, alt="BPTT Jacobian norms and their bound")
    ax = fig.axes()
    t = np.arange(1, STEPS + 1)
    for i, (label, cond, jac) in enumerate(data.conditions):
        color = PALETTE[i % len(PALETTE)]
        ax.line(t, jac.norms, color=color, label=label)
        ax.line(t, float(cond.eta) ** t, color=color, dash="2 3")
    # the line styles, once for every network (a colour is a network)
    ax.line([], [], color="#222222", label="‖∂h_t/∂h_0‖₂, computed")
    ax.line([], [], color="#222222", dash="2 3", label="bound (σ_max·γ)^t")
    ax.set(xlabel="step t", ylabel="‖∂h_t/∂h_0‖₂", yscale="log", legend="lower left",
           title="BPTT Jacobian norms (solid) and the bound (σ_max·γ)^t (dotted)")
    return fig.svg()


def build() -> list[Any]:
    data = recurrent_report()
    fig_path = f"figures/{NAME}.svg"
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "A vanilla RNN h_t = φ(W h_{t−1} + U x_t + b) backpropagates through",
        "∂h_T/∂h_0 = ∏_t diag(φ'(z_t))·W, so ‖∂h_T/∂h_0‖₂ ≤ (σ_max(W)·γ)^T with",
        "γ = sup|φ'| (Pascanu, Mikolov and Bengio 2013; Bengio, Simard and Frasconi 1994).",
    )
    page.section("Result")
    page.table(
        ["network", "σ_max(W)", "1/γ", "η = σ_max·γ", "vanishing guaranteed",
         "exploding possible"],
        [(label, inline(c.sigma_max), inline(c.threshold), inline(c.eta),
          c.vanishing_guaranteed, c.exploding_possible) for label, c, _ in data.conditions],
    )
    page.para("σ_max(W) < 1/γ is sufficient for vanishing; σ_max(W) > 1/γ is necessary, not",
              "sufficient, for exploding: W = [[3, 4], [0, 0]] with sigmoid has σ_max = 5 > 4",
              "and still vanishes (see the verification table), because σ' reaches 1/4 only at",
              "z = 0 and the states move away from it.")
    page.section("Derivation", level=3)
    page.steps(tuple(data.conditions[0][1].steps))
    page.section("200 steps")
    page.table(
        ["per-step factor", "after 200 steps", "log10", "behaviour"],
        [(number_text(p.factor), f"{float(p.value):.4g}", number_text(p.log10, 8),
          p.growth.value if p.growth is not None else "neither")
         for p in data.powers],
    )
    page.section("The LSTM carousel and the GRU's direct path")
    page.para("c_t = f_t ⊙ c_{t−1} + i_t ⊙ g_t gives ∂c_t/∂c_{t−1} = diag(f_t) on the",
              "direct path (Hochreiter and Schmidhuber 1997; Gers et al. 2000); the GRU's",
              "h_t = (1 − u_t) ⊙ h_{t−1} + u_t ⊙ h̃_t gives ∏(1 − u_t).")
    page.table(
        ["cell", "per-step factors (f_t or 1 − u_t)", "direct-path product"],
        [(g.cell, ", ".join(number_text(f) for f in g.factors), inline(g.product))
         for g in (*data.lstm, *data.gru)],
    )
    page.para("A forget gate held at 1 carries the error unchanged for any number of steps: the",
              "constant error carousel. A gate of 0.9 brings the plain RNN's decay back.")
    page.section("Verification")
    page.section("Float64 BPTT against the bound", level=3)
    page.para(
        f"Each network run for {STEPS} steps from h_0 = {H0} with the Jacobian product formed",
        "in float64; the largest ratio ‖∂h_t/∂h_0‖₂ / η^t over t must not exceed 1 (plus",
        "8t float64 roundings).",
    )
    rows = []
    for label, cond, jac in data.conditions:
        worst, ok = _bound_ok(cond, jac)
        rows.append((label, f"{float(jac.norms[-1]):.4g}", f"{float(cond.eta) ** STEPS:.4g}",
                     f"{worst:.4g}", ok))
    page.table(["network", f"‖∂h_{STEPS}/∂h_0‖₂", f"η^{STEPS}", "max_t ratio", "ok"], rows)
    page.section("Simulation cross-checks", level=3)
    page.para("`crosscheck(['rnn_spectral_bound', 'lstm_carousel', 'lstm_forget_decay'], rng=0)`:")
    check_rows(page, data.crosscheck.rows)
    page.figure(fig_path, "BPTT Jacobian norms against the spectral bound")
    page.see_also(('weight-bound', 'the same bound per layer'),
                  ('clipping', 'gradient clipping'))
    return [Output.text(f"{NAME}.md", page.markdown()), Output(fig_path, _figure(data))]
