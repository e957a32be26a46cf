"""Where on the critical line is the spectrum tight?  A point with m_2/m_1² − 1 ≤ tolerance.

On the order-to-chaos line (χ₁ = σ_w²μ_1(q*) = 1) each fixed point q* fixes the rest:

    σ_w² = 1/μ_1(q*),   σ_b² = q* − σ_w²·E[φ(√q* Z)²]   (needs σ_b² ≥ 0),

and the spectrum's spread at depth L is (Pennington, Schoenholz and Ganguli 2017)

    m_2/m_1² − 1 = L·(μ_2/μ_1² − 1)   (orthogonal),     L·μ_2/μ_1²   (Gaussian: ≥ L).

So dynamical isometry asks for a small q*, where φ'(h)² concentrates (sigmoid-like φ with
φ'(0) ≠ 0, orthogonal weights): :func:`isometry_point` scans q* on a logarithmic grid in
float64, takes the largest q* with spread ≤ ``tolerance`` and σ_b² ≥ 0, refines it by
bisection, rounds it down to 4 significant digits, takes σ_w and σ_b there from
:func:`~symgrad.spectrum.critical.critical_point` (closed forms for erf and hard_tanh, else
30-digit certified values) and derives the full
:class:`~symgrad.spectrum.jacobian.JacobianSpectrum` there (so the spread it reports
carries its own provenance).  Gaussian weights or a
positively homogeneous φ (relu: the spread does not depend on q*) are infeasible for a
tolerance below their floor; the record says so.

>>> p = isometry_point("tanh", depth=10, tolerance=0.1)
>>> p.feasible, float(p.spectrum.variance) <= 0.1 + 1e-9
(True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int
from symgrad.activations import Activation, as_activation
from symgrad.errors import InvalidArgument
from symgrad.records import Exact, How, Provenances, Record, Step
from symgrad.spectrum._law import gauss_expect, scale_free
from symgrad.spectrum._mu import slope_moments
from symgrad.spectrum.critical import critical_point
from symgrad.spectrum.jacobian import (
    MAX_DEPTH,
    JacobianSpectrum,
    Weights,
    as_weights,
    jacobian_spectrum,
)

__all__ = ["IsometryPoint", "isometry_point"]

_GRID = np.geomspace(1e-6, 1e2, 49)


@dataclass(frozen=True)
class IsometryPoint(Record):
    """The critical point (σ_w, σ_b, q*) with the largest q* whose spread is ≤ tolerance,
    and the spectrum there; ``feasible`` False (and the other fields None) when none is."""

    activation: str
    depth: int
    weights: Weights
    tolerance: float
    feasible: bool
    q_star: sympy.Expr | None
    sigma_w: sympy.Expr | None
    sigma_b: sympy.Expr | None
    spectrum: JacobianSpectrum | None
    statement: str
    provenance: Provenances
    steps: tuple[Step, ...] = ()

    def title(self) -> str:
        return (f"Isometry point of {self.activation}, depth {self.depth}, {self.weights.value} "
                f"weights, spread ≤ {self.tolerance:g}")

    def summary(self) -> list[tuple[str, Any]]:
        rows: list[tuple[str, Any]] = [("feasible", str(self.feasible))]
        if self.feasible and self.spectrum is not None:
            rows += [("q*", self.q_star), ("σ_w", self.sigma_w), ("σ_b", self.sigma_b),
                     ("m_2/m_1² − 1", self.spectrum.variance)]
        rows.append(("statement", self.statement))
        return rows


def _line(act: Activation, q: float, depth: int, gaussian: bool
          ) -> tuple[float, float, float]:
    """(spread, σ_w², σ_b²) on the critical line at fixed point q (float64 quadrature)."""
    mu1, _ = gauss_expect(act, q, lambda h: act.numpy_prime(h) ** 2)
    mu2, _ = gauss_expect(act, q, lambda h: act.numpy_prime(h) ** 4)
    phi2, _ = gauss_expect(act, q, lambda h: act.numpy(h) ** 2)
    ratio = mu2 / (mu1 * mu1)
    spread = depth * (ratio if gaussian else ratio - 1.0)
    sw2 = 1.0 / mu1
    return spread, sw2, q - sw2 * phi2


def isometry_point(act: Activation | str, *, depth: int, tolerance: float,
                   weights: Weights | str = Weights.ORTHOGONAL) -> IsometryPoint:
    """The critical point whose Jacobian spectrum has m_2/m_1² − 1 ≤ ``tolerance`` at
    ``depth``, with the largest q* (module docstring); q* is searched in [10⁻⁶, 10²]."""
    a = as_activation(act)
    L = as_positive_int(depth, "depth")
    if L > MAX_DEPTH:
        raise InvalidArgument(f"depth must be <= {MAX_DEPTH}, got {L}")
    tol = as_float(tolerance, "tolerance", lower=0.0)
    w = as_weights(weights)
    gaussian = w is Weights.GAUSSIAN

    def infeasible(why: str) -> IsometryPoint:
        return IsometryPoint(a.label, L, w, tol, False, None, None, None, None, why,
                             Provenances(), (Step(why),))

    if scale_free(a):
        spread, _, _ = _line(a, 1.0, L, gaussian)
        if spread > tol:
            return infeasible(f"the slope law of {a.label} does not depend on q*: the spread is "
                              f"{spread:.6g} on the whole critical line")
        return _point(a, L, w, tol, 1.0, "positively homogeneous φ: every critical point has "
                      "the same spread; σ_b = 0 taken")
    if gaussian and tol < L:
        return infeasible(f"Gaussian weights: m_2/m_1² − 1 = L·μ_2/μ_1² ≥ L = {L} > {tol:g}")
    good = []
    for q in _GRID:
        spread, _, sb2 = _line(a, float(q), L, gaussian)
        if sb2 >= 0 and spread <= tol:
            good.append(float(q))
    if not good:
        return infeasible(f"no critical point with q* in [1e-6, 1e2], σ_b² ≥ 0 and spread "
                          f"≤ {tol:g}")
    lo = max(good)
    index = int(np.searchsorted(_GRID, lo))
    hi = float(_GRID[index + 1]) if index + 1 < len(_GRID) else lo
    for _ in range(60):  # bisection in ln q between the last good and the next grid point
        if hi <= lo * (1 + 1e-9):
            break
        mid = math.sqrt(lo * hi)
        spread, _, sb2 = _line(a, mid, L, gaussian)
        if sb2 >= 0 and spread <= tol:
            lo = mid
        else:
            hi = mid
    return _point(a, L, w, tol, lo * (1 - 1e-9), "largest q* on the critical line with the "
                  "spread within the tolerance")


def _rounded_down(q: float) -> sympy.Rational:
    """q rounded down to 4 significant digits (the spread grows with q*: still within)."""
    exponent = math.floor(math.log10(q)) - 3
    return sympy.Rational(math.floor(q / 10.0**exponent)) * sympy.Rational(10) ** exponent


def _point(a: Activation, L: int, w: Weights, tol: float, q: float, why: str) -> IsometryPoint:
    free = scale_free(a)
    hows: dict[str, How]
    given: sympy.Expr | None = None
    if free:  # μ_1 is an exact constant: σ_w = 1/√μ_1 exactly, σ_b = 0
        mu1 = slope_moments(a, sympy.Integer(1), Exact(), 1).values[0]
        sigma_w: sympy.Expr = 1 / sympy.sqrt(mu1)
        sigma_b: sympy.Expr = sympy.Integer(0)
        hows = {"sigma_w": Exact("1/√μ_1, μ_1 in closed form"), "sigma_b": Exact("chosen")}
    else:
        point = critical_point(a, q_star=_rounded_down(q))
        sigma_w, sigma_b = point.sigma_w, point.sigma_b
        hows = {"sigma_w": point.how("sigma_w"), "sigma_b": point.how("sigma_b")}
        if isinstance(hows["sigma_w"], Exact) and isinstance(hows["sigma_b"], Exact):
            given = point.q_star  # closed forms: the net sits exactly at q*
        why += f" (q* rounded down to {point.q_star})"
    spectrum = jacobian_spectrum(a, sigma_w=sigma_w, sigma_b=sigma_b, depth=L, weights=w,
                                 moments=2, density_points=0, q_star=given)
    statement = why
    if not free and abs(float(spectrum.q_star) - q) > 1e-3 * q:
        statement += (f"; note: the iteration from q⁰ = 1 reaches q* = "
                      f"{float(spectrum.q_star):.6g}, not {q:.6g}")
    hows["q_star"] = spectrum.how("q_star")
    steps = (Step("Critical line parametrised by q*", r"\sigma_w^2 = 1/\mu_1(q^*),\quad "
                  r"\sigma_b^2 = q^* - \sigma_w^2\,E[\varphi(\sqrt{q^*}Z)^2]"),
             Step("Spread of the spectrum at depth L",
                  r"\frac{m_2}{m_1^2} - 1 = L\left(\frac{\mu_2}{\mu_1^2} - 1\right)"
                  if w is Weights.ORTHOGONAL else r"\frac{m_2}{m_1^2} - 1 = L\frac{\mu_2}"
                                                  r"{\mu_1^2}"),
             Step(why, sympy.Eq(sympy.Symbol("q^*"), spectrum.q_star)))
    return IsometryPoint(a.label, L, w, tol, True, spectrum.q_star, sigma_w, sigma_b, spectrum,
                         statement, Provenances(hows), steps)
