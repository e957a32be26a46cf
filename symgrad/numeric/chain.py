"""The scalar chain in float64: what ``chain_trace`` derives, run in plain NumPy.

Same conventions as :func:`symgrad.chain_trace` (DESIGN.md): a₀ = x,
z_k = w_k·a_{k−1} + b_k, a_k = φ(z_k); backward from g = ∂L/∂a_depth,
∂L/∂z_k = ∂L/∂a_k·φ'(z_k), ∂L/∂a_{k−1} = ∂L/∂z_k·w_k, ∂L/∂w_k = ∂L/∂z_k·a_{k−1}.
The residual chain is y_k = y_{k−1} + w_k·φ(y_{k−1} + b_k), with local factor
1 + w_k φ'(z_k) (He et al. 2016).

>>> sim = simulate_chain("sigmoid", depth=4, weight=0.1)
>>> [f"{v:.6g}" for v in sim.grad_a]
['1.55937e-05', '0.000624178', '0.0249836', '1']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from symgrad._core.validate import as_float, as_positive_int, describe
from symgrad.activations.record import Activation
from symgrad.activations.registry import as_activation
from symgrad.errors import InvalidArgument
from symgrad.records import Estimated, Provenances, Record, Step, provenances
from symgrad.types import FloatArray

__all__ = ["ChainSimulation", "simulate_chain"]


#: A float64 pass: each layer rounds by a few ulps, relative (the exact rows of the
#: cross-checks bound the total against a 30-digit trace).
_FLOAT64 = provenances(**dict.fromkeys(
    ("z", "a", "slope", "grad_a", "grad_z", "grad_w", "grad_input"),
    Estimated(2.0**-52, "float64, a few ulps per layer", relative=True)))


@dataclass(frozen=True, eq=False)
class ChainSimulation(Record):
    """Per-layer float64 values of the scalar chain, layer 1 first (length depth).

    For the residual chain ``a`` holds y_k and ``grad_a`` ∂L/∂y_k.
    """

    activation: str
    residual: bool
    z: FloatArray
    a: FloatArray
    slope: FloatArray
    grad_a: FloatArray
    grad_z: FloatArray
    grad_w: FloatArray
    grad_input: float
    steps: tuple[Step, ...] = ()
    provenance: Provenances = _FLOAT64

    @property
    def depth(self) -> int:
        return int(self.z.shape[0])

    def summary(self) -> list[tuple[str, Any]]:
        return [("activation", self.activation), ("depth", str(self.depth)),
                ("∂L/∂a_1", float(self.grad_a[0])), ("∂L/∂x", self.grad_input)]


def _per_layer(value: Any, name: str, depth: int) -> FloatArray:
    if isinstance(value, Sequence | np.ndarray) and not isinstance(value, str | bytes):
        if len(value) != depth:
            raise InvalidArgument(f"{name} must be one number or {depth} numbers, got {len(value)}")
        return np.array([as_float(v, f"{name}[{i}]") for i, v in enumerate(value)])
    return np.full(depth, as_float(value, name))


def simulate_chain(
    act: Activation | str,
    *,
    depth: int,
    weight: float | Sequence[float],
    bias: float | Sequence[float] = 0.0,
    x: float = 1.0,
    upstream: float = 1.0,
    residual: bool = False,
) -> ChainSimulation:
    """Run the scalar chain forward and backward in float64 (arguments as in ``chain_trace``).

    Values that leave float64's range come out as 0 or ±inf, exactly as float64 gives
    them; ``chain_trace`` is the exact reference.
    """
    phi = as_activation(act)
    depth = as_positive_int(depth, "depth")
    w = _per_layer(weight, "weight", depth)
    b = _per_layer(bias, "bias", depth)
    x0 = as_float(x, "x")
    g = as_float(upstream, "upstream")
    if not isinstance(residual, bool):
        raise InvalidArgument(f"residual must be True or False, got {describe(residual)}")
    z, a, slope = np.empty(depth), np.empty(depth), np.empty(depth)
    prev = x0
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        for k in range(depth):  # a scalar chain is sequential: one layer per step
            z[k] = prev + b[k] if residual else w[k] * prev + b[k]
            out = float(phi.numpy(z[k]))
            slope[k] = float(phi.numpy_prime(z[k]))
            a[k] = prev + w[k] * out if residual else out
            prev = float(a[k])
        grad_a, grad_z, grad_w = np.empty(depth), np.empty(depth), np.empty(depth)
        for k in range(depth - 1, -1, -1):
            grad_a[k] = g
            below = x0 if k == 0 else a[k - 1]
            if residual:
                # y_k = y_{k−1} + w_k φ(z_k): ∂L/∂z_k = g w_k φ', ∂L/∂w_k = g φ(z_k).
                grad_z[k] = g * w[k] * slope[k]
                grad_w[k] = g * float(phi.numpy(z[k]))
                g = g + grad_z[k]
            else:
                grad_z[k] = g * slope[k]
                grad_w[k] = grad_z[k] * below
                g = grad_z[k] * w[k]
    for arr in (z, a, slope, grad_a, grad_z, grad_w):
        arr.flags.writeable = False
    return ChainSimulation(phi.label, residual, z, a, slope, grad_a, grad_z, grad_w, float(g))
