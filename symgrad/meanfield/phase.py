"""Where does a network go from order to chaos?  χ₁ over a σ_w × σ_b grid, with the line.

:func:`phase_diagram` solves the mean-field fixed point for every grid point at once (the
fast mode of :mod:`symgrad.meanfield.field`, vectorized: m(q) on one shared geometric grid
brackets every point's q*, then Newton runs on all points together) and the critical
line σ_w*(σ_b) with :func:`symgrad.meanfield.criticality.critical_points`.  Rows of the
grid (one σ_b each) are independent: with ``executor=`` they are spread over it through
``executor.map``.  The figure is drawn by symgrad itself and is deterministic.

>>> d = phase_diagram("tanh", sigma_w=[0.5, 1.0, 2.0], sigma_b=[0.0, 0.5])
>>> d.chi1.shape, [p.value for p in d.phase[0]]
((2, 3), ['ordered', 'critical', 'chaotic'])
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad._core.plot import Figure
from symgrad._core.validate import as_exact_real, as_float, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument
from symgrad.meanfield import numeric as num
from symgrad.meanfield.criticality import critical_points
from symgrad.meanfield.kernels import closed_kernels
from symgrad.meanfield.record import Phase
from symgrad.records import Estimated, Provenances, Record, Step, provenances
from symgrad.types import FloatArray

__all__ = ["PhaseDiagram", "phase_diagram"]

#: The most grid values per axis of a phase diagram (each σ_b row costs a critical-line
#: solve and its certification: 200 rows take about 10 s).
_MAX_AXIS = 200


@dataclass(frozen=True, eq=False)
class PhaseDiagram(Record):
    """χ₁ (shape (len(sigma_b), len(sigma_w))), q* (∞ where it diverges), the phase of each
    point, and the critical line σ_w*(σ_b) (NaN where χ₁ jumps across 1)."""

    activation: str
    sigma_w: FloatArray
    sigma_b: FloatArray
    chi1: FloatArray
    chi1_error: FloatArray
    q_star: FloatArray
    phase: tuple[tuple[Phase, ...], ...]
    critical_sigma_w: FloatArray
    provenance: Provenances
    steps: tuple[Step, ...] = ()
    #: What the picture alone would mislead about (ReLU: no chaotic phase, and the line
    #: σ_w = √2 has no fixed point q* once σ_b > 0).
    notes: tuple[str, ...] = ()

    def title(self) -> str:
        return f"Order-to-chaos phase diagram of {self.activation}"

    def summary(self) -> list[tuple[str, Any]]:
        return [("grid", f"{self.sigma_b.size} σ_b × {self.sigma_w.size} σ_w"),
                ("χ₁ range", f"{np.nanmin(self.chi1):.4g} … {np.nanmax(self.chi1):.4g}")]

    def figure_svg(self) -> str:
        """log₁₀ χ₁ as a heat map with the critical line: a deterministic SVG string."""
        fig = Figure(width=520, height=380, alt=self.title())
        ax = fig.axes()
        with np.errstate(divide="ignore"):
            shown = np.log10(np.clip(self.chi1, 10**-1.5, 10**1.5))
        ax.heatmap(self.sigma_w, self.sigma_b, shown, lo=-1.5, hi=1.5, label="log₁₀ χ₁")
        ok = np.isfinite(self.critical_sigma_w)
        ax.line(self.critical_sigma_w[ok], self.sigma_b[ok], color="#000000", width=1.5,
                label="χ₁ = 1")
        upper = "exploding" if any(Phase.EXPLODING in row for row in self.phase) else "chaotic"
        ax.set(xlabel="σ_w", ylabel="σ_b", legend="upper left",
               title=f"{self.activation}: ordered (blue) / {upper} (red)")
        return fig.svg().decode("utf-8")


def _axis(values: Any, name: str, *, lower: float, strict: bool) -> FloatArray:
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise InvalidArgument(f"{name} must be a sequence of numbers, got {describe(values)}")
    if not 1 <= len(values) <= _MAX_AXIS:
        raise InvalidArgument(f"{name} must have 1 … {_MAX_AXIS} values, got {len(values)}")
    out = np.array([as_float(v, f"{name}[{i}]", lower=lower, strict=strict)
                    for i, v in enumerate(values)], dtype=np.float64)
    return out


def _rows(act: Activation, sigma_w: FloatArray, sigma_b: FloatArray
          ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """χ₁, its error and q* for the rows ``sigma_b`` × ``sigma_w`` (one vectorized solve),
    and the critical σ_w of each row from :func:`critical_points` (NaN where χ₁ jumps
    across 1 or no σ_w reaches it)."""
    k = num.kernels(act)
    W, B = np.meshgrid(sigma_w, sigma_b)
    sol = num.solve_fast(k, W.ravel() ** 2, B.ravel() ** 2)
    shape = (sigma_b.size, sigma_w.size)
    points = critical_points(act, [as_exact_real(float(b), "sigma_b") for b in sigma_b])
    crit = np.array([float(p.sigma_w) if not isinstance(p, str) else np.nan for p in points])
    return (sol.chi1.reshape(shape), sol.chi1_err.reshape(shape), sol.q.reshape(shape), crit)


def _rows_of(task: tuple[Activation, FloatArray, FloatArray]
             ) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    return _rows(*task)


def phase_diagram(
    act: Activation | str,
    *,
    sigma_w: Sequence[float] | FloatArray,
    sigma_b: Sequence[float] | FloatArray,
    executor: Executor | None = None,
) -> PhaseDiagram:
    """χ₁, q* and the phase on the grid ``sigma_b`` × ``sigma_w``, and the critical line.

    ``executor``: any ``concurrent.futures.Executor``; the σ_b rows are spread over it with
    ``executor.map`` in chunks of rows (serial when None).  References: Poole et al. 2016,
    Schoenholz et al. 2017 (their Fig. 1 is this diagram for tanh).
    """
    a = as_activation(act)
    sw = _axis(sigma_w, "sigma_w", lower=0.0, strict=True)
    sb = _axis(sigma_b, "sigma_b", lower=0.0, strict=False)
    if executor is None:
        chi1, err, q, crit = _rows(a, sw, sb)
    else:
        chunks = np.array_split(sb, min(sb.size, 16))
        parts = list(executor.map(_rows_of, [(a, sw, c) for c in chunks]))
        chi1, err, q = (np.concatenate([p[i] for p in parts]) for i in range(3))
        crit = np.concatenate([p[3] for p in parts])
    kernels = closed_kernels(a)
    homogeneous = kernels is not None and kernels.linear
    above = Phase.EXPLODING if homogeneous else Phase.CHAOTIC
    phases = []
    for i in range(sb.size):
        row = []
        for j in range(sw.size):
            gap = chi1[i, j] - 1.0
            tol = max(err[i, j], 1e-14 * abs(chi1[i, j]))
            row.append(Phase.CRITICAL if abs(gap) <= tol else
                       Phase.ORDERED if gap < 0 else above)
        phases.append(tuple(row))
    notes: tuple[str, ...] = ()
    if homogeneous:
        notes = ("φ is positively homogeneous: with σ_b = 0 the correlation map has slope 1 "
                 "at c = 1 for every σ_w, so there is no chaotic phase — χ₁ > 1 (red) means "
                 "exploding variance and gradients, not decorrelation",
                 "for σ_b > 0 the line χ₁ = 1 has no fixed point q*: there the variance map "
                 "is G(q) = q + σ_b² and q grows linearly with depth")
    fast = "fast mode (per point in chi1_error)"
    floor = 2.0**-52 * float(np.nanmax(np.abs(chi1))) if chi1.size else 2.0**-52
    how = provenances(chi1=Estimated(max(float(np.nanmax(err)) if err.size else 0.0, floor),
                                     fast),
                      critical_sigma_w=Estimated(1e-13, "critical_points", relative=True))
    return PhaseDiagram(a.label, sw, sb, chi1, err, q, tuple(phases), crit, how, (
        Step("χ₁ = σ_w²·E[φ'(√q* Z)²] at every grid point (fast mode)"),
        Step("critical line: χ₁(σ_w*, σ_b) = 1 for each σ_b"),
        *(Step(note[0].upper() + note[1:] + ".") for note in notes),
    ), notes)
