"""Mean field: q*, χ₁, depth scales, the phase, and the order-to-chaos diagram.

Records: :func:`~symgrad.meanfield.field.mean_field` for ordered, critical and chaotic
settings of tanh and ReLU, :func:`~symgrad.meanfield.criticality.critical_sigma_w` and
:func:`~symgrad.meanfield.phase.phase_diagram`.  Cross-check: wide networks
(:func:`~symgrad.numeric.simulate`, width 256, 8 independent networks per setting)
started at the fixed point q*, whose measured per-layer gradient rate must match
ln χ₁ within 4.5 standard errors.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.format import deviation_text, number_text
from symgrad._core.plot import Figure
from symgrad._exact.digits import shown
from symgrad.activations import activation
from symgrad.meanfield.criticality import critical_sigma_w
from symgrad.meanfield.field import mean_field
from symgrad.meanfield.phase import phase_diagram
from symgrad.meanfield.record import NUMBERS
from symgrad.numeric import simulate
from symgrad.records import Step
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, inline

__all__ = ["MeanFieldReport", "RateCheck", "build", "meanfield_report"]

NAME = "meanfield"
TITLE = "Mean field: order, chaos and the critical line"
BLURB = ("q*, χ₁ = σ_w²E[φ'(√q* Z)²], depth scales and phase for tanh and ReLU (which has no "
         "chaotic phase); the phase diagram; E‖δ_l‖² ∝ χ₁^(L−l) checked on wide simulated nets.")
SIGMA_B = sympy.Rational(1, 20)
WIDTH, DEPTH, BATCH, NETWORKS, SEED, Z = 256, 10, 16, 8, 5, 4.5
GRID_W = np.linspace(0.5, 3.0, 51)
GRID_B = np.linspace(0.0, 1.0, 41)


@dataclass(frozen=True)
class RateCheck:
    """Measured mean per-layer ln(E‖δ_l‖²/E‖δ_{l+1}‖²) against ln χ₁."""
    label: str
    predicted: float
    measured: float
    stderr: float

    @property
    def tolerance(self) -> float:
        return Z * self.stderr

    @property
    def ok(self) -> bool:
        return abs(self.measured - self.predicted) <= self.tolerance


@dataclass(frozen=True, eq=False)
class MeanFieldReport:
    settings: tuple[tuple[str, Any], ...]
    critical: tuple[Any, ...]
    diagrams: tuple[Any, ...]
    rates: tuple[RateCheck, ...]
    steps: tuple[Step, ...] = ()


def _rate(act: str, mf: Any, seed: np.random.SeedSequence) -> tuple[float, float]:
    """Mean and standard error over independent networks of the per-layer log rate."""
    phi = activation(act)
    q = float(mf.q_star)
    if not 0 < q < math.inf:
        # q* = 0 or ∞ (ReLU off criticality with σ_b = 0): ReLU is positively homogeneous,
        # so χ₁ = σ_w²/2 at every q and any input scale measures it; use q = 1.
        q = 1.0
    rates = []
    for child in seed.spawn(NETWORKS):
        data_seed, net_seed = child.spawn(2)
        # Inputs a_0 = φ(√q* Z) put the first pre-activations at the fixed point q*.
        z0 = np.random.default_rng(data_seed).standard_normal((BATCH, WIDTH))
        sim = simulate(act, width=WIDTH, depth=DEPTH, sigma_w=float(mf.sigma_w),
                       sigma_b=float(mf.sigma_b), batch=BATCH, rng=net_seed,
                       inputs=phi.numpy(math.sqrt(q) * z0))
        g = sim.grad_z_sq
        rates.append((math.log(g[0]) - math.log(g[-1])) / (DEPTH - 1))
    arr = np.array(rates)
    return float(arr.mean()), float(arr.std(ddof=1) / math.sqrt(arr.size))


@functools.cache
def meanfield_report() -> MeanFieldReport:
    tanh_crit = critical_sigma_w("tanh", sigma_b=SIGMA_B)
    cases = (
        ("tanh, σ_w = 0.8 (ordered)", "tanh", sympy.Rational(4, 5), SIGMA_B),
        ("tanh, σ_w = σ_w* (critical)", "tanh", tanh_crit.sigma_w, SIGMA_B),
        ("tanh, σ_w = 1.5 (chaotic)", "tanh", sympy.Rational(3, 2), SIGMA_B),
        ("relu, σ_w = 1.2 (ordered)", "relu", sympy.Rational(6, 5), sympy.Integer(0)),
        ("relu, σ_w = √2 (critical)", "relu", sympy.sqrt(2), sympy.Integer(0)),
        ("relu, σ_w = 1.6 (exploding)", "relu", sympy.Rational(8, 5), sympy.Integer(0)),
    )
    settings = []
    rates = []
    root = np.random.SeedSequence(SEED)
    for (label, act, sw, sb), seed in zip(cases, root.spawn(len(cases)), strict=True):
        mf = mean_field(act, sigma_w=sw, sigma_b=sb)
        settings.append((label, mf))
        mean, se = _rate(act, mf, seed)
        rates.append(RateCheck(label, math.log(float(mf.chi1)), mean, se))
    critical = tuple(critical_sigma_w(act, sigma_b=b) for act in ("tanh", "erf", "relu")
                     for b in (0, SIGMA_B, sympy.Rational(1, 2)))
    diagrams = tuple(phase_diagram(act, sigma_w=GRID_W, sigma_b=GRID_B)
                     for act in ("tanh", "relu"))
    return MeanFieldReport(tuple(settings), critical, diagrams, tuple(rates))


def _figure(data: MeanFieldReport) -> bytes:
    fig = Figure(width=760, height=330, cols=len(data.diagrams),
                 alt="order-to-chaos phase diagrams with the critical line")
    for col, d in enumerate(data.diagrams):
        ax = fig.axes(0, col)
        with np.errstate(divide="ignore"):
            log_chi1 = np.log10(np.clip(d.chi1, 10**-1.5, 10**1.5))
        ax.heatmap(d.sigma_w, d.sigma_b, log_chi1, lo=-1.5, hi=1.5, label="log₁₀ χ₁")
        ok = np.isfinite(d.critical_sigma_w)
        ax.line(d.critical_sigma_w[ok], d.sigma_b[ok], color="#000000", width=1.5,
                label="χ₁ = 1")
        upper = "exploding" if d.notes else "chaotic"
        ax.set(xlabel="σ_w", ylabel="σ_b", legend="upper left",
               title=f"{d.activation}: ordered (blue), {upper} (red)")
    return fig.svg()


def _num(mf: Any, name: str, digits: int) -> str:
    """A table number (certified ones rounded from their enclosure); NaN (undefined, e.g.
    c* when q* diverges) is a dash."""
    value = getattr(mf, name)
    if sympy.sympify(value) is sympy.nan:
        return "—"
    return shown(value, mf.how(name), digits)


def build() -> list[Any]:
    data = meanfield_report()
    fig_path = f"figures/{NAME}.svg"
    page = Page(TITLE, generated_by=f"symgrad report --only {NAME}")
    page.para(
        "In a wide random network z_l = W_l φ(z_{l−1}) + b_l with W_ij ~ N(0, σ_w²/n) and",
        "b_i ~ N(0, σ_b²), the pre-activation variance follows",
        "q_l = σ_w² E[φ(√q_{l−1} Z)²] + σ_b² to a fixed point q*, and the gradient's second",
        "moment is multiplied by χ₁ = σ_w² E[φ'(√q* Z)²] per layer (Poole et al. 2016;",
        "Schoenholz et al. 2017): ordered (vanishing) for χ₁ < 1; for χ₁ > 1 the gradient",
        "explodes, and the network is chaotic when nearby inputs also decorrelate (c* < 1).",
        "ReLU never decorrelates: with σ_b = 0 its correlation map has slope 1 at c = 1 for",
        "every σ_w, so χ₁ > 1 is exploding variance and gradients, not chaos, and ξ_c = ∞.",
    )
    page.section("Result")
    page.table(
        ["setting", "σ_b", "q*", "χ₁", "c*", "ξ_c", "ξ_∇", "phase"],
        [(label, number_text(mf.sigma_b), _num(mf, "q_star", 8), _num(mf, "chi1", 8),
          _num(mf, "c_star", 8), _num(mf, "xi_c", 6), _num(mf, "xi_grad", 6), mf.phase.value)
         for label, mf in data.settings],
    )
    page.para("— : undefined (the variance diverges, so there is no correlation map). A",
              "negative ξ_∇ means growth: E‖δ_l‖² gets multiplied by χ₁ > 1 per layer towards",
              "the input, e-folding every |ξ_∇| layers.")
    notes = sorted({note for _, mf in data.settings for note in mf.notes
                    if not note.startswith("ξ_∇")})
    if notes:
        page.bullets(notes)
    page.section("The critical line", level=3)
    page.table(
        ["activation", "σ_b", "critical σ_w", "how", "note"],
        [(c.activation, number_text(c.sigma_b), inline(c.sigma_w) if c.exact
          else shown(c.sigma_w, c.how("sigma_w"), 12), c.how("sigma_w").kind.value,
          c.note or "—") for c in data.critical],
        notes=4,
    )
    for d in data.diagrams:
        if d.notes:
            page.para(f"{d.activation}: " + "; ".join(d.notes) + ".")
    page.figure(fig_path, "log10 χ₁ over σ_w × σ_b with the critical line, tanh and ReLU")
    page.section("Derivation")
    label, chaotic = data.settings[2]
    page.para(f"For {label}:")
    page.steps(tuple(chaotic.steps))
    page.para(chaotic.statement)
    relu_label, relu = data.settings[4]
    page.para(f"For {relu_label}: ReLU is positively homogeneous, so χ₁ = σ_w²/2 exactly,",
              "whatever q*:")
    page.steps(tuple(relu.steps), start=len(chaotic.steps) + 1)
    _, exploding = data.settings[5]
    page.para(" ".join(exploding.notes) + ".")
    page.section("Verification")
    page.para(
        f"For every setting, {NETWORKS} independent networks of width {WIDTH} and depth {DEPTH}",
        f"(batch {BATCH}, seeds spawned from {SEED}) were run with the inputs",
        "a_0 = φ(√q* Z), so the first pre-activations start at the fixed point. The measured",
        "rate is the mean over networks of ln(‖δ_1‖²/‖δ_L‖²)/(L − 1) (‖δ_l‖² the batch-mean",
        "squared gradient at layer l); prediction: ln χ₁. Tolerance: 4.5 standard errors of",
        f"that mean (finite-width effects are O(1/n) = {1 / WIDTH:.1e}, within it).",
    )
    page.table(
        ["setting", "ln χ₁ (derived)", "measured rate", "standard error", "tolerance", "ok"],
        [(r.label, f"{r.predicted:.6f}", f"{r.measured:.4f}", f"{r.stderr:.1e}",
          f"{r.tolerance:.1e}", r.ok) for r in data.rates],
    )
    page.para(
        "Quadrature error estimates of the fast mode (relative):",
        ", ".join(f"{label}: " + (", ".join(f"{k} {deviation_text(mf.error(k))}"
                                            for k in sorted(NUMBERS) if mf.error(k)) or "exact")
                  for label, mf in data.settings) + ".",
    )
    page.see_also(('initialization', 'the gains that set σ_w'),
                  ('README', "E[φ'(Z)²], χ₁ at σ_w = 1 and q = 1, for every activation"),
                  ('spectrum-isometry', 'beyond the mean'))
    return [Output.text(f"{NAME}.md", page.markdown()), Output(fig_path, _figure(data))]
