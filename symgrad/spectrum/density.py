"""The density of the Jacobian's squared singular values by Stieltjes inversion.

With G(ζ) = ∫ρ(t)dt/(ζ − t) and M(z) = Σ m_k z^k, M(1/ζ) = ζG(ζ) − 1.  For x inside the
support, w = M(1/(x + i0)) solves χ̃(w) = 1/x, i.e. (in the parametrisation y of
:mod:`symgrad.spectrum.edge`) F(y) = −ln x with y in the lower half-plane, and

    ρ(x) = −Im G(x + i0)/π = −Im w/(π·x),   so  x·ρ(x) = −Im w/π,

the density of ln λ, bounded even where ρ(x) itself blows up at 0.  The equation is solved
by Newton's method in complex y, continued from the edge inward along a grid in ln x: at
the edge F(y) ≈ F(y_c) + F''(y_c)(y − y_c)²/2 starts the branch with Im y < 0.

The samples are checked, not trusted: ∫ρ dx + (mass of the atom at 0) = 1, ∫xρ dx = m̃_1 = 1
and ∫x²ρ dx = m̃_2, by the trapezoid rule in ln x with the power-law tail below the grid
(x·ρ ≈ C·x^β, fitted on the two lowest samples) added analytically; the relative
discrepancies are returned with the samples.

>>> import numpy as np
>>> d = stieltjes_density(np.array([1.0]), np.array([1.0]), 1, gaussian=True,
...                       y_c=0.5, lam=4.0, points=200)      # Marchenko–Pastur, ratio 1
>>> bool(max(abs(e) for e in d.errors) < 1e-3)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from symgrad.spectrum.edge import log_chi
from symgrad.types import FloatArray

__all__ = ["Density", "stieltjes_density"]

_MAX_DECADES = 1e5
#: Decades below the edge sampled densely (t² spacing); beyond, a uniform grid in ln x.
_NEAR_DECADES = 60.0


@dataclass(frozen=True)
class Density:
    """Samples of the normalised density (JJᵀ/χ₁^L, whose m_1 is 1).

    ``log_x``: ln x on the grid (ascending); ``x_rho``: x·ρ(x), the density of ln λ;
    ``errors``: relative discrepancies (mass + atom − 1, ∫xρ − 1, (∫x²ρ − m̃_2)/m̃_2);
    ``tail_mass``: the mass below the grid, from the fitted power law.
    """

    log_x: tuple[float, ...]
    x_rho: tuple[float, ...]
    errors: tuple[float, float, float]
    tail_mass: float


def _trapezoid(y: FloatArray, x: FloatArray) -> float:
    """∫ y dx by the trapezoid rule (NumPy's own is ``trapz`` before 2.0, ``trapezoid``
    after; written out so every supported NumPy gives the same sum)."""
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2)


def stieltjes_density(x: FloatArray, p: FloatArray, depth: int, *, gaussian: bool,
                      y_c: float, lam: float, points: int = 300, atom: float = 0.0,
                      m2: float | None = None) -> Density:
    """Density samples for the normalised law (x̃_i, p_i) at depth L, from the edge
    (y_c, λ̃_max) of :func:`symgrad.spectrum.edge.numeric_edge` (module docstring).

    ``atom`` is the mass at 0 (P(φ'(h) = 0)); ``m2`` the exact m̃_2 the density must
    reproduce (default: the value from the same law, 1 − L·s_1).  The grid spans
    12 + 3L decades below the edge (the log-spectrum of a product of L factors spreads in
    proportion to L), widened fourfold (to at most 10⁵) while more than 10⁻³ of the mass
    lies below it, then fitted to the support: ``points`` samples within 60 decades of the
    edge, spaced like t² (where m̃_1 and m̃_2 are decided), and up to ``points`` more
    beyond, uniform in ln x.
    """
    second = m2 if m2 is not None else _m2(x, p, depth, gaussian)
    decades = min(_MAX_DECADES, 12.0 + 3.0 * depth)
    density = _sweep(x, p, depth, gaussian, y_c, lam, points, atom, second, decades)
    while density.tail_mass > 1e-3 and decades < _MAX_DECADES:
        decades = min(_MAX_DECADES, 4.0 * decades)
        density = _sweep(x, p, depth, gaussian, y_c, lam, points, atom, second, decades)
    # Then fit the grid to the support: down to where λρ(λ) falls below 10⁻⁹ of its peak
    # (with a 30 % margin), so the uniform part resolves the bulk instead of empty decades.
    values = np.asarray(density.x_rho)
    if values.size > 3 and values.max() > 0:
        alive = np.nonzero(values >= 1e-9 * values.max())[0]
        bottom = (math.log(lam) - density.log_x[int(alive[0])]) / math.log(10.0)
        if 1.3 * bottom < 0.7 * decades:
            tighter = _sweep(x, p, depth, gaussian, y_c, lam, points, atom, second,
                             max(1.3 * bottom, 12.0))
            if max(map(abs, tighter.errors)) <= max(map(abs, density.errors)):
                density = tighter
    return density


def _sweep(x: FloatArray, p: FloatArray, depth: int, gaussian: bool, y_c: float, lam: float,
           points: int, atom: float, m2: float, decades: float) -> Density:
    near = min(decades, _NEAR_DECADES)
    t = np.linspace(0.0, 1.0, points + 1)[1:]
    log_lam = math.log(lam)
    drop = near * math.log(10.0) * t * t
    if decades > near:
        step = drop[-1] - drop[-2]
        count = int(min(points, max(8, (decades - near) * math.log(10.0) / step)))
        far = np.linspace(near, decades, count + 1)[1:] * math.log(10.0)
        drop = np.concatenate([drop, far])
    # A geometric ladder from 1e−9 below the edge to the first grid point starts the
    # branch where the quadratic approximation of F holds, however deep the net.
    ladder = np.geomspace(1e-9, drop[0], 24)[:-1]
    log_x = log_lam - np.concatenate([ladder, drop])
    h = 1e-5 * y_c
    with np.errstate(all="ignore"):
        f0 = float(log_chi(np.array([y_c]), x, p, depth, gaussian)[0][0])
        d1 = log_chi(np.array([y_c - h, y_c + h]), x, p, depth, gaussian)[1]
    f2 = float(d1[1] - d1[0]) / (2 * h)
    y = complex(y_c, 0.0)
    previous: list[complex] = []
    x_rho: list[float] = []
    for lx in log_x:
        target = -lx
        if not previous:
            gap = 2.0 * (target - f0) / f2
            y = complex(y_c, -math.sqrt(max(-gap, 0.0)))
        elif len(previous) >= 2:
            y = 2 * previous[-1] - previous[-2]  # linear predictor along the branch
            if y.imag > 0:
                y = complex(y.real, 0.5 * previous[-1].imag)
        y, ok = _newton(y, target, x, p, depth, gaussian)
        if not ok:
            break
        if abs(y.imag) <= 1e-12 * abs(y):
            # A real root: outside the support, or a root on another sheet (near an edge
            # the quadratic start can miss).  The physical root has Im y < 0: look for one.
            for spread in (0.05, 0.3, 1.0):
                trial, found = _newton(complex(y.real, -spread * abs(y)), target, x, p, depth,
                                       gaussian)
                if found and trial.imag < -1e-12 * abs(trial):
                    y = trial
                    break
        previous.append(y)
        with np.errstate(all="ignore"):
            _, _, w = log_chi(np.array([y]), x, p, depth, gaussian)
        x_rho.append(max(-float(np.imag(w[0])) / math.pi, 0.0))
    grid = log_x[: len(x_rho)][::-1]
    values = np.array(x_rho[::-1])
    return _checked(grid, values, atom, m2)


def _newton(y: complex, target: float, x: FloatArray, p: FloatArray, depth: int,
            gaussian: bool) -> tuple[complex, bool]:
    # F is a sum of terms of size ~L·|ln y|: its rounding sets the attainable residual.
    floor = 1e-13 * max(1.0, abs(target)) * (1.0 + depth)
    with np.errstate(all="ignore"):
        for _ in range(100):
            F, dF, _ = log_chi(np.array([y]), x, p, depth, gaussian)
            residual = complex(F[0]) - target
            if not np.isfinite(residual) or not np.isfinite(complex(dF[0])):
                return y, False
            if abs(residual) <= floor:
                return y, True
            step = residual / complex(dF[0])
            new = y - step
            while new.imag > 0:  # stay on the branch, in the lower half-plane
                step *= 0.5
                new = y - step
                if abs(step) < 1e-300:
                    return y, False
            y = new
    return y, False


def _m2(x: FloatArray, p: FloatArray, depth: int, gaussian: bool) -> float:
    mu2 = float(np.dot(p, x * x))
    return 1.0 + depth * (mu2 if gaussian else mu2 - 1.0)


def _checked(log_x: FloatArray, x_rho: FloatArray, atom: float, m2: float) -> Density:
    if len(log_x) < 3:
        return Density(tuple(map(float, log_x)), tuple(map(float, x_rho)),
                       (math.inf, math.inf, math.inf), math.nan)
    xs = np.exp(log_x - log_x[-1]) * math.exp(log_x[-1])
    mass = float(_trapezoid(x_rho, log_x))
    first = float(_trapezoid(x_rho * xs, log_x))
    second = float(_trapezoid(x_rho * xs * xs, log_x))
    tail = 0.0
    if x_rho[0] > 0 and x_rho[1] > 0:
        beta = (math.log(x_rho[1]) - math.log(x_rho[0])) / (log_x[1] - log_x[0])
        if beta > 0:
            tail = float(x_rho[0]) / beta  # ∫_{−∞}^{ln x0} C e^{βs} ds
            first += float(x_rho[0] * xs[0]) / (beta + 1.0)
    errors = (mass + tail + atom - 1.0, first - 1.0, (second - m2) / m2)
    return Density(tuple(map(float, log_x)), tuple(map(float, x_rho)),
                   (float(errors[0]), float(errors[1]), float(errors[2])), tail)
