"""One finite-difference oracle for the numeric layer's hand-written backward passes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import sympy

from symgrad import Activation

U = 2.0**-53


def kinks_of(act: Activation) -> np.ndarray:
    """Where φ is not smooth (every breakpoint of its pieces), as floats."""
    return np.array([float(sympy.N(b)) for b in act.breakpoints], dtype=float)


def clear_of_kinks(act: Activation, values: list[np.ndarray], margin: float) -> bool:
    """No value lies within ``margin`` of a breakpoint (central differences across a kink
    measure the average of two one-sided slopes, not the derivative)."""
    points = kinks_of(act)
    if points.size == 0:
        return True
    return all(np.min(np.abs(v[..., None] - points)) > margin for v in values)


def assert_directional(
    loss: Callable[[float], float], analytic: float, *, scale: float, ops: int,
    h: float = 1e-5, what: str = "",
) -> None:
    """Central difference of t ↦ loss(t) at 0 against ``analytic`` = ⟨∇L, v⟩.

    Tolerance, derived: truncation of the central difference is ≈ (D(h) − D(2h))/3
    (Richardson; ×10 for being outside the asymptotic regime); rounding: each loss
    value carries a relative error ≤ ops·u over its summands (``scale`` = Σ|summands|),
    so the difference quotient is off by ≤ ops·u·scale/h.
    """
    d1 = (loss(h) - loss(-h)) / (2 * h)
    d2 = (loss(2 * h) - loss(-2 * h)) / (4 * h)
    truncation = 10 * abs(d1 - d2) / 3
    rounding = ops * U * scale / h
    tol = truncation + rounding
    err = abs(d1 - analytic)
    assert err <= tol, (
        f"{what}: finite difference {d1!r} vs backward {analytic!r}: error {err:.3g} >"
        f" tolerance {tol:.3g} (truncation {truncation:.3g}, rounding {rounding:.3g})"
    )
