"""Which σ_w keeps gradients alive at a given depth?  Advice that is checked by ``predict``.

:func:`recommend_init` scans σ_w on a geometric grid (σ_b = 0) for the plain MLP
``repeat(serial(dense(σ_w), activation(φ)), depth)`` (or ``net(σ_w)``), predicts each
from q0 = 1 at finite depth, and returns the σ_w whose first-to-last gradient ratio
J^{L,0} and forward second-moment ratio K_L/K_0 are both closest to 1 (the largest of
|log J|, |log K_L/K_0| smallest), refusing points outside the band [1/band, band]: a
σ_w where the forward variance runs off to 0 or ∞ (the unstable fixed point of GELU,
SiLU and mish at their second-moment gain) is never advised.

:func:`framework_gains` sets, for every catalogue activation, the framework's gain
(PyTorch's ``calculate_gain``; activations it does not list get the Kaiming default
√2) beside the predicted depth-L ratio and a verdict.

>>> advice = recommend_init("relu", depth=20)
>>> round(advice.sigma_w, 2), advice.within_band
(1.41, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import sympy

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations import Activation, activation_names, as_activation
from symgrad.errors import InvalidArgument
from symgrad.networks.blocks import Block, activation, dense, repeat, serial
from symgrad.networks.prediction import predict
from symgrad.records import Estimated, Record, Step, provenances

__all__ = ["FrameworkGain", "InitAdvice", "framework_gains", "recommend_init"]

_GRID = np.geomspace(0.25, 8.0, 161)
_FRAMEWORK = {"identity": 1.0, "sigmoid": 1.0, "tanh": 5 / 3, "relu": math.sqrt(2),
              "leaky_relu": math.sqrt(2 / (1 + 0.01**2)), "selu": 0.75}


@dataclass(frozen=True, eq=False)
class InitAdvice(Record):
    """The advised σ_w (σ_b = 0), the predicted ratios there, and why."""

    activation: str
    depth: int
    sigma_w: float
    sigma_b: float
    jacobian: float
    moment_ratio: float
    band: float
    within_band: bool
    reason: str
    provenance: Any
    steps: tuple[Step, ...] = ()

    def summary(self) -> list[tuple[str, Any]]:
        return [("σ_w", sympy.Float(self.sigma_w)), ("J^{L,0}", sympy.Float(self.jacobian)),
                ("K_L/K_0", sympy.Float(self.moment_ratio)), ("reason", self.reason)]


def _score(net: Block) -> tuple[float, float]:
    try:
        p = predict(net)
    except InvalidArgument:
        return math.inf, math.inf
    return float(p.grad_h_sq[0]), float(p.second_moment[-1] / p.second_moment[0])


def recommend_init(act: Activation | str, *, depth: int, net: Callable[[float], Block] | None
                   = None, band: float = 10.0) -> InitAdvice:
    """σ_w keeping J^{L,0} and K_L/K_0 within [1/band, band] at ``depth`` (module docstring)."""
    a = as_activation(act)
    depth = as_positive_int(depth, "depth")
    if depth > 10**4:
        raise InvalidArgument(f"depth must be at most 10000 for advice, got {depth}")
    band = as_float(band, "band", lower=1.0)
    if net is not None and not callable(net):
        raise InvalidArgument(f"net must map sigma_w to a block, got {describe(net)}")
    build = net or (lambda s: repeat(serial(dense(float(s)), activation(a)), depth))
    best: tuple[float, float, float, float] | None = None
    for s in _GRID:
        j, k = _score(build(float(s)))
        if not (math.isfinite(j) and math.isfinite(k) and j > 0 and k > 0):
            continue
        bad = max(abs(math.log(j)), abs(math.log(k)))
        if best is None or bad < best[0]:
            best = (bad, float(s), j, k)
    if best is None:
        raise InvalidArgument(f"no σ_w in [0.25, 8] gives finite predictions for {a.label}")
    bad, s, j, k = best
    inside = bad <= math.log(band)
    reason = (f"at σ_w = {s:.4g} the predicted first-to-last gradient ratio is {j:.3g} and the"
              f" forward second moment changes by {k:.3g} over {depth} layers"
              + (f", both within [1/{band:g}, {band:g}]" if inside else
                 f"; no σ_w keeps both within [1/{band:g}, {band:g}]: this is the least bad"))
    step = float(_GRID[1] / _GRID[0])
    return InitAdvice(a.label, depth, s, 0.0, j, k, band, inside, reason,
                      provenances(sigma_w=Estimated(s * (step - 1), "grid of ratio "
                                                    f"{step:.4f}")),
                      (Step("predict J^{L,0} and K_L/K_0 on a geometric grid of σ_w"),))


@dataclass(frozen=True)
class FrameworkGain:
    """One activation: the framework gain, what it gives at depth, and the advice."""

    activation: str
    framework: float
    jacobian: float
    moment_ratio: float
    verdict: str
    advised: float


def framework_gains(*, depth: int, band: float = 10.0,
                    names: tuple[str, ...] | None = None) -> tuple[FrameworkGain, ...]:
    """Every catalogue activation (or ``names``): framework gain, predicted J^{L,0} and
    K_L/K_0 at ``depth`` with it, a verdict, and :func:`recommend_init`'s σ_w."""
    rows = []
    for name in names or activation_names():
        a = as_activation(name)
        g = _FRAMEWORK.get(name, math.sqrt(2))
        j, k = _score(repeat(serial(dense(g), activation(a)), depth))
        if not math.isfinite(j) or not math.isfinite(k):
            verdict = "the forward variance leaves float64's range"
        elif j < 1 / band:
            verdict = f"gradients vanish (J = {j:.3g})"
        elif j > band:
            verdict = f"gradients explode (J = {j:.3g})"
        elif not 1 / band <= k <= band:
            verdict = f"forward variance drifts by {k:.3g}"
        else:
            verdict = "within band"
        advised = recommend_init(a, depth=depth, band=band).sigma_w
        rows.append(FrameworkGain(a.label, g, j, k, verdict, advised))
    return tuple(rows)
