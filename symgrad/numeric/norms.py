"""Layer and batch normalisation, forward and backward by hand (no affine part).

Both normalise x over one axis (units for LayerNorm, Ba et al. 2016; the batch for
BatchNorm, Ioffe and Szegedy 2015): with n entries along it, μ the mean, σ² the
population variance and s = (σ² + ε)^{−1/2},

    x̂ = (x − μ)·s,      ∂L/∂x = s·(g − mean(g) − x̂·mean(g ⊙ x̂)),

g = ∂L/∂x̂ and the means along the same axis.  The backward formula is exact for
any ε ≥ 0 (∂s/∂x_j = −s³(x_j − μ)/n).  At finite n the normalisation is exact:
Σ x̂ = 0 and Σ x̂² = n·σ²/(σ² + ε); the backward map is s times the orthogonal
projection off 1 and x̂ when ε = 0, which removes two of the n directions, so a
gradient independent of x̂ and isotropic loses a fraction 2/n of its squared norm on
average — the finite-width (LayerNorm, n = N) and finite-batch (BatchNorm, n = B)
correction used in the cross-checks' tolerances.

Functions write into ``out`` (same shape as x, may not alias x) and work on any
contiguous block of rows for LayerNorm (rows are independent); the backward passes take
an optional ``work`` array of x's shape so that a loop of calls allocates nothing large.

>>> import numpy as np
>>> x = np.array([[1.0, 2.0, 3.0]])
>>> xhat = np.empty_like(x)
>>> s = layernorm_forward(x, 0.0, xhat)
>>> xhat.round(6).tolist(), s.round(6).tolist()
([[-1.224745, 0.0, 1.224745]], [1.224745])
"""

from __future__ import annotations

import numpy as np

from symgrad.errors import InvalidArgument
from symgrad.types import FloatArray

__all__ = ["batchnorm_backward", "batchnorm_forward", "layernorm_backward",
           "layernorm_forward"]


def _forward(x: FloatArray, eps: float, out: FloatArray, axis: int) -> FloatArray:
    mu = x.mean(axis=axis, keepdims=True)
    np.subtract(x, mu, out=out)
    var = np.einsum("ij,ij->i" if axis == 1 else "ij,ij->j", out, out) / x.shape[axis]
    denom = var + eps
    if not (denom > 0).all():
        raise InvalidArgument(
            "normalisation of a constant vector (zero variance); use eps > 0")
    s: FloatArray = 1.0 / np.sqrt(denom)
    out *= s[:, None] if axis == 1 else s[None, :]
    return s


def _backward(g: FloatArray, xhat: FloatArray, s: FloatArray, out: FloatArray,
              axis: int, work: FloatArray | None) -> None:
    n = g.shape[axis]
    mean_g = g.mean(axis=axis, keepdims=True)
    along = (np.einsum("ij,ij->i" if axis == 1 else "ij,ij->j", g, xhat) / n)
    np.subtract(g, mean_g, out=out)
    tmp = np.empty_like(g) if work is None else work
    if axis == 1:
        np.multiply(xhat, along[:, None], out=tmp)
        out -= tmp
        out *= s[:, None]
    else:
        np.multiply(xhat, along[None, :], out=tmp)
        out -= tmp
        out *= s[None, :]


def layernorm_forward(x: FloatArray, eps: float, out: FloatArray) -> FloatArray:
    """x̂ of every row into ``out``; returns s per row (shape (rows,))."""
    return _forward(x, eps, out, 1)


def layernorm_backward(g: FloatArray, xhat: FloatArray, s: FloatArray, out: FloatArray, *,
                       work: FloatArray | None = None) -> None:
    """∂L/∂x from g = ∂L/∂x̂ per row, into ``out``."""
    _backward(g, xhat, s, out, 1, work)


def batchnorm_forward(x: FloatArray, eps: float, out: FloatArray) -> FloatArray:
    """x̂ of every column (unit, over the batch) into ``out``; returns s per column."""
    if x.shape[0] < 2:
        raise InvalidArgument("batchnorm needs batch >= 2 (statistics over the batch)")
    return _forward(x, eps, out, 0)


def batchnorm_backward(g: FloatArray, xhat: FloatArray, s: FloatArray, out: FloatArray, *,
                       work: FloatArray | None = None) -> None:
    """∂L/∂x from g = ∂L/∂x̂ per column, into ``out``."""
    _backward(g, xhat, s, out, 0, work)
