"""The engine of :func:`~symgrad.numeric.simulate`: one forward and one hand-written
backward pass through given layers.

Conventions are those of :mod:`symgrad.numeric.mlp` (DESIGN.md, "Conventions for
gradients"): z_l = W_l a_{l−1} + b_l, u_l = BN(z_l) or z_l, a_l = φ(u_l) (+ a_{l−1} if
residual); L = Σ_batch ⟨g, a_depth⟩;

    ∂L/∂u_l = ∂L/∂a_l ⊙ φ'(u_l),   ∂L/∂a_{l−1} = ∂L/∂z_l W_l  (+ ∂L/∂a_l if residual),

and under batch normalisation (per unit over the batch, no affine part, ε = 1e−5,
û = (z − μ)·s with s = (σ² + ε)^{−1/2}):
∂L/∂z = s·(∂L/∂û − mean(∂L/∂û) − û·mean(∂L/∂û ⊙ û)) (Ioffe and Szegedy 2015).

Only φ'(u_l) is kept between the passes (plus û_l and s_l under batch normalisation).

>>> import numpy as np
>>> from symgrad import activation
>>> w = [np.array([[2.0]])]
>>> run = propagate(activation("identity"), (1, 1), w.__getitem__, lambda l: np.zeros(1),
...                 np.ones((1, 1)), np.ones((1, 1)))
>>> run.loss, run.grad_input
(2.0, 4.0)
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import sympy

from symgrad.activations import Activation, _split
from symgrad.numeric._rng import inner, prefetched
from symgrad.types import FloatArray

__all__ = ["BN_EPS", "Propagation", "is_relu_like", "propagate"]

#: Batch-normalisation ε (PyTorch's default).
BN_EPS = 1e-5


def is_relu_like(act: Activation) -> bool:
    """φ' vanishes identically on a half-line (relu, hard_tanh, hard_sigmoid, …)."""
    return _relu_like(act.expr)


@functools.lru_cache(maxsize=256)
def _relu_like(expr: sympy.Expr) -> bool:
    # Splitting φ into pieces is symbolic work: do it once per expression.
    return any(
        piece.derivative == 0 and (piece.lo == -sympy.oo or piece.hi == sympy.oo)
        for piece in _split(sympy.piecewise_fold(expr.rewrite(sympy.Piecewise)))
    )


@dataclass(frozen=True, eq=False)
class Propagation:
    """What one forward and backward pass through given layers produced (internal record).

    ``trace=True`` keeps the full arrays ``z``, ``a`` (a_0 … a_depth), ``dz`` and ``da``
    (∂L/∂z_l and ∂L/∂a_l, l = 1..depth); ``loss`` is Σ_batch ⟨g, a_depth⟩.
    """

    loss: float
    mean: FloatArray
    second: FloatArray
    grad_z: FloatArray
    grad_a: FloatArray
    grad_input: float
    saturated: FloatArray
    dead: FloatArray | None
    slope_mean: FloatArray
    slope_second: FloatArray
    weights: list[FloatArray]
    biases: list[FloatArray]
    z: list[FloatArray] | None = None
    a: list[FloatArray] | None = None
    dz: list[FloatArray] | None = None
    da: list[FloatArray] | None = None


def propagate(
    phi: Activation,
    widths: tuple[int, ...],
    weight: Callable[[int], FloatArray],
    bias: Callable[[int], FloatArray],
    x: FloatArray,
    g: FloatArray,
    *,
    residual: bool = False,
    batchnorm: bool = False,
    eps: float = 1e-3,
    keep_weights: bool = True,
    record: bool = False,
    use_bias: bool = True,
    trace: bool = False,
    backward: bool = True,
    nudge: tuple[str, int, FloatArray] | None = None,
) -> Propagation:
    """The engine of :func:`simulate`: forward, then backward by hand (module docstring).

    ``weight(l)`` and ``bias(l)`` give layer l + 1's parameters (called again in the
    backward pass unless ``keep_weights``).  ``nudge=("z" | "a", l, v)`` adds ``v`` to
    z_l or a_l (l = 1..depth) in the forward pass: finite-difference tests of ∂L/∂z_l and
    ∂L/∂a_l use it.  ``backward=False`` stops after the loss.
    """
    depth = len(widths) - 1
    batch = x.shape[0]
    relu_like = is_relu_like(phi)
    mean, second, saturated = np.empty(depth), np.empty(depth), np.empty(depth)
    slope1, slope2 = np.empty(depth), np.empty(depth)
    dead = np.empty(depth) if relu_like else None
    kept_w: list[FloatArray] = []
    kept_b: list[FloatArray] = []
    slopes: list[FloatArray] = []
    norm_cache: list[tuple[FloatArray, FloatArray]] = []
    zs: list[FloatArray] = []
    acts: list[FloatArray] = [x] if trace else []

    # ---- forward: keep φ'(u_l) (and û_l, s_l under batchnorm) only ----
    a = x
    biggest = max(m * n for m, n in zip(widths[1:], widths[:-1], strict=True))
    forward_weights = prefetched(weight, range(depth), size=biggest)
    for layer in range(depth):
        w = next(forward_weights)
        z = a @ w.T
        if use_bias or record:
            b = bias(layer)
            if use_bias:
                z += b
            if record:
                kept_b.append(b)
        if keep_weights:
            kept_w.append(w)
        del w
        if nudge is not None and nudge[0] == "z" and nudge[1] == layer + 1:
            z += nudge[2]
        if trace:
            zs.append(z.copy())
        size = z.size
        mean[layer] = z.sum() / size
        second[layer] = inner(z, z) / size
        if batchnorm:
            mu = z.mean(axis=0)
            inv = 1.0 / np.sqrt(z.var(axis=0) + BN_EPS)
            z -= mu
            z *= inv
            norm_cache.append((z, inv))
        out = phi.numpy(z)
        slope = phi.numpy_prime(z)
        saturated[layer] = np.count_nonzero(np.abs(slope) < eps) / size
        slope1[layer] = slope.sum() / size
        slope2[layer] = inner(slope, slope) / size
        if dead is not None:
            dead[layer] = np.count_nonzero(~(slope != 0).any(axis=0)) / slope.shape[1]
        if backward:
            slopes.append(slope)
        a = a + out if residual else out
        if nudge is not None and nudge[0] == "a" and nudge[1] == layer + 1:
            a = a + nudge[2]
        if trace:
            acts.append(a)
        del z, out, slope
    # Release the prefetcher: it still holds the last matrices it drew.
    forward_weights.close()
    loss = float(inner(g, a))

    # ---- backward: g = ∂L/∂a_l from the top; ∂L/∂z_l = BN'ᵀ(g ⊙ φ'(u_l)) ----
    grad_z, grad_a = np.full(depth, np.nan), np.full(depth, np.nan)
    dzs: list[FloatArray] = []
    das: list[FloatArray] = []
    grad_in = math.nan
    if backward:
        redrawn = None if keep_weights else prefetched(
            weight, range(depth - 1, -1, -1), size=biggest)
        for layer in range(depth - 1, -1, -1):
            grad_a[layer] = inner(g, g) / batch
            dz = g * slopes.pop()
            if batchnorm:
                uhat, inv = norm_cache.pop()
                along = (dz * uhat).mean(axis=0)
                dz -= dz.mean(axis=0)
                dz -= uhat * along
                dz *= inv
            grad_z[layer] = inner(dz, dz) / batch
            if trace:
                dzs.append(dz)
                das.append(g)
            w = kept_w[layer] if redrawn is None else next(redrawn)
            back = dz @ w
            g = back + g if residual else back
            del dz, w
        grad_in = float(inner(g, g) / batch)
    return Propagation(
        loss=loss, mean=mean, second=second, grad_z=grad_z, grad_a=grad_a,
        grad_input=grad_in, saturated=saturated, dead=dead, slope_mean=slope1,
        slope_second=slope2, weights=kept_w, biases=kept_b,
        z=zs if trace else None, a=acts if trace else None,
        dz=dzs[::-1] if trace else None, da=das[::-1] if trace else None,
    )
