"""Cross-checks of the Jacobian spectrum and of the gradient-norm law against simulations.

Row functions take ``(seed, z)`` like every entry of :data:`symgrad.numeric.checks.CHECKS`.

Spectrum rows compare m_k/m_1^k, each network normalised by its own m_1 (m_1 itself
fluctuates at finite width), and the edge λ_max/m_1, with the free-probability values.  At
width N these deviate from the limit by a bias: O(1/N) for moments (a ratio of
self-averaging traces), O(N^{−2/3}) for the largest eigenvalue (Tracy–Widom scaling at a
soft edge).  Rather than widen the tolerance, the bias is removed by Richardson
extrapolation from widths N and N/2: 2·r_N − r_{N/2} for moments, (r_N − 2^{−2/3} r_{N/2})/
(1 − 2^{−2/3}) for the edge, leaving O(1/N²) and O(N^{−1}) respectively; the SE combines both
sample means (independent networks).  The tolerance is z·SE.

Gradient-norm rows compare E ln X and Var ln X over ≥ 10⁴ networks with X > 0 (raw moments
of X are heavy-tailed and never tested) with :func:`symgrad.spectrum.gradient_norm_distribution`:
exact laws at z·SE; the β-expansion at z·SE + its truncation-error estimate.  The
per-layer-noise-only prediction is a rejected prediction: its row passes when the
simulation disagrees with it by more than the same tolerance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import sympy

from symgrad.meanfield import critical_sigma_w
from symgrad.numeric._rng import child
from symgrad.numeric.checks import CheckRow, mean_and_se, rejected_row, statistical_row
from symgrad.numeric.jacobian import simulate_gradient_norms, simulate_jacobians
from symgrad.spectrum import gradient_norm_distribution, jacobian_spectrum

__all__ = [
    "SPECTRUM_CASES",
    "check_gradient_norm_beta",
    "check_gradient_norm_exact",
    "check_jacobian_spectrum",
    "spectrum_rows",
]

_EDGE = 2.0 ** (-2.0 / 3.0)

#: (activation, weights, σ_w, σ_b, depth); σ_w None = on the critical line at σ_b.
SPECTRUM_CASES: tuple[tuple[str, str, sympy.Expr | None, sympy.Expr, int], ...] = (
    ("identity", "gaussian", sympy.Integer(1), sympy.Integer(0), 3),
    ("relu", "gaussian", sympy.sqrt(2), sympy.Integer(0), 4),
    ("relu", "orthogonal", sympy.sqrt(2), sympy.Integer(0), 4),
    ("tanh", "orthogonal", None, sympy.Rational(3, 10), 4),
)


def _critical(act: str, sigma_b: sympy.Expr) -> sympy.Expr:
    return sympy.sympify(critical_sigma_w(act, sigma_b=sigma_b).sigma_w)


def spectrum_rows(seed: np.random.SeedSequence, z: float, *, width: int, networks: int,
                  cases: Sequence[tuple[str, str, sympy.Expr | None, sympy.Expr, int]]
                  = SPECTRUM_CASES) -> list[CheckRow]:
    """Rows for m_2/m_1², m_3/m_1³ and λ_max/m_1 of each case at widths ``width`` and
    ``width // 2``, ``networks`` independent nets at each (module docstring)."""

    rows: list[CheckRow] = []
    for i, (act, weights, sw, sb, depth) in enumerate(cases):
        sigma_w = _critical(act, sb) if sw is None else sw
        theory = jacobian_spectrum(act, sigma_w=sigma_w, sigma_b=sb, depth=depth,
                                   weights=weights, moments=3, density_points=0)
        q0 = float(theory.q_star) if theory.q_star not in (0, sympy.oo) else 1.0
        runs = [simulate_jacobians(act, width=n, depth=depth, sigma_w=float(sigma_w),
                                   sigma_b=float(sb), q0=q0, weights=weights,
                                   networks=networks, rng=child(seed, i, j))
                for j, n in enumerate((width, width // 2))]
        shown = sympy.sstr(sigma_w) if len(sympy.sstr(sigma_w)) <= 12 else f"{float(sigma_w):.6g}"
        label = f"{act}, {weights}, σ_w = {shown}, L = {depth}"
        basis = (f"Richardson from N = {width} and {width // 2}, {networks} networks each, "
                 "each normalised by its own m_1")
        for k in (2, 3):
            (big, se_big), (small, se_small) = (mean_and_se(r.ratio(k)) for r in runs)
            measured = 2 * big - small
            se = math.sqrt(4 * se_big**2 + se_small**2)
            predicted = float(theory.moment_ratios[k - 1])
            rows.append(statistical_row(f"{label}: m_{k}/m_1^{k}", predicted, measured, se, z,
                                        basis + "; bias O(1/N) removed"))
        if theory.lambda_max is not None:
            (big, se_big), (small, se_small) = (mean_and_se(r.edge()) for r in runs)
            measured = (big - _EDGE * small) / (1 - _EDGE)
            se = math.sqrt(se_big**2 + (_EDGE * se_small) ** 2) / (1 - _EDGE)
            predicted = float(theory.lambda_max / theory.moments[0])
            rows.append(statistical_row(f"{label}: λ_max/m_1", predicted, measured, se, z,
                                        basis + "; edge bias O(N^(-2/3)) removed"))
    return rows


def check_jacobian_spectrum(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """Moments and edge of JJᵀ at widths 256 and 128, 24 networks each, four cases."""
    return spectrum_rows(seed, z, width=256, networks=24)


def _log_rows(label: str, law: object, samples: object, z: float, extra: tuple[float, float],
              basis: str) -> list[CheckRow]:
    mean, se_mean, var, se_var, count = samples.log_stats()  # type: ignore[attr-defined]
    rows = []
    for name, predicted, measured, se, err in (
            ("E ln X", law.mean_log, mean, se_mean, extra[0]),  # type: ignore[attr-defined]
            ("Var ln X", law.var_log, var, se_var, extra[1])):  # type: ignore[attr-defined]
        rows.append(statistical_row(f"{label}: {name} | X > 0", float(predicted), measured,
                                    se + err / z, z,
                                    f"{basis}; {count} networks with X > 0"
                                    + (f"; plus truncation error {err:.2g}" if err else "")))
    return rows


def check_gradient_norm_exact(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """The exact relu and linear laws of ln X (full weight matrices, 20000 networks), and
    the fraction of dead relu networks against P(X = 0) (binomial SE)."""

    rows: list[CheckRow] = []
    cases = (("relu", (8, 8, 8, 8, 8), math.sqrt(2)), ("identity", (6, 5, 7, 6), 1.0))
    for i, (act, widths, sw) in enumerate(cases):
        law = gradient_norm_distribution(act, widths, sigma_w=sw)
        sim = simulate_gradient_norms(act, widths, sigma_w=sw, networks=20000,
                                      sampler="matrices", rng=child(seed, i))
        label = f"{act}, widths {list(widths)}"
        rows += _log_rows(label, law, sim, z, (0.0, 0.0), "full Gaussian weight matrices")
        if law.p_zero is not None and act == "relu":
            p = float(law.p_zero)
            dead = float(np.mean(sim.values == 0))
            se = math.sqrt(p * (1 - p) / sim.values.size)
            rows.append(statistical_row(f"{label}: P(X = 0)", p, dead, se, z,
                                        f"binomial SE over {sim.values.size} networks"))
    return rows


def check_gradient_norm_beta(seed: np.random.SeedSequence, z: float) -> Sequence[CheckRow]:
    """tanh on the critical line (σ_b = 0.3), widths 128, depth 10, 12000 networks (row
    sampler, exact in law): the β-expansion with forward-variance fluctuations, and the
    per-layer-noise-only Var ln X as a rejected prediction."""

    sb = sympy.Rational(3, 10)
    sw = _critical("tanh", sb)
    widths = (128,) * 11
    law = gradient_norm_distribution("tanh", widths, sigma_w=sw, sigma_b=sb)
    sim = simulate_gradient_norms("tanh", widths, sigma_w=float(sw), sigma_b=float(sb),
                                  q_input=float(law.q_star), networks=12000, sampler="rows",
                                  rng=child(seed, 0))
    errors = (float(law.how("mean_log").error), float(law.how("var_log").error))  # type: ignore[union-attr]
    label = "tanh, critical σ_b = 0.3, widths 128 × 10 layers"
    rows = _log_rows(label, law, sim, z, errors, "row sampler (exact in law)")
    _, _, var, se_var, _ = sim.log_stats()
    naive = float(law.naive_var_log)  # type: ignore[arg-type]
    rows.append(rejected_row(
        f"{label}: per-layer-noise-only Var ln X (rejected prediction)", naive, var, se_var,
        z, "truncation error of the β-expansion added to the allowance",
        allowance=errors[1]))
    return rows
