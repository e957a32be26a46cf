"""Networks as people build them: one page per architecture family, and init advice.

Records: :func:`~symgrad.networks.predict` (per-layer J^{L,l}, the depth law, exact
J^{L,0} where the recursion allows), :func:`~symgrad.networks.recommend_init` and
:func:`~symgrad.networks.advice.assess_init`; measured with
:func:`~symgrad.numeric.networks.simulate_network` (``NETWORKS`` independent networks of
width ``WIDTH``), and the ``networks`` rows of :func:`~symgrad.numeric.checks.crosscheck`
(tolerances from the sampling error and the measured finite-width correction).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.format import number_text
from symgrad._core.plot import PALETTE, Figure
from symgrad.networks import L, predict, recipes
from symgrad.networks.advice import assess_init, recommend_init
from symgrad.networks.blocks import Block, activation, dense, repeat, residual, serial
from symgrad.numeric._parallel import blas_one_thread
from symgrad.numeric._rng import child, root_seed
from symgrad.numeric.checks.networks import network_rows, standard_networks
from symgrad.numeric.checks.table import check_names
from symgrad.numeric.memory import reuse_memory
from symgrad.numeric.networks import simulate_network
from symgrad.reports.pipeline import Output
from symgrad.reports.render import Page, check_rows, inline

__all__ = ["FAMILIES", "Case", "build_family", "build_init", "family_cases", "init_cases"]

WIDTH, BATCH, NETWORKS, SEED = 128, 64, 4, 13


@dataclass(frozen=True)
class Family:
    name: str
    title: str
    blurb: str
    intro: tuple[str, ...]
    checks: tuple[str, ...]  # labels of the cross-check rows shown (prefixes)


FAMILIES = {
    "plain": Family(
        "networks-plain", "Plain MLPs at finite depth",
        "h_l = φ(W h_{l−1} + b) from the input's own variance: the issue's 20-layer tanh net, "
        "critical ReLU, and power laws at criticality.",
        (r"h_l = \varphi(W_l h_{l-1} + b_l),\quad q_l = v\sigma_w^2\,\mathbb{E}[h_{l-1}^2] + "
         r"\sigma_b^2,\quad J^{L,0} = \prod_{l=1}^{L} v\sigma_w^2\,\mathbb{E}"
         r"[\varphi'(\sqrt{q_l}Z)^2]",), ("plain",)),
    "residual": Family(
        "networks-residual", "Residual stacks and the initialisation recipes",
        "h_l = h_{l−1} + s·W φ(h_{l−1}): scale 1 grows exponentially; 1/√L, 1/L, ReZero and "
        "Fixup keep J bounded — each law derived and simulated.",
        (r"h_l = h_{l-1} + s\,(W_l\varphi(h_{l-1}) + b_l),\quad \chi_l = 1 + s^2 v\sigma_w^2\,"
         r"\mathbb{E}[\varphi'(\sqrt{K_{l-1}}Z)^2]",), ("residual",)),
    "normalized": Family(
        "networks-normalized", "LayerNorm and BatchNorm stacks",
        "Pre-LN grows as a power of depth (J^{40,0} = 21 exactly for ReLU), post-LN is bounded "
        "for ReLU, BatchNorm-ReLU explodes by π/(π − 1) per layer.",
        (r"\text{pre-LN: } h_l = h_{l-1} + s\,(W\varphi(\mathrm{LN}(h_{l-1})) + b),\quad "
         r"\text{post-LN: } h_l = \mathrm{LN}(h_{l-1} + W\varphi(h_{l-1}) + b)",),
        ("pre-LN", "post-LN", "BatchNorm")),
}


def family_cases(family: str) -> list[tuple[str, Block]]:
    """(label, network) of one family's table, in order."""
    relu, tanh = activation("relu"), activation("tanh")
    if family == "plain":
        return [
            ("relu, σ_w = √2 (He), depth 20", recipes.mlp("relu", 20, sigma_w=sympy.sqrt(2))),
            ("relu, σ_w = 1.2, depth 20", recipes.mlp("relu", 20, sigma_w=sympy.Rational(6, 5))),
            ("tanh, σ_w = 1 (critical), depth 20", recipes.mlp("tanh", 20)),
            ("tanh, Xavier normal, depth 20 (the issue's net)",
             recipes.mlp("tanh", 20, init="xavier_normal")),
            ("tanh, σ_w = 1.5, σ_b = 0.3, depth 20",
             recipes.mlp("tanh", 20, sigma_w=sympy.Rational(3, 2), sigma_b=sympy.Rational(3, 10))),
        ]
    if family == "residual":
        def branch(act: Any) -> Block:
            return serial(act, dense(1))
        return [
            ("relu, scale 1, depth 16", repeat(residual(branch(relu)), 16)),
            ("tanh, scale 1, depth 16", repeat(residual(branch(tanh)), 16)),
            ("gelu, scale 1, depth 16", repeat(residual(branch(activation("gelu"))), 16)),
            ("relu, scale 1/√L, depth 16", repeat(residual(branch(relu), 1 / sympy.sqrt(L)), 16)),
            ("relu, scale 1/L, depth 16", repeat(residual(branch(relu), 1 / L), 16)),
            ("relu, scale L^(−1/4), depth 16",
             repeat(residual(branch(relu), L ** sympy.Rational(-1, 4)), 16)),
            ("ReZero / SkipInit (scale 0), tanh, depth 16", recipes.rezero("tanh", 16)),
            ("Fixup m = 2, last layer 0, relu, depth 16", recipes.fixup("relu", 16)),
            ("Fixup m = 3, last layer gain 1, relu, depth 16", recipes.fixup("relu", 16, m=3,
                                                                             last=1)),
        ]
    return [
        ("pre-LN relu, depth 40", recipes.pre_ln("relu", 40)),
        ("pre-LN relu, σ_b = 1, depth 40", recipes.pre_ln("relu", 40, sigma_b=1)),
        ("pre-LN relu, scale 1/√L, depth 40", recipes.pre_ln("relu", 40, scale=1 / sympy.sqrt(L))),
        ("pre-LN tanh, depth 40", recipes.pre_ln("tanh", 40)),
        ("post-LN relu, depth 20", recipes.post_ln("relu", 20)),
        ("post-LN tanh, depth 20", recipes.post_ln("tanh", 20)),
        ("BatchNorm relu (B → ∞), depth 10", recipes.bn_mlp("relu", 10)),
        ("BatchNorm tanh (B → ∞), depth 10", recipes.bn_mlp("tanh", 10)),
    ]


@contextmanager
def _simulations() -> Iterator[None]:
    """For a loop of simulations: the BLAS limited once (not once per network) and each
    network's arrays handed to the next (no fresh pages); results unchanged."""
    with blas_one_thread(), reuse_memory():
        yield


@dataclass(frozen=True)
class Case:
    """One architecture: its prediction and the mean of ``NETWORKS`` simulated networks."""
    label: str
    prediction: Any
    measured: np.ndarray   # mean J^{L,l} over the networks, l = 0 … L
    stderr: np.ndarray     # its standard error


def _measure(label: str, net: Block, seed: np.random.SeedSequence) -> Case:
    p = predict(net)
    batch = 2 * BATCH if "BatchNorm" in label else BATCH
    runs = np.array([simulate_network(net, width=WIDTH, batch=batch, rng=child(seed, i)).jacobian
                     for i in range(NETWORKS)])
    return Case(label, p, runs.mean(axis=0), runs.std(axis=0, ddof=1) / math.sqrt(NETWORKS))


@functools.cache
def cases(family: str) -> tuple[Case, ...]:
    root = root_seed(SEED)
    with _simulations():
        return tuple(_measure(label, net, child(root, list(FAMILIES).index(family), i))
                     for i, (label, net) in enumerate(family_cases(family)))


@functools.cache
def family_checks(family: str) -> tuple[Any, ...]:
    """The ``networks`` rows of ``crosscheck(rng=0)`` for this family (the same seeds as
    the cross-check, so the same numbers), computed for this page only."""
    seed = child(root_seed(0), check_names().index("networks"))
    keys = FAMILIES[family].checks
    rows: list[Any] = []
    with _simulations():
        for i, (label, net, options) in enumerate(standard_networks()):
            if any(label.startswith(key) for key in keys):
                rows += network_rows(label, net, child(seed, i), 4.5,
                                     **options)  # type: ignore[arg-type]
    return tuple(rows)


def _law_cell(p: Any) -> tuple[str, str, str]:
    law = p.law
    if law is None:
        return "—", "—", "—"
    constant = inline(law.constant) if not law.constant.has(sympy.Float) else number_text(
        law.constant, 6)
    if law.kind.value == "stretched_exponential":
        constant += f" (power {inline(law.power)})"
    return law.kind.value, constant, law.how("constant").kind.value


def law_rows(family: str) -> list[tuple[str, ...]]:
    """(architecture, law, constant, how, J predicted, J exact, simulated ± SE)."""
    rows: list[tuple[str, ...]] = []
    for c in cases(family):
        p = c.prediction
        kind, constant, how = _law_cell(p)
        exact = "—"
        if p.jacobian_exact is not None:
            text = sympy.sstr(p.jacobian_exact)
            exact = inline(p.jacobian_exact) if len(text) <= 40 else "yes (long)"
        rows.append((c.label, kind, constant, how, f"{p.grad_h_sq[0]:.6g}", exact,
                     f"{c.measured[0]:.4g} ± {c.stderr[0]:.2g}"))
    return rows


def _figure(family: str) -> bytes:
    fig = Figure(width=700, height=400, alt=f"log10 J(L, l) per layer, {family} networks: "
                 "predicted and simulated")
    ax = fig.axes()
    for i, c in enumerate(cases(family)[:6]):
        layers = np.arange(len(c.measured))
        color = PALETTE[i % len(PALETTE)]
        ax.line(layers, c.prediction.log10_grad_h_sq, color=color, label=c.label)
        with np.errstate(divide="ignore"):
            ax.points(layers, np.log10(c.measured), color=color, filled=False, size=3)
    ax.set(xlabel="layer l", ylabel="log10 J(L, l) = log10 E‖∂L/∂h_l‖²/N",
           title=f"predicted (lines) and simulated (circles, width {WIDTH}, {NETWORKS} networks)")
    return fig.svg()


def build_family(family: str) -> list[Any]:
    spec = FAMILIES[family]
    page = Page(spec.title, generated_by=f"symgrad report --only {spec.name}")
    page.para("At infinite width and from the input's second moment $`q_0 = 1`$,",
              "`symgrad.networks.predict` follows each block's forward map of the second",
              "moment K and its backward factor χ (gradient independence), so that",
              r"$`J^{L,l} = \mathbb{E}\|\partial L/\partial h_l\|^2/N`$ (the averaged partial",
              "Jacobian of Doshi, He and Gromov 2023) is the product of the factors above layer",
              "l; the depth law of $`J^{L,0}`$ is derived in SymPy from the repeated block.")
    for formula in spec.intro:
        page.math(formula)
    page.section("Result")
    page.table(["architecture", "depth law", "constant", "how", "$`J^{L,0}`$ predicted",
                "$`J^{L,0}`$ exactly", f"simulated (mean ± SE, {NETWORKS} nets of width"
                f" {WIDTH})"], law_rows(family))
    page.para("Constants: the per-block factor (exponential), the exponent (power), c of",
              "$`e^{cL^p}`$ (stretched exponential), or the limit of $`J^{L,0}`$ (bounded).")
    page.figure(f"figures/{spec.name}.svg", f"log10 J^(L,l) per layer, {family} networks")
    page.section("The recursion and the law")
    for c in cases(family)[:3]:
        page.section(c.label, level=3)
        page.steps(tuple(c.prediction.steps))
    page.section("Verification")
    page.para("The `networks` rows of `crosscheck(rng=0)` for this family: the prediction",
              "against independent networks at three widths, Richardson-extrapolated, with a",
              "tolerance from the sampling error plus the measured finite-width residual",
              "(`symgrad.numeric.checks.networks`).")
    check_rows(page, family_checks(family))
    page.see_also(("meanfield", "the infinite-width prediction"),
                  ("networks-init", "initialisation advice at depth"))
    return [Output.text(f"{spec.name}.md", page.markdown()),
            Output(f"figures/{spec.name}.svg", _figure(family))]


# ---- initialisation advice ----

INIT_NAME = "networks-init"
INIT_TITLE = "Initialisation advice that works at depth"
INIT_BLURB = ("Which σ_w and σ_b for GELU, SiLU, mish, softplus, ELU at depth 50: the "
              "frameworks' gains against recommend_init, each checked on simulated networks.")
INIT_ACTS = ("gelu", "silu", "mish", "softplus", "elu")
INIT_DEPTH = 50
_FRAMEWORK = {"relu": sympy.sqrt(2), "tanh": sympy.Rational(5, 3)}


@functools.cache
def init_cases() -> tuple[tuple[str, Any, Any, float, float], ...]:
    """(activation, framework assessment, advice, simulated J mean, its SE)."""
    out = []
    root = root_seed(SEED + 1)
    for i, name in enumerate(INIT_ACTS):
        framework = assess_init(name, sigma_w=_FRAMEWORK.get(name, sympy.sqrt(2)),
                                depth=INIT_DEPTH)
        advice = recommend_init(name, depth=INIT_DEPTH)
        net = recipes.mlp(name, INIT_DEPTH, sigma_w=advice.sigma_w, sigma_b=advice.sigma_b)
        with _simulations():
            runs = [simulate_network(net, width=2 * WIDTH, batch=BATCH,
                                     rng=child(root, i, k)).jacobian[0] for k in range(NETWORKS)]
        out.append((name, framework, advice, float(np.mean(runs)),
                    float(np.std(runs, ddof=1) / math.sqrt(NETWORKS))))
    return tuple(out)


def _init_figure() -> bytes:
    fig = Figure(width=700, height=400, alt=f"predicted log10 J(L, l) of the advised "
                 f"initialisations at depth {INIT_DEPTH}")
    ax = fig.axes()
    ax.hband(-1, 1, color="#e6e6e6", alpha=1.0, label="band [1/10, 10]")
    for i, (name, _framework, advice, _, _) in enumerate(init_cases()):
        net = recipes.mlp(name, INIT_DEPTH, sigma_w=advice.sigma_w, sigma_b=advice.sigma_b)
        values = predict(net, law=False).log10_grad_h_sq
        ax.line(range(len(values)), values, color=PALETTE[i % len(PALETTE)],
                label=f"{name}, advised")
    ax.set(xlabel="layer l", ylabel="log10 J(L, l)",
           title=f"advised initialisations, depth {INIT_DEPTH} (predicted)")
    return fig.svg()


def build_init() -> list[Any]:
    page = Page(INIT_TITLE, generated_by=f"symgrad report --only {INIT_NAME}")
    page.para("`recommend_init(φ, depth=50)` searches σ_w and σ_b so that the predicted",
              "first-to-last gradient ratio $`J^{50,0}`$ stays in [1/10, 10] without sitting on",
              r"an unstable fixed point of the variance map $`F(q) = \sigma_w^2V(q) +",
              r"\sigma_b^2`$: a relative perturbation of q may grow at most 2× on its way to the",
              "last layer.")
    page.math(r"s = \max_l \frac{q_l}{q_L}\prod_{j=l}^{L-1}F'(q_j),\qquad F'(q) = "
              r"\sigma_w^2 V'(q) = \sigma_w^2\bigl(\mathbb{E}[\varphi'^2] + \mathbb{E}"
              r"[\varphi\varphi'']\bigr)")
    page.para("GELU, SiLU and mish need a bias: on their critical line the fixed point q* is",
              "unstable below q* ≈ 5 (E[φφ''] > 0 there). Softplus has no critical point (its",
              "positive mean feeds the variance), so its forward second moment grows whatever",
              "the init; the advice keeps J in the band at this depth.")
    page.section("Result")
    rows = []
    for name, framework, advice, mean, se in init_cases():
        rows.append((name, number_text(_FRAMEWORK.get(name, sympy.sqrt(2)), 6),
                     f"{framework.jacobian:.3g}", f"{framework.sensitivity:.3g}",
                     f"{advice.sigma_w:.4g}", f"{advice.sigma_b:g}", f"{advice.jacobian:.3g}",
                     f"{mean:.3g} ± {se:.2g}"))
    page.table(["φ", "framework gain", "$`J^{50,0}`$ at it", "sensitivity", "advised σ_w",
                "advised σ_b", "$`J^{50,0}`$ advised", f"simulated ({NETWORKS} nets, width"
                f" {2 * WIDTH})"], rows)
    page.figure(f"figures/{INIT_NAME}.svg", "log10 J^(L,l) of the advised initialisations")
    page.section("Why each", level=3)
    page.bullets(f"{name}: {advice.reason}." for name, _, advice, _, _ in init_cases())
    page.section("Derivation", level=3)
    page.steps(tuple(init_cases()[0][2].steps))
    page.section("Verification")
    page.para(f"Each advised network was run {NETWORKS} times at width {2 * WIDTH}, batch {BATCH}",
              "(seeds spawned from", f"{SEED + 1}); the simulated J^{{50,0}} is the mean of",
              "‖∂L/∂h_0‖²/‖∂L/∂h_50‖² over those networks, with its standard error. The test",
              "suite repeats this for every catalogue activation.")
    page.see_also(("initialization", "the gains table"), ("networks-plain", "plain MLPs"))
    return [Output.text(f"{INIT_NAME}.md", page.markdown()),
            Output(f"figures/{INIT_NAME}.svg", _init_figure())]
